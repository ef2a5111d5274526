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
  EXPECT_EQ(c.value.session_expires, 1800u);
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
  EXPECT_EQ(load({"--session-expires", "30"}).error,
            "--session-expires: expected 0 or a number of seconds from 90 to "
            "86400, found '30'");
  EXPECT_EQ(load({"--session-expires", "0"}).value.session_expires, 0u);
  EXPECT_FALSE(load({"--help"}).help.empty());
}

TEST(sbc_config, a_hold_media_server_and_announcements_are_sip_uris) {
  auto none = load({});
  EXPECT_EQ(none.value.hold_uri, "");
  EXPECT_EQ(none.value.announcement_uri, "");
  auto c = load({"--hold-uri",
                 "sip:annc@ms.test;play=https://p.test/hold.wav;repeat=forever",
                 "--announcement-uri",
                 "sips:annc@ms.test;play=https://p.test/{prompt}.wav"});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.hold_uri,
            "sip:annc@ms.test;play=https://p.test/hold.wav;repeat=forever");
  EXPECT_EQ(load({"--hold-uri", "http://ms.test"}).error,
            "--hold-uri: expected a sip: or sips: URI, found 'http://ms.test'");
  EXPECT_EQ(load({"--announcement-uri", "sip:annc@ms.test"}).error,
            "--announcement-uri: expected a sip: or sips: URI with {prompt} "
            "in it, found 'sip:annc@ms.test'");
}

TEST(sbc_config, a_callback_uri_needs_the_number_in_it) {
  EXPECT_EQ(load({}).value.callback_uri, "sip:{number}@{trunk};user=phone");
  EXPECT_EQ(load({"--callback-uri", "sip:{number}@pstn.sbc.test:5061"})
              .value.callback_uri,
            "sip:{number}@pstn.sbc.test:5061");
  EXPECT_EQ(load({"--callback-uri", "sip:callback@sbc.test"}).error,
            "--callback-uri: expected a sip: or sips: URI with {number} in "
            "it, found 'sip:callback@sbc.test'");
}

TEST(sbc_config, tls_is_off_unless_a_certificate_is_configured) {
  auto c = load({});
  ASSERT_EQ(c.error, "");
  EXPECT_FALSE(c.value.tls.enabled());
  EXPECT_FALSE(c.value.tls.listen);
  EXPECT_EQ(c.value.transport_to_sbc(), "tcp");

  auto help = load({"--help"}).help;
  EXPECT_NE(help.find("--tls-certificate"), std::string::npos) << help;
  EXPECT_NE(help.find("none (TLS off)"), std::string::npos) << help;
  EXPECT_NE(help.find("port 5061"), std::string::npos) << help;
  EXPECT_NE(help.find("tcp, or tls when TLS is on"), std::string::npos) << help;
}

TEST(sbc_config, a_certificate_turns_tls_on_at_port_5061_of_the_sip_host) {
  auto c = load({"--sip-listen", "127.0.0.2:5070", "--tls-certificate",
                 "gw.pem", "--tls-private-key", "gw.key"});
  ASSERT_EQ(c.error, "");
  EXPECT_TRUE(c.value.tls.enabled());
  ASSERT_TRUE(c.value.tls.listen);
  EXPECT_EQ(c.value.tls.listen->to_string(), "127.0.0.2:5061");
  EXPECT_EQ(c.value.tls.verify, "none");
  EXPECT_EQ(c.value.transport_to_sbc(), "tls");
}

TEST(sbc_config, tls_settings_come_from_yaml_and_environment_too) {
  switchboard::testing::temp_dir dir;
  auto path = dir / "gateway.yaml";
  std::ofstream{path} << "tls:\n  certificate: /etc/gw/cert.pem\n"
                         "  private_key: /etc/gw/key.pem\n"
                         "  listen: 127.0.0.1:5062\n"
                         "  verify: peer\n";
  auto c = load({"--config", path.c_str(), "--sbc-transport", "udp"},
                {{"SWITCHBOARD_SBC_TLS_CA_FILE", "/etc/gw/ca.pem"}});
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.value.tls.certificate_file, "/etc/gw/cert.pem");
  EXPECT_EQ(c.value.tls.private_key_file, "/etc/gw/key.pem");
  EXPECT_EQ(c.value.tls.listen->to_string(), "127.0.0.1:5062");
  EXPECT_EQ(c.value.tls.verify, "peer");
  EXPECT_EQ(c.value.tls.ca_file, "/etc/gw/ca.pem");
  EXPECT_EQ(c.value.transport_to_sbc(), "udp");
}

TEST(sbc_config, tls_settings_that_do_not_fit_together_are_refused) {
  EXPECT_EQ(load({"--tls-certificate", "gw.pem"}).error,
            "tls.certificate (--tls-certificate) needs tls.private_key "
            "(--tls-private-key)");
  EXPECT_EQ(load({"--tls-private-key", "gw.key"}).error,
            "tls.private_key (--tls-private-key) is set but tls.certificate "
            "(--tls-certificate) is not");
  EXPECT_EQ(load({"--tls-certificate", "gw.pem", "--tls-private-key", "gw.key",
                  "--tls-verify", "peer"})
              .error,
            "tls.verify (--tls-verify) peer needs tls.ca_file "
            "(--tls-ca-file), the authorities that sign the SBCs' "
            "certificates");
  EXPECT_EQ(load({"--sbc-transport", "tls"}).error,
            "sip.sbc_transport (--sbc-transport) is tls but TLS is off: set "
            "tls.certificate (--tls-certificate) and tls.private_key "
            "(--tls-private-key)");
  EXPECT_EQ(load({"--tls-listen", "127.0.0.1:5061"}).error,
            "tls.listen (--tls-listen) needs tls.certificate "
            "(--tls-certificate) and tls.private_key (--tls-private-key)");
  EXPECT_EQ(load({"--tls-certificate", "gw.pem", "--tls-private-key", "gw.key",
                  "--tls-listen", "127.0.0.1:5070"})
              .error,
            "tls.listen (--tls-listen) 127.0.0.1:5070 is the address of "
            "sip.listen (--sip-listen), whose TCP socket is bound there "
            "already");
  EXPECT_EQ(load({"--tls-verify", "always"}).error,
            "--tls-verify: expected none or peer, found 'always'");
  EXPECT_EQ(load({"--sbc-transport", "sctp"}).error,
            "--sbc-transport: expected udp, tcp or tls, found 'sctp'");
}

TEST(sbc_config, the_example_config_loads) {
  auto c = load({"--config", SWITCHBOARD_SBC_EXAMPLE_CONFIG});
  ASSERT_EQ(c.error, "");
  EXPECT_TRUE(c.value.tls.enabled());
  EXPECT_EQ(c.value.tls.verify, "peer");
  EXPECT_EQ(c.value.transport_to_sbc(), "tls");
  EXPECT_EQ(c.value.agent_route, "192.0.2.5:5071");
}
