#include "nodes/router/config.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

using namespace switchboard::router;
using switchboard::testing::temp_dir;

namespace {

/// Loads with `args` and a fake environment.
config_result load(std::vector<std::string> args,
                   std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "switchboard-router");
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  return load_config(static_cast<int>(argv.size()), argv.data(),
                     [&](const char* name) -> const char* {
                       auto i = env.find(name);
                       return i == env.end() ? nullptr : i->second.c_str();
                     });
}

std::string write_file(const temp_dir& dir, const std::string& text) {
  auto path = dir / "switchboard.yaml";
  std::ofstream{path} << text;
  return path;
}

} // namespace

TEST(router_config, runs_on_embedded_defaults) {
  auto r = load({});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.value.node_name, "switchboard-0");
  EXPECT_EQ(r.value.data_dir, "./data");
  EXPECT_FALSE(r.value.sync_writes);
  EXPECT_EQ(r.value.grpc.to_string(), "127.0.0.1:7400");
  EXPECT_EQ(r.value.metrics.to_string(), "127.0.0.1:9464");
  EXPECT_EQ(r.value.log_level, "info");
}

TEST(router_config, file_then_environment_then_flags) {
  temp_dir dir;
  auto file = write_file(dir, "node:\n  name: from-file\n  data_dir: /file\n"
                              "grpc:\n  listen: 0.0.0.0:1000\n"
                              "log:\n  level: debug\n");
  auto r = load({"--config", file, "--data-dir", "/flag"},
                {{"SWITCHBOARD_DATA_DIR", "/env"},
                 {"SWITCHBOARD_GRPC_LISTEN", "0.0.0.0:2000"},
                 {"SWITCHBOARD_GRPC_ALLOW_PLAINTEXT", "true"},
                 {"SWITCHBOARD_GRPC_ALLOW_UNAUTHENTICATED", "true"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.value.node_name, "from-file");           // file only
  EXPECT_EQ(r.value.log_level, "debug");               // file only
  EXPECT_EQ(r.value.grpc.to_string(), "0.0.0.0:2000"); // env over file
  EXPECT_EQ(r.value.data_dir, "/flag");                // flag over env
}

TEST(router_config, the_file_may_come_from_the_environment) {
  temp_dir dir;
  auto file = write_file(dir, "node:\n  sync_writes: true\n");
  auto r = load({}, {{"SWITCHBOARD_CONFIG", file}});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.value.sync_writes);
}

TEST(router_config, unknown_keys_in_the_file_are_errors) {
  temp_dir dir;
  auto file = write_file(dir, "node:\n  data_folder: /x\n");
  auto r = load({"--config", file});
  EXPECT_EQ(r.error,
            "config file '" + file + "': unknown key 'node.data_folder'");
  file = write_file(dir, "nodes:\n  name: x\n");
  r = load({"--config", file});
  EXPECT_EQ(r.error, "config file '" + file
                       + "': unknown section 'nodes' (known: node, grpc, "
                         "auth, cluster, metrics, log)");
}

TEST(router_config, bad_values_name_where_they_came_from) {
  temp_dir dir;
  auto file = write_file(dir, "grpc:\n  listen: localhost\n");
  EXPECT_EQ(load({"--config", file}).error,
            "config file '" + file
              + "', grpc.listen: expected host:port (port 0-65535), found "
                "'localhost'");
  EXPECT_EQ(load({}, {{"SWITCHBOARD_SYNC_WRITES", "maybe"}}).error,
            "environment variable SWITCHBOARD_SYNC_WRITES: expected true or "
            "false, found 'maybe'");
  EXPECT_EQ(load({"--metrics-listen", "127.0.0.1:70000"}).error,
            "--metrics-listen: expected host:port (port 0-65535), found "
            "'127.0.0.1:70000'");
  EXPECT_EQ(load({"--log-level", "loud"}).error,
            "--log-level: expected debug, info, warn or error, found 'loud'");
  EXPECT_EQ(load({"--node-name", ""}).error, "--node-name: must not be empty");
  EXPECT_EQ(load({"--audit-interval", "10ms"}).error,
            "--audit-interval: expected a duration from 100ms to 1h such as "
            "500ms, 60s or 5m, found '10ms'");
  EXPECT_EQ(load({"--audit-interval", "5m"}).value.audit_interval,
            std::chrono::minutes{5});
  EXPECT_EQ(load({"--history-retention", "90"}).error,
            "--history-retention: expected a duration such as 90d or 36h, or 0 "
            "to keep for ever, found '90'");
  EXPECT_EQ(load({"--history-retention", "30d"}).value.history_retention,
            std::chrono::hours{24 * 30});
  EXPECT_EQ(load({"--history-retention", "0"}).value.history_retention,
            std::chrono::seconds{0});
  EXPECT_EQ(load({}).value.event_retention, std::chrono::hours{24 * 7});
  EXPECT_TRUE(load({}).value.peers.empty());
  auto two = load({"--node-name", "router-0", "--peers",
                   "router-1=192.0.2.2:7401,router-2=router-2.sb.svc:7401",
                   "--cluster-allow-insecure", "true"});
  ASSERT_EQ(two.error, "");
  ASSERT_EQ(two.value.peers.size(), 2u);
  EXPECT_EQ(two.value.peers[1].name, "router-2");
  EXPECT_EQ(two.value.peers[1].host, "router-2.sb.svc");
  EXPECT_EQ(two.value.peers[1].port, 7401);
  EXPECT_EQ(load({"--peers", "router-1=192.0.2.2"}).error,
            "--peers: expected name=host:port such as router-1=192.0.2.2:7400, "
            "found 'router-1=192.0.2.2'");
  EXPECT_EQ(load({"--cluster-advertise", "router-3.sb.svc:7401"})
              .value.cluster_advertise,
            "router-3.sb.svc:7401");
  EXPECT_EQ(load({"--cluster-advertise", "router-3.sb.svc:0"}).error,
            "--cluster-advertise: expected a port other than 0 in "
            "'router-3.sb.svc:0'");
  EXPECT_EQ(load({"--peers", "a=h:1,a=k:2"}).error,
            "--peers: peer 'a' is listed twice");
  EXPECT_EQ(load({"--node-name", "a", "--peers", "a=h:1"}).error,
            "--peers: lists this node ('a'); list only the other members");
  EXPECT_EQ(load({"--event-retention", "36h"}).value.event_retention,
            std::chrono::hours{36});
  EXPECT_EQ(load({"--event-retention", "week"}).error,
            "--event-retention: expected a duration such as 90d or 36h, or 0 "
            "to keep for ever, found 'week'");
}

TEST(router_config, a_missing_file_is_named) {
  EXPECT_EQ(load({"--config", "/nonexistent/switchboard.yaml"}).error,
            "cannot read config file '/nonexistent/switchboard.yaml'");
}

TEST(router_config, the_last_of_repeated_flags_wins) {
  auto r = load({"--data-dir", "/first", "--data-dir", "/second"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.value.data_dir, "/second");
}

TEST(router_config, unknown_flags_are_errors) {
  auto r = load({"--grpc-port", "1"});
  EXPECT_NE(r.error.find("--grpc-port"), std::string::npos) << r.error;
}

TEST(router_config, help_explains_every_setting) {
  auto r = load({"--help"});
  EXPECT_EQ(r.error, "");
  for (auto* text : {"--config", "--node-name", "--data-dir", "--sync-writes",
                     "--grpc-listen", "--metrics-listen", "--log-level",
                     "SWITCHBOARD_DATA_DIR", "node.data_dir", "port 0"})
    EXPECT_NE(r.help.find(text), std::string::npos) << text;
}

TEST(router_config, plain_grpc_serves_loopback_only) {
  for (auto* local :
       {"127.0.0.1:7400", "127.8.9.1:0", "[::1]:7400", "localhost:7400"})
    EXPECT_EQ(load({"--grpc-listen", local}).error, "") << local;
  for (auto* open : {"0.0.0.0:7400", "[::]:7400", "192.0.2.10:7400",
                     "router-0.switchboard:7400"}) {
    auto r = load({"--grpc-listen", open});
    EXPECT_NE(r.error.find("--grpc-listen: "), std::string::npos) << open;
    EXPECT_NE(r.error.find("is not a loopback address"), std::string::npos)
      << r.error;
    EXPECT_NE(r.error.find("--grpc-tls-certificate"), std::string::npos)
      << r.error;
  }
  // Behind a service mesh, on purpose.
  auto meshed = load({"--grpc-listen", "0.0.0.0:7400", "--grpc-allow-plaintext",
                      "true", "--grpc-allow-unauthenticated", "true"});
  EXPECT_EQ(meshed.error, "");
  EXPECT_TRUE(meshed.value.grpc_allow_plaintext);
  // With TLS, anywhere.
  auto secured
    = load({"--grpc-listen", "0.0.0.0:7400", "--grpc-tls-certificate",
            "/tls/tls.crt", "--grpc-tls-private-key", "/tls/tls.key",
            "--grpc-tls-client-ca", "/tls/ca.crt"});
  EXPECT_EQ(secured.error, "");
  EXPECT_EQ(secured.value.grpc_tls.certificate_file, "/tls/tls.crt");
  EXPECT_EQ(secured.value.grpc_tls.private_key_file, "/tls/tls.key");
  EXPECT_EQ(secured.value.grpc_tls.ca_file, "/tls/ca.crt");
}

TEST(router_config, tls_settings_that_only_work_together) {
  EXPECT_EQ(load({"--grpc-tls-certificate", "/tls/tls.crt"}).error,
            "--grpc-tls-certificate: set without --grpc-tls-private-key; set "
            "both, or neither");
  EXPECT_EQ(load({"--grpc-tls-private-key", "/tls/tls.key"}).error,
            "--grpc-tls-private-key: set without --grpc-tls-certificate; set "
            "both, or neither");
  EXPECT_EQ(load({"--grpc-tls-client-ca", "/tls/ca.crt"}).error,
            "--grpc-tls-client-ca: client certificates need TLS; set "
            "--grpc-tls-certificate and --grpc-tls-private-key too");
}

TEST(router_config, a_cluster_needs_certificates_or_an_explicit_choice) {
  auto bare = load({"--node-name", "router-0", "--peers", "router-1=h:7401"});
  EXPECT_NE(bare.error.find("--peers: a cluster without certificates"),
            std::string::npos)
    << bare.error;
  EXPECT_NE(bare.error.find("--cluster-tls-certificate"), std::string::npos);

  auto lab = load({"--node-name", "router-0", "--peers", "router-1=h:7401",
                   "--cluster-allow-insecure", "true"});
  EXPECT_EQ(lab.error, "");
  EXPECT_TRUE(lab.value.cluster_allow_insecure);

  auto secured
    = load({"--node-name", "router-0", "--peers", "router-1=h:7401",
            "--cluster-tls-certificate", "/c.pem", "--cluster-tls-private-key",
            "/c.key", "--cluster-tls-ca", "/ca.pem"});
  EXPECT_EQ(secured.error, "");
  EXPECT_EQ(secured.value.cluster_tls.ca_file, "/ca.pem");

  auto partial = load({"--node-name", "router-0", "--peers", "router-1=h:7401",
                       "--cluster-tls-certificate", "/c.pem",
                       "--cluster-tls-private-key", "/c.key"});
  EXPECT_NE(partial.error.find("set all three"), std::string::npos)
    << partial.error;

  // A single node has no cluster port to protect.
  EXPECT_EQ(load({}).error, "");
}

TEST(listen_address, parses_hosts_and_ports) {
  auto a = parse_listen_address("0.0.0.0:7400");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 7400);
  auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->to_string(), "[::1]:0");
  for (auto* bad : {"", ":80", "host:", "host", "::1:80", "[::1:80", "host:-1",
                    "host:65536", "host:8o"})
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
}

