#pragma once

// How a gateway reaches its router over TLS: the router.tls* settings,
// shared by the SBC and Graph gateways, and the names errors give them.

#include "nodes/gateway/router_token.hpp"
#include "nodes/settings/settings.hpp"
#include "nodes/tls/grpc_credentials.hpp"

#include <string>
#include <vector>

namespace switchboard::gateway {

/// The environment variables of the router settings, per gateway.
struct router_tls_env {
  const char* tls;
  const char* ca;
  const char* certificate;
  const char* private_key;
  const char* token_client_id;
  const char* token_client_secret_file;
  const char* token_tenant_id;
  const char* token_scope;
  const char* token_authority;
  const char* token_authority_ca;
};

inline constexpr tls::setting_names router_tls_names{
  "--router-tls-certificate", "--router-tls-private-key", "--router-tls-ca"};

/// A gateway's own settings `own`, then router.tls, router.tls_ca,
/// router.tls_certificate and router.tls_private_key, held in `member`,
/// and the router.token_* settings, held in `token` (none when null).
template<class Config>
std::vector<settings::setting<Config>>
with_router_tls(std::vector<settings::setting<Config>> own, router_tls_env env,
                tls::client_options Config::*member,
                router_token_options Config::*token) {
  using setting = settings::setting<Config>;
  // A text setting held in the string `at(config)` names; "none" shown
  // while it is empty.
  auto text_setting = [](const char* key, const char* variable,
                         const char* flag, const char* help, auto at) {
    return setting{"router",
                   key,
                   variable,
                   flag,
                   help,
                   [at](const Config& c) -> std::string {
                     const std::string& v = at(c);
                     return v.empty() ? std::string{"none"} : v;
                   },
                   [at](Config& c, const std::string& v) {
                     at(c) = v;
                     return std::string{};
                   }};
  };
  auto text = [token, &text_setting](std::string router_token_options::*field,
                                     const char* key, const char* variable,
                                     const char* flag, const char* help) {
    return text_setting(
      key, variable, flag, help,
      [ token, field ](auto& c) -> auto& { return (c.*token).*field; });
  };
  auto file = [member, &text_setting](std::string tls::files::*field,
                                      const char* key, const char* variable,
                                      const char* flag, const char* help) {
    return text_setting(
      key, variable, flag, help,
      [ member, field ](auto& c) -> auto& { return (c.*member).f.*field; });
  };
  std::vector<setting> all = {
    {"router", "tls", env.tls, "--router-tls",
     "true: connect to the router over TLS, verifying it with the system's "
     "authorities (implied by any router TLS file)",
     [member](const Config& c) -> std::string {
       return (c.*member).uses_tls() ? "true" : "false";
     },
     [member](Config& c, const std::string& v) -> std::string {
       if (v == "true" || v == "1" || v == "yes" || v == "on")
         (c.*member).enabled = true;
       else if (v == "false" || v == "0" || v == "no" || v == "off")
         (c.*member).enabled = false;
       else
         return "expected true or false, found '" + v + "'";
       return {};
     }},
    file(&tls::files::ca_file, "tls_ca", env.ca, "--router-tls-ca",
         "PEM authorities the router's certificate must chain to; sets "
         "--router-tls"),
    file(&tls::files::certificate_file, "tls_certificate", env.certificate,
         "--router-tls-certificate",
         "PEM client certificate, for a router that requires one (mutual "
         "TLS); read again when the file changes"),
    file(&tls::files::private_key_file, "tls_private_key", env.private_key,
         "--router-tls-private-key",
         "Unencrypted PEM private key of --router-tls-certificate"),
    text(&router_token_options::client_id, "token_client_id",
         env.token_client_id, "--router-token-client-id",
         "Entra ID application (client) id of this gateway: with it, the "
         "gateway sends the router an access token of the client "
         "credentials grant (app role Switchboard.Gateway); needs router "
         "TLS"),
    text(&router_token_options::client_secret_file, "token_client_secret_file",
         env.token_client_secret_file, "--router-token-client-secret-file",
         "File holding the application's client secret (never the secret "
         "itself in a setting); read at each token request"),
    text(&router_token_options::tenant_id, "token_tenant_id",
         env.token_tenant_id, "--router-token-tenant-id",
         "Microsoft tenant id the application is registered in"),
    text(&router_token_options::scope, "token_scope", env.token_scope,
         "--router-token-scope",
         "Switchboard's API, such as api://switchboard.example.net/.default"),
    text(&router_token_options::authority, "token_authority",
         env.token_authority, "--router-token-authority",
         "The identity platform"),
    text(&router_token_options::authority_ca, "token_authority_ca",
         env.token_authority_ca, "--router-token-authority-ca",
         "PEM authorities of a private identity platform's certificate "
         "(default: the system's)"),
  };
  // A node that calls the router as its users (the web edge) has no token
  // of its own.
  if (token == nullptr)
    all.erase(all.begin() + 4, all.end());
  own.insert(own.end(), all.begin(), all.end());
  return own;
}

} // namespace switchboard::gateway
