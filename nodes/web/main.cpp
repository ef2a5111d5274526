// switchboard-web: the agent and supervisor app, and its API bridged to a
// router's gRPC API as the signed-in user.

#include "nodes/gateway/metrics_endpoint.hpp"
#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "nodes/identity/openid_keys.hpp"
#include "nodes/router/log.hpp"
#include "nodes/web/bridge.hpp"
#include "nodes/web/config.hpp"
#include "nodes/web/metrics.hpp"
#include "nodes/web/site.hpp"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <unistd.h>

using namespace switchboard;

namespace {

// The app beside an installed binary (bin/../share/switchboard/web), else
// the one the build made.
std::string default_app_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed
      = exe.parent_path().parent_path() / "share" / "switchboard" / "web";
    if (std::filesystem::is_regular_file(installed / "index.html", ec))
      return installed.string();
  }
  return SWITCHBOARD_WEB_BUILT_APP_DIR;
}

bool loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost"
         || address.rfind("127.", 0) == 0;
}

} // namespace

int main(int argc, char** argv) {
  auto loaded = web::load_config(argc, argv);
  if (!loaded.help.empty()) {
    std::cout << loaded.help;
    return 0;
  }
  if (!loaded.error.empty()) {
    std::cerr << "switchboard-web: " << loaded.error << "\n";
    return 2;
  }
  auto& cfg = loaded.value;
  if (cfg.app_dir.empty())
    cfg.app_dir = default_app_dir();

  // Termination signals are taken by sigwait at the end, in this thread
  // only: every thread started below inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  char host[256] = {};
  gethostname(host, sizeof host - 1);
  router::logger log{router::logger::parse_level(cfg.log_level),
                     std::string{"web-"} + host};

  std::string error;
  web::bridge api{{cfg.router, cfg.router_tls, cfg.router_deadline}, error};
  if (!error.empty()) {
    std::cerr << "switchboard-web: " << error << "\n";
    return 2;
  }

  http::client::options client_opts;
  client_opts.ca_file = cfg.auth_ca_file;
  http::client client{client_opts};
  std::unique_ptr<identity::openid_keys> keys;
  if (!cfg.openid_configuration.empty()) {
    identity::openid_keys::options key_opts;
    key_opts.configuration_url = cfg.openid_configuration;
    for (auto& issuer : cfg.issuers)
      (issuer.find("{tenantid}") != std::string::npos
         ? key_opts.rules.issuer_templates
         : key_opts.rules.issuers)
        .push_back(issuer);
    key_opts.rules.audiences = cfg.audiences;
    key_opts.rules.clock_skew = cfg.clock_skew;
    keys = std::make_unique<identity::openid_keys>(key_opts, client, log);
  } else if (cfg.demo_sign_in) {
    log.warn("demo sign-in: whoever reaches the app picks who they are, and "
             "the router is called without a token; for a laptop's demo "
             "only",
             {{"listen", cfg.listen.to_string()}});
  } else {
    log.warn("sign-in is not configured (--auth-openid-configuration): the "
             "app loads, but every API request is refused with 401");
  }

  web::site::options site_opts;
  site_opts.app_dir = cfg.app_dir;
  site_opts.tokens = keys.get();
  site_opts.demo_sign_in = cfg.demo_sign_in;
  site_opts.client_id = cfg.client_id;
  site_opts.authority = cfg.authority;
  site_opts.api_scope = cfg.api_scope;
  web::site site{site_opts, api, log};
  if (auto problem = site.load_app(); !problem.empty())
    log.error("cannot serve the app", {{"error", problem}});

  http::server::options server_opts;
  server_opts.address = cfg.listen.host;
  server_opts.port = cfg.listen.port;
  server_opts.certificate_file = cfg.certificate_file;
  server_opts.key_file = cfg.private_key_file;
  server_opts.max_body_bytes = 256 << 10;
  server_opts.threads = 2;
  http::server server{server_opts,
                      [&site](http::request r, http::responder out) {
                        site.handle(std::move(r), std::move(out));
                      }};
  server.accept_websockets("/api/v1/events",
                           [&site](const http::request& r, http::websocket ws) {
                             return site.events(r, std::move(ws));
                           });
  if (auto problem = server.start(); !problem.empty()) {
    log.error("cannot serve",
              {{"listen", cfg.listen.to_string()}, {"error", problem}});
    return 1;
  }
  if (!server.tls() && !loopback(cfg.listen.host))
    log.warn("serving plain HTTP on a non-loopback address: tokens cross the "
             "network in clear unless TLS is terminated in front (an "
             "ingress); set --certificate to serve HTTPS here",
             {{"listen", cfg.listen.to_string()}});
  auto probe = std::make_shared<web::metrics>(server.responses(), [&site] {
    return site.open_streams();
  });
  gateway::metrics_endpoint metrics_listener;
  if (auto problem = metrics_listener.start(cfg.metrics, probe);
      !problem.empty()) {
    log.error("cannot listen for metrics",
              {{"metrics", cfg.metrics->to_string()}, {"error", problem}});
    server.stop();
    return 1;
  }
  if (keys)
    keys->start();

  auto bound = cfg.listen;
  bound.port = server.port();
  auto scheme = std::string{server.tls() ? "https" : "http"};
  log.info("serving", {{"url", scheme + "://" + bound.to_string() + "/"},
                       {"app", cfg.app_dir},
                       {"app_files", std::to_string(site.app_files())},
                       {"router", cfg.router},
                       {"metrics", metrics_listener.address()},
                       {"router_tls", cfg.router_tls.uses_tls() ? "on" : "off"},
                       {"sign_in", keys               ? cfg.openid_configuration
                                   : cfg.demo_sign_in ? std::string{"demo"}
                                                      : std::string{"off"}}});

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log.info("stopping", {{"signal", strsignal(signal)},
                        {"open_streams", std::to_string(site.open_streams())}});
  server.stop();
  log.info("stopped");
  return 0;
}
