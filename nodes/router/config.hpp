#pragma once

#include "nodes/tls/tls_files.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::router {

/// A host and port to listen on; port 0 lets the system choose.
struct listen_address {
  std::string host;
  uint16_t port = 0;

  /// "host:port", with IPv6 hosts in brackets.
  std::string to_string() const;

  /// 127.0.0.0/8, ::1 or "localhost": reachable from this machine only.
  bool loopback() const;
};

/// Parses "host:port" or "[v6-host]:port"; nothing if malformed.
std::optional<listen_address> parse_listen_address(const std::string& text);

/// A cluster peer: its member name and where its cluster port is.
struct peer_address {
  std::string name;
  std::string host;
  uint16_t port = 0;
};

/// "router-1=router-1.switchboard:7401,router-2=router-2.switchboard:7401"; an
/// error message naming the bad entry, or empty.
std::string parse_peers(const std::string& text,
                        std::vector<peer_address>& out);

/// Everything a router node is told. Embedded defaults make a single node
/// that runs with no arguments: data in ./data, gRPC on 127.0.0.1:7400,
/// metrics on 127.0.0.1:9464.
struct config {
  std::string node_name = "switchboard-0";
  std::string data_dir = "./data";
  bool sync_writes = false;
  listen_address grpc{"127.0.0.1", 7400};
  /// gRPC over TLS: certificate and key (both or neither); with a CA file,
  /// every client must present a certificate that CA signed.
  tls::files grpc_tls;
  /// Plain gRPC on an address other than loopback, where a service mesh
  /// encrypts between pods. Without it, plain gRPC serves loopback only.
  bool grpc_allow_plaintext = false;
  /// No authentication on an address other than loopback: every caller
  /// may do everything (behind a mesh that authorizes callers itself).
  bool grpc_allow_unauthenticated = false;
  /// Bearer tokens from Microsoft Entra ID on the gRPC API.
  struct auth_settings {
    /// The OpenID configuration whose keys sign the tokens; empty: tokens
    /// are not accepted.
    std::string openid_configuration;
    /// Accepted `aud`: Switchboard's own API app (its application id, or
    /// its `api://` URI), never Graph.
    std::vector<std::string> audiences;
    /// Accepted `iss`, `{tenantid}` standing for the token's `tid`.
    std::vector<std::string> issuers{
      "https://login.microsoftonline.com/{tenantid}/v2.0",
      "https://sts.windows.net/{tenantid}/"};
    /// The provider's Microsoft tenant: only its tokens carry the
    /// platform role.
    std::string platform_tenant;
    /// Authorities trusted for the OpenID configuration's HTTPS; empty:
    /// the system's.
    std::string ca_file;
    std::chrono::seconds clock_skew{300};
  } auth;
  /// gRPC requests in progress at most; beyond, RESOURCE_EXHAUSTED.
  size_t grpc_max_in_flight = 50'000;
  /// Requests of one tenant in progress at most.
  size_t grpc_max_in_flight_per_tenant = 10'000;
  listen_address metrics{"127.0.0.1", 9464};
  /// debug, info, warn or error.
  std::string log_level = "info";
  /// How often each tenant's agents are audited against their work.
  std::chrono::milliseconds audit_interval = std::chrono::seconds{60};
  /// How long finished calls stay in the history; zero: for ever.
  std::chrono::seconds history_retention{std::chrono::hours{24 * 90}};
  /// How long events stay for Subscribe to resume from.
  std::chrono::seconds event_retention{std::chrono::hours{24 * 7}};
  /// Where peers reach this node's actors (CAF's middleman); used only
  /// with peers.
  listen_address cluster{"0.0.0.0", 7401};
  /// How a node that joins tells the others to reach it (host:port); empty:
  /// the listen address, or the node name when that is a wildcard.
  std::string cluster_advertise;
  /// The other members; none: a single node.
  std::vector<peer_address> peers;
  /// The cluster port on TLS: this node's certificate and key, and the
  /// authority every peer's certificate must chain to (all three, or
  /// none).
  tls::files cluster_tls;
  /// A cluster without certificates (no peer is authenticated, nothing
  /// is encrypted), on a network that is private already.
  bool cluster_allow_insecure = false;
};

/// The outcome of reading the configuration: a config, or a message
/// naming what is wrong and where it came from, or help text to print.
struct config_result {
  config value;
  std::string error;
  std::string help;
};

/// Reads the configuration: embedded defaults, then the YAML file (from
/// --config or SWITCHBOARD_CONFIG), then SWITCHBOARD_* environment
/// variables, then flags; each overrides the one before.
config_result load_config(int argc, const char* const* argv,
                          const std::function<const char*(const char*)>& getenv
                          = nullptr);

} // namespace switchboard::router
