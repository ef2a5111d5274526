#include "nodes/router/config.hpp"

#include "nodes/settings/settings.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstdlib>

namespace switchboard::router {

namespace {

using setting = switchboard::settings::setting<config>;

std::string set_address(listen_address& target, const std::string& text) {
  auto parsed = parse_listen_address(text);
  if (!parsed)
    return "expected host:port (port 0-65535), found '" + text + "'";
  target = *parsed;
  return {};
}

std::string set_bool(bool& target, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") {
    target = true;
    return {};
  }
  if (text == "false" || text == "0" || text == "no" || text == "off") {
    target = false;
    return {};
  }
  return "expected true or false, found '" + text + "'";
}

/// "500ms", "30s", "5m": 100 ms to 1 h.
std::string set_interval(std::chrono::milliseconds& target,
                         const std::string& text) {
  char* end = nullptr;
  auto n = std::strtoll(text.c_str(), &end, 10);
  std::string unit = end == nullptr ? "" : end;
  std::chrono::milliseconds value{0};
  if (!text.empty() && end != text.c_str() && n > 0) {
    if (unit == "ms")
      value = std::chrono::milliseconds{n};
    else if (unit == "s")
      value = std::chrono::seconds{n};
    else if (unit == "m")
      value = std::chrono::minutes{n};
  }
  if (value < std::chrono::milliseconds{100} || value > std::chrono::hours{1})
    return "expected a duration from 100ms to 1h such as 500ms, 60s or 5m, "
           "found '"
           + text + "'";
  target = value;
  return {};
}

/// "90d", "36h", "30m", "45s" or "0" (for ever).
std::string set_retention(std::chrono::seconds& target,
                          const std::string& text) {
  if (text == "0") {
    target = std::chrono::seconds{0};
    return {};
  }
  char* end = nullptr;
  auto n = std::strtoll(text.c_str(), &end, 10);
  std::string unit = end == nullptr ? "" : end;
  int64_t per = unit == "d"   ? 86'400
                : unit == "h" ? 3'600
                : unit == "m" ? 60
                : unit == "s" ? 1
                              : 0;
  if (text.empty() || end == text.c_str() || n <= 0 || n > 10'000'000
      || per == 0)
    return "expected a duration such as 90d or 36h, or 0 to keep for ever, "
           "found '"
           + text + "'";
  target = std::chrono::seconds{n * per};
  return {};
}

/// "90d", "36h", "30m", "45s" or "0" (for ever): the largest whole unit.
std::string duration_text(std::chrono::seconds d) {
  auto n = d.count();
  if (n == 0)
    return "0";
  for (auto [per, unit] :
       {std::pair{int64_t{86'400}, "d"}, std::pair{int64_t{3'600}, "h"},
        std::pair{int64_t{60}, "m"}})
    if (n % per == 0)
      return std::to_string(n / per) + unit;
  return std::to_string(n) + "s";
}

/// A TLS file setting: `field` of the files `group`; --help shows `none`
/// when it is unset.
setting tls_file(const char* section, const char* key, const char* env,
                 const char* flag, const char* help, tls::files config::*group,
                 std::string tls::files::*field, const char* none = "none") {
  return {section,
          key,
          env,
          flag,
          help,
          [group, field, none](const config& c) {
            auto& v = (c.*group).*field;
            return v.empty() ? std::string{none} : v;
          },
          [group, field](config& c, const std::string& v) {
            (c.*group).*field = v;
            return std::string{};
          }};
}

/// A limit of requests: a whole number from 1 to 10,000,000.
std::string set_limit(size_t& target, const std::string& text) {
  char* end = nullptr;
  auto n = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || n < 1 || n > 10'000'000)
    return "expected a whole number from 1 to 10000000, found '" + text + "'";
  target = static_cast<size_t>(n);
  return {};
}

/// A comma-separated list; empty entries are dropped.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(',', at);
    auto item = text.substr(at, comma == std::string::npos ? std::string::npos
                                                           : comma - at);
    if (!item.empty())
      out.push_back(item);
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

