// The Graph client against the stand-in identity platform and Graph over
// HTTPS on 127.0.0.1 (tests/support/graph_standin.hpp).

#include "nodes/graph_gateway/graph_api.hpp"
#include "nodes/router/log.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/graph_standin.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <future>

using namespace switchboard;
using namespace switchboard::testing;

namespace {

struct graph_api_test : ::testing::Test {
  temp_dir dir;
  test_authority ca{dir.path(), "test-ca"};
  std::unique_ptr<graph_standin> standin;
  std::unique_ptr<http::client> client;
  router::logger log{router::log_level::error, "test"};

  void SetUp() override {
    ASSERT_TRUE(ca.ok());
    ASSERT_TRUE(ca.sign("standin"));
    standin = std::make_unique<graph_standin>(dir.path() + "/standin.pem",
                                              dir.path() + "/standin.key");
    ASSERT_EQ(standin->start(), "");
    http::client::options o;
    o.ca_file = ca.certificate();
    client = std::make_unique<http::client>(o);
  }

  graph::graph_api api(const std::string& secret = "standin-client-secret") {
    graph::graph_api::options o;
    o.graph_url = standin->graph_url();
    o.authority = standin->authority();
    o.client_id = "bot-app-id";
    o.client_secret = secret;
    return graph::graph_api{o, *client, log};
  }

  static http::reply call(graph::graph_api& g, const std::string& tenant,
                          const std::string& path) {
    std::promise<http::reply> p;
    auto f = p.get_future();
    g.send(tenant, "POST", path, "{\"acceptedModalities\":[\"audio\"]}",
           [&p](http::reply r) {
             p.set_value(std::move(r));
           });
    return f.get();
  }
};

} // namespace

TEST_F(graph_api_test, requests_carry_an_app_token_fetched_once_per_tenant) {
  auto g = api();
  auto r = call(g, "tenant-a", "/communications/calls/c1/answer");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.status, 202u);
  EXPECT_EQ(call(g, "tenant-a", "/communications/calls/c2/answer").value.status,
            202u);
  EXPECT_EQ(standin->tokens_issued(), 1u);
  EXPECT_EQ(call(g, "tenant-b", "/communications/calls/c3/answer").value.status,
            202u);
  EXPECT_EQ(standin->tokens_issued(), 2u);
  // What Graph saw: the path, the body, the bearer token.
  std::size_t answers = 0;
  for (const auto& req : standin->requests()) {
    if (req.path == "/tenant-a/oauth2/v2.0/token") {
      EXPECT_NE(req.body.find("grant_type=client_credentials"),
                std::string::npos);
      EXPECT_NE(
        req.body.find("scope="
                      + http::url_encode(standin->base_url() + "/.default")),
        std::string::npos)
        << req.body;
    }
    if (req.path == "/v1.0/communications/calls/c1/answer") {
      ++answers;
      EXPECT_EQ(req.method, "POST");
      EXPECT_EQ(req.header("authorization"),
                "Bearer standin-app-token-tenant-a-1");
      EXPECT_EQ(req.body, "{\"acceptedModalities\":[\"audio\"]}");
    }
  }
  EXPECT_EQ(answers, 1u);
}

TEST_F(graph_api_test, a_refused_token_is_replaced_once) {
  auto g = api();
  ASSERT_EQ(call(g, "tenant-a", "/communications/calls/c1/answer").value.status,
            202u);
  standin->revoke_tokens();
  auto r = call(g, "tenant-a", "/communications/calls/c1/answer");
  EXPECT_EQ(r.value.status, 202u);
  EXPECT_EQ(standin->tokens_issued(), 2u);
}

TEST_F(graph_api_test, a_wrong_client_secret_fails_with_the_platforms_reason) {
  auto g = api("wrong-secret");
  auto r = call(g, "tenant-a", "/communications/calls/c1/answer");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("invalid_client"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("AADSTS7000215"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("wrong-secret"), std::string::npos)
    << "the secret must not appear in errors";
  EXPECT_EQ(standin->count("/v1.0/communications/calls/c1/answer"), 0u);
}

TEST_F(graph_api_test, a_tenant_id_that_could_change_the_url_is_refused) {
  auto g = api();
  auto r = call(g, "../evil?x=", "/communications/calls/c1/answer");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("not a Microsoft tenant id"), std::string::npos);
  EXPECT_TRUE(standin->requests().empty());
}

TEST(graph_api_scope, is_the_origin_of_the_graph_url) {
  EXPECT_EQ(graph::graph_api::scope_of("https://graph.microsoft.com/v1.0"),
            "https://graph.microsoft.com/.default");
  EXPECT_EQ(graph::graph_api::scope_of("https://graph.microsoft.us"),
            "https://graph.microsoft.us/.default");
}
