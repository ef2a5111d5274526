// The agent and supervisor app in a real browser: Debian's chromium,
// driven by playwright-core (tests/browser/app_test.mjs), against the real
// router and web edge, with tokens the stand-in identity platform signed
// as Entra ID would. The router checks the same tokens: the edge calls it
// as each user. Screenshots at desktop and phone sizes are left in
// build/.../web-screenshots.

#include "nodes/http/client.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/graph_standin.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/admin.grpc.pb.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sys/stat.h>

using namespace switchboard;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;
using switchboard::testing::graph_standin;
using switchboard::testing::json_field;
using switchboard::testing::process;
using switchboard::testing::temp_dir;
using switchboard::testing::test_authority;

namespace {

const std::string contoso_tid = "11111111-1111-4111-8111-111111111111";
const std::string fabrikam_tid = "22222222-2222-4222-8222-222222222222";
const std::string provider_tid = "99999999-9999-4999-8999-999999999999";
const std::string audience = "api://switchboard-test";
const std::string kid = "standin-key-1";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The claims of a token Entra ID issues for Switchboard's API.
std::string claims(const std::string& tid, const std::string& oid,
                   const std::string& name, const std::string& role) {
  return "{\"iss\":\"https://login.microsoftonline.com/" + tid
         + "/v2.0\",\"aud\":\"" + audience + "\",\"tid\":\"" + tid
         + "\",\"oid\":\"" + oid + "\",\"name\":\"" + name + "\",\"roles\":[\""
         + role + "\"],\"nbf\":" + std::to_string(now_seconds() - 60)
         + ",\"exp\":" + std::to_string(now_seconds() + 3600) + "}";
}

class web_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ca = std::make_unique<test_authority>(dir.path(), "ca");
    ASSERT_TRUE(ca->ok());
    ASSERT_TRUE(ca->sign("identity"));
    idp = std::make_unique<graph_standin>(dir / "identity.pem",
                                          dir / "identity.key");
    ASSERT_EQ(idp->start(), "");
    auto openid
      = idp->base_url() + "/common/v2.0/.well-known/openid-configuration";
    router = std::make_unique<process>(
      SWITCHBOARD_ROUTER_PATH,
      std::vector<std::string>{
        "--data-dir", dir / "data", "--grpc-listen", "127.0.0.1:0",
        "--metrics-listen", "127.0.0.1:0", "--auth-openid-configuration",
        openid, "--auth-audience", audience, "--auth-ca", ca->certificate(),
        "--auth-platform-tenant", provider_tid},
      true);
    auto line = router->wait_for_line("\"msg\":\"serving\"", 30s);
    ASSERT_TRUE(line) << "the router did not start";
    address = json_field(*line, "grpc");

    edge = std::make_unique<process>(
      SWITCHBOARD_WEB_PATH,
      std::vector<std::string>{
        "--listen", "127.0.0.1:0", "--router", address,
        "--auth-openid-configuration", openid, "--auth-audience", audience,
        "--auth-ca", ca->certificate(), "--metrics-listen", "127.0.0.1:0"},
      true);
    line = edge->wait_for_line("\"msg\":\"serving\"", 30s);
    ASSERT_TRUE(line) << "the web edge did not start";
    url = json_field(*line, "url");
    metrics = json_field(*line, "metrics");
    ASSERT_EQ(json_field(*line, "app_files").empty(), false);

