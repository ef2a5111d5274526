#pragma once

#include "nodes/router/config.hpp"
#include "nodes/tls/grpc_credentials.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::web {

/// Everything the web edge is told. The embedded defaults serve the app on
/// http://127.0.0.1:8480 next to a router on its defaults (127.0.0.1:7400).
struct config {
  router::listen_address listen{"127.0.0.1", 8480};
  /// PEM files; set: HTTPS. The key's path and contents are never logged.
  std::string certificate_file;
  std::string private_key_file;
  /// The built app (index.html and its bundle).
  std::string app_dir;
  std::string router = "127.0.0.1:7400";
  tls::client_options router_tls;
  /// Sign-in: the OpenID configuration whose keys sign the users' tokens,
  /// the accepted audiences (Switchboard's own API) and issuers, as the
  /// router checks them. Empty configuration: nobody can sign in.
  std::string openid_configuration;
  std::vector<std::string> audiences;
  std::vector<std::string> issuers{
    "https://login.microsoftonline.com/{tenantid}/v2.0",
    "https://sts.windows.net/{tenantid}/"};
  std::string auth_ca_file;
  std::chrono::seconds clock_skew{300};
  /// A laptop's demo: anyone who reaches the app picks who they are, and
  /// the router is called without a token (a developer's router without
  /// authentication). Loopback only; never with an OpenID configuration.
  bool demo_sign_in = false;
  /// What the app needs to sign in with MSAL outside Teams: the app
  /// registration's client id, the authority and the API scope.
  std::string client_id;
  std::string authority = "https://login.microsoftonline.com/organizations";
  std::string api_scope;
  /// How long a call to the router may take before the app hears 504.
  std::chrono::seconds router_deadline{10};
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
/// SWITCHBOARD_WEB_CONFIG), then SWITCHBOARD_WEB_* environment variables,
/// then flags.
config_result load_config(int argc, const char* const* argv,
                          const std::function<const char*(const char*)>& getenv
                          = nullptr);

} // namespace switchboard::web
