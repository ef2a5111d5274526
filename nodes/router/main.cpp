// switchboard-router: one Switchboard routing node.

#include "actors/atoms.hpp"
#include "actors/directory.hpp"
#include "nodes/http/client.hpp"
#include "nodes/identity/openid_keys.hpp"
#include "nodes/router/authenticate.hpp"
#include "nodes/router/cluster.hpp"
#include "nodes/router/config.hpp"
#include "nodes/router/log.hpp"
#include "nodes/router/metrics.hpp"
#include "nodes/router/services.hpp"
#include "nodes/tls/grpc_credentials.hpp"
#include "storage/error.hpp"
#include "storage/rocksdb_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <thread>

using namespace switchboard;

namespace {

constexpr const char* version = "0.1.0";

/// How often gRPC's certificate files are read again: a rotated Secret
/// takes effect within this (Kubernetes itself takes up to a minute to
/// update the mounted files).
constexpr std::chrono::seconds tls_reload{5};

/// Refreshes the per-queue gauges from every tenant every `period`, from
/// its own thread (it may wait for actors; gRPC threads never do).
class queue_gauges {
 public:
  queue_gauges(caf::actor_system& sys, directory& dir, router::metrics& m,
               std::chrono::milliseconds period)
    : thread_([this, &sys, &dir, &m, period] {
        caf::scoped_actor self{sys};
        std::unique_lock guard{mtx_};
        while (!stop_) {
          guard.unlock();
          for (auto& [id, actor] : dir.actors()) {
            self->request(actor, std::chrono::seconds{2}, atom::stats_v)
              .receive(
                [&, tenant = id](std::vector<routing::queue>& queues,
                                 std::vector<routing::queue_stats>& stats) {
                  for (size_t i = 0; i < queues.size(); ++i)
                    m.queue_figures(tenant, queues[i], stats[i]);
                },
                [](caf::error&) {
                  // A busy or restarting tenant: next round.
                });
          }
          guard.lock();
          cv_.wait_for(guard, period, [this] {
            return stop_;
          });
        }
      }) {}

