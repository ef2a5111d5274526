// switchboard-sbc-gateway: SIP calls from a Teams Direct Routing SBC into
// Switchboard, and the engine's offers out to agents.

#include "nodes/gateway/metrics_endpoint.hpp"
#include "nodes/router/log.hpp"
#include "nodes/sbc_gateway/config.hpp"
#include "nodes/sbc_gateway/gateway.hpp"
#include "nodes/sbc_gateway/metrics.hpp"
#include "nodes/sbc_gateway/router_link.hpp"
#include "nodes/sbc_gateway/sip_stack.hpp"
#include "nodes/sbc_gateway/trunks.hpp"
#include "nodes/tls/tls_files.hpp"

#include <prometheus/registry.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <pthread.h>

using namespace switchboard;

// sofia-sip 1.12.11 (Debian 12) does not give back the OpenSSL state of
// its TLS connections (made in its tls_init_secondary and tls_connect, for
// failed handshakes too). LeakSanitizer builds would report that at exit
// as this program's; the stacks end inside OpenSSL (built without frame
// pointers), so the suppression names OpenSSL's libraries. Leaks of this
// program's own code are still reported, and nodes/tls, the other user
// of OpenSSL here besides gRPC, is checked by its unit tests. Without the
// sanitizer nothing calls this.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libssl.so\nleak:libcrypto.so\n";
}

int main(int argc, char** argv) {
  auto loaded = sbc::load_config(argc, argv);
  if (!loaded.help.empty()) {
    std::cout << loaded.help;
    return 0;
  }
  if (!loaded.error.empty()) {
    std::cerr << "switchboard-sbc-gateway: " << loaded.error
              << "\n(run switchboard-sbc-gateway --help for the settings)\n";
    return 2;
  }
  auto& cfg = loaded.value;
  // Termination signals are taken by sigwait at the end, in this thread
  // only: block them before any other thread starts (gRPC starts its own
  // when the first credentials are made).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  router::logger log{router::logger::parse_level(cfg.log_level), cfg.name};
  std::string router_error;
  auto router_credentials = gateway::router_credentials(
    cfg.router, cfg.router_tls, cfg.router_token, log, router_error);
  if (!router_credentials) {
    std::cerr << "switchboard-sbc-gateway: " << router_error << "\n";
    return 2;
  }

  sbc::trunk_table trunks;
  if (!cfg.trunks_file.empty()) {
    std::string error;
    trunks = sbc::trunk_table::load(cfg.trunks_file, error);
    if (!error.empty()) {
      std::cerr << "switchboard-sbc-gateway: " << error << "\n";
      return 2;
    }
  } else {
    log.write(router::log_level::warn,
              "no trunks file (--trunks): every INVITE is refused with 403");
  }

  std::optional<sbc::sip_tls_options> sip_tls;
  if (cfg.tls.enabled()) {
    std::string error;
    auto material = tls::load_material(
      {cfg.tls.certificate_file, cfg.tls.private_key_file, cfg.tls.ca_file},
      {"tls.certificate", "tls.private_key", "tls.ca_file"}, error);
    if (!error.empty()) {
      std::cerr << "switchboard-sbc-gateway: " << error << "\n";
      return 2;
    }
    log.write(material.expired ? router::log_level::warn
                               : router::log_level::info,
              material.expired ? "tls certificate expired: SBCs that check it "
                                 "will refuse to connect"
                               : "tls certificate",
              {{"certificate", cfg.tls.certificate_file},
               {"subject", material.subject},
               {"not_after", material.not_after},
               {"verify", cfg.tls.verify}});
    sip_tls.emplace();
    sip_tls->host = cfg.tls.listen->host;
    sip_tls->port = cfg.tls.listen->port;
    sip_tls->certificate = std::move(material.certificate);
    sip_tls->chain = std::move(material.chain);
    sip_tls->private_key = std::move(material.private_key);
    sip_tls->authorities = std::move(material.authorities);
    sip_tls->verify_peer = cfg.tls.verify == "peer";
  }

  sbc::metrics probe;
  gateway::metrics_endpoint metrics_listener;
  if (auto problem = metrics_listener.start(cfg.metrics, probe.registry());
      !problem.empty()) {
    log.error("cannot listen for metrics",
              {{"metrics", cfg.metrics->to_string()}, {"error", problem}});
    return 1;
  }
  const auto& metrics_address = metrics_listener.address();

  sbc::router_link link{cfg.router, router_credentials, log};
  sbc::gateway_options options;
  options.name = cfg.name;
  options.allowed_sources = cfg.allowed_sources;
  options.attribute_headers = cfg.attribute_headers;
  options.agent_route = cfg.agent_route;
  options.hold_uri = cfg.hold_uri;
  options.announcement_uri = cfg.announcement_uri;
  options.callback_uri = cfg.callback_uri;
  options.sip_port = cfg.sip.port;
  options.tls_port = cfg.tls.listen ? cfg.tls.listen->port : uint16_t{0};
  options.retry_after = std::to_string(cfg.retry_after);
  options.ping = cfg.ping;
  options.ping_interval = cfg.ping_interval;
  options.sbc_transport = cfg.transport_to_sbc();
  auto tenants = trunks.tenants();
  auto trunk_count = trunks.size();
  sbc::gateway gw{options, std::move(trunks), link, log, &probe};

  sbc::sip_options sip_opts;
  sip_opts.host = cfg.sip.host;
  sip_opts.port = cfg.sip.port;
  sip_opts.session_expires = cfg.session_expires;
  sip_opts.ring_refresh = cfg.ring_refresh;
  sip_opts.copy_headers = cfg.attribute_headers;
  sip_opts.tls = std::move(sip_tls);
  std::string error;
  auto sip = sbc::sip_stack::start(sip_opts, gw, error);
  if (!sip) {
    log.error("cannot start SIP",
              {{"sip", cfg.sip.to_string()},
               {"tls", cfg.tls.listen ? cfg.tls.listen->to_string() : "off"},
               {"error", error}});
    return 1;
  }
  gw.attach(*sip);
  link.start(
    tenants,
    [&gw](const sbc::engine_event& e) {
      gw.on_engine_event(e);
    },
    [&probe](bool up) {
      probe.router_up(up);
    });
  gw.reconcile(tenants);

  std::string tenant_list;
  for (auto& t : tenants)
    tenant_list += (tenant_list.empty() ? "" : ",") + t;
  log.info(
    "serving",
    {{"sip", cfg.sip.to_string()},
     {"tls", cfg.tls.listen ? cfg.tls.listen->to_string() : std::string{"off"}},
     {"sbc_transport", options.sbc_transport},
     {"router", cfg.router},
     {"metrics", metrics_address},
     {"trunks", std::to_string(trunk_count)},
     {"tenants", tenant_list},
     {"agent_route", cfg.agent_route},
     {"hold", cfg.hold_uri.empty() ? std::string{"ringback"} : cfg.hold_uri}});

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log.info("stopping", {{"signal", strsignal(signal)},
                        {"live_calls", std::to_string(gw.live_calls())}});
  gw.stop_pings();
  sip->stop();
  link.stop();
  log.info("stopped");
  return 0;
}