    // The provider sets up two customers: contoso with a support queue,
    // Ann and Bob; fabrikam with Fay.
    auto platform
      = idp->sign(kid, claims(provider_tid, "oid-provider", "Provider Ops",
                              "Switchboard.Platform"));
    auto admin = v1::AdminService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    for (auto& [id, tid] : {std::pair{"contoso", contoso_tid},
                            std::pair{"fabrikam", fabrikam_tid}}) {
      v1::UpsertTenantRequest t;
      t.mutable_tenant()->set_tenant_id(id);
      t.mutable_tenant()->set_microsoft_tenant_id(tid);
      v1::Tenant out;
      auto st = admin->UpsertTenant(ctx(platform).get(), t, &out);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    v1::UpsertQueueRequest q;
    q.mutable_queue()->set_tenant_id("contoso");
    q.mutable_queue()->set_queue_id("support");
    *q.mutable_queue()->mutable_offer_timeout()
      = TimeUtil::SecondsToDuration(60);
    v1::Queue queue_out;
    auto st = admin->UpsertQueue(ctx(platform).get(), q, &queue_out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    for (auto& [tenant, agent, name] :
         {std::tuple{"contoso", "ann", "Ann Lee"},
          std::tuple{"contoso", "bob", "Bob Kent"},
          std::tuple{"fabrikam", "fay", "Fay Wong"}}) {
      v1::UpsertAgentRequest a;
      a.mutable_agent()->set_tenant_id(tenant);
      a.mutable_agent()->set_agent_id(agent);
      a.mutable_agent()->set_display_name(name);
      a.mutable_agent()->set_teams_user_id(std::string{"oid-"} + agent);
      if (std::string{tenant} == "contoso")
        a.mutable_agent()->add_queue_ids("support");
      v1::AgentView agent_out;
      st = admin->UpsertAgent(ctx(platform).get(), a, &agent_out);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
  }

  void TearDown() override {
    if (!HasFailure())
      return;
    for (auto* p : {router.get(), edge.get()})
      if (p != nullptr)
        for (auto& line : p->lines())
          std::cerr << (p == router.get() ? "router: " : "web: ") << line
                    << "\n";
  }

  static std::unique_ptr<grpc::ClientContext> ctx(const std::string& bearer) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + 10s);
    c->AddMetadata("authorization", "Bearer " + bearer);
    return c;
  }

  /// The tokens the browser test uses, in a file only this user reads.
  std::string write_tokens() {
    auto path = dir / "tokens.json";
    std::ofstream out{path};
    out << "{\"ann\":\""
        << idp->sign(kid, claims(contoso_tid, "oid-ann", "Ann Lee",
                                 "Switchboard.Agent"))
        << "\",\"supervisor\":\""
        << idp->sign(kid, claims(contoso_tid, "oid-sam", "Sam Ortiz",
                                 "Switchboard.Supervisor"))
        << "\",\"admin\":\""
        << idp->sign(kid, claims(contoso_tid, "oid-carol", "Carol Diaz",
                                 "Switchboard.Admin"))
        << "\",\"gateway\":\""
        << idp->sign(kid,
                     claims(contoso_tid, "oid-sbc", "", "Switchboard.Gateway"))
        << "\"}";
    out.close();
    chmod(path.c_str(), 0600);
    return path;
  }

  temp_dir dir;
  std::unique_ptr<test_authority> ca;
  std::unique_ptr<graph_standin> idp;
  std::unique_ptr<process> router;
  std::unique_ptr<process> edge;
  std::string address;
  std::string url;
  std::string metrics;
};

TEST_F(web_test, agents_and_supervisors_work_in_the_browser) {
  auto base = url.substr(0, url.size() - 1); // without its last '/'
  process browser{SWITCHBOARD_NODE_PATH,
                  {SWITCHBOARD_BROWSER_TEST, "--edge", base, "--tokens",
                   write_tokens(), "--chromium", SWITCHBOARD_CHROMIUM_PATH,
                   "--out", SWITCHBOARD_SCREENSHOTS_DIR},
                  true};
  int code = browser.wait();
  std::string output;
  for (auto& line : browser.lines())
    output += "  " + line + "\n";
  EXPECT_EQ(code, 0) << "the browser test failed:\n" << output;
  EXPECT_NE(output.find("all steps passed"), std::string::npos) << output;
}

