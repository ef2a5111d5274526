#include "nodes/sbc_gateway/config.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

using namespace switchboard;

namespace {

sbc::config_result load(std::vector<const char*> args,
                        std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "switchboard-sbc-gateway");
  return sbc::load_config(static_cast<int>(args.size()), args.data(),
                          [env](const char* name) -> const char* {
                            auto i = env.find(name);
                            return i == env.end() ? nullptr : i->second.c_str();
                          });
}

} // namespace

TEST(sbc_config, runs_with_no_arguments_against_a_router_on_its_defaults) {
  auto c = load({});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.sip.to_string(), "127.0.0.1:5070");
  EXPECT_EQ(c.value.router, "127.0.0.1:7400");
  EXPECT_FALSE(c.value.metrics);
  EXPECT_EQ(c.value.agent_route, "source");
  EXPECT_EQ(c.value.ring_refresh, std::chrono::seconds{60});
}

TEST(sbc_config, yaml_then_environment_then_flags) {
  switchboard::testing::temp_dir dir;
  auto path = dir / "gateway.yaml";
  std::ofstream{path} << "sip:\n  listen: 127.0.0.1:5080\n"
                         "  attribute_headers: [X-Tier, User-to-User]\n"
                         "router:\n  address: 127.0.0.1:7500\n";
  auto c = load({"--config", path.c_str(), "--router", "127.0.0.1:7600"},
                {{"SWITCHBOARD_SBC_SIP_LISTEN", "127.0.0.1:5090"},
                 {"SWITCHBOARD_SBC_ROUTER", "127.0.0.1:7550"}});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.sip.to_string(), "127.0.0.1:5090");
  EXPECT_EQ(c.value.router, "127.0.0.1:7600");
  EXPECT_EQ(c.value.attribute_headers,
            (std::vector<std::string>{"X-Tier", "User-to-User"}));
}

TEST(sbc_config, bad_values_name_the_setting) {
  EXPECT_EQ(load({"--agent-route", "somewhere"}).error,
            "--agent-route: expected source, direct or host:port, found "
            "'somewhere'");
  EXPECT_EQ(load({}, {{"SWITCHBOARD_SBC_RING_REFRESH", "1h"}}).error,
            "environment variable SWITCHBOARD_SBC_RING_REFRESH: expected a "
            "duration such as 60s, found '1h'");
  EXPECT_FALSE(load({"--help"}).help.empty());
}
