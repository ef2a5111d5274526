// Starts the real switchboard-router binary on free ports and talks to it
// over real sockets.

#include "tests/support/http.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace switchboard::testing;
using namespace std::chrono_literals;

namespace {

const std::string router_binary = SWITCHBOARD_ROUTER_PATH;

std::vector<std::string> args_for(const temp_dir& dir,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
    "--data-dir",       dir / "data",  "--grpc-listen", "127.0.0.1:0",
    "--metrics-listen", "127.0.0.1:0", "--node-name",   "test-node"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// grpc.health.v1.Health/Check for the whole server. The request (no
/// service name) is the empty message; the reply's field 1 is the status,
/// 1 = SERVING. Returns the reply bytes, or the failed call's message.
std::string health_check(const std::string& address) {
  auto channel
    = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub{channel};
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::Slice empty{std::string{}};
  grpc::ByteBuffer request{&empty, 1};
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions{},
                 &request, &response, [&](grpc::Status s) {
                   done.set_value(std::move(s));
                 });
  auto status = done.get_future().get();
  if (!status.ok())
    return "failed: " + status.error_message();
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok())
    return "failed: unreadable reply";
  std::string bytes;
  for (auto& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes;
}

} // namespace

TEST(router, serves_health_and_metrics_then_stops_on_sigterm) {
  temp_dir dir;
  process node{router_binary, args_for(dir)};
  ASSERT_TRUE(node.started());
  auto serving = node.wait_for_line("\"msg\":\"serving\"");
  ASSERT_TRUE(serving) << "no 'serving' log line";
  auto grpc_address = json_field(*serving, "grpc");
  auto metrics_address = json_field(*serving, "metrics");
  EXPECT_NE(port_of(grpc_address), 0);
  EXPECT_EQ(json_field(*serving, "node"), "test-node");
  EXPECT_EQ(json_field(*serving, "data_dir"), dir / "data");

  EXPECT_EQ(health_check(grpc_address), std::string("\x08\x01", 2))
    << "the node does not report SERVING";

  auto metrics = http_get(port_of(metrics_address), "/metrics");
  EXPECT_NE(metrics.find("200 OK"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("switchboard_node_info{node=\"test-node\""),
            std::string::npos)
    << metrics;

  EXPECT_EQ(node.stop(SIGTERM), 0);
  EXPECT_TRUE(node.wait_for_line("\"msg\":\"stopped\"", 1s));
}

TEST(router, a_second_node_on_the_same_data_folder_is_refused) {
  temp_dir dir;
  process first{router_binary, args_for(dir)};
  ASSERT_TRUE(first.wait_for_line("\"msg\":\"serving\""));
  process second{router_binary, args_for(dir, {"--node-name", "intruder"})};
  EXPECT_EQ(second.wait(), 1);
  auto line = second.wait_for_line("cannot open the store", 1s);
  ASSERT_TRUE(line);
  auto error = json_field(*line, "error");
  EXPECT_EQ(error.rfind("storage_busy: ", 0), 0u) << error;
  EXPECT_NE(error.find(dir / "data"), std::string::npos) << error;
  EXPECT_NE(error.find("another node"), std::string::npos) << error;
  EXPECT_EQ(first.stop(), 0);
  if (HasFailure())
    for (auto& l : first.lines())
      std::cerr << "first: " << l << "\n";
}

TEST(router, a_taken_grpc_port_is_reported) {
  temp_dir dir;
  process first{router_binary, args_for(dir)};
  auto serving = first.wait_for_line("\"msg\":\"serving\"");
  ASSERT_TRUE(serving);
  temp_dir other;
  process second{router_binary,
                 {"--data-dir", other / "data", "--grpc-listen",
                  json_field(*serving, "grpc"), "--metrics-listen",
                  "127.0.0.1:0"}};
  EXPECT_EQ(second.wait(), 1);
  auto line = second.wait_for_line("cannot listen for gRPC", 1s);
  ASSERT_TRUE(line);
  EXPECT_EQ(json_field(*line, "grpc"), json_field(*serving, "grpc"));
  EXPECT_EQ(first.stop(), 0);
}

TEST(router, bad_settings_exit_with_status_2) {
  temp_dir dir;
  process node{router_binary, args_for(dir, {"--grpc-listen", "nowhere"})};
  EXPECT_EQ(node.wait(), 2);
}

TEST(router, help_lists_the_settings_and_exits_0) {
  process node{router_binary, {"--help"}};
  EXPECT_TRUE(node.wait_for_line("--grpc-listen"));
  EXPECT_EQ(node.wait(), 0);
}
