#include "nodes/web/config.hpp"

#include "nodes/gateway/metrics_endpoint.hpp"
#include "nodes/gateway/router_tls.hpp"
#include "nodes/settings/settings.hpp"

namespace switchboard::web {

namespace {

using setting = switchboard::settings::setting<config>;

// A setting held in a string member, with a check of its value.
setting text(const char* section, const char* key, const char* env,
             const char* flag, const char* help, std::string config::*member,
             std::function<std::string(const std::string&)> check = nullptr) {
  return {section,
          key,
          env,
          flag,
          help,
          [member](const config& c) -> std::string {
            return (c.*member).empty() ? std::string{"none"} : c.*member;
          },
          [member, check](config& c, const std::string& v) -> std::string {
            if (check)
              if (auto problem = check(v); !problem.empty())
                return problem;
            c.*member = v;
            return {};
          }};
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char ch : text + ",") {
    if (ch == ',') {
      if (!item.empty())
        out.push_back(item);
      item.clear();
    } else if (ch != ' ' && ch != '\t') {
      item += ch;
    }
  }
  return out;
}

std::string join_list(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out.empty() ? std::string{"none"} : out;
}

// A setting held in a list member, comma separated.
setting list(const char* section, const char* key, const char* env,
             const char* flag, const char* help,
             std::vector<std::string> config::*member) {
  return {section,
          key,
          env,
          flag,
          help,
          [member](const config& c) -> std::string {
            return join_list(c.*member);
          },
          [member](config& c, const std::string& v) -> std::string {
            c.*member = split_list(v);
            return {};
          }};
}

std::string https_url(const std::string& v) {
  if (!v.empty() && v.rfind("https://", 0) != 0)
    return "expected an https:// URL, found '" + v + "'";
  return {};
}

std::string not_empty(const std::string& v) {
  return v.empty() ? "must not be empty" : "";
}

const std::vector<setting>& own_settings() {
  static const std::vector<setting> all{
    {"http", "listen", "SWITCHBOARD_WEB_LISTEN", "--listen",
     "host:port the app and its API are served on",
     [](const config& c) -> std::string {
       return c.listen.to_string();
     },
     [](config& c, const std::string& v) -> std::string {
       auto parsed = router::parse_listen_address(v);
       if (!parsed)
         return "expected host:port (port 0-65535), found '" + v + "'";
       c.listen = *parsed;
       return {};
     }},
    text("http", "certificate", "SWITCHBOARD_WEB_CERTIFICATE", "--certificate",
         "PEM file of the site's certificate (then intermediates); setting "
         "it turns HTTPS on",
         &config::certificate_file),
    text("http", "private_key", "SWITCHBOARD_WEB_PRIVATE_KEY", "--private-key",
         "PEM file of the certificate's private key",
         &config::private_key_file),
    text("http", "app_dir", "SWITCHBOARD_WEB_APP_DIR", "--app-dir",
         "Directory of the built app (index.html, app.js); none: the one "
         "installed beside the binary",
         &config::app_dir),
    text("router", "address", "SWITCHBOARD_WEB_ROUTER", "--router",
         "host:port of a router's gRPC API", &config::router, not_empty),
    text("auth", "openid_configuration",
         "SWITCHBOARD_WEB_AUTH_OPENID_CONFIGURATION",
         "--auth-openid-configuration",
         "HTTPS URL of the OpenID configuration whose keys sign the users' "
         "tokens, as the router's; none: nobody can sign in",
         &config::openid_configuration, https_url),
    list("auth", "audience", "SWITCHBOARD_WEB_AUTH_AUDIENCE", "--auth-audience",
         "Accepted token audiences, comma-separated: Switchboard's API app "
         "(its application id and api:// URI), as the router's",
         &config::audiences),
    list("auth", "issuer", "SWITCHBOARD_WEB_AUTH_ISSUER", "--auth-issuer",
         "Accepted token issuers, comma-separated; {tenantid} stands for "
         "the token's own tid",
         &config::issuers),
    text("auth", "ca", "SWITCHBOARD_WEB_AUTH_CA", "--auth-ca",
         "PEM authorities trusted for the OpenID configuration's HTTPS; "
         "none: the system's",
         &config::auth_ca_file),
    {"auth", "demo_sign_in", "SWITCHBOARD_WEB_DEMO_SIGN_IN", "--demo-sign-in",
     "true: a demo on a laptop, where anyone who reaches the app picks who "
     "they are and the router (without authentication) is called without "
     "a token; loopback only",
     [](const config& c) -> std::string {
       return c.demo_sign_in ? "true" : "false";
     },
     [](config& c, const std::string& v) -> std::string {
       if (v == "true" || v == "1" || v == "yes" || v == "on")
         c.demo_sign_in = true;
       else if (v == "false" || v == "0" || v == "no" || v == "off")
         c.demo_sign_in = false;
       else
         return "expected true or false, found '" + v + "'";
       return {};
     }},
    text("app", "client_id", "SWITCHBOARD_WEB_CLIENT_ID", "--client-id",
         "Application (client) id the app signs in with outside Teams",
         &config::client_id),
    text("app", "authority", "SWITCHBOARD_WEB_AUTHORITY", "--authority",
         "The identity platform the app signs in at", &config::authority,
         https_url),
    text("app", "api_scope", "SWITCHBOARD_WEB_API_SCOPE", "--api-scope",
         "The scope of Switchboard's API the app asks for, such as "
         "api://switchboard.example.net/access_as_user",
         &config::api_scope),
    gateway::metrics_setting("SWITCHBOARD_WEB_METRICS_LISTEN",
                             &config::metrics),
    {"log", "level", "SWITCHBOARD_WEB_LOG_LEVEL", "--log-level",
     "debug, info, warn or error",
     [](const config& c) -> std::string {
       return c.log_level;
     },
     [](config& c, const std::string& v) {
       return switchboard::settings::set_log_level(c.log_level, v);
     }},
  };
  return all;
}

const std::vector<setting>& settings() {
  static const std::vector<setting> all = gateway::with_router_tls<config>(
    own_settings(),
    {"SWITCHBOARD_WEB_ROUTER_TLS", "SWITCHBOARD_WEB_ROUTER_TLS_CA",
     "SWITCHBOARD_WEB_ROUTER_TLS_CERTIFICATE",
     "SWITCHBOARD_WEB_ROUTER_TLS_PRIVATE_KEY", nullptr, nullptr, nullptr,
     nullptr, nullptr, nullptr},
    &config::router_tls, nullptr);
  return all;
}

} // namespace

