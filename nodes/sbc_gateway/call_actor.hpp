#pragma once

// A call in the gateway as a CAF actor: its caller leg, the agent legs it
// places, its ringback timer, and its state machine (call_fsm.hpp). SIP
// and engine happenings reach it as call_input messages; it answers with
// SIP actions (through sip_stack) and engine commands (through
// router_link). Included only by the gateway's wiring.

#include "nodes/router/log.hpp"
#include "nodes/sbc_gateway/call_fsm.hpp"
#include "nodes/sbc_gateway/metrics.hpp"
#include "nodes/sbc_gateway/router_link.hpp"
#include "nodes/sbc_gateway/sip_stack.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <map>
#include <string>

namespace switchboard::sbc {

/// One happening for a call: a SIP event on one of its legs, an engine
/// event, an Ingest answer, a lookup's result, or a timer.
struct call_input {
  call_event event = call_event::invite; // unused for a SIP event
  leg_id leg = 0;       // a SIP event's leg, 0 for other inputs
  uint8_t leg_kind = 0; // a SIP event's leg_event::kind_t
  int status = 0;       // SIP status, or google.rpc.Code
  std::string text;     // phrase, engine message, agent SIP URI
  std::string sdp;
  std::string offer_id;
  std::string agent_id;
  // An in-dialog request or its answer (leg_event::request,
  // request_answered).
  uint64_t request = 0;
  uint8_t method = 0; // a dialog_method
  std::string content_type;
  /// engine_ended: the prompt id the engine's limit action announces.
  std::string announcement;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_input& x) {
  return f(caf::meta::type_name("sbc.call_input"), x.event, x.leg, x.leg_kind,
           x.status, x.text, x.sdp, x.offer_id, x.agent_id, x.request, x.method,
           x.content_type, x.announcement);
}

} // namespace switchboard::sbc

CAF_BEGIN_TYPE_ID_BLOCK(sbc_gateway, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(sbc_gateway, (switchboard::sbc::call_input))
CAF_END_TYPE_ID_BLOCK(sbc_gateway)

namespace switchboard::sbc {

/// A call's actor: takes every happening of its call, in order.
using call_actor = caf::typed_actor<caf::reacts_to<call_input>>;

/// What a new call starts from: the caller's admitted INVITE, or a
/// callback's offer (callback set, no caller leg: the call starts waiting).
struct call_setup {
  std::string tenant_id;
  std::string call_id; // the engine's
  std::string sip_call_id;
  std::string trunk;
  leg_id caller_leg = 0;
  std::string caller_sdp;
  std::string from;
  std::string to;
  std::map<std::string, std::string> attributes;
  std::string source_host;
  uint16_t source_port = 0;
  std::string source_transport = "udp";
  /// A callback: the number the customer is called back at (as
  /// callback_number gives it; empty if the engine's holds none).
  std::string callback;
  bool is_callback = false;
};

/// Where the gateway keeps which actor owns which leg and call.
class call_registry {
 public:
  virtual ~call_registry() = default;
  virtual void bind_leg(leg_id leg, const call_actor& owner) = 0;
  /// The call ended: its legs' later events no longer reach `owner`, nor
  /// do its engine events (unless another actor has the call by now: a
  /// callback's, after the caller's).
  virtual void forget(const call_actor& owner, const std::string& tenant_id,
                      const std::string& call_id,
                      const std::vector<leg_id>& legs)
    = 0;
};

/// Everything a call actor uses; outlives every call actor.
struct call_env {
  sip_stack* sip = nullptr;
  router_link* router = nullptr;
  router::logger* log = nullptr;
  call_registry* registry = nullptr;
  metrics* probe = nullptr; // none: no metrics
  /// "source" (back to the SBC the call came from), "direct" (the agent's
  /// URI itself) or host:port of the SBC.
  std::string agent_route = "source";
  /// "udp", "tcp" or "tls": toward an agent_route of host:port.
  std::string sbc_transport = "tcp";
  std::string retry_after = "30";
  /// This gateway's name: every call it submits carries it as the
  /// attribute owner_attribute, so that after a restart it finds its own.
  std::string name;
  /// A media server a waiting caller is answered and bridged to (SIP
  /// URI); empty: ringback until an agent answers.
  std::string hold_uri;
  /// The SIP URI that plays an announcement, "{prompt}" standing for the
  /// prompt id (prompt_uri); empty: none are played.
  std::string announcement_uri;
  /// An announcement that has not ended by then is hung up.
  std::chrono::milliseconds announcement_limit{std::chrono::seconds{60}};
  /// The SIP URI a callback calls (callback_uri's pattern).
  std::string callback_uri = "sip:{number}@{trunk};user=phone";
  /// A customer a callback rings who has not answered by then is
  /// cancelled.
  std::chrono::milliseconds callback_answer_limit{std::chrono::seconds{60}};
  /// The gateway's SIP and SIP-over-TLS ports (0: none), for the Contact
  /// of INVITEs sent through an SBC.
  uint16_t sip_port = 0;
  uint16_t tls_port = 0;
};

/// A peer's in-dialog request passed on to the other leg, waiting for
/// that leg's answer.
struct relayed_request {
  leg_id from = 0;
  uint64_t request = 0;
  leg_id to = 0;
  dialog_method method = dialog_method::reinvite;
};

struct call_data {
  static constexpr const char* name = "sbc_call";
  call_setup call;
  call_state state = call_state::submitting;
  std::string offer_id;
  std::string agent_id;
  std::string agent_uri;
  leg_id agent_leg = 0;
  std::string agent_sdp;
  std::vector<leg_id> legs;
  /// The caller's leg has had its 200: later agents reach it by re-INVITE.
  bool caller_answered = false;
  std::vector<relayed_request> relayed;
  // A transfer the agent asked for with REFER.
  refer_target refer;
  leg_id refer_leg = 0;
  unsigned transfers = 0;
  leg_id outside_leg = 0;
  std::string outside_sdp;
  /// The leg to the hold media server while the caller waits, and its
  /// answer.
  leg_id media_leg = 0;
  bool media_up = false;
  std::string media_sdp;
  /// The leg that plays the engine's announcement, and its answer.
  leg_id announcement_leg = 0;
  bool announcement_up = false;
  std::string announcement_sdp;
  std::string announcement;
  /// When the agent's leg started ringing.
  std::chrono::steady_clock::time_point ring_started;
};

call_actor::behavior_type
call_behavior(call_actor::stateful_pointer<call_data> self, call_setup setup,
              const call_env* env);

} // namespace switchboard::sbc
