#include "nodes/graph_gateway/config.hpp"

#include "nodes/gateway/metrics_endpoint.hpp"
#include "nodes/gateway/router_tls.hpp"
#include "nodes/settings/settings.hpp"

namespace switchboard::graph {

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

// "24h", "5m" or "10s": the largest unit that says it exactly.
std::string duration_text(std::chrono::seconds d) {
  auto n = d.count();
  if (n != 0 && n % 3600 == 0)
    return std::to_string(n / 3600) + "h";
  if (n != 0 && n % 60 == 0)
    return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

// A setting held in a seconds member, bounded to [low, high].
setting duration(const char* section, const char* key, const char* env,
                 const char* flag, const char* help,
                 std::chrono::seconds config::*member, std::chrono::seconds low,
                 std::chrono::seconds high) {
  return {section,
          key,
          env,
          flag,
          help,
          [member](const config& c) -> std::string {
            return duration_text(c.*member);
          },
          [member, low, high](config& c, const std::string& v) -> std::string {
            auto ms = switchboard::settings::parse_duration_ms(v);
            if (!ms || *ms < low.count() * 1000 || *ms > high.count() * 1000)
              return "expected a duration from " + duration_text(low) + " to "
                     + duration_text(high) + ", found '" + v + "'";
            c.*member = std::chrono::seconds{*ms / 1000};
            return {};
          }};
}

std::string web_url(const std::string& v) {
  if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
    return "expected an http:// or https:// URL, found '" + v + "'";
  if (v.find_first_of(" \t\r\n") != std::string::npos)
    return "a URL has no spaces: '" + v + "'";
  return {};
}

std::string url_path(const std::string& v) {
  if (v.empty() || v.front() != '/'
      || v.find_first_of("? \t") != std::string::npos)
    return "expected a path starting with /, without query, found '" + v + "'";
  return {};
}

std::string not_empty(const std::string& v) {
  return v.empty() ? "must not be empty" : "";
}

const std::vector<setting>& own_settings() {
  static const std::vector<setting> all{
    text("gateway", "name", "SWITCHBOARD_GRAPH_NAME", "--name",
         "This gateway's name (unique per replica, e.g. the pod name): in "
         "logs, and on every call it submits",
         &config::name, not_empty),
    {"http", "listen", "SWITCHBOARD_GRAPH_LISTEN", "--listen",
     "host:port of the HTTPS endpoints Graph posts notifications to",
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
    text("http", "certificate", "SWITCHBOARD_GRAPH_CERTIFICATE",
         "--certificate",
         "PEM file of the endpoints' certificate (then intermediates); "
         "setting it turns HTTPS on",
         &config::certificate_file),
    text("http", "private_key", "SWITCHBOARD_GRAPH_PRIVATE_KEY",
         "--private-key", "PEM file of the certificate's private key",
         &config::private_key_file),
    text("http", "calls_path", "SWITCHBOARD_GRAPH_CALLS_PATH", "--calls-path",
         "Path of the bot's calling webhook (the callback URL registered "
         "for the bot ends with it)",
         &config::calls_path, url_path),
    text("http", "presence_path", "SWITCHBOARD_GRAPH_PRESENCE_PATH",
         "--presence-path",
         "Path of the presence subscriptions' notification URL",
         &config::presence_path, url_path),
    text("router", "address", "SWITCHBOARD_GRAPH_ROUTER", "--router",
         "host:port of a router's gRPC API", &config::router, not_empty),
    duration("router", "wait", "SWITCHBOARD_GRAPH_ROUTER_WAIT", "--router-wait",
             "How long an incoming call rings unanswered while the router "
             "cannot be reached, before it is rejected as busy (Graph stops "
             "ringing the bot at 15 s)",
             &config::router_wait, std::chrono::seconds{0},
             std::chrono::seconds{60}),
    {"graph", "tenants", "SWITCHBOARD_GRAPH_TENANTS", "--tenants",
     "The Switchboard tenants served, comma separated; calls from other "
     "Microsoft tenants are rejected",
     [](const config& c) -> std::string {
       std::string out;
       for (const auto& t : c.tenants)
         out += (out.empty() ? "" : ",") + t;
       return out.empty() ? std::string{"none"} : out;
     },
     [](config& c, const std::string& v) -> std::string {
       c.tenants.clear();
       std::string item;
       for (char ch : v + ",") {
         if (ch == ',' || ch == ' ') {
           if (!item.empty())
             c.tenants.push_back(item);
           item.clear();
         } else {
           item += ch;
         }
       }
       return {};
     }},
    text("graph", "callback_url", "SWITCHBOARD_GRAPH_CALLBACK_URL",
         "--callback-url",
         "The bot's callback URL as registered, where Graph posts call "
         "notifications; none: https://{listen}{calls_path}",
         &config::callback_url, web_url),
    text("graph", "client_secret_file", "SWITCHBOARD_GRAPH_CLIENT_SECRET_FILE",
         "--client-secret-file",
         "File holding the app's client secret (or set "
         "SWITCHBOARD_GRAPH_CLIENT_SECRET)",
         &config::client_secret_file),
    text("graph", "hold_prompt", "SWITCHBOARD_GRAPH_HOLD_PROMPT",
         "--hold-prompt",
         "URL of an audio file played to waiting callers (playPrompt)",
         &config::hold_prompt, web_url),
    text("graph", "announcement_url", "SWITCHBOARD_GRAPH_ANNOUNCEMENT_URL",
         "--announcement-url",
         "URL of the audio file a caller hears when the engine ends the call "
         "with an announcement (a queue's limit), {prompt} standing for its "
         "id; none: such calls are hung up at once",
         &config::announcement_url, web_url),
    {"graph", "callback_digit", "SWITCHBOARD_GRAPH_CALLBACK_DIGIT",
     "--callback-digit",
     "The digit (0-9, * or #) a waiting caller presses to keep their place "
     "and be called back; none: callers cannot ask",
     [](const config& c) -> std::string {
       return c.callback_digit.empty() ? std::string{"none"} : c.callback_digit;
     },
     [](config& c, const std::string& v) -> std::string {
       if (v == "none" || v.empty()) {
         c.callback_digit.clear();
         return {};
       }
       if (v.size() != 1
           || std::string{"0123456789*#"}.find(v[0]) == std::string::npos)
         return "expected one digit (0-9, * or #) or none, found '" + v + "'";
       c.callback_digit = v;
       return {};
     }},
    text("graph", "url", "SWITCHBOARD_GRAPH_URL", "--graph-url",
         "Microsoft Graph's base URL (another cloud's, or a test's)",
         &config::graph_url, web_url),
    text("graph", "authority", "SWITCHBOARD_GRAPH_AUTHORITY", "--authority",
         "The identity platform that issues the gateway's tokens",
         &config::authority, web_url),
    text("graph", "app_id", "SWITCHBOARD_GRAPH_APP_ID", "--app-id",
         "The bot's Entra application (client) id; call notifications are "
         "refused until it is set",
         &config::app_id),
    text("graph", "openid_configuration",
         "SWITCHBOARD_GRAPH_OPENID_CONFIGURATION", "--openid-configuration",
         "OpenID configuration whose keys sign call notifications' tokens",
         &config::openid_configuration, web_url),
    duration(
      "graph", "key_refresh", "SWITCHBOARD_GRAPH_KEY_REFRESH", "--key-refresh",
      "How often the signing keys are read again (also when a token "
      "names an unknown key, at most once a minute), e.g. 24h, 30m",
      &config::key_refresh, std::chrono::minutes{1}, std::chrono::hours{168}),
    text("graph", "ca_file", "SWITCHBOARD_GRAPH_CA_FILE", "--ca-file",
         "PEM bundle of the authorities trusted for Graph and the identity "
         "platform; none: the system's",
         &config::ca_file),
    text("presence", "certificate_id",
         "SWITCHBOARD_GRAPH_PRESENCE_CERTIFICATE_ID",
         "--presence-certificate-id",
         "encryptionCertificateId of the presence subscriptions",
         &config::presence_certificate_id, not_empty),
    text("presence", "private_key", "SWITCHBOARD_GRAPH_PRESENCE_PRIVATE_KEY",
         "--presence-private-key",
         "PEM file of the private key that decrypts presence notifications",
         &config::presence_key_file),
    text("presence", "certificate", "SWITCHBOARD_GRAPH_PRESENCE_CERTIFICATE",
         "--presence-certificate",
         "PEM file of the certificate whose key decrypts presence "
         "notifications; with it (and a signed-in service account) the "
         "gateway subscribes to agents' presence",
         &config::presence_certificate_file),
    text("presence", "notification_url", "SWITCHBOARD_GRAPH_PRESENCE_URL",
         "--presence-url",
         "The presence webhook's URL as Graph reaches it; none: "
         "https://{listen}{presence_path}",
         &config::presence_url, web_url),
    duration("presence", "reconcile", "SWITCHBOARD_GRAPH_PRESENCE_RECONCILE",
             "--presence-reconcile",
             "How often every agent's Teams presence is read whole "
             "(getPresencesByUserId), since subscriptions can stop silently",
             &config::presence_reconcile, std::chrono::seconds{1},
             std::chrono::hours{24}),
    text("signin", "token_store", "SWITCHBOARD_GRAPH_TOKEN_STORE",
         "--token-store",
         "Directory of the service account's sealed refresh tokens (one "
         "per Microsoft tenant, written by switchboard-graph-gateway login)",
         &config::token_store, not_empty),
    text("signin", "token_key_file", "SWITCHBOARD_GRAPH_TOKEN_KEY_FILE",
         "--token-key-file",
         "File holding the key that seals those tokens (or set "
         "SWITCHBOARD_GRAPH_TOKEN_KEY)",
         &config::token_key_file),
    text("presence", "client_state_file", "SWITCHBOARD_GRAPH_CLIENT_STATE_FILE",
         "--client-state-file",
         "File holding the subscriptions' clientState secret (or set "
         "SWITCHBOARD_GRAPH_CLIENT_STATE)",
         &config::client_state_file),
    gateway::metrics_setting("SWITCHBOARD_GRAPH_METRICS_LISTEN",
                             &config::metrics),
    {"log", "level", "SWITCHBOARD_GRAPH_LOG_LEVEL", "--log-level",
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

/// With the router TLS settings every gateway has.
const std::vector<setting>& settings() {
  static const std::vector<setting> all = gateway::with_router_tls<config>(
    own_settings(),
    {"SWITCHBOARD_GRAPH_ROUTER_TLS", "SWITCHBOARD_GRAPH_ROUTER_TLS_CA",
     "SWITCHBOARD_GRAPH_ROUTER_TLS_CERTIFICATE",
     "SWITCHBOARD_GRAPH_ROUTER_TLS_PRIVATE_KEY",
     "SWITCHBOARD_GRAPH_ROUTER_TOKEN_CLIENT_ID",
     "SWITCHBOARD_GRAPH_ROUTER_TOKEN_CLIENT_SECRET_FILE",
     "SWITCHBOARD_GRAPH_ROUTER_TOKEN_TENANT_ID",
     "SWITCHBOARD_GRAPH_ROUTER_TOKEN_SCOPE",
     "SWITCHBOARD_GRAPH_ROUTER_TOKEN_AUTHORITY",
     "SWITCHBOARD_GRAPH_ROUTER_TOKEN_AUTHORITY_CA"},
    &config::router_tls, &config::router_token);
  return all;
}

} // namespace

config_result
load_config(int argc, const char* const* argv,
            const std::function<const char*(const char*)>& getenv) {
  static const switchboard::settings::program program{
    "switchboard-graph-gateway",
    "switchboard-graph-gateway: Teams calls to a contact-center bot and "
    "Teams presence, through Microsoft Graph, into Switchboard. Runs with "
    "no arguments against a router on its defaults (endpoints on "
    "127.0.0.1:9443, router 127.0.0.1:7400); call notifications are "
    "refused until --app-id is set. Settings come from the embedded "
    "defaults, then the YAML file, then SWITCHBOARD_GRAPH_* environment "
    "variables, then these flags. Secrets come from files or the "
    "environment, never from flags.\n\n"
    "switchboard-graph-gateway login MICROSOFT-TENANT-ID signs the service "
    "account in (device code) and keeps its refresh token for presence "
    "subscriptions.",
    "SWITCHBOARD_GRAPH_CONFIG"};
  auto loaded
    = switchboard::settings::load(program, settings(), argc, argv, getenv);
  if (loaded.error.empty() && loaded.help.empty()
      && loaded.value.certificate_file.empty()
           != loaded.value.private_key_file.empty())
    loaded.error = "http.certificate (--certificate) and http.private_key "
                   "(--private-key) go together: set both or neither";
  return {std::move(loaded.value), std::move(loaded.error),
          std::move(loaded.help)};
}

} // namespace switchboard::graph