std::string join_list(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string set_nonempty(std::string& target, const std::string& text) {
  if (text.empty())
    return "must not be empty";
  target = text;
  return {};
}

const std::vector<setting>& settings() {
  static const std::vector<setting> all{
    {"node", "name", "SWITCHBOARD_NODE_NAME", "--node-name",
     "This node's name (the StatefulSet pod name in Kubernetes)",
     [](const config& c) {
       return c.node_name;
     },
     [](config& c, const std::string& v) {
       return set_nonempty(c.node_name, v);
     }},
    {"node", "data_dir", "SWITCHBOARD_DATA_DIR", "--data-dir",
     "Folder of the node's RocksDB store; created if missing",
     [](const config& c) {
       return c.data_dir;
     },
     [](config& c, const std::string& v) {
       return set_nonempty(c.data_dir, v);
     }},
    {"node", "sync_writes", "SWITCHBOARD_SYNC_WRITES", "--sync-writes",
     "true: every acknowledged write survives a power loss (fsync, group "
     "commit); false: survives a process crash",
     [](const config& c) {
       return std::string{c.sync_writes ? "true" : "false"};
     },
     [](config& c, const std::string& v) {
       return set_bool(c.sync_writes, v);
     }},
    {"node", "audit_interval", "SWITCHBOARD_AUDIT_INTERVAL", "--audit-interval",
     "How often each tenant's agents are checked against the work they "
     "hold; a disagreement (a phantom state) is logged and counted",
     [](const config& c) {
       return duration_text(
         std::chrono::duration_cast<std::chrono::seconds>(c.audit_interval));
     },
     [](config& c, const std::string& v) {
       return set_interval(c.audit_interval, v);
     }},
    {"node", "history_retention", "SWITCHBOARD_HISTORY_RETENTION",
     "--history-retention",
     "How long finished calls stay in the history (90d, 36h); 0 keeps them "
     "for ever",
     [](const config& c) {
       return duration_text(c.history_retention);
     },
     [](config& c, const std::string& v) {
       return set_retention(c.history_retention, v);
     }},
    {"node", "event_retention", "SWITCHBOARD_EVENT_RETENTION",
     "--event-retention",
     "How long events stay for Subscribe to resume from (7d, 36h); 0 keeps "
     "them for ever",
     [](const config& c) {
       return duration_text(c.event_retention);
     },
     [](config& c, const std::string& v) {
       return set_retention(c.event_retention, v);
     }},
    {"grpc", "listen", "SWITCHBOARD_GRPC_LISTEN", "--grpc-listen",
     "host:port of the gRPC API; port 0 picks a free port",
     [](const config& c) {
       return c.grpc.to_string();
     },
     [](config& c, const std::string& v) {
       return set_address(c.grpc, v);
     }},
    tls_file(
      "grpc", "tls_certificate", "SWITCHBOARD_GRPC_TLS_CERTIFICATE",
      "--grpc-tls-certificate",
      "PEM certificate (then its intermediates) of the gRPC API; with "
      "--grpc-tls-private-key, gRPC serves TLS only. Read again when the "
      "file changes",
      &config::grpc_tls, &tls::files::certificate_file,
      "none: plain gRPC, on loopback only"),
    tls_file("grpc", "tls_private_key", "SWITCHBOARD_GRPC_TLS_PRIVATE_KEY",
             "--grpc-tls-private-key",
             "Unencrypted PEM private key of --grpc-tls-certificate",
             &config::grpc_tls, &tls::files::private_key_file),
    tls_file(
      "grpc", "tls_client_ca", "SWITCHBOARD_GRPC_TLS_CLIENT_CA",
      "--grpc-tls-client-ca",
      "PEM authorities: every gRPC client must present a certificate one of "
      "them signed (mutual TLS); none: clients need no certificate",
      &config::grpc_tls, &tls::files::ca_file),
    {"grpc", "allow_plaintext", "SWITCHBOARD_GRPC_ALLOW_PLAINTEXT",
     "--grpc-allow-plaintext",
     "true: serve plain gRPC on an address other than loopback, where a "
     "service mesh encrypts between pods; false: without TLS, gRPC serves "
     "on loopback addresses only",
     [](const config& c) {
       return std::string{c.grpc_allow_plaintext ? "true" : "false"};
     },
     [](config& c, const std::string& v) {
       return set_bool(c.grpc_allow_plaintext, v);
     }},
    {"grpc", "allow_unauthenticated", "SWITCHBOARD_GRPC_ALLOW_UNAUTHENTICATED",
     "--grpc-allow-unauthenticated",
     "true: serve gRPC without authentication on an address other than "
     "loopback (every caller may read and change every tenant); false: "
     "there, set --auth-openid-configuration or --grpc-tls-client-ca",
     [](const config& c) {
       return std::string{c.grpc_allow_unauthenticated ? "true" : "false"};
     },
     [](config& c, const std::string& v) {
       return set_bool(c.grpc_allow_unauthenticated, v);
     }},
    {"auth", "openid_configuration", "SWITCHBOARD_AUTH_OPENID_CONFIGURATION",
     "--auth-openid-configuration",
     "HTTPS URL of the OpenID configuration whose keys sign bearer tokens "
     "(Entra ID: https://login.microsoftonline.com/organizations/v2.0/"
     ".well-known/openid-configuration); none: no bearer tokens",
     [](const config& c) {
       return c.auth.openid_configuration.empty() ? std::string{"none"}
                                                  : c.auth.openid_configuration;
     },
     [](config& c, const std::string& v) -> std::string {
       if (!v.empty() && v.rfind("https://", 0) != 0)
         return "expected an https:// URL, found '" + v + "'";
       c.auth.openid_configuration = v;
       return {};
     }},
    {"auth", "audience", "SWITCHBOARD_AUTH_AUDIENCE", "--auth-audience",
     "Accepted token audiences, comma-separated: the application id of "
     "Switchboard's API app registration and its api:// URI",
     [](const config& c) {
       return c.auth.audiences.empty() ? std::string{"none"}
                                       : join_list(c.auth.audiences);
     },
     [](config& c, const std::string& v) {
       c.auth.audiences = split_list(v);
       return std::string{};
     }},
    {"auth", "issuer", "SWITCHBOARD_AUTH_ISSUER", "--auth-issuer",
     "Accepted token issuers, comma-separated; {tenantid} stands for the "
     "token's own tid",
     [](const config& c) {
       return join_list(c.auth.issuers);
     },
     [](config& c, const std::string& v) -> std::string {
       c.auth.issuers = split_list(v);
       if (c.auth.issuers.empty())
         return "expected at least one issuer";
       return {};
     }},
    {"auth", "platform_tenant", "SWITCHBOARD_AUTH_PLATFORM_TENANT",
     "--auth-platform-tenant",
     "The provider's own Microsoft tenant id: only its tokens may carry "
     "the Switchboard.Platform role; none: no token does",
     [](const config& c) {
       return c.auth.platform_tenant.empty() ? std::string{"none"}
                                             : c.auth.platform_tenant;
     },
     [](config& c, const std::string& v) {
       c.auth.platform_tenant = v;
       return std::string{};
     }},
    {"auth", "ca", "SWITCHBOARD_AUTH_CA", "--auth-ca",
     "PEM authorities trusted for the OpenID configuration's HTTPS; none: "
     "the system's",
     [](const config& c) {
       return c.auth.ca_file.empty() ? std::string{"none"} : c.auth.ca_file;
     },
     [](config& c, const std::string& v) {
       c.auth.ca_file = v;
       return std::string{};
     }},
    {"grpc", "max_in_flight", "SWITCHBOARD_GRPC_MAX_IN_FLIGHT",
     "--grpc-max-in-flight",
     "Requests in progress at most; more are refused with "
     "RESOURCE_EXHAUSTED so that an overloaded node sheds load instead of "
     "queueing it",
     [](const config& c) {
       return std::to_string(c.grpc_max_in_flight);
     },
     [](config& c, const std::string& v) {
       return set_limit(c.grpc_max_in_flight, v);
     }},
    {"grpc", "max_in_flight_per_tenant",
     "SWITCHBOARD_GRPC_MAX_IN_FLIGHT_PER_TENANT",
     "--grpc-max-in-flight-per-tenant",
     "Requests of one tenant in progress at most; more of that tenant's "
     "are refused with RESOURCE_EXHAUSTED while other tenants' go on",
     [](const config& c) {
       return std::to_string(c.grpc_max_in_flight_per_tenant);
     },
     [](config& c, const std::string& v) {
       return set_limit(c.grpc_max_in_flight_per_tenant, v);
     }},
    {"cluster", "listen", "SWITCHBOARD_CLUSTER_LISTEN", "--cluster-listen",
     "host:port where peers reach this node (CAF middleman); used only with "
     "peers",
     [](const config& c) {
       return c.cluster.to_string();
     },
     [](config& c, const std::string& v) {
       return set_address(c.cluster, v);
     }},
    {"cluster", "advertise", "SWITCHBOARD_CLUSTER_ADVERTISE",
     "--cluster-advertise",
     "host:port the other members dial for this node when it joins them "
     "(in Kubernetes its pod's DNS name); default: the listen address, or "
     "the node name if that is 0.0.0.0",
     [](const config& c) {
       return c.cluster_advertise.empty() ? std::string{"the listen address"}
                                          : c.cluster_advertise;
     },
     [](config& c, const std::string& v) -> std::string {
       listen_address a;
       if (auto problem = set_address(a, v); !problem.empty())
         return problem;
       if (a.port == 0)
         return "expected a port other than 0 in '" + v + "'";
       c.cluster_advertise = a.to_string();
       return {};
     }},
    {"cluster", "peers", "SWITCHBOARD_CLUSTER_PEERS", "--peers",
     "The other members as name=host:port,... (their cluster listen "
     "addresses); tenants are placed over the names, and a node the others "
     "do not list joins them when it connects",
     [](const config& c) {
       return c.peers.empty() ? std::string{"none: a single node"}
                              : std::to_string(c.peers.size()) + " peers";
     },
     [](config& c, const std::string& v) {
       return parse_peers(v, c.peers);
     }},
    tls_file(
      "cluster", "tls_certificate", "SWITCHBOARD_CLUSTER_TLS_CERTIFICATE",
      "--cluster-tls-certificate",
      "PEM certificate this node presents to its peers (then its "
      "intermediates); with peers, required unless --cluster-allow-insecure",
      &config::cluster_tls, &tls::files::certificate_file),
    tls_file("cluster", "tls_private_key",
             "SWITCHBOARD_CLUSTER_TLS_PRIVATE_KEY", "--cluster-tls-private-key",
             "Unencrypted PEM private key of --cluster-tls-certificate",
             &config::cluster_tls, &tls::files::private_key_file),
    tls_file(
      "cluster", "tls_ca", "SWITCHBOARD_CLUSTER_TLS_CA", "--cluster-tls-ca",
      "PEM authorities every peer's certificate must chain to, both ways",
      &config::cluster_tls, &tls::files::ca_file),
    {"cluster", "allow_insecure", "SWITCHBOARD_CLUSTER_ALLOW_INSECURE",
     "--cluster-allow-insecure",
     "true: run a cluster without certificates, where anyone who reaches "
     "the cluster port can join and read every tenant (a private lab "
     "network only)",
     [](const config& c) {
       return std::string{c.cluster_allow_insecure ? "true" : "false"};
     },
     [](config& c, const std::string& v) {
       return set_bool(c.cluster_allow_insecure, v);
     }},
    {"metrics", "listen", "SWITCHBOARD_METRICS_LISTEN", "--metrics-listen",
     "host:port of the Prometheus /metrics endpoint; port 0 picks one",
     [](const config& c) {
       return c.metrics.to_string();
     },
     [](config& c, const std::string& v) {
       return set_address(c.metrics, v);
     }},
    {"log", "level", "SWITCHBOARD_LOG_LEVEL", "--log-level",
     "debug, info, warn or error",
     [](const config& c) {
       return c.log_level;
     },
     [](config& c, const std::string& v) {
       return switchboard::settings::set_log_level(c.log_level, v);
     }},
  };
  return all;
}

} // namespace

