#include "nodes/sbc_gateway/config.hpp"

#include "nodes/gateway/metrics_endpoint.hpp"
#include "nodes/gateway/router_tls.hpp"
#include "nodes/settings/settings.hpp"

#include <cstdlib>

namespace switchboard::sbc {

namespace {

using setting = switchboard::settings::setting<config>;

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text + ",") {
    if (c == ',' || c == ' ') {
      if (!item.empty())
        out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

/// A SIP URI as an operator writes one: sip: or sips:, something after
/// it, no spaces or angle brackets.
bool sip_uri(const std::string& v) {
  auto scheme = v.compare(0, 4, "sip:") == 0    ? 4
                : v.compare(0, 5, "sips:") == 0 ? 5
                                                : 0;
  return scheme != 0 && v.size() > static_cast<size_t>(scheme)
         && v.find_first_of(" \t<>\r\n") == std::string::npos;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (auto& item : items)
    out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string set_address(router::listen_address& target,
                        const std::string& text) {
  auto parsed = router::parse_listen_address(text);
  if (!parsed)
    return "expected host:port (port 0-65535), found '" + text + "'";
  target = *parsed;
  return {};
}

const std::vector<setting>& own_settings() {
  static const std::vector<setting> all{
    {"gateway", "name", "SWITCHBOARD_SBC_NAME", "--name",
     "This gateway's name (unique per replica, e.g. the pod name): in "
     "logs, and on every call it submits, so that after a restart it ends "
     "the calls it had and no longer has a dialog for",
     [](const config& c) -> std::string {
       return c.name;
     },
     [](config& c, const std::string& v) -> std::string {
       if (v.empty())
         return "must not be empty";
       c.name = v;
       return {};
     }},
    {"sip", "listen", "SWITCHBOARD_SBC_SIP_LISTEN", "--sip-listen",
     "host:port for SIP over UDP and TCP",
     [](const config& c) -> std::string {
       return c.sip.to_string();
     },
     [](config& c, const std::string& v) -> std::string {
       if (auto problem = set_address(c.sip, v); !problem.empty())
         return problem;
       if (c.sip.port == 0)
         return "expected a port other than 0 in '" + v + "'";
       return {};
     }},
    {"sip", "trunks", "SWITCHBOARD_SBC_TRUNKS", "--trunks",
     "File of trunks, one per line: trunk FQDN, tenant id, the tenant's "
     "E.164 numbers (none: any number)",
     [](const config& c) -> std::string {
       return c.trunks_file.empty() ? std::string{"none"} : c.trunks_file;
     },
     [](config& c, const std::string& v) {
       c.trunks_file = v;
       return std::string{};
     }},
    {"sip", "allowed_sources", "SWITCHBOARD_SBC_ALLOWED_SOURCES",
     "--allowed-sources",
     "IP addresses of the SBCs INVITEs may come from, comma separated; "
     "empty: any",
     [](const config& c) -> std::string {
       return c.allowed_sources.empty() ? std::string{"any"}
                                        : join(c.allowed_sources);
     },
     [](config& c, const std::string& v) {
       c.allowed_sources = split_list(v);
       return std::string{};
     }},
    {"sip", "agent_route", "SWITCHBOARD_SBC_AGENT_ROUTE", "--agent-route",
     "Where INVITEs to agents go: source (back to the SBC the call came "
     "from), direct (the agent's SIP URI), or host:port of the SBC",
     [](const config& c) -> std::string {
       return c.agent_route;
     },
     [](config& c, const std::string& v) -> std::string {
       if (v != "source" && v != "direct") {
         auto parsed = router::parse_listen_address(v);
         if (!parsed || parsed->port == 0)
           return "expected source, direct or host:port, found '" + v + "'";
       }
       c.agent_route = v;
       return {};
     }},
    {"sip", "sbc_transport", "SWITCHBOARD_SBC_SBC_TRANSPORT", "--sbc-transport",
     "How INVITEs to agents and OPTIONS pings reach an SBC given as "
     "host:port (--agent-route, --ping): udp, tcp or tls. SDP offers may "
     "not fit a UDP datagram",
     [](const config&) -> std::string {
       return "tcp, or tls when TLS is on";
     },
     [](config& c, const std::string& v) -> std::string {
       if (v != "udp" && v != "tcp" && v != "tls")
         return "expected udp, tcp or tls, found '" + v + "'";
       c.sbc_transport = v;
       return {};
     }},
    {"tls", "certificate", "SWITCHBOARD_SBC_TLS_CERTIFICATE",
     "--tls-certificate",
     "PEM file of the gateway's certificate (then any intermediates); "
     "setting it turns SIP over TLS on",
     [](const config&) -> std::string {
       return "none (TLS off)";
     },
     [](config& c, const std::string& v) {
       c.tls.certificate_file = v;
       return std::string{};
     }},
    {"tls", "private_key", "SWITCHBOARD_SBC_TLS_PRIVATE_KEY",
     "--tls-private-key",
     "PEM file of the certificate's private key (unencrypted; keep it "
     "readable by the gateway only)",
     [](const config&) -> std::string {
       return "none";
     },
     [](config& c, const std::string& v) {
       c.tls.private_key_file = v;
       return std::string{};
     }},
    {"tls", "listen", "SWITCHBOARD_SBC_TLS_LISTEN", "--tls-listen",
     "host:port for SIP over TLS",
     [](const config&) -> std::string {
       return "the SIP host, port 5061, when a certificate is set";
     },
     [](config& c, const std::string& v) -> std::string {
       router::listen_address a;
       if (auto problem = set_address(a, v); !problem.empty())
         return problem;
       if (a.port == 0)
         return "expected a port other than 0 in '" + v + "'";
       c.tls.listen = a;
       return {};
     }},
    {"tls", "verify", "SWITCHBOARD_SBC_TLS_VERIFY", "--tls-verify",
     "none, or peer: SBCs that connect must present a certificate signed "
     "by --tls-ca-file, and SBCs the gateway connects to are checked "
     "against it",
     [](const config& c) -> std::string {
       return c.tls.verify;
     },
     [](config& c, const std::string& v) -> std::string {
       if (v != "none" && v != "peer")
         return "expected none or peer, found '" + v + "'";
       c.tls.verify = v;
       return {};
     }},
    {"tls", "ca_file", "SWITCHBOARD_SBC_TLS_CA_FILE", "--tls-ca-file",
     "PEM file of the certificate authorities trusted to sign SBCs' "
     "certificates (for --tls-verify peer)",
     [](const config&) -> std::string {
       return "none";
     },
     [](config& c, const std::string& v) {
       c.tls.ca_file = v;
       return std::string{};
     }},
    {"sip", "attribute_headers", "SWITCHBOARD_SBC_ATTRIBUTE_HEADERS",
     "--attribute-headers",
     "SIP headers (comma separated) whose values become the call's "
     "attributes, e.g. X-Customer-Tier,User-to-User",
     [](const config& c) -> std::string {
       return c.attribute_headers.empty() ? std::string{"none"}
                                          : join(c.attribute_headers);
     },
     [](config& c, const std::string& v) {
       c.attribute_headers = split_list(v);
       return std::string{};
     }},
    {"sip", "ring_refresh", "SWITCHBOARD_SBC_RING_REFRESH", "--ring-refresh",
     "How often a waiting caller's 180 Ringing is sent again (1s to 170s), "
     "so that proxies' Timer C never fires",
     [](const config& c) -> std::string {
       return std::to_string(c.ring_refresh.count() / 1000) + "s";
     },
     [](config& c, const std::string& v) -> std::string {
       char* end = nullptr;
       auto n = std::strtol(v.c_str(), &end, 10);
       std::string unit = end == nullptr ? "" : end;
       if (v.empty() || end == v.c_str() || (unit != "s" && unit != "ms"))
         return "expected a duration such as 60s, found '" + v + "'";
       auto ms = unit == "s" ? n * 1000 : n;
       if (ms < 100 || ms > 170'000)
         return "expected a duration from 100ms to 170s, found '" + v + "'";
       c.ring_refresh = std::chrono::milliseconds{ms};
       return {};
     }},
    {"media", "hold_uri", "SWITCHBOARD_SBC_HOLD_URI", "--hold-uri",
     "SIP URI of a media server a waiting caller is answered and bridged "
     "to, e.g. sip:annc@ms.example.com;play=https://prompts.example.com/"
     "hold.wav;repeat=forever (RFC 4240) or any endpoint that answers with "
     "media; empty: the caller hears ringback until an agent answers",
     [](const config& c) -> std::string {
       return c.hold_uri.empty() ? std::string{"none (ringback)"} : c.hold_uri;
     },
     [](config& c, const std::string& v) -> std::string {
       if (!v.empty() && !sip_uri(v))
         return "expected a sip: or sips: URI, found '" + v + "'";
       c.hold_uri = v;
       return {};
     }},
    {"media", "announcement_uri", "SWITCHBOARD_SBC_ANNOUNCEMENT_URI",
     "--announcement-uri",
     "SIP URI that plays a queue limit's announcement, {prompt} standing "
     "for its prompt id, e.g. sip:annc@ms.example.com;play=https://"
     "prompts.example.com/{prompt}.wav; played to a caller the hold media "
     "server answered, before the call ends; empty: none are played",
     [](const config& c) -> std::string {
       return c.announcement_uri.empty() ? std::string{"none"}
                                         : c.announcement_uri;
     },
     [](config& c, const std::string& v) -> std::string {
       if (!v.empty()
           && (!sip_uri(v) || v.find("{prompt}") == std::string::npos))
         return "expected a sip: or sips: URI with {prompt} in it, found '" + v
                + "'";
       c.announcement_uri = v;
       return {};
     }},
    {"sip", "callback_uri", "SWITCHBOARD_SBC_CALLBACK_URI", "--callback-uri",
     "SIP URI a callback calls once its agent has answered, and a "
     "transfer out (TransferCall outside_number) calls, {number} standing "
     "for the number and {trunk} for the trunk FQDN the call came by; sent "
     "the way agents' INVITEs go (--agent-route)",
     [](const config& c) -> std::string {
       return c.callback_uri;
     },
     [](config& c, const std::string& v) -> std::string {
       if (!sip_uri(v) || v.find("{number}") == std::string::npos)
         return "expected a sip: or sips: URI with {number} in it, found '" + v
                + "'";
       c.callback_uri = v;
       return {};
     }},
    {"sip", "session_expires", "SWITCHBOARD_SBC_SESSION_EXPIRES",
     "--session-expires",
     "Session timer (RFC 4028) asked for on every dialog, in seconds (90 "
     "to 86400; 0: none); a dialog whose refreshes stop is ended",
     [](const config& c) -> std::string {
       return std::to_string(c.session_expires);
     },
     [](config& c, const std::string& v) -> std::string {
       char* end = nullptr;
       auto n = std::strtol(v.c_str(), &end, 10);
       if (v.empty() || end == nullptr || *end != '\0'
           || (n != 0 && (n < 90 || n > 86400)))
         return "expected 0 or a number of seconds from 90 to 86400, found '"
                + v + "'";
       c.session_expires = static_cast<unsigned>(n);
       return {};
     }},
    {"sip", "ping", "SWITCHBOARD_SBC_PING", "--ping",
     "SBCs (host:port, comma separated) to send OPTIONS to; each is logged "
     "and counted up or down",
     [](const config& c) -> std::string {
       return c.ping.empty() ? std::string{"none"} : join(c.ping);
     },
     [](config& c, const std::string& v) -> std::string {
       auto targets = split_list(v);
       for (auto& t : targets) {
         auto parsed = router::parse_listen_address(t);
         if (!parsed || parsed->port == 0)
           return "expected host:port, found '" + t + "'";
       }
       c.ping = targets;
       return {};
     }},
    {"sip", "ping_interval", "SWITCHBOARD_SBC_PING_INTERVAL", "--ping-interval",
     "How often each SBC of --ping gets OPTIONS (1s to 1h)",
     [](const config& c) -> std::string {
       return std::to_string(c.ping_interval.count() / 1000) + "s";
     },
     [](config& c, const std::string& v) -> std::string {
       char* end = nullptr;
       auto n = std::strtol(v.c_str(), &end, 10);
       std::string unit = end == nullptr ? "" : end;
       if (v.empty() || end == v.c_str() || n < 1
           || (unit != "s" && unit != "m") || (unit == "s" && n > 3600)
           || (unit == "m" && n > 60))
         return "expected a duration from 1s to 60m such as 30s, found '" + v
                + "'";
       c.ping_interval = unit == "s" ? std::chrono::milliseconds{n * 1000}
                                     : std::chrono::milliseconds{n * 60'000};
       return {};
     }},
    {"sip", "retry_after", "SWITCHBOARD_SBC_RETRY_AFTER", "--retry-after",
     "Seconds in the Retry-After of a 503 when no router is reachable",
     [](const config& c) -> std::string {
       return std::to_string(c.retry_after);
     },
     [](config& c, const std::string& v) -> std::string {
       char* end = nullptr;
       auto n = std::strtoul(v.c_str(), &end, 10);
       if (v.empty() || *end != '\0' || n < 1 || n > 3600)
         return "expected a whole number of seconds from 1 to 3600, found '" + v
                + "'";
       c.retry_after = static_cast<unsigned>(n);
       return {};
     }},
    {"router", "address", "SWITCHBOARD_SBC_ROUTER", "--router",
     "host:port of a router node's gRPC API",
     [](const config& c) -> std::string {
       return c.router;
     },
     [](config& c, const std::string& v) -> std::string {
       auto parsed = router::parse_listen_address(v);
       if (!parsed || parsed->port == 0)
         return "expected host:port, found '" + v + "'";
       c.router = v;
       return {};
     }},
    gateway::metrics_setting("SWITCHBOARD_SBC_METRICS_LISTEN",
                             &config::metrics),
    {"log", "level", "SWITCHBOARD_SBC_LOG_LEVEL", "--log-level",
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
    {"SWITCHBOARD_SBC_ROUTER_TLS", "SWITCHBOARD_SBC_ROUTER_TLS_CA",
     "SWITCHBOARD_SBC_ROUTER_TLS_CERTIFICATE",
     "SWITCHBOARD_SBC_ROUTER_TLS_PRIVATE_KEY",
     "SWITCHBOARD_SBC_ROUTER_TOKEN_CLIENT_ID",
     "SWITCHBOARD_SBC_ROUTER_TOKEN_CLIENT_SECRET_FILE",
     "SWITCHBOARD_SBC_ROUTER_TOKEN_TENANT_ID",
     "SWITCHBOARD_SBC_ROUTER_TOKEN_SCOPE",
     "SWITCHBOARD_SBC_ROUTER_TOKEN_AUTHORITY",
     "SWITCHBOARD_SBC_ROUTER_TOKEN_AUTHORITY_CA"},
    &config::router_tls, &config::router_token);
  return all;
}

/// What is wrong with settings that only make sense together; fills in
/// the TLS listen address.
std::string check_together(config& c) {
  auto& tls = c.tls;
  if (!tls.enabled()) {
    if (!tls.private_key_file.empty())
      return "tls.private_key (--tls-private-key) is set but "
             "tls.certificate (--tls-certificate) is not";
    if (tls.listen)
      return "tls.listen (--tls-listen) needs tls.certificate "
             "(--tls-certificate) and tls.private_key (--tls-private-key)";
    if (tls.verify != "none")
      return "tls.verify (--tls-verify) needs TLS: set tls.certificate "
             "(--tls-certificate) and tls.private_key (--tls-private-key)";
    if (c.sbc_transport == "tls")
      return "sip.sbc_transport (--sbc-transport) is tls but TLS is off: set "
             "tls.certificate (--tls-certificate) and tls.private_key "
             "(--tls-private-key)";
    return {};
  }
  if (tls.private_key_file.empty())
    return "tls.certificate (--tls-certificate) needs tls.private_key "
           "(--tls-private-key)";
  if (tls.verify == "peer" && tls.ca_file.empty())
    return "tls.verify (--tls-verify) peer needs tls.ca_file (--tls-ca-file), "
           "the authorities that sign the SBCs' certificates";
  if (!tls.listen)
    tls.listen = router::listen_address{c.sip.host, 5061};
  if (tls.listen->port == c.sip.port && tls.listen->host == c.sip.host)
    return "tls.listen (--tls-listen) " + tls.listen->to_string()
           + " is the address of sip.listen (--sip-listen), whose TCP "
             "socket is bound there already";
  return {};
}

} // namespace

config_result
load_config(int argc, const char* const* argv,
            const std::function<const char*(const char*)>& getenv) {
  static const switchboard::settings::program program{
    "switchboard-sbc-gateway",
    "switchboard-sbc-gateway: the SIP back-to-back user agent "
    "between a Teams Direct Routing SBC and Switchboard. Runs with "
    "no arguments against a router on its defaults (SIP on "
    "127.0.0.1:5070, router 127.0.0.1:7400); calls are taken only "
    "for the trunks of --trunks. Settings come from the embedded "
    "defaults, then the YAML file, then SWITCHBOARD_SBC_* "
    "environment variables, then these flags.",
    "SWITCHBOARD_SBC_CONFIG"};
  auto loaded
    = switchboard::settings::load(program, settings(), argc, argv, getenv);
  if (loaded.error.empty() && loaded.help.empty())
    loaded.error = check_together(loaded.value);
  return {std::move(loaded.value), std::move(loaded.error),
          std::move(loaded.help)};
}

} // namespace switchboard::sbc