TEST(router_config, an_open_address_needs_authentication) {
  // TLS alone encrypts, but lets anyone in.
  auto anyone
    = load({"--grpc-listen", "0.0.0.0:7400", "--grpc-tls-certificate",
            "/tls/tls.crt", "--grpc-tls-private-key", "/tls/tls.key"});
  EXPECT_NE(anyone.error.find("without authentication anyone"),
            std::string::npos)
    << anyone.error;
  EXPECT_NE(anyone.error.find("--auth-openid-configuration"), std::string::npos)
    << anyone.error;
  // Entra ID tokens.
  auto tokens = load(
    {"--grpc-listen", "0.0.0.0:7400", "--grpc-tls-certificate", "/tls/tls.crt",
     "--grpc-tls-private-key", "/tls/tls.key", "--auth-openid-configuration",
     "https://login.microsoftonline.com/organizations/v2.0/.well-known/"
     "openid-configuration",
     "--auth-audience", "api://switchboard,6f1c2d3e"});
  EXPECT_EQ(tokens.error, "");
  EXPECT_EQ(tokens.value.auth.audiences,
            (std::vector<std::string>{"api://switchboard", "6f1c2d3e"}));
  EXPECT_EQ(tokens.value.auth.issuers.size(), 2u);
  // A mesh that authorizes callers itself, on purpose.
  EXPECT_EQ(load({"--grpc-listen", "0.0.0.0:7400", "--grpc-tls-certificate",
                  "/tls/tls.crt", "--grpc-tls-private-key", "/tls/tls.key",
                  "--grpc-allow-unauthenticated", "true"})
              .error,
            "");
}

TEST(router_config, tokens_need_an_audience_and_an_https_configuration) {
  auto no_audience
    = load({"--auth-openid-configuration", "https://login.example/.well-known/"
                                           "openid-configuration"});
  EXPECT_NE(no_audience.error.find("--auth-audience: required"),
            std::string::npos)
    << no_audience.error;
  auto plain = load({"--auth-openid-configuration",
                     "http://login.example/.well-known/openid-configuration",
                     "--auth-audience", "api://switchboard"});
  EXPECT_NE(plain.error.find("expected an https:// URL"), std::string::npos)
    << plain.error;
}
