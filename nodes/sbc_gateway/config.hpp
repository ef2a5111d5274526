#pragma once

#include "nodes/gateway/router_token.hpp"
#include "nodes/router/config.hpp"
#include "nodes/tls/grpc_credentials.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::sbc {

/// SIP over TLS. Off unless a certificate is configured.
struct tls_config {
  /// PEM: the gateway's certificate, then any intermediate certificates.
  std::string certificate_file;
  /// PEM, unencrypted. Its path and contents are never logged.
  std::string private_key_file;
  /// host:port; when unset and a certificate is configured, the SIP host
  /// on port 5061.
  std::optional<router::listen_address> listen;
  /// "none", or "peer": an SBC connecting must present a certificate that
  /// ca_file signed, and an SBC the gateway connects to must too.
  std::string verify = "none";
  std::string ca_file;

  bool enabled() const { return !certificate_file.empty(); }
};

/// Everything a gateway is told. The embedded defaults run against a
/// router on its defaults: SIP on 127.0.0.1:5070 (UDP and TCP), the router
/// at 127.0.0.1:7400, no metrics endpoint, no TLS.
struct config {
  std::string name = "sbc-gateway-0";
  router::listen_address sip{"127.0.0.1", 5070};
  std::string router = "127.0.0.1:7400";
  /// How the router is reached: plain, or TLS with these files.
  tls::client_options router_tls;
  gateway::router_token_options router_token;
  std::optional<router::listen_address> metrics;
  /// The trunks file (trunks.hpp): trunk FQDN, tenant, numbers.
  std::string trunks_file;
  /// SBC addresses INVITEs may come from; empty: any.
  std::vector<std::string> allowed_sources;
  /// Where agents' INVITEs go: "source" (the SBC the caller's INVITE came
  /// from), "direct" (the agent's SIP URI as it is), or host:port.
  std::string agent_route = "source";
  /// How agents' INVITEs and OPTIONS pings reach an SBC named by
  /// host:port (agent_route, ping): "udp", "tcp" or "tls"; empty: tls when
  /// TLS is on, else tcp (an SDP offer may not fit a UDP datagram).
  std::string sbc_transport;
  tls_config tls;
  /// Headers whose values become call attributes (X-*, User-to-User, ...).
  std::vector<std::string> attribute_headers;
  /// How often the caller's ringback (180) is sent again while waiting.
  std::chrono::milliseconds ring_refresh{std::chrono::seconds{60}};
  /// A media server a waiting caller is answered and bridged to (any SIP
  /// endpoint that answers with media); empty: ringback.
  std::string hold_uri;
  /// The SIP URI that plays an engine announcement, "{prompt}" standing
  /// for the prompt id; empty: announcements are not played.
  std::string announcement_uri;
  /// The SIP URI a callback calls: {number}, {trunk} filled in.
  std::string callback_uri = "sip:{number}@{trunk};user=phone";
  /// Session timer (RFC 4028) asked for on every dialog, seconds; 0: none.
  unsigned session_expires = 1800;
  /// SBCs (host:port) the gateway sends OPTIONS to, and how often.
  std::vector<std::string> ping;
  std::chrono::milliseconds ping_interval{std::chrono::seconds{30}};
  /// Seconds in Retry-After when the router is unreachable.
  unsigned retry_after = 30;
  std::string log_level = "info";

  /// sbc_transport, or its default.
  std::string transport_to_sbc() const {
    if (!sbc_transport.empty())
      return sbc_transport;
    return tls.enabled() ? "tls" : "tcp";
  }
};

struct config_result {
  config value;
  std::string error;
  std::string help;
};

/// Embedded defaults, then the YAML file (--config or SWITCHBOARD_SBC_CONFIG),
/// then SWITCHBOARD_SBC_* environment variables, then flags.
config_result load_config(int argc, const char* const* argv,
                          const std::function<const char*(const char*)>& getenv
                          = nullptr);

} // namespace switchboard::sbc
