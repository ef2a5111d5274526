// switchboard-router: one Switchboard routing node.

#include "nodes/router/config.hpp"
#include "nodes/router/log.hpp"
#include "storage/error.hpp"
#include "storage/rocksdb_store.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <pthread.h>

using namespace switchboard;

namespace {

constexpr const char* version = "0.1.0";

} // namespace

int main(int argc, char** argv) {
  auto loaded = router::load_config(argc, argv);
  if (!loaded.help.empty()) {
    std::cout << loaded.help;
    return 0;
  }
  if (!loaded.error.empty()) {
    std::cerr << "switchboard-router: " << loaded.error
              << "\n(run switchboard-router --help for the settings)\n";
    return 2;
  }
  auto& cfg = loaded.value;
  router::logger log{router::logger::parse_level(cfg.log_level), cfg.node_name};

  // Termination signals are taken by sigwait below, in this thread only:
  // block them before any other thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::error_code dir_error;
  std::filesystem::create_directories(cfg.data_dir, dir_error);
  if (dir_error) {
    log.error("cannot create the data folder",
              {{"data_dir", cfg.data_dir}, {"error", dir_error.message()}});
    return 1;
  }
  storage::store_options store_options;
  store_options.path = cfg.data_dir;
  store_options.sync_writes = cfg.sync_writes;
  auto store = storage::rocksdb_store::open(store_options);
  if (!store) {
    log.error("cannot open the store",
              {{"data_dir", cfg.data_dir}, {"error", render(store.error())}});
    return 1;
  }

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(cfg.metrics.to_string());
  } catch (const std::exception& e) {
    log.error("cannot listen for metrics",
              {{"metrics", cfg.metrics.to_string()}, {"error", e.what()}});
    return 1;
  }
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge()
    .Name("switchboard_node_info")
    .Help("Always 1; labels name the node and its version")
    .Register(*registry)
    .Add({{"node", cfg.node_name}, {"version", version}})
    .Set(1);
  exposer->RegisterCollectable(registry);
  auto metrics_address = cfg.metrics;
  if (auto ports = exposer->GetListeningPorts(); !ports.empty())
    metrics_address.port = static_cast<uint16_t>(ports.front());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: two nodes could then share a port
  // and split its traffic. A taken port must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int grpc_port = 0;
  builder.AddListeningPort(cfg.grpc.to_string(),
                           grpc::InsecureServerCredentials(), &grpc_port);
  auto server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    log.error("cannot listen for gRPC (address in use or not local?)",
              {{"grpc", cfg.grpc.to_string()}});
    return 1;
  }
  auto grpc_address = cfg.grpc;
  grpc_address.port = static_cast<uint16_t>(grpc_port);

  log.info("serving", {{"grpc", grpc_address.to_string()},
                       {"metrics", metrics_address.to_string()},
                       {"data_dir", cfg.data_dir},
                       {"sync_writes", cfg.sync_writes ? "true" : "false"},
                       {"version", version}});

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log.info("stopping", {{"signal", strsignal(signal)}});
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds{5});
  server->Wait();
  log.info("stopped");
  return 0;
}
