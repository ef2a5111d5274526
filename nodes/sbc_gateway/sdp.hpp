#pragma once

// What the gateway does to SDP bodies it passes from one leg to another.
// A B2BUA that bridges a caller to one agent after another sends the
// caller SDP from different origins; RFC 3264 (section 8) wants one origin
// per session whose version grows with each change. sdp_origin keeps the
// first origin a leg was sent and restamps every later body with it.

#include <cstdint>
#include <string>

namespace switchboard::sbc {

class sdp_origin {
 public:
  /// `sdp` as this leg must see it: unchanged the first time (its origin
  /// becomes the leg's), the body of last time for a body unchanged since,
  /// else with the leg's origin and the next version. A body without an
  /// "o=" line passes unchanged.
  std::string stamp(const std::string& sdp);

 private:
  bool known_ = false;
  std::string user_;    // username sess-id
  std::string address_; // nettype addrtype unicast-address
  uint64_t version_ = 0;
  std::string last_in_;
  std::string last_out_;
};

/// The offer an agent is rung with for a callback, before the customer's
/// media is known (Teams refuses an INVITE without SDP): RFC 3725's
/// "black hole" (connection address 0.0.0.0, so no media flows yet),
/// offering G.711 and telephone-event. The agent's answer becomes the
/// customer's offer; the customer's answer then reaches the agent in a
/// re-INVITE. `session` is the origin's session id.
std::string callback_offer(uint64_t session);

} // namespace switchboard::sbc