config_result
load_config(int argc, const char* const* argv,
            const std::function<const char*(const char*)>& getenv) {
  static const switchboard::settings::program program{
    "switchboard-web",
    "switchboard-web: the agent and supervisor app, and its JSON and "
    "WebSocket API bridged to a router's gRPC API as the signed-in user. "
    "Runs with no arguments next to a router on its defaults (app on "
    "http://127.0.0.1:8480, router 127.0.0.1:7400); nobody can sign in "
    "until --auth-openid-configuration and --auth-audience are set. "
    "Settings come from the embedded defaults, then the YAML file, then "
    "SWITCHBOARD_WEB_* environment variables, then these flags.",
    "SWITCHBOARD_WEB_CONFIG"};
  auto loaded
    = switchboard::settings::load(program, settings(), argc, argv, getenv);
  auto& c = loaded.value;
  if (loaded.error.empty() && loaded.help.empty()) {
    if (c.certificate_file.empty() != c.private_key_file.empty())
      loaded.error = "http.certificate (--certificate) and http.private_key "
                     "(--private-key) go together: set both or neither";
    else if (c.demo_sign_in && !c.openid_configuration.empty())
      loaded.error = "--demo-sign-in: a demo has no identity platform; "
                     "leave --auth-openid-configuration unset";
    else if (c.demo_sign_in && c.listen.host.rfind("127.", 0) != 0
             && c.listen.host != "::1" && c.listen.host != "localhost")
      loaded.error = "--demo-sign-in: serves loopback only (anyone who "
                     "reaches it signs in as anyone), found --listen "
                     + c.listen.to_string();
    else if (!c.openid_configuration.empty() && c.audiences.empty())
      loaded.error = "--auth-audience: required with "
                     "--auth-openid-configuration (Switchboard's API app id)";
  }
  return {std::move(loaded.value), std::move(loaded.error),
          std::move(loaded.help)};
}

} // namespace switchboard::web
