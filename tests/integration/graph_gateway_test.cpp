// The Graph gateway binary over real HTTPS on 127.0.0.1, against the
// stand-in identity service (tests/support/graph_standin.hpp) that
// publishes the keys signing the calling platform's tokens, with the
// published Graph payloads of tests/fixtures/graph as bodies.

#include "nodes/http/client.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/graph_standin.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sip_peers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

using namespace switchboard;
using namespace switchboard::testing;
using namespace std::chrono_literals;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in{std::string{SWITCHBOARD_GRAPH_FIXTURES} + "/" + name};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Claims as Microsoft's calling platform puts them on a notification.
std::string claims(const std::string& issuer = "https://graph.microsoft.com",
                   const std::string& audience = "bot-app-id",
                   std::int64_t exp_in = 3600, bool tenant = true) {
  return "{\"iss\":\"" + issuer + "\",\"aud\":\"" + audience + "\","
         + (tenant ? "\"tid\":\"632899f8-2ea1-4604-8413-27bd2892079f\"," : "")
         + "\"nbf\":" + std::to_string(unix_now() - 60)
         + ",\"exp\":" + std::to_string(unix_now() + exp_in) + "}";
}

class graph_gateway_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ca = std::make_unique<test_authority>(dir.path(), "test-ca");
    ASSERT_TRUE(ca->ok());
    ASSERT_TRUE(ca->sign("standin"));
    ASSERT_TRUE(ca->sign("gateway"));
    standin = std::make_unique<graph_standin>(dir.path() + "/standin.pem",
                                              dir.path() + "/standin.key");
    ASSERT_EQ(standin->start(), "");
    {
      std::ofstream{dir.path() + "/client-state"} << "s3cret-state\n";
      std::ofstream{dir.path() + "/presence.key"} << presence_key.private_pem();
    }
    port = free_port();
    gateway = std::make_unique<process>(
      SWITCHBOARD_GRAPH_GATEWAY_PATH,
      std::vector<std::string>{"--listen",
                               "127.0.0.1:" + std::to_string(port),
                               "--certificate",
                               dir.path() + "/gateway.pem",
                               "--private-key",
                               dir.path() + "/gateway.key",
                               "--app-id",
                               "bot-app-id",
                               "--openid-configuration",
                               standin->openid_configuration_url(),
                               "--authority",
                               standin->authority(),
                               "--ca-file",
                               ca->certificate(),
                               "--client-state-file",
                               dir.path() + "/client-state",
                               "--presence-private-key",
                               dir.path() + "/presence.key",
                               "--presence-certificate-id",
                               "presence-cert"},
      true);
    ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"serving\"", 30s))
      << "the gateway did not start";
    // Both OpenID configurations (Graph's and the Bot Framework's, one
    // key set at the stand-in): tests count the key reads from here.
    auto keys_read = [this] {
      return std::count_if(gateway->lines().begin(), gateway->lines().end(),
                           [](const std::string& l) {
                             return l.find("\"msg\":\"signing keys read\"")
                                    != std::string::npos;
                           });
    };
    while (keys_read() < 2
           && gateway->wait_for_line("\"msg\":\"signing keys read\"", 30s))
      ;
    ASSERT_GE(keys_read(), 2) << "the gateway did not read the stand-in's keys";
    http::client::options o;
    o.ca_file = ca->certificate();
    client = std::make_unique<http::client>(o);
  }

  void TearDown() override {
    client.reset();
    if (gateway) {
      EXPECT_EQ(gateway->stop(), 0) << "the gateway did not stop cleanly";
    }
  }

  http::reply post(const std::string& path, const std::string& body,
                   const std::string& token = {}) {
    http::outgoing req;
    req.method = "POST";
    req.url = "https://127.0.0.1:" + std::to_string(port) + path;
    req.headers = {{"Content-Type", "application/json"}};
    if (!token.empty())
      req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = body;
    std::promise<http::reply> p;
    auto f = p.get_future();
    client->send(std::move(req), [&p](http::reply r) {
      p.set_value(std::move(r));
    });
    return f.get();
  }

  temp_dir dir;
  std::unique_ptr<test_authority> ca;
  std::unique_ptr<graph_standin> standin;
  rsa_key presence_key;
  std::uint16_t port = 0;
  std::unique_ptr<process> gateway;
  std::unique_ptr<http::client> client;
};

} // namespace