  ~queue_gauges() {
    {
      std::lock_guard guard{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

/// Reads and checks the TLS files of `what` ("grpc", "cluster"), so that a
/// wrong file stops the node with its setting's name rather than failing
/// every handshake later; logs the certificate, with a warning when it
/// has expired.
bool check_tls_files(const tls::files& files, const tls::setting_names& names,
                     const std::string& what, router::logger& log,
                     std::pair<std::string, std::string> detail) {
  std::string error;
  auto material = tls::load_material(files, names, error);
  if (!error.empty()) {
    std::cerr << "switchboard-router: " << error << "\n";
    return false;
  }
  log.write(material.expired ? router::log_level::warn
                             : router::log_level::info,
            what
              + (material.expired ? " tls certificate expired: whoever "
                                    "checks it refuses this node"
                                  : " tls certificate"),
            {{"certificate", files.certificate_file},
             {"subject", material.subject},
             {"not_after", material.not_after},
             std::move(detail)});
  return true;
}

} // namespace

// LeakSanitizer (the test suite's build): CAF 0.17.6's middleman sometimes
// leaves its BASP broker in a reference cycle when the actor system stops
// soon after it started (a node stopped within a second of serving). The
// objects of that cycle are allocated inside libcaf_io, or by libcaf_core on
// its behalf; a leak of the node's own actors is still reported through
// their own allocations. Without the sanitizer nothing calls this.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libcaf_io.so\nleak:caf::make_node_id\n"
         "leak:std::vector<caf::behavior\n";
}

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

  // Termination signals are taken by sigwait at the end, in this thread
  // only: block them before any other thread starts (gRPC starts its own
  // when the first credentials are made).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::shared_ptr<grpc::ServerCredentials> grpc_credentials;
  if (!cfg.grpc_tls.certificate_file.empty()) {
    if (!check_tls_files(cfg.grpc_tls,
                         {"--grpc-tls-certificate", "--grpc-tls-private-key",
                          "--grpc-tls-client-ca"},
                         "grpc", log,
                         {"client_certificates", cfg.grpc_tls.ca_file.empty()
                                                   ? "not asked"
                                                   : "required"}))
      return 2;
    grpc_credentials = tls::server_credentials(cfg.grpc_tls, tls_reload);
  } else if (!cfg.auth.openid_configuration.empty()) {
    log.write(router::log_level::warn,
              "grpc is plain (no TLS): bearer tokens cross the connection "
              "unencrypted; set --grpc-tls-certificate and "
              "--grpc-tls-private-key outside a developer's machine",
              {{"grpc", cfg.grpc.to_string()}});
    grpc_credentials = tls::plaintext_server_credentials();
  } else {
    log.write(router::log_level::warn,
              cfg.grpc.loopback()
                ? "grpc is plain and unauthenticated: anyone on this machine "
                  "can read and change every tenant; set "
                  "--grpc-tls-certificate and --grpc-tls-private-key outside "
                  "a developer's machine"
                : "grpc is plain and unauthenticated on a network address "
                  "(--grpc-allow-plaintext): only safe where a service mesh "
                  "encrypts and authenticates every connection to this port",
              {{"grpc", cfg.grpc.to_string()}});
    grpc_credentials = tls::plaintext_server_credentials();
  }

  if (!cfg.cluster_tls.certificate_file.empty()) {
    if (!check_tls_files(
          cfg.cluster_tls,
          {"--cluster-tls-certificate", "--cluster-tls-private-key",
           "--cluster-tls-ca"},
          "cluster", log,
          {"peers", "must present a certificate of --cluster-tls-ca"}))
      return 2;
  } else if (!cfg.peers.empty()) {
    log.write(router::log_level::warn,
              "CLUSTER WITHOUT CERTIFICATES (--cluster-allow-insecure): "
              "anyone who reaches the cluster port can join, read every "
              "tenant and stop this node's work; run this way on a private "
              "lab network only",
              {{"cluster", cfg.cluster.to_string()}});
  }

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
  router::metrics metrics;
  metrics.set_logger(&log);
  auto registry = metrics.registry();
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

  caf::actor_system_config actor_cfg;
  add_message_types(actor_cfg);
  // One shared run queue: an idle worker waits on a condition variable
  // and wakes at once, where work stealing's idle workers poll with
  // sleeps. On 2 cores, a request through a tenant actor takes p50 188 us
  // instead of 296 us (SubmitCall 288 us instead of 413 us).
  actor_cfg.set("scheduler.policy", caf::atom("sharing"));
  // One worker per core (CAF's default is at least 4): more workers than
  // cores only switch between each other. On 2 cores at 3,000 calls/s
  // the node's p99 routing latency went from 4.2 ms to 3.2 ms.
  actor_cfg.set(
    "scheduler.max-threads",
    static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  actor_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  actor_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  // CAF's middleman carries actor messages between the nodes of a
  // cluster; a lost peer is noticed by its connection or by heartbeats.
  actor_cfg.load<caf::io::middleman>();
  actor_cfg.set("middleman.heartbeat-interval",
                caf::timespan{std::chrono::milliseconds{500}});
  actor_cfg.set("middleman.connection-timeout",
                caf::timespan{std::chrono::seconds{2}});
  caf::actor_system sys{actor_cfg};
  auto recovery_started = std::chrono::steady_clock::now();
  tenant_options options;
  options.audit_every = cfg.audit_interval;
  options.history_retention
    = std::chrono::duration_cast<routing::duration>(cfg.history_retention);
  options.event_retention
    = std::chrono::duration_cast<routing::duration>(cfg.event_retention);
  directory dir{sys, **store, &metrics, options};
  if (auto err = dir.open()) {
    log.error("cannot rebuild the tenants from the store",
              {{"data_dir", cfg.data_dir}, {"error", render(err)}});
    return 1;
  }
  auto recovery_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - recovery_started)
                       .count();
  log.info("recovered", {{"tenants", std::to_string(dir.list().size())},
                         {"took_ms", std::to_string(recovery_ms)}});
  queue_gauges gauges{sys, dir, metrics, std::chrono::seconds{2}};

  router::cluster members{sys, dir, cfg.node_name, cfg.peers, &metrics, &log};
  auto cluster_port = members.start(
    cfg.cluster.host, cfg.cluster.port,
    cfg.cluster_advertise.empty()
      ? std::nullopt
      : router::parse_listen_address(cfg.cluster_advertise),
    cfg.cluster_tls.certificate_file.empty() ? nullptr : &cfg.cluster_tls);
  if (!cluster_port) {
    log.error("cannot listen for cluster peers (address in use?)",
              {{"cluster", cfg.cluster.to_string()},
               {"error", sys.render(cluster_port.error())}});
    return 1;
  }
  auto cluster_address = cfg.cluster;
  cluster_address.port = *cluster_port;

  // Who may call what: Entra ID bearer tokens, client certificates.
  std::unique_ptr<http::client> identity_client;
  std::unique_ptr<identity::openid_keys> token_keys;
  if (!cfg.auth.openid_configuration.empty()) {
    http::client::options client_opts;
    client_opts.ca_file = cfg.auth.ca_file;
    identity_client = std::make_unique<http::client>(client_opts);
    identity::openid_keys::options key_opts;
    key_opts.configuration_url = cfg.auth.openid_configuration;
    for (auto& issuer : cfg.auth.issuers)
      (issuer.find("{tenantid}") != std::string::npos
         ? key_opts.rules.issuer_templates
         : key_opts.rules.issuers)
        .push_back(issuer);
    key_opts.rules.audiences = cfg.auth.audiences;
    key_opts.rules.require_tenant = true;
    key_opts.rules.clock_skew = cfg.auth.clock_skew;
    token_keys = std::make_unique<identity::openid_keys>(key_opts,
                                                         *identity_client, log);
    token_keys->start();
  }
  router::authenticator::options auth_opts;
  auth_opts.tokens = token_keys.get();
  auth_opts.platform_tenant = cfg.auth.platform_tenant;
  auth_opts.certificates = !cfg.grpc_tls.ca_file.empty();
  auth_opts.defer = [&sys](std::function<void()> work) {
    sys.spawn(
      [](caf::event_based_actor* self, std::function<void()> f) {
        f();
        self->quit();
      },
      std::move(work));
  };
  router::authenticator auth{auth_opts};
  if (!auth.enabled() && !cfg.grpc_tls.certificate_file.empty())
    log.write(router::log_level::warn,
              "grpc is unauthenticated: every caller may read and change "
              "every tenant; set --auth-openid-configuration or "
              "--grpc-tls-client-ca",
              {{"grpc", cfg.grpc.to_string()}});

  router::service_context service_ctx;
  service_ctx.sys = &sys;
  service_ctx.dir = &dir;
  service_ctx.store = store->get();
  service_ctx.metrics = &metrics;
  service_ctx.cluster = &members;
  service_ctx.max_in_flight = cfg.grpc_max_in_flight;
  service_ctx.max_in_flight_per_tenant = cfg.grpc_max_in_flight_per_tenant;
  service_ctx.auth = &auth;
  service_ctx.log = &log;
  auto services = router::make_services(service_ctx);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: two nodes could then share a port
  // and split its traffic. A taken port must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto& service : services)
    builder.RegisterService(service.get());
  int grpc_port = 0;
  builder.AddListeningPort(cfg.grpc.to_string(), grpc_credentials, &grpc_port);
  auto server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    log.error("cannot listen for gRPC (address in use or not local?)",
              {{"grpc", cfg.grpc.to_string()}});
    return 1;
  }
  auto grpc_address = cfg.grpc;
  grpc_address.port = static_cast<uint16_t>(grpc_port);

