#pragma once

// The gateway's wiring: admits new INVITEs (trunk, number, SDP, router
// reachable), spawns an actor per admitted call, and routes every SIP leg
// event and engine event to the actor of the call it is about. Calls the
// gateway does not own (another replica's) are never touched.

#include "nodes/router/log.hpp"
#include "nodes/sbc_gateway/metrics.hpp"
#include "nodes/sbc_gateway/router_link.hpp"
#include "nodes/sbc_gateway/sip_stack.hpp"
#include "nodes/sbc_gateway/trunks.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::sbc {

struct gateway_options {
  /// This gateway's name (unique among replicas): the owner of its calls.
  std::string name = "sbc-gateway-0";
  std::vector<std::string> allowed_sources;
  /// SIP headers whose values become call attributes, by name.
  std::vector<std::string> attribute_headers;
  std::string agent_route = "source";
  std::string retry_after = "30";
  /// SBCs ("host:port") to send OPTIONS to every ping_interval; each is
  /// marked up (2xx) or down (anything else, or no answer) in the log and
  /// the metrics.
  std::vector<std::string> ping;
  std::chrono::milliseconds ping_interval{std::chrono::seconds{30}};
  /// How an SBC named by host:port (agent_route, ping) is reached: "udp",
  /// "tcp" or "tls".
  std::string sbc_transport = "tcp";
  /// The hold media server and the announcement URI (see call_env).
  std::string hold_uri;
  std::string announcement_uri;
  /// The SIP URI a callback calls, "{number}" and "{trunk}" filled in.
  std::string callback_uri = "sip:{number}@{trunk};user=phone";
  /// Where the gateway listens for SIP and SIP over TLS (0: not at all).
  uint16_t sip_port = 0;
  uint16_t tls_port = 0;
};

class gateway final : public sip_listener {
 public:
  /// `probe` may be nullptr (no metrics); it outlives the gateway.
  gateway(gateway_options options, trunk_table trunks, router_link& router,
          router::logger& log, metrics* probe);
  ~gateway() override;

  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// The SIP stack to act through; set once, before any SIP traffic.
  /// Starts the OPTIONS pings.
  void attach(sip_stack& sip);

  /// Stops the OPTIONS pings; before the SIP stack stops.
  void stop_pings();

  void on_invite(const incoming_invite& x) override;
  void on_leg_event(const leg_event& x) override;
  void on_ping(const std::string& target, int status) override;
  void on_engine_event(const engine_event& x);

  /// Calls with a live actor.
  size_t live_calls() const;

  /// True while the call has a live actor (a SIP dialog in progress).
  bool has_call(const std::string& tenant_id, const std::string& call_id) const;

  /// Once the router is reachable, ends the engine's calls of `tenants`
  /// that this gateway (by options.name) submitted and has no dialog for:
  /// after a crash or kill -9, nobody would ever end them. On a thread of
  /// its own; stop_pings() joins it.
  void reconcile(std::vector<std::string> tenants);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::sbc
