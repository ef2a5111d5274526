// Every binary says what it is (--version: version, commit, build type) and
// what each option is when not given (--help shows the defaults).

#include "tests/support/process.hpp"

#include <gtest/gtest.h>

using namespace switchboard::testing;

namespace {

struct binary {
  std::string name;
  std::string path;
};

std::vector<binary> binaries() {
  std::vector<binary> all{
    {"switchboard-router", SWITCHBOARD_ROUTER_PATH},
    {"switchboard", SWITCHBOARD_CLI_PATH},
    {"switchboard-sim", SWITCHBOARD_SIM_PATH},
    {"switchboard-sbc-gateway", SWITCHBOARD_SBC_GATEWAY_PATH},
    {"switchboard-graph-gateway", SWITCHBOARD_GRAPH_GATEWAY_PATH}};
#ifdef SWITCHBOARD_LOADGEN_PATH
  all.push_back({"switchboard-loadgen", SWITCHBOARD_LOADGEN_PATH});
  all.push_back({"switchboard-bench-routing", SWITCHBOARD_BENCH_ROUTING_PATH});
  all.push_back({"switchboard-bench-store", SWITCHBOARD_BENCH_STORE_PATH});
  all.push_back({"switchboard-bench-scale", SWITCHBOARD_BENCH_SCALE_PATH});
#endif
  return all;
}

/// Runs a binary to its end; its exit status and output (both streams).
std::pair<int, std::string> run(const std::string& path,
                                const std::vector<std::string>& args) {
  process p{path, args, true};
  auto code = p.wait();
  std::string out;
  for (auto& l : p.lines())
    out += l + "\n";
  return {code, out};
}

} // namespace

TEST(tools, every_binary_prints_its_version_commit_and_build_type) {
  // "switchboard-router 0.1.0 (commit 4e6ce3a, RelWithDebInfo)"; the
  // commit is a short hash, or "unknown" outside a git checkout.
  for (auto& b : binaries()) {
    auto [code, out] = run(b.path, {"--version"});
    EXPECT_EQ(code, 0) << b.name << ":\n" << out;
    auto head = b.name + " " + SWITCHBOARD_VERSION + " (commit ";
    auto tail = std::string{", "} + SWITCHBOARD_BUILD_TYPE + ")\n";
    ASSERT_EQ(out.rfind(head, 0), 0u) << b.name << ":\n" << out;
    ASSERT_GE(out.size(), head.size() + tail.size()) << out;
    ASSERT_EQ(out.substr(out.size() - tail.size()), tail) << out;
    auto commit
      = out.substr(head.size(), out.size() - head.size() - tail.size());
    EXPECT_TRUE(
      commit == "unknown"
      || (commit.size() >= 7
          && commit.find_first_not_of("0123456789abcdef") == std::string::npos))
      << b.name << ": commit '" << commit << "'";
  }
}