  log.info(
    "serving",
    {{"grpc", grpc_address.to_string()},
     {"grpc_tls", cfg.grpc_tls.certificate_file.empty() ? "off"
                  : cfg.grpc_tls.ca_file.empty()        ? "on"
                                                        : "mutual"},
     {"auth", !auth.enabled()                        ? "off"
              : token_keys && auth_opts.certificates ? "tokens, certificates"
              : token_keys                           ? "tokens"
                                                     : "certificates"},
     {"metrics", metrics_address.to_string()},
     {"cluster", cfg.peers.empty() ? std::string{"single node"}
                                   : cluster_address.to_string()},
     {"cluster_tls", cfg.peers.empty()                          ? "off"
                     : cfg.cluster_tls.certificate_file.empty() ? "insecure"
                                                                : "on"},
     {"data_dir", cfg.data_dir},
     {"sync_writes", cfg.sync_writes ? "true" : "false"},
     {"version", version}});

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log.info("stopping", {{"signal", strsignal(signal)}});
  // In order: no more requests; no more peers, moves or tenants handed
  // over; every tenant writes what is pending and stops. Only then does
  // the actor system go. An actor still running at that point ends inside
  // its teardown, when the actor registry (which keeps every actor whose
  // handle went to a peer, as tenant actors' do) lets go of it, after the
  // scheduler and its clock are gone: its cleanup then calls through a
  // dangling clock (SIGSEGV, or "pure virtual method called").
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds{5});
  server->Wait();
  members.stop();
  if (auto left = dir.stop(std::chrono::seconds{10}); left > 0)
    log.write(router::log_level::warn, "tenants did not stop in time",
              {{"tenants", std::to_string(left)}});
  sys.await_actors_before_shutdown(false);
  log.info("stopped");
  return 0;
}