/// One request to the edge's API (GET without a body); the reply, waited
/// for.
http::response post(const std::string& url, const std::string& path,
                    const std::string& token, const std::string& body) {
  http::client client{{}};
  http::outgoing out;
  out.method = body.empty() ? "GET" : "POST";
  out.url = url + path.substr(1);
  out.body = body;
  out.headers.emplace_back("Content-Type", "application/json");
  if (!token.empty())
    out.headers.emplace_back("Authorization", "Bearer " + token);
  std::promise<http::reply> answer;
  client.send(out, [&answer](http::reply r) {
    answer.set_value(std::move(r));
  });
  auto r = answer.get_future().get();
  EXPECT_TRUE(r.ok()) << r.error;
  return r.value;
}

TEST_F(web_test, the_api_refuses_what_is_wrong_and_says_why) {
  auto admin = idp->sign(
    kid, claims(contoso_tid, "oid-carol", "Carol Diaz", "Switchboard.Admin"));
  auto r = post(url, "/api/v1/AdminService/GetAgent", admin,
                R"({"tenant_id":"contoso","agent_id":"ann"})");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find("\"display_name\":\"Ann Lee\""), std::string::npos)
    << r.body;

  // No token, a forged one, one for another API.
  r = post(url, "/api/v1/AdminService/ListQueues", "",
           R"({"tenant_id":"contoso"})");
  EXPECT_EQ(r.status, 401u);
  EXPECT_NE(r.body.find("no bearer token"), std::string::npos) << r.body;
  graph_standin forger{dir / "identity.pem", dir / "identity.key"};
  r = post(url, "/api/v1/AdminService/ListQueues",
           forger.sign(kid, claims(contoso_tid, "oid-carol", "Carol Diaz",
                                   "Switchboard.Admin")),
           R"({"tenant_id":"contoso"})");
  EXPECT_EQ(r.status, 401u);
  EXPECT_NE(r.body.find("the token was refused"), std::string::npos) << r.body;

  // A body that is not the request, a field the request has not, a
  // method the API has not, a stream.
  r = post(url, "/api/v1/AdminService/GetAgent", admin, "{not json");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("GetAgentRequest"), std::string::npos) << r.body;
  r = post(url, "/api/v1/AdminService/GetAgent", admin,
           R"({"tenant_id":"contoso","agent":"ann"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("agent"), std::string::npos) << r.body;
  r = post(url, "/api/v1/AdminService/DropEverything", admin, "{}");
  EXPECT_EQ(r.status, 404u);
  EXPECT_NE(r.body.find("AdminService.DropEverything"), std::string::npos)
    << r.body;
  r = post(url, "/api/v1/EventService/Subscribe", admin, "{}");
  EXPECT_EQ(r.status, 404u);

  // The router's own validation, with the field it names.
  r = post(url, "/api/v1/AdminService/UpsertQueue", admin,
           R"({"queue":{"tenant_id":"contoso","queue_id":""}})");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_NE(r.body.find("INVALID_ARGUMENT"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("queue_id"), std::string::npos) << r.body;

  // An agent reads the history of the caller on the line only, and looks
  // up their own agent only; a note is bounded.
  auto ann = idp->sign(
    kid, claims(contoso_tid, "oid-ann", "Ann Lee", "Switchboard.Agent"));
  r = post(url, "/api/v1/StatsService/ListCallHistory", ann,
           R"({"tenant_id":"contoso","caller":"+14255550199"})");
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_NE(r.body.find("no call from '+14255550199'"), std::string::npos)
    << r.body;
  r = post(url, "/api/v1/AdminService/GetAgent", ann,
           R"({"tenant_id":"contoso","teams_user_id":"oid-ann"})");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find("\"agent_id\":\"ann\""), std::string::npos) << r.body;
  r = post(url, "/api/v1/AdminService/GetAgent", ann,
           R"({"tenant_id":"contoso","teams_user_id":"oid-bob"})");
  EXPECT_EQ(r.status, 403u) << r.body;
  r = post(url, "/api/v1/RoutingService/SetCallDisposition", admin,
           R"({"tenant_id":"contoso","call_id":"c-1","note":")"
             + std::string(4001, 'x') + R"("})");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_NE(r.body.find("note: must be at most 4000 bytes"), std::string::npos)
    << r.body;
  r = post(
    url, "/api/v1/RoutingService/SetCallDisposition", admin,
    R"({"tenant_id":"contoso","call_id":"c-1","disposition_code":"ok"})");
  EXPECT_EQ(r.status, 404u) << r.body;

  // The edge still serves.
  r = post(url, "/api/v1/AdminService/ListQueues", admin,
           R"({"tenant_id":"contoso"})");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find("\"support\""), std::string::npos) << r.body;

  // Its metrics count what it answered, by status class.
  ASSERT_FALSE(metrics.empty() || metrics == "none");
  r = post("http://" + metrics + "/", "/metrics", "", "");
  EXPECT_EQ(r.status, 200u);
  auto value = [&](const std::string& series) {
    auto at = r.body.find("\n" + series + " ");
    EXPECT_NE(at, std::string::npos) << series << " in\n" << r.body;
    return at == std::string::npos
             ? -1.0
             : std::stod(r.body.substr(at + series.size() + 2));
  };
  EXPECT_GE(value(R"(switchboard_web_http_responses_total{class="2xx"})"), 2);
  EXPECT_GE(value(R"(switchboard_web_http_responses_total{class="4xx"})"), 6);
  EXPECT_EQ(value(R"(switchboard_web_http_responses_total{class="5xx"})"), 0);
  EXPECT_EQ(value("switchboard_web_event_streams"), 0);
}