TEST(tools, the_router_help_shows_each_settings_default) {
  auto [code, out] = run(SWITCHBOARD_ROUTER_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  for (auto* text :
       {"--node-name TEXT=switchboard-0", "--data-dir TEXT=./data",
        "--sync-writes TEXT=false", "--audit-interval TEXT=1m",
        "--history-retention TEXT=90d", "--event-retention TEXT=7d",
        "--grpc-listen TEXT=127.0.0.1:7400", "--grpc-max-in-flight TEXT=50000",
        "--cluster-listen TEXT=0.0.0.0:7401",
        "--cluster-advertise TEXT=the listen address",
        "--peers TEXT=none: a single node",
        "--metrics-listen TEXT=127.0.0.1:9464", "--log-level TEXT=info",
        "SWITCHBOARD_CONFIG; none by default", "--version"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " in\n" << out;
}

TEST(tools, the_sbc_gateway_help_shows_each_settings_default) {
  auto [code, out] = run(SWITCHBOARD_SBC_GATEWAY_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  for (auto* text : {"--name TEXT=sbc-gateway-0",
                     "--sip-listen TEXT=127.0.0.1:5070",
                     "--trunks TEXT=none",
                     "--allowed-sources TEXT=any",
                     "--agent-route TEXT=source",
                     "--ring-refresh TEXT=60s",
                     "--ping-interval TEXT=30s",
                     "--retry-after TEXT=30",
                     "--router TEXT=127.0.0.1:7400",
                     "--metrics-listen TEXT=none",
                     "--log-level TEXT=info",
                     "SWITCHBOARD_SBC_CONFIG; none by default",
                     "--sbc-transport TEXT=tcp, or tls when TLS is on",
                     "--tls-certificate TEXT=none (TLS off)",
                     "--tls-private-key TEXT=none",
                     "--tls-listen TEXT=the SIP host, port 5061",
                     "--tls-verify TEXT=none",
                     "--tls-ca-file TEXT=none",
                     "sections gateway, sip, tls, media, router, metrics, log",
                     "--version"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " in\n" << out;
}

TEST(tools, the_graph_gateway_help_shows_each_settings_default) {
  auto [code, out] = run(SWITCHBOARD_GRAPH_GATEWAY_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  for (auto* text :
       {"--name TEXT=graph-gateway-0", "--listen TEXT=127.0.0.1:9443",
        "--router TEXT=127.0.0.1:7400",
        "--graph-url TEXT=https://graph.microsoft.com/v1.0",
        "--authority TEXT=https://login.microsoftonline.com",
        "--app-id TEXT=none", "--key-refresh TEXT=24h",
        "--calls-path TEXT=/api/calls", "--presence-path TEXT=/api/presence",
        "--client-state-file TEXT=none", "--presence-reconcile TEXT=5m",
        "--token-store TEXT=./data/graph-gateway",
        "switchboard-graph-gateway login MICROSOFT-TENANT-ID",
        "SWITCHBOARD_GRAPH_CONFIG; none by default",
        "sections gateway, http, router, graph, presence, signin, metrics, log",
        "--metrics-listen TEXT=none", "--version"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " in\n" << out;
}

TEST(tools, the_cli_help_shows_defaults) {
  auto [code, out] = run(SWITCHBOARD_CLI_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("--server TEXT=127.0.0.1:7400"), std::string::npos) << out;
  auto [gcode, get] = run(SWITCHBOARD_CLI_PATH, {"get", "--help"});
  EXPECT_EQ(gcode, 0) << get;
  EXPECT_NE(get.find("--limit UINT=0"), std::string::npos) << get;
  auto [hcode, history] = run(SWITCHBOARD_CLI_PATH, {"history", "--help"});
  EXPECT_EQ(hcode, 0) << history;
  EXPECT_NE(history.find("--format TEXT=table"), std::string::npos) << history;
}

TEST(tools, the_simulator_help_shows_defaults) {
  auto [code, out] = run(SWITCHBOARD_SIM_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  for (auto* text :
       {"--seed UINT=", "--calls-per-hour FLOAT:NONNEGATIVE=",
        "--hours FLOAT:POSITIVE=1", "--speed FLOAT:NONNEGATIVE=360"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " in\n" << out;
}

#ifdef SWITCHBOARD_LOADGEN_PATH
TEST(tools, the_scale_benchmark_help_shows_defaults_and_bad_values_are_named) {
  auto [code, out] = run(SWITCHBOARD_BENCH_SCALE_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  for (auto* text : {"--agents N   agents loaded (default 100000)",
                     "--calls M    waiting calls loaded (default 1000000)"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " in\n" << out;
  auto [bad, why] = run(SWITCHBOARD_BENCH_SCALE_PATH, {"--agents", "lots"});
  EXPECT_EQ(bad, 2);
  EXPECT_NE(why.find("--agents: expected a whole number from 1 to 100000000, "
                     "found 'lots'"),
            std::string::npos)
    << why;
}

TEST(tools, the_google_benchmark_binaries_help_names_their_options) {
  for (auto* path :
       {SWITCHBOARD_BENCH_ROUTING_PATH, SWITCHBOARD_BENCH_STORE_PATH}) {
    auto [code, out] = run(path, {"--help"});
    EXPECT_EQ(code, 0) << path << ":\n" << out;
    EXPECT_NE(out.find("--version"), std::string::npos) << out;
    EXPECT_NE(out.find("--benchmark_min_time 0.5 s"), std::string::npos) << out;
    EXPECT_NE(out.find("--benchmark_filter"), std::string::npos) << out;
  }
}

TEST(tools, the_load_generator_help_shows_defaults_and_its_options) {
  auto [code, out] = run(SWITCHBOARD_LOADGEN_PATH, {"--help"});
  EXPECT_EQ(code, 0) << out;
  for (auto* text :
       {"--server TEXT=127.0.0.1:7400", "--ring-min FLOAT=0.5",
        "--ring-max FLOAT=2.5", "--decline-share FLOAT=0.03",
        "--expire-share FLOAT=0", "--drain FLOAT=40", "--give-up FLOAT=3",
        "--talk FLOAT=10", "--time-scale FLOAT=1"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " in\n" << out;
}
#endif
