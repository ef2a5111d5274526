// gRPC over TLS against the real binaries: the router serving TLS and
// mutual TLS from certificate files, a certificate rotated on disk without
// a restart, clients that must be refused (plain, an unknown authority, a
// certificate for another name, no client certificate, a client
// certificate of another authority), the CLI and a gateway connecting with
// their own certificates, and the settings a node refuses to start with.

#include "nodes/tls/grpc_credentials.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/admin.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
using switchboard::testing::has_line;
using switchboard::testing::json_field;
using switchboard::testing::process;
using switchboard::testing::temp_dir;
using switchboard::testing::test_authority;

namespace {

const std::string router_binary = SWITCHBOARD_ROUTER_PATH;
const std::string cli_binary = SWITCHBOARD_CLI_PATH;
const std::string sbc_binary = SWITCHBOARD_SBC_GATEWAY_PATH;

const tls::setting_names names{"certificate", "private_key", "ca"};

class tls_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ca = std::make_unique<test_authority>(dir.path(), "ca");
    other_ca = std::make_unique<test_authority>(dir.path(), "other-ca");
    ASSERT_TRUE(ca->ok() && other_ca->ok());
    ASSERT_TRUE(ca->sign("router"));
    // Its URI name makes it the provider's (mutual TLS also decides who
    // may do what).
    ASSERT_TRUE(ca->sign("gateway", "IP:127.0.0.1,DNS:localhost,DNS:gateway,"
                                    "URI:urn:switchboard:platform:*"));
    ASSERT_TRUE(other_ca->sign("stranger"));
  }

  void TearDown() override {
    if (HasFailure() && router)
      for (auto& line : router->lines())
        std::cerr << "router: " << line << "\n";
  }

  /// Starts the router with `extra`; the address it serves gRPC on, or ""
  /// when it did not start.
  std::string start_router(std::vector<std::string> extra) {
    std::vector<std::string> args{"--data-dir",       dir / "data",
                                  "--grpc-listen",    "127.0.0.1:0",
                                  "--metrics-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    router = std::make_unique<process>(router_binary, args, true);
    auto line = router->wait_for_line("\"msg\":\"serving\"", 30s);
    return line ? json_field(*line, "grpc") : "";
  }

  /// One request on a channel of its own (no connection shared with an
  /// earlier one): OK or NOT_FOUND when it reached the node.
  grpc::Status ask(const std::string& address, const tls::client_options& o) {
    std::string error;
    auto credentials = tls::channel_credentials(o, names, error);
    if (!credentials)
      return {grpc::StatusCode::INVALID_ARGUMENT, error};
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = v1::AdminService::NewStub(
      grpc::CreateCustomChannel(address, credentials, args));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    v1::GetTenantRequest req;
    req.set_tenant_id("contoso");
    v1::Tenant out;
    return stub->GetTenant(&ctx, req, &out);
  }

  static bool reached(const grpc::Status& s) {
    return s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND;
  }

  tls::client_options trusting(const test_authority& authority) {
    tls::client_options o;
    o.f.ca_file = authority.certificate();
    return o;
  }

  tls::client_options with_certificate(tls::client_options o,
                                       const std::string& name) {
    o.f.certificate_file = dir / (name + ".pem");
    o.f.private_key_file = dir / (name + ".key");
    return o;
  }

  std::vector<std::string> serving(const std::string& name) {
    return {"--grpc-tls-certificate", dir / (name + ".pem"),
            "--grpc-tls-private-key", dir / (name + ".key")};
  }

  temp_dir dir;
  std::unique_ptr<test_authority> ca;
  std::unique_ptr<test_authority> other_ca;
  std::unique_ptr<process> router;
};

TEST_F(tls_test, clients_that_trust_the_authority_reach_the_node) {
  auto address = start_router(serving("router"));
  ASSERT_NE(address, "");
  EXPECT_TRUE(has_line(*router, "\"grpc_tls\":\"on\"", 5s));
  EXPECT_TRUE(has_line(*router, "CN=router", 5s));

  auto trusted = ask(address, trusting(*ca));
  EXPECT_TRUE(reached(trusted)) << trusted.error_message();

  auto plain = ask(address, {});
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE);

  auto unknown = ask(address, trusting(*other_ca));
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(tls_test, a_certificate_for_another_name_is_refused) {
  ASSERT_TRUE(ca->sign("elsewhere", "DNS:router.example"));
  auto address = start_router(serving("elsewhere"));
  ASSERT_NE(address, "");
  auto s = ask(address, trusting(*ca));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
    << "a client accepted a certificate for router.example from " << address;
}

