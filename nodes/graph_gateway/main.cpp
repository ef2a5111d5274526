// switchboard-graph-gateway: Teams calls to a contact-center bot and Teams
// presence, through Microsoft Graph, into Switchboard.

#include "nodes/gateway/metrics_endpoint.hpp"
#include "nodes/gateway/router_link.hpp"
#include "nodes/graph_gateway/bot.hpp"
#include "nodes/graph_gateway/config.hpp"
#include "nodes/graph_gateway/graph_api.hpp"
#include "nodes/graph_gateway/metrics.hpp"
#include "nodes/graph_gateway/presence_watch.hpp"
#include "nodes/graph_gateway/token_store.hpp"
#include "nodes/graph_gateway/webhook.hpp"
#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "nodes/identity/device_login.hpp"
#include "nodes/identity/openid_keys.hpp"
#include "nodes/router/log.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <sstream>
#include <thread>

using namespace switchboard;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in{path};
  if (!in)
    return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

// A secret from `file` (its last line break dropped) or, without a file,
// from the environment variable `env`; false when the file is unreadable.
bool secret(const std::string& file, const char* env, std::string& out) {
  if (file.empty()) {
    const char* value = std::getenv(env);
    out = value != nullptr ? value : "";
    return true;
  }
  if (!read_file(file, out))
    return false;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return true;
}

// Until the bot's app id is configured no token can be checked for it.
class refuse_all final : public identity::token_checker {
 public:
  void check(std::string,
             std::function<void(identity::token_verdict)> done) override {
    identity::token_verdict v;
    v.error = identity::token_error::wrong_audience;
    v.reason = "the gateway has no bot app id configured (--app-id)";
    done(std::move(v));
  }
};

bool loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The certificate of a PEM file as Graph wants it: base64 of its DER,
// which is the PEM body without its armour and line breaks.
std::string certificate_base64(const std::string& pem) {
  static const std::string begin = "-----BEGIN CERTIFICATE-----";
  auto a = pem.find(begin);
  auto b = a == std::string::npos ? a : pem.find("-----END", a);
  if (b == std::string::npos)
    return {};
  std::string out;
  for (char c : pem.substr(a + begin.size(), b - a - begin.size()))
    if (c != '\n' && c != '\r' && c != ' ')
      out += c;
  return out;
}