std::string listen_address::to_string() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

bool listen_address::loopback() const {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::optional<listen_address> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt; // IPv6 hosts need brackets
  }
  unsigned port = 0;
  auto digits = text.substr(colon + 1);
  auto [ptr, ec]
    = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || port > 65535)
    return std::nullopt;
  return listen_address{host, static_cast<uint16_t>(port)};
}

config_result
load_config(int argc, const char* const* argv,
            const std::function<const char*(const char*)>& getenv) {
  static const switchboard::settings::program program{
    "switchboard-router",
    "switchboard-router: a Switchboard routing node. Runs with no "
    "arguments as a single node (data in ./data, gRPC on "
    "127.0.0.1:7400, metrics on 127.0.0.1:9464). Settings come "
    "from the embedded defaults, then the YAML file, then "
    "SWITCHBOARD_* environment variables, then these flags.",
    "SWITCHBOARD_CONFIG"};
  auto loaded
    = switchboard::settings::load(program, settings(), argc, argv, getenv);
  config_result result{std::move(loaded.value), std::move(loaded.error),
                       std::move(loaded.help)};
  if (!result.error.empty() || !result.help.empty())
    return result;
  auto& c = result.value;
  if (c.grpc_tls.certificate_file.empty()
      != c.grpc_tls.private_key_file.empty()) {
    result.error = c.grpc_tls.certificate_file.empty()
                     ? "--grpc-tls-private-key: set without "
                       "--grpc-tls-certificate; set both, or neither"
                     : "--grpc-tls-certificate: set without "
                       "--grpc-tls-private-key; set both, or neither";
    return result;
  }
  if (!c.grpc_tls.ca_file.empty() && c.grpc_tls.certificate_file.empty()) {
    result.error = "--grpc-tls-client-ca: client certificates need TLS; set "
                   "--grpc-tls-certificate and --grpc-tls-private-key too";
    return result;
  }
  if (c.grpc_tls.certificate_file.empty() && !c.grpc.loopback()
      && !c.grpc_allow_plaintext) {
    result.error
      = "--grpc-listen: " + c.grpc.to_string()
        + " is not a loopback address, and plain gRPC there would let "
          "anyone on the network read and change every tenant; set "
          "--grpc-tls-certificate and --grpc-tls-private-key, or "
          "--grpc-allow-plaintext true where a service mesh encrypts "
          "between pods";
    return result;
  }
  if (!c.auth.openid_configuration.empty() && c.auth.audiences.empty()) {
    result.error = "--auth-audience: required with "
                   "--auth-openid-configuration (the application id of "
                   "Switchboard's API app registration), so that tokens "
                   "meant for another API are refused";
    return result;
  }
  if (c.auth.openid_configuration.empty() && c.grpc_tls.ca_file.empty()
      && !c.grpc.loopback() && !c.grpc_allow_unauthenticated) {
    result.error
      = "--grpc-listen: " + c.grpc.to_string()
        + " is not a loopback address, and without authentication anyone "
          "who reaches it could read and change every tenant; set "
          "--auth-openid-configuration (Entra ID tokens) or "
          "--grpc-tls-client-ca (client certificates), or "
          "--grpc-allow-unauthenticated true where a mesh authorizes "
          "callers";
    return result;
  }
  for (auto& p : result.value.peers)
    if (p.name == result.value.node_name) {
      result.error = "--peers: lists this node ('" + p.name
                     + "'); list only the other members";
      return result;
    }
  auto cluster_files = int{!c.cluster_tls.certificate_file.empty()}
                       + int{!c.cluster_tls.private_key_file.empty()}
                       + int{!c.cluster_tls.ca_file.empty()};
  if (cluster_files != 0 && cluster_files != 3) {
    result.error = "--cluster-tls-certificate, --cluster-tls-private-key and "
                   "--cluster-tls-ca: set all three (peers authenticate "
                   "each other both ways), or none";
    return result;
  }
  if (!c.peers.empty() && cluster_files == 0 && !c.cluster_allow_insecure) {
    result.error
      = "--peers: a cluster without certificates lets anyone who reaches "
        "the cluster port join it and read every tenant; set "
        "--cluster-tls-certificate, --cluster-tls-private-key and "
        "--cluster-tls-ca, or --cluster-allow-insecure true on a private "
        "lab network";
    return result;
  }
  return result;
}