TEST_F(graph_gateway_test, a_call_notification_with_a_valid_token_is_accepted) {
  auto r
    = post("/api/calls", fixture("call-answer_incoming-notification_p2p.json"),
           standin->sign("standin-key-1", claims()));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.status, 202u) << r.value.body;
  auto line = gateway->wait_for_line("\"msg\":\"call notification\"", 10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(json_field(*line, "call"), "57DAB8B1894C409AB240BD8BEAE78896");
  EXPECT_EQ(json_field(*line, "state"), "incoming");
  EXPECT_EQ(json_field(*line, "tenant"),
            "632899f8-2ea1-4604-8413-27bd2892079f");
  // The botframework issuer is accepted as well.
  EXPECT_EQ(
    post("/api/calls", fixture("call-answer_notification_established.json"),
         standin->sign("standin-key-1", claims("https://api.botframework.com")))
      .value.status,
    202u);
}

TEST_F(graph_gateway_test,
       token_errors_get_401_with_the_reason_and_nothing_goes_on) {
  auto body = fixture("call-answer_incoming-notification_p2p.json");
  rsa_key intruder;
  struct bad {
    std::string name;
    std::string token;
    std::string reason;
  };
  std::vector<bad> cases{
    {"missing", "", "no bearer token"},
    {"wrong audience",
     standin->sign("standin-key-1",
                   claims("https://graph.microsoft.com", "another-bot")),
     "audience"},
    {"wrong issuer",
     standin->sign("standin-key-1", claims("https://evil.example.com")),
     "issuer"},
    {"expired",
     standin->sign("standin-key-1",
                   claims("https://graph.microsoft.com", "bot-app-id", -3600)),
     "expired"},
    {"unknown key", intruder.sign("not-published", claims()), "not-published"},
    {"forged signature", intruder.sign("standin-key-1", claims()),
     "does not verify"},
    {"no tenant",
     standin->sign("standin-key-1", claims("https://graph.microsoft.com",
                                           "bot-app-id", 3600, false)),
     "tenant"},
  };
  for (const auto& c : cases) {
    auto r = post("/api/calls", body, c.token);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error;
    EXPECT_EQ(r.value.status, 401u) << c.name;
    EXPECT_NE(r.value.body.find(c.reason), std::string::npos)
      << c.name << ": " << r.value.body;
    EXPECT_NE(r.value.header("www-authenticate").find("invalid_token"),
              std::string::npos)
      << c.name;
    auto line = gateway->wait_for_line("call notification refused", 10s);
    ASSERT_TRUE(line) << c.name;
  }
  // Not one of them reached the call handling.
  for (const auto& l : gateway->lines())
    EXPECT_EQ(l.find("\"msg\":\"call notification\""), std::string::npos) << l;
}

TEST_F(graph_gateway_test, a_rotated_key_is_read_again_when_a_token_names_it) {
  auto before = standin->count("/v1/.well-known/keys");
  standin->add_key("standin-key-2");
  auto r
    = post("/api/calls", fixture("call-answer_incoming-notification_p2p.json"),
           standin->sign("standin-key-2", claims()));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.status, 202u) << r.value.body;
  EXPECT_EQ(standin->count("/v1/.well-known/keys"), before + 1);
  // A second unknown key within the minute does not fetch again.
  rsa_key intruder;
  EXPECT_EQ(
    post("/api/calls", "{}", intruder.sign("other", claims())).value.status,
    401u);
  EXPECT_EQ(standin->count("/v1/.well-known/keys"), before + 1);
}

TEST_F(graph_gateway_test, a_body_that_is_no_notification_gets_400) {
  auto token = standin->sign("standin-key-1", claims());
  auto r = post("/api/calls", "{not json", token);
  EXPECT_EQ(r.value.status, 400u);
  EXPECT_NE(r.value.body.find("not JSON"), std::string::npos);
  auto skeleton = post(
    "/api/calls",
    fixture("commsnotification_resource_json-representation.json"), token);
  EXPECT_EQ(skeleton.value.status, 400u);
  EXPECT_NE(skeleton.value.body.find("names no call"), std::string::npos);
}

TEST_F(graph_gateway_test,
       the_subscription_validation_handshake_echoes_the_token) {
  auto r = post(
    "/api/presence?validationToken=Validation%3A%20Testing%20client", "");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.status, 200u);
  EXPECT_EQ(r.value.header("content-type"), "text/plain");
  EXPECT_EQ(r.value.body, "Validation: Testing client");
}