// switchboard-graph-gateway login TENANT [settings]: the service account
// signs in through the device-code flow; its refresh token is sealed into
// the token store.
int login(const graph::config& cfg, const std::string& tenant,
          const std::string& token_key) {
  if (cfg.app_id.empty()) {
    std::cerr << "switchboard-graph-gateway login: no app id (--app-id or "
                 "graph.app_id in the config)\n";
    return 2;
  }
  if (!graph::graph_api::plausible_tenant(tenant)) {
    std::cerr << "switchboard-graph-gateway login: '" << tenant.substr(0, 100)
              << "' is not a Microsoft tenant id\n";
    return 2;
  }
  graph::token_store store{cfg.token_store, token_key};
  if (!store.problem().empty()) {
    std::cerr << "switchboard-graph-gateway login: " << store.problem() << "\n";
    return 2;
  }
  http::client::options client_opts;
  client_opts.ca_file = cfg.ca_file;
  http::client client{client_opts};
  identity::device_login_options opts;
  opts.authority = cfg.authority;
  opts.tenant = tenant;
  opts.client_id = cfg.app_id;
  opts.scope = graph::graph_api::user_scope_of(cfg.graph_url);
  opts.say = [](const std::string& message) {
    std::cout << message << std::endl;
  };
  auto result = identity::device_login(opts, client);
  if (!result.error.empty()) {
    std::cerr << "switchboard-graph-gateway login: " << result.error << "\n";
    return 1;
  }
  if (auto problem = store.save(tenant, result.refresh_token);
      !problem.empty()) {
    std::cerr << "switchboard-graph-gateway login: " << problem << "\n";
    return 1;
  }
  std::cout << "signed in"
            << (result.account.empty() ? "" : " as " + result.account)
            << " for Microsoft tenant " << tenant
            << "; the refresh token is sealed in " << store.path_of(tenant)
            << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // "login TENANT" first, then the usual settings.
  std::string login_tenant;
  std::vector<const char*> args{argv, argv + argc};
  bool logging_in = argc >= 2 && std::string{argv[1]} == "login";
  if (logging_in) {
    if (argc < 3 || argv[2][0] == '-') {
      std::cerr << "usage: switchboard-graph-gateway login "
                   "MICROSOFT-TENANT-ID [settings]\n";
      return 2;
    }
    login_tenant = argv[2];
    args.erase(args.begin() + 1, args.begin() + 3);
  }
  auto loaded = graph::load_config(static_cast<int>(args.size()), args.data());
  if (!loaded.help.empty()) {
    std::cout << loaded.help;
    return 0;
  }
  if (!loaded.error.empty()) {
    std::cerr << "switchboard-graph-gateway: " << loaded.error
              << "\n(run switchboard-graph-gateway --help for the settings)\n";
    return 2;
  }
  auto& cfg = loaded.value;
  std::string token_key;
  if (!secret(cfg.token_key_file, "SWITCHBOARD_GRAPH_TOKEN_KEY", token_key)) {
    std::cerr << "switchboard-graph-gateway: cannot read the token key file "
              << cfg.token_key_file << "\n";
    return 2;
  }
  if (logging_in)
    return login(cfg, login_tenant, token_key);
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
    std::cerr << "switchboard-graph-gateway: " << router_error << "\n";
    return 2;
  }

  std::string client_state;
  if (!secret(cfg.client_state_file, "SWITCHBOARD_GRAPH_CLIENT_STATE",
              client_state)) {
    std::cerr << "switchboard-graph-gateway: cannot read the clientState file "
              << cfg.client_state_file << "\n";
    return 2;
  }
  if (client_state.empty())
    log.warn("no clientState (--client-state-file or "
             "SWITCHBOARD_GRAPH_CLIENT_STATE): every presence notification "
             "is ignored");

  std::string client_secret;
  if (!secret(cfg.client_secret_file, "SWITCHBOARD_GRAPH_CLIENT_SECRET",
              client_secret)) {
    std::cerr << "switchboard-graph-gateway: cannot read the client secret "
                 "file "
              << cfg.client_secret_file << "\n";
    return 2;
  }
  if (client_secret.empty() && !cfg.app_id.empty())
    log.warn(
      "no client secret (--client-secret-file or "
      "SWITCHBOARD_GRAPH_CLIENT_SECRET): the bot gets no token for Graph, "
      "so no call can be answered");

  std::string presence_certificate;
  if (!cfg.presence_certificate_file.empty()) {
    std::string pem;
    if (read_file(cfg.presence_certificate_file, pem))
      presence_certificate = certificate_base64(pem);
    if (presence_certificate.empty()) {
      std::cerr << "switchboard-graph-gateway: "
                << cfg.presence_certificate_file
                << " holds no certificate (PEM) for presence subscriptions\n";
      return 2;
    }
    if (cfg.presence_key_file.empty()) {
      std::cerr << "switchboard-graph-gateway: presence.certificate needs "
                   "presence.private_key (--presence-private-key) to decrypt "
                   "what Graph sends\n";
      return 2;
    }
  }

  graph::decryption_keys presence_keys;
  if (!cfg.presence_key_file.empty()) {
    std::string pem;
    if (!read_file(cfg.presence_key_file, pem)
        || !presence_keys.add(cfg.presence_certificate_id, pem)) {
      std::cerr << "switchboard-graph-gateway: " << cfg.presence_key_file
                << " holds no RSA private key (PEM) to decrypt presence "
                   "notifications\n";
      return 2;
    }
  }

  http::client::options client_opts;
  client_opts.ca_file = cfg.ca_file;
  http::client client{client_opts};

  std::unique_ptr<identity::token_checker> tokens;
  identity::openid_keys* keys = nullptr;
  if (cfg.app_id.empty()) {
    log.warn("no bot app id (--app-id): every call notification is refused "
             "with 401");
    tokens = std::make_unique<refuse_all>();
  } else {
    identity::openid_keys::options key_opts;
    key_opts.configuration_url = cfg.openid_configuration;
    key_opts.refresh_every = cfg.key_refresh;
    key_opts.rules.issuers
      = {"https://graph.microsoft.com", "https://api.botframework.com"};
    key_opts.rules.audiences = {cfg.app_id};
    key_opts.rules.require_tenant = true;
    auto k = std::make_unique<identity::openid_keys>(key_opts, client, log);
    keys = k.get();
    tokens = std::move(k);
  }

  // Rich notifications' validationTokens: issued by the identity platform
  // to this app, for Microsoft Graph change tracking.
  std::unique_ptr<identity::openid_keys> validation;
  if (!cfg.app_id.empty()) {
    identity::openid_keys::options v;
    v.configuration_url
      = cfg.authority + "/common/v2.0/.well-known/openid-configuration";
    v.refresh_every = cfg.key_refresh;
    v.rules.issuer_templates = {"https://sts.windows.net/{tenantid}/",
                                cfg.authority + "/{tenantid}/v2.0"};
    v.rules.audiences = {cfg.app_id};
    v.rules.require_tenant = true;
    validation = std::make_unique<identity::openid_keys>(v, client, log);
  }

  graph::token_store user_tokens{cfg.token_store, token_key};
  graph::graph_api::options api_opts;
  if (user_tokens.problem().empty())
    api_opts.user_tokens = &user_tokens;
  api_opts.graph_url = cfg.graph_url;
  api_opts.authority = cfg.authority;
  api_opts.client_id = cfg.app_id;
  api_opts.client_secret = client_secret;
  graph::graph_api graph_client{api_opts, client, log};

  // Agents' Teams presence: subscriptions (with the service account's
  // token) and the periodic reconcile (with the app's).
  graph::presence_watch::options watch_opts;
  watch_opts.notification_url
    = cfg.presence_url.empty()
        ? "https://" + cfg.listen.to_string() + cfg.presence_path
        : cfg.presence_url;
  watch_opts.client_state = client_state;
  watch_opts.certificate = presence_certificate;
  watch_opts.certificate_id = cfg.presence_certificate_id;
  watch_opts.reconcile_every = cfg.presence_reconcile;
  watch_opts.subscribe = !presence_certificate.empty() && !client_state.empty()
                         && api_opts.user_tokens != nullptr;
  if (!cfg.app_id.empty() && !watch_opts.subscribe)
    log.warn("no presence subscriptions: agents' Teams presence is read every "
             "presence.reconcile only",
             {{"why", presence_certificate.empty()
                        ? "no presence.certificate (--presence-certificate)"
                      : client_state.empty() ? "no clientState"
                                             : user_tokens.problem()}});
  graph::bot* bot_ptr = nullptr;
  graph::presence_watch watch{
    watch_opts, graph_client, log,
    [&bot_ptr](const graph::presence& p, const std::string& tenant) {
      graph::change_notification n;
      n.tenant_id = tenant;
      if (bot_ptr != nullptr)
        bot_ptr->on_presence(p, n, true);
    }};

  gateway::router_link link{cfg.router, router_credentials, log};
  graph::bot_options bot_opts;
  bot_opts.name = cfg.name;
  bot_opts.callback_url
    = cfg.callback_url.empty()
        ? "https://" + cfg.listen.to_string() + cfg.calls_path
        : cfg.callback_url;
  bot_opts.hold_prompt = cfg.hold_prompt;
  bot_opts.router_wait = cfg.router_wait;
  bot_opts.announcement_url = cfg.announcement_url;
  if (!cfg.callback_digit.empty())
    bot_opts.callback_tone = cfg.callback_digit == "*" ? "star"
                             : cfg.callback_digit == "#"
                               ? "pound"
                               : "tone" + cfg.callback_digit;
  bot_opts.on_agents
    = [&watch](const std::string& tenant, std::vector<std::string> users) {
        watch.watch(tenant, std::move(users));
      };
  graph::bot bot{bot_opts, link, graph_client, log};
  bot_ptr = &bot;

  graph::webhook::options hook_opts;
  hook_opts.calls_path = cfg.calls_path;
  hook_opts.presence_path = cfg.presence_path;
  hook_opts.client_state = client_state;
  hook_opts.validation = validation.get();
  graph::webhook_sinks sinks;
  sinks.calls = [&log, &bot](std::vector<graph::call_notification> batch,
                             const identity::token_claims& claims) {
    for (const auto& n : batch)
      log.info("call notification", {{"call", n.call_id},
                                     {"tenant", claims.tenant_id},
                                     {"change", n.change_type},
                                     {"state", n.call.state}});
    bot.on_calls(std::move(batch), claims);
  };
  sinks.presence
    = [&log, &bot](graph::presence p, const graph::change_notification& n) {
        log.info("presence changed", {{"user", p.user_id},
                                      {"availability", p.availability},
                                      {"activity", p.activity},
                                      {"tenant", n.tenant_id}});
        bot.on_presence(p, n);
      };
  sinks.lifecycle = [&watch](const graph::change_notification& n) {
    watch.on_lifecycle(n);
  };
  graph::webhook hook{hook_opts, *tokens, std::move(presence_keys), sinks, log};

  http::server::options server_opts;
  server_opts.address = cfg.listen.host;
  server_opts.port = cfg.listen.port;
  server_opts.certificate_file = cfg.certificate_file;
  server_opts.key_file = cfg.private_key_file;
  // Decrypting a presence notification's key (RSA) and checking a call
  // notification's token take most of a request's CPU: one thread per
  // core, up to four.
  server_opts.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  http::server server{server_opts,
                      [&hook](http::request req, http::responder res) {
                        hook.handle(std::move(req), std::move(res));
                      }};
  if (auto error = server.start(); !error.empty()) {
    log.error("cannot serve",
              {{"listen", cfg.listen.to_string()}, {"error", error}});
    return 1;
  }
  if (!server.tls() && !loopback(cfg.listen.host))
    log.warn("serving plain HTTP on a non-loopback address: Graph posts only "
             "to HTTPS, so TLS must be terminated in front (an ingress); set "
             "--certificate to serve HTTPS here",
             {{"listen", cfg.listen.to_string()}});
  if (keys != nullptr)
    keys->start();
  if (validation)
    validation->start();

  auto probe = std::make_shared<graph::metrics>(hook.counts(), watch, [&bot] {
    return bot.live_calls();
  });
  gateway::metrics_endpoint metrics_listener;
  if (auto problem = metrics_listener.start(cfg.metrics, probe);
      !problem.empty()) {
    log.error("cannot listen for metrics",
              {{"metrics", cfg.metrics->to_string()}, {"error", problem}});
    return 1;
  }
  const auto& metrics_address = metrics_listener.address();

  link.start(cfg.tenants, [&bot](const gateway::engine_event& e) {
    bot.on_engine_event(e);
  });
  // Each served tenant's Microsoft tenant, from the router: until it
  // answers, incoming calls ring unanswered (router_wait at most).
  std::vector<gateway::tenant_settings> served;
  for (const auto& id : cfg.tenants) {
    gateway::tenant_settings t;
    std::string error;
    int attempts = 0;
    while (!link.tenant(id, t, error)) {
      if (++attempts == 1 || attempts % 30 == 0)
        log.warn("cannot read a served tenant from the router; retrying",
                 {{"tenant", id}, {"router", cfg.router}, {"error", error}});
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT))
        return 0;
      std::this_thread::sleep_for(std::chrono::seconds{1});
    }
    if (t.microsoft_tenant_id.empty())
      log.warn("served tenant has no microsoft_tenant_id: no Teams call can "
               "reach it",
               {{"tenant", id}});
    served.push_back(t);
  }
  if (cfg.tenants.empty())
    log.warn("no tenants served (--tenants): every incoming call is rejected");
  bot.serve(served);
  bot.rejoin(cfg.tenants);
  bot.watch_agents(std::chrono::seconds{30});
  if (!cfg.app_id.empty())
    watch.start();

  auto bound = cfg.listen;
  bound.port = server.port();
  log.info("serving",
           {{"listen", bound.to_string()},
            {"scheme", server.tls() ? "https" : "http"},
            {"calls", cfg.calls_path},
            {"presence", cfg.presence_path},
            {"app_id", cfg.app_id.empty() ? std::string{"none"} : cfg.app_id},
            {"graph", cfg.graph_url},
            {"callback", bot_opts.callback_url},
            {"tenants", std::to_string(served.size())},
            {"metrics", metrics_address},
            {"router", cfg.router}});

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log.info("stopping", {{"signal", strsignal(signal)},
                        {"live_calls", std::to_string(bot.live_calls())}});
  server.stop();
  watch.stop();
  link.stop();
  log.info("stopped");
  return 0;
}