TEST_F(tls_test, mutual_tls_asks_every_client_for_its_certificate) {
  auto args = serving("router");
  args.insert(args.end(), {"--grpc-tls-client-ca", ca->certificate()});
  auto address = start_router(args);
  ASSERT_NE(address, "");
  EXPECT_TRUE(has_line(*router, "\"grpc_tls\":\"mutual\"", 5s));

  auto with_own = ask(address, with_certificate(trusting(*ca), "gateway"));
  EXPECT_TRUE(reached(with_own)) << with_own.error_message();

  auto without = ask(address, trusting(*ca));
  EXPECT_EQ(without.error_code(), grpc::StatusCode::UNAVAILABLE);

  auto stranger = ask(address, with_certificate(trusting(*ca), "stranger"));
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(tls_test, a_certificate_rotated_on_disk_is_served_without_a_restart) {
  // Served from files that are replaced as Kubernetes replaces a mounted
  // Secret: new files, then one rename.
  std::filesystem::create_directories(dir / "live");
  std::filesystem::copy_file(dir / "router.pem", dir / "live/tls.crt");
  std::filesystem::copy_file(dir / "router.key", dir / "live/tls.key");
  auto address = start_router({"--grpc-tls-certificate", dir / "live/tls.crt",
                               "--grpc-tls-private-key", dir / "live/tls.key"});
  ASSERT_NE(address, "");
  ASSERT_TRUE(reached(ask(address, trusting(*ca))));
  ASSERT_FALSE(reached(ask(address, trusting(*other_ca))));

  ASSERT_TRUE(other_ca->sign("router-next"));
  std::filesystem::copy_file(dir / "router-next.pem", dir / "next.crt");
  std::filesystem::copy_file(dir / "router-next.key", dir / "next.key");
  std::filesystem::rename(dir / "next.key", dir / "live/tls.key");
  std::filesystem::rename(dir / "next.crt", dir / "live/tls.crt");

  // The node reads its files every few seconds.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  bool rotated = false;
  while (!rotated && std::chrono::steady_clock::now() < deadline) {
    rotated = reached(ask(address, trusting(*other_ca)));
    if (!rotated)
      std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(rotated) << "the rotated certificate was not served in 30 s";
  EXPECT_FALSE(reached(ask(address, trusting(*ca))))
    << "the old certificate is still served";
}

TEST_F(tls_test, the_cli_connects_with_its_certificate) {
  auto args = serving("router");
  args.insert(args.end(), {"--grpc-tls-client-ca", ca->certificate()});
  auto address = start_router(args);
  ASSERT_NE(address, "");

  std::ofstream{dir / "center.yaml"}
    << "tenants:\n  - id: contoso\n    queues:\n      - id: sales\n";
  process with_tls{cli_binary,
                   {"--server", address, "--tls-ca", ca->certificate(),
                    "--tls-certificate", dir / "gateway.pem",
                    "--tls-private-key", dir / "gateway.key", "apply", "-f",
                    dir / "center.yaml"},
                   true};
  EXPECT_EQ(with_tls.wait(), 0);
  process listed{cli_binary,
                 {"--server", address, "--tls-ca", ca->certificate(),
                  "--tls-certificate", dir / "gateway.pem", "--tls-private-key",
                  dir / "gateway.key", "get", "queues", "--tenant", "contoso"},
                 true};
  EXPECT_TRUE(listed.wait_for_line("sales", 10s));
  EXPECT_EQ(listed.wait(), 0);

  process plain{cli_binary,
                {"--server", address, "get", "queues", "--tenant", "contoso"},
                true};
  EXPECT_TRUE(plain.wait_for_line("UNAVAILABLE", 30s));
  EXPECT_NE(plain.wait(), 0);

  process half{cli_binary,
               {"--server", address, "--tls-certificate", dir / "gateway.pem",
                "get", "queues", "--tenant", "contoso"},
               true};
  EXPECT_TRUE(half.wait_for_line(
    "--tls-certificate: set without --tls-private-key; set both, or neither",
    10s));
  EXPECT_EQ(half.wait(), 2);
}

TEST_F(tls_test, a_gateway_reaches_a_mutual_tls_router_with_its_certificate) {
  auto args = serving("router");
  args.insert(args.end(), {"--grpc-tls-client-ca", ca->certificate()});
  auto address = start_router(args);
  ASSERT_NE(address, "");

  auto port = std::to_string(switchboard::testing::free_port());
  process gateway{sbc_binary,
                  {"--sip-listen", "127.0.0.1:" + port, "--router", address,
                   "--router-tls-ca", ca->certificate(),
                   "--router-tls-certificate", dir / "gateway.pem",
                   "--router-tls-private-key", dir / "gateway.key",
                   "--metrics-listen", ""},
                  true};
  EXPECT_TRUE(gateway.wait_for_line("\"msg\":\"router over tls\"", 30s));
  EXPECT_TRUE(gateway.wait_for_line("\"msg\":\"router connected\"", 30s))
    << "the gateway did not reach the router over mutual TLS";
  EXPECT_EQ(gateway.stop(SIGTERM), 0);
}

TEST_F(tls_test, a_node_refuses_to_start_on_wrong_tls_settings) {
  // A key that belongs to another certificate: named, not served.
  process mismatched{router_binary,
                     {"--data-dir", dir / "data", "--grpc-listen",
                      "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                      "--grpc-tls-certificate", dir / "router.pem",
                      "--grpc-tls-private-key", dir / "gateway.key"},
                     true};
  EXPECT_TRUE(mismatched.wait_for_line(
    "--grpc-tls-private-key: the key in '" + dir / "gateway.key"
      + "' does not belong to the certificate",
    30s));
  EXPECT_EQ(mismatched.wait(), 2);

  // Plain gRPC on every interface would open every tenant to the network.
  process open{router_binary,
               {"--data-dir", dir / "data", "--grpc-listen", "0.0.0.0:0",
                "--metrics-listen", "127.0.0.1:0"},
               true};
  EXPECT_TRUE(open.wait_for_line("is not a loopback address", 30s));
  EXPECT_EQ(open.wait(), 2);

  // A gateway whose client key is missing says which setting.
  process gateway{sbc_binary,
                  {"--router", "127.0.0.1:1", "--router-tls-certificate",
                   dir / "gateway.pem", "--router-tls-private-key",
                   dir / "missing.key", "--metrics-listen", ""},
                  true};
  EXPECT_TRUE(gateway.wait_for_line("--router-tls-private-key: cannot read '"
                                      + dir / "missing.key" + "'",
                                    30s));
  EXPECT_EQ(gateway.wait(), 2);

  // A gateway's token is never sent in the clear, and needs its settings.
  process plain_token{sbc_binary,
                      {"--router", "127.0.0.1:1", "--router-token-client-id",
                       "app", "--router-token-tenant-id", "t",
                       "--router-token-client-secret-file", dir / "secret",
                       "--router-token-scope", "api://sb/.default",
                       "--metrics-listen", ""},
                      true};
  EXPECT_TRUE(plain_token.wait_for_line(
    "router.token_client_id needs TLS to the router", 30s));
  EXPECT_EQ(plain_token.wait(), 2);
  process half_token{sbc_binary,
                     {"--router", "127.0.0.1:1", "--router-tls-ca",
                      ca->certificate(), "--router-token-client-id", "app",
                      "--metrics-listen", ""},
                     true};
  EXPECT_TRUE(half_token.wait_for_line(
    "router.token_tenant_id, router.token_client_secret_file, "
    "router.token_scope must be too",
    30s));
  EXPECT_EQ(half_token.wait(), 2);
}

TEST_F(tls_test, plain_serving_on_loopback_warns_at_start) {
  auto address = start_router({});
  ASSERT_NE(address, "");
  EXPECT_TRUE(has_line(*router, "grpc is plain and unauthenticated", 5s));
  EXPECT_TRUE(has_line(*router, "\"grpc_tls\":\"off\"", 5s));
  EXPECT_TRUE(reached(ask(address, {})));
}

} // namespace