std::string parse_peers(const std::string& text,
                        std::vector<peer_address>& out) {
  out.clear();
  size_t at = 0;
  while (at < text.size()) {
    auto comma = text.find(',', at);
    auto entry = text.substr(at, comma == std::string::npos ? std::string::npos
                                                            : comma - at);
    at = comma == std::string::npos ? text.size() : comma + 1;
    if (entry.empty())
      continue;
    auto eq = entry.find('=');
    auto colon = entry.rfind(':');
    if (eq == std::string::npos || eq == 0 || colon == std::string::npos
        || colon < eq + 2 || colon + 1 == entry.size())
      return "expected name=host:port such as router-1=192.0.2.2:7400, found '"
             + entry + "'";
    auto port_text = entry.substr(colon + 1);
    if (port_text.find_first_not_of("0123456789") != std::string::npos
        || port_text.size() > 5 || std::stoul(port_text) == 0
        || std::stoul(port_text) > 65535)
      return "expected a port from 1 to 65535 in '" + entry + "', found '"
             + port_text + "'";
    peer_address p{entry.substr(0, eq), entry.substr(eq + 1, colon - eq - 1),
                   static_cast<uint16_t>(std::stoul(port_text))};
    for (auto& q : out)
      if (q.name == p.name)
        return "peer '" + p.name + "' is listed twice";
    out.push_back(std::move(p));
  }
  return {};
}

} // namespace switchboard::router