TEST(web_demo_test, a_demo_signs_anyone_in_on_loopback_only) {
  temp_dir dir;
  process router{SWITCHBOARD_ROUTER_PATH,
                 {"--data-dir", dir / "data", "--grpc-listen", "127.0.0.1:0",
                  "--metrics-listen", "127.0.0.1:0"},
                 true};
  auto line = router.wait_for_line("\"msg\":\"serving\"", 30s);
  ASSERT_TRUE(line) << "the router did not start";
  auto address = json_field(*line, "grpc");

  // Anyone who reaches a demo signs in as anyone: never off loopback.
  process refused{
    SWITCHBOARD_WEB_PATH,
    {"--listen", "0.0.0.0:0", "--router", address, "--demo-sign-in", "true"},
    true};
  EXPECT_EQ(refused.wait(), 2);
  bool said = false;
  for (auto& l : refused.lines())
    said = said || l.find("loopback only") != std::string::npos;
  EXPECT_TRUE(said) << "the refusal does not say why";

  process edge{
    SWITCHBOARD_WEB_PATH,
    {"--listen", "127.0.0.1:0", "--router", address, "--demo-sign-in", "true"},
    true};
  line = edge.wait_for_line("\"msg\":\"serving\"", 30s);
  ASSERT_TRUE(line) << "the web edge did not start";
  EXPECT_EQ(json_field(*line, "sign_in"), "demo");
  auto url = json_field(*line, "url");

  auto r = post(url, "/api/v1/demo/sign-in", "",
                R"({"name":"Supervisor of contoso","role":"Pilot"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("role"), std::string::npos) << r.body;
  r = post(url, "/api/v1/demo/sign-in", "",
           R"({"name":"Supervisor of contoso","role":"Supervisor"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto token = r.body.substr(r.body.find("demo."));
  token = token.substr(0, token.find('"'));

  r = post(url, "/api/v1/AdminService/ListQueues", token,
           R"({"tenant_id":"contoso"})");
  EXPECT_EQ(r.status, 404u) << r.body; // the router's answer: no tenant yet
  EXPECT_NE(r.body.find("contoso"), std::string::npos) << r.body;
  r = post(url, "/api/v1/AdminService/ListQueues", "demo.0123456789abcdef",
           R"({"tenant_id":"contoso"})");
  EXPECT_EQ(r.status, 401u) << r.body;
}

} // namespace
