#pragma once

// The gateway's Prometheus metrics: final responses to callers' INVITEs
// by code and trunk, calls refused and why, dialogs by state, and whether
// the router is reachable. A probe beside the call logic, not inside it.

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace switchboard::sbc {

class metrics {
 public:
  metrics();
  ~metrics();

  std::shared_ptr<prometheus::Registry> registry() const;

  /// A final response to a caller's INVITE.
  void invite_final(int status, std::string_view trunk);

  /// A new INVITE refused before the engine; `why` is a short word.
  void refused(std::string_view why);

  /// A call moved from one state to another ("" for none).
  void dialog_state(std::string_view from, std::string_view to);

  void router_up(bool up);

  /// An agent's leg stopped ringing after `seconds`: `outcome` is the call
  /// event that stopped it (agent_answered, agent_declined, offer_closed,
  /// caller_cancel, ...).
  void offer_rang(double seconds, std::string_view outcome);

  /// An SBC answered (or did not answer) the gateway's OPTIONS ping.
  void sbc_up(std::string_view sbc, bool up);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::sbc
