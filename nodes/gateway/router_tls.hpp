#pragma once

// How a gateway reaches its router over TLS: the router.tls* settings,
// shared by the SBC and Graph gateways, and the names errors give them.

#include "nodes/settings/settings.hpp"
#include "nodes/tls/grpc_credentials.hpp"

#include <string>
#include <vector>

namespace switchboard::gateway {

/// The environment variables of the four settings, per gateway.
struct router_tls_env {
  const char* tls;
  const char* ca;
  const char* certificate;
  const char* private_key;
};

inline constexpr tls::setting_names router_tls_names{
  "--router-tls-certificate", "--router-tls-private-key", "--router-tls-ca"};

/// A gateway's own settings `own`, then router.tls, router.tls_ca,
/// router.tls_certificate and router.tls_private_key, held in `member`.
template<class Config>
std::vector<settings::setting<Config>>
with_router_tls(std::vector<settings::setting<Config>> own, router_tls_env env,
                tls::client_options Config::*member) {
  using setting = settings::setting<Config>;
  auto file
    = [member](std::string tls::files::*field, const char* key,
               const char* variable, const char* flag, const char* help) {
        return setting{"router",
                       key,
                       variable,
                       flag,
                       help,
                       [member, field](const Config& c) -> std::string {
                         auto& v = (c.*member).f.*field;
                         return v.empty() ? std::string{"none"} : v;
                       },
                       [member, field](Config& c, const std::string& v) {
                         (c.*member).f.*field = v;
                         return std::string{};
                       }};
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
  };
  own.insert(own.end(), all.begin(), all.end());
  return own;
}

} // namespace switchboard::gateway
