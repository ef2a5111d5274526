#include "nodes/graph_gateway/config.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace switchboard;

namespace {

graph::config_result load(std::vector<const char*> args,
                          std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "switchboard-graph-gateway");
  return graph::load_config(static_cast<int>(args.size()), args.data(),
                            [env](const char* name) -> const char* {
                              auto i = env.find(name);
                              return i == env.end() ? nullptr
                                                    : i->second.c_str();
                            });
}

} // namespace

TEST(graph_config,
     runs_with_no_arguments_against_a_router_and_the_public_cloud) {
  auto c = load({});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.listen.to_string(), "127.0.0.1:9443");
  EXPECT_EQ(c.value.router, "127.0.0.1:7400");
  EXPECT_EQ(c.value.graph_url, "https://graph.microsoft.com/v1.0");
  EXPECT_EQ(c.value.authority, "https://login.microsoftonline.com");
  EXPECT_EQ(c.value.openid_configuration,
            "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration");
  EXPECT_EQ(c.value.key_refresh, std::chrono::hours{24});
  EXPECT_EQ(c.value.app_id, "");
}

TEST(graph_config, the_example_config_loads) {
  auto c = load({"--config", SWITCHBOARD_GRAPH_EXAMPLE_CONFIG});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.listen.to_string(), "0.0.0.0:9443");
  EXPECT_EQ(c.value.router, "switchboard-router:7400");
  EXPECT_EQ(c.value.presence_certificate_id, "switchboard-presence");
}

TEST(graph_config, environment_then_flags) {
  auto c = load({"--graph-url", "https://127.0.0.1:9999/v1.0"},
                {{"SWITCHBOARD_GRAPH_URL", "https://graph.microsoft.us/v1.0"},
                 {"SWITCHBOARD_GRAPH_KEY_REFRESH", "30m"},
                 {"SWITCHBOARD_GRAPH_APP_ID", "bot"}});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.graph_url, "https://127.0.0.1:9999/v1.0");
  EXPECT_EQ(c.value.key_refresh, std::chrono::minutes{30});
  EXPECT_EQ(c.value.app_id, "bot");
}

TEST(graph_config, bad_values_name_the_setting) {
  EXPECT_EQ(load({"--graph-url", "graph.microsoft.com"}).error,
            "--graph-url: expected an http:// or https:// URL, found "
            "'graph.microsoft.com'");
  EXPECT_EQ(load({"--calls-path", "api/calls"}).error,
            "--calls-path: expected a path starting with /, without query, "
            "found 'api/calls'");
  EXPECT_EQ(load({}, {{"SWITCHBOARD_GRAPH_KEY_REFRESH", "10s"}}).error,
            "environment variable SWITCHBOARD_GRAPH_KEY_REFRESH: expected a "
            "duration from 1m to 168h, found '10s'");
  EXPECT_EQ(load({"--router-wait", "90s"}).error,
            "--router-wait: expected a duration from 0s to 1m, found '90s'");
  EXPECT_EQ(load({"--presence-reconcile", "2d"}).error.substr(0, 52),
            "--presence-reconcile: expected a duration from 1s to");
  EXPECT_EQ(load({"--certificate", "/tls.crt"}).error,
            "http.certificate (--certificate) and http.private_key "
            "(--private-key) go together: set both or neither");
}

TEST(graph_config, has_no_flag_that_carries_a_secret) {
  auto c = load({"--help"});
  EXPECT_EQ(c.help.find("--client-state "), std::string::npos);
  EXPECT_EQ(c.help.find("--client-secret "), std::string::npos);
  EXPECT_NE(c.help.find("--client-state-file"), std::string::npos);
}