TEST_F(
  graph_gateway_test,
  encrypted_presence_changes_are_read_and_a_wrong_client_state_is_ignored) {
  auto change = [&](const std::string& client_state,
                    const std::string& availability,
                    std::string validation = "") {
    if (validation.empty())
      validation = "\"" + standin->validation_token("t-1") + "\"";
    auto content = presence_key.encrypt_like_graph(
      "{\"@odata.type\":\"#microsoft.graph.presence\",\"id\":\"agent-oid-1\","
      "\"availability\":\""
        + availability + "\",\"activity\":\"" + availability + "\"}",
      "presence-cert");
    return "{\"value\":[{\"subscriptionId\":\"sub-1\",\"clientState\":\""
           + client_state
           + "\",\"changeType\":\"updated\",\"tenantId\":\"t-1\","
             "\"resource\":\"communications/presences/agent-oid-1\","
             "\"resourceData\":{\"id\":\"agent-oid-1\"},"
             "\"encryptedContent\":"
           + content + "}],\"validationTokens\":[" + validation + "]}";
  };
  auto wrong = post("/api/presence", change("guessed-state", "Busy"));
  EXPECT_EQ(wrong.value.status, 202u);
  EXPECT_TRUE(gateway->wait_for_line("wrong clientState", 10s));
  auto right = post("/api/presence", change("s3cret-state", "Available"));
  EXPECT_EQ(right.value.status, 202u);
  auto line = gateway->wait_for_line("\"msg\":\"presence changed\"", 10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(json_field(*line, "user"), "agent-oid-1");
  EXPECT_EQ(json_field(*line, "availability"), "Available");
  for (const auto& l : gateway->lines())
    EXPECT_EQ(l.find("\"availability\":\"Busy\""), std::string::npos)
      << "a notification with a wrong clientState had an effect: " << l;
}

TEST_F(graph_gateway_test,
       rich_notifications_whose_validation_tokens_do_not_verify_are_ignored) {
  auto change = [&](const std::string& tokens) {
    auto content = presence_key.encrypt_like_graph(
      "{\"@odata.type\":\"#microsoft.graph.presence\",\"id\":\"agent-oid-1\","
      "\"availability\":\"Busy\",\"activity\":\"Busy\"}",
      "presence-cert");
    return "{\"value\":[{\"subscriptionId\":\"sub-1\",\"clientState\":"
           "\"s3cret-state\",\"changeType\":\"updated\",\"tenantId\":\"t-1\","
           "\"resource\":\"communications/presences/agent-oid-1\","
           "\"resourceData\":{\"id\":\"agent-oid-1\"},\"encryptedContent\":"
           + content + "}],\"validationTokens\":[" + tokens + "]}";
  };
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto token = [&](const std::string& azp, const std::string& tid,
                   const std::string& aud) {
    return "\""
           + standin->sign("standin-key-1",
                           "{\"iss\":\"https://sts.windows.net/" + tid
                             + "/\",\"aud\":\"" + aud + "\",\"azp\":\"" + azp
                             + "\",\"tid\":\"" + tid
                             + "\",\"exp\":" + std::to_string(now + 600) + "}")
           + "\"";
  };
  const std::string graph = "0bf30f3b-4a52-48df-9a82-234910c4a086";
  // None; not Graph's change tracking; another tenant's; another app's;
  // and a good one beside a forged one.
  for (const auto& tokens :
       {std::string{}, token("some-other-app", "t-1", "bot-app-id"),
        token(graph, "t-2", "bot-app-id"), token(graph, "t-1", "another-app"),
        token(graph, "t-1", "bot-app-id") + ",\"e30.e30.forged\""}) {
    EXPECT_EQ(post("/api/presence", change(tokens)).value.status, 202u);
    EXPECT_TRUE(gateway->wait_for_line("rich notifications ignored", 10s))
      << tokens;
  }
  EXPECT_EQ(std::count_if(gateway->lines().begin(), gateway->lines().end(),
                          [](const std::string& l) {
                            return l.find("\"msg\":\"presence changed\"")
                                   != std::string::npos;
                          }),
            0)
    << "a notification without a good validation token had an effect";
}

TEST_F(graph_gateway_test, lifecycle_notifications_are_recognised) {
  auto body = fixture("lifecycle-notification_reauthorizationRequired.json");
  auto at = body.find("{secret client state}");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, std::string{"{secret client state}"}.size(), "s3cret-state");
  EXPECT_EQ(post("/api/presence", body).value.status, 202u);
  auto line = gateway->wait_for_line("subscription lifecycle event", 10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(json_field(*line, "event"), "reauthorizationRequired");
}
