#pragma once

#include "nodes/gateway/router_token.hpp"
#include "nodes/router/config.hpp"
#include "nodes/tls/grpc_credentials.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::graph {

/// Everything a Graph gateway is told. The embedded defaults run against
/// a router on its defaults and the public Microsoft cloud: HTTP on
/// 127.0.0.1:9443 (plain until a certificate is given, for a laptop or a
/// TLS-terminating ingress), router 127.0.0.1:7400.
struct config {
  std::string name = "graph-gateway-0";
  router::listen_address listen{"127.0.0.1", 9443};
  /// PEM files; set: HTTPS. The key's path and contents are never logged.
  std::string certificate_file;
  std::string private_key_file;
  std::string router = "127.0.0.1:7400";
  /// How the router is reached: plain, or TLS with these files.
  tls::client_options router_tls;
  gateway::router_token_options router_token;
  /// How long an incoming call rings unanswered while the router cannot
  /// be reached, before it is rejected as busy.
  std::chrono::seconds router_wait{10};
  /// Microsoft Graph, and the identity platform that issues its tokens;
  /// other clouds (and tests) point elsewhere.
  std::string graph_url = "https://graph.microsoft.com/v1.0";
  std::string authority = "https://login.microsoftonline.com";
  /// The bot's Entra app id: the audience of the calling platform's tokens.
  std::string app_id;
  /// Where the keys that sign call notifications' tokens are published.
  std::string openid_configuration
    = "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration";
  std::chrono::seconds key_refresh{std::chrono::hours{24}};
  /// PEM bundle of authorities trusted for Graph and the identity
  /// platform; empty: the system's.
  std::string ca_file;
  /// The Switchboard tenants this gateway serves (their Microsoft tenant
  /// ids are read from the router).
  std::vector<std::string> tenants;
  /// The URL Graph posts call notifications to, as registered for the
  /// bot; empty: https://{listen}{calls_path}.
  std::string callback_url;
  /// A file holding the app's client secret; the environment variable
  /// SWITCHBOARD_GRAPH_CLIENT_SECRET may hold it instead.
  std::string client_secret_file;
  /// An audio file's URL played to waiting callers; empty: none.
  std::string hold_prompt;
  /// The URL of the engine's announcements, "{prompt}" for the prompt id.
  std::string announcement_url;
  /// The digit (0-9, * or #) a waiting caller presses to be called back;
  /// empty: callers cannot ask.
  std::string callback_digit = "1";
  std::string calls_path = "/api/calls";
  std::string presence_path = "/api/presence";
  /// The certificate id presence subscriptions are created with, and the
  /// private key of that certificate (PEM file) that decrypts their data.
  std::string presence_certificate_id = "switchboard-presence";
  std::string presence_key_file;
  /// PEM file of that certificate, given to Graph with each subscription.
  std::string presence_certificate_file;
  /// Where Graph posts presence notifications, as reachable from Graph;
  /// empty: https://{listen}{presence_path}.
  std::string presence_url;
  /// How often every agent's presence is read (getPresencesByUserId).
  std::chrono::seconds presence_reconcile{300};
  /// Where the service account's refresh tokens are kept (sealed), and a
  /// file holding the key that seals them (or SWITCHBOARD_GRAPH_TOKEN_KEY).
  std::string token_store = "./data/graph-gateway";
  std::string token_key_file;
  /// A file holding the subscriptions' clientState; the environment
  /// variable SWITCHBOARD_GRAPH_CLIENT_STATE may hold it instead. Never a
  /// flag: a secret on a command line is visible to every local user.
  std::string client_state_file;
  /// The Prometheus /metrics endpoint; none by default.
  std::optional<router::listen_address> metrics;
  std::string log_level = "info";
};

struct config_result {
  config value;
  std::string error;
  std::string help;
};

/// Embedded defaults, then the YAML file (--config or
/// SWITCHBOARD_GRAPH_CONFIG), then SWITCHBOARD_GRAPH_* environment
/// variables, then flags.
config_result load_config(int argc, const char* const* argv,
                          const std::function<const char*(const char*)>& getenv
                          = nullptr);

} // namespace switchboard::graph
