#pragma once

// A Graph call in the gateway as a CAF actor: its state machine
// (call_fsm.hpp), its outstanding Graph requests and engine commands.
// Notifications, Graph's answers and engine events reach it as call_input
// messages; it answers with Graph requests (graph_api) and engine
// commands (router_link). Included only by the gateway's wiring.

#include "nodes/gateway/router_link.hpp"
#include "nodes/graph_gateway/call_fsm.hpp"
#include "nodes/graph_gateway/graph_api.hpp"
#include "nodes/router/log.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::graph {

/// One happening for a call. `roster` is set for a roster update: the ids
/// (user object ids, phone numbers) and participant ids of who is in the
/// call now, in pairs.
struct call_input {
  call_event event = call_event::incoming;
  bool is_roster = false;
  int status = 0;   // HTTP status, or google.rpc.Code
  std::string text; // Graph's or the engine's message; the announcement
  std::string offer_id;
  std::string agent_id;
  std::string teams_user_id;
  std::vector<std::string> roster;
  /// For the call's consult leg (`leg_id`): `leg` is the event.
  bool for_leg = false;
  leg_event leg = leg_event::offered;
  std::string leg_id;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_input& x) {
  return f(caf::meta::type_name("graph.call_input"), x.event, x.is_roster,
           x.status, x.text, x.offer_id, x.agent_id, x.teams_user_id, x.roster,
           x.for_leg, x.leg, x.leg_id);
}

} // namespace switchboard::graph

CAF_BEGIN_TYPE_ID_BLOCK(graph_gateway, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(graph_gateway, (switchboard::graph::call_input))
CAF_END_TYPE_ID_BLOCK(graph_gateway)

namespace switchboard::graph {

using call_actor = caf::typed_actor<caf::reacts_to<call_input>>;

/// Attributes the gateway sets on every call it submits: its own name and
/// the call's Microsoft tenant.
inline constexpr const char* owner_attribute = "graph_gateway";
inline constexpr const char* microsoft_tenant_attribute = "microsoft_tenant";
/// The application instance a caller called, when they called one (a
/// callback to a telephone number is placed from it).
inline constexpr const char* app_instance_attribute = "app_instance";

/// What a new call starts from: Graph's incoming call notification.
struct call_setup {
  std::string tenant_id;           ///< Switchboard's
  std::string microsoft_tenant_id; ///< the call's, for Graph requests
  std::string call_id;             ///< Graph's call id, also the engine's
  std::string from;                ///< the caller: a number or a user id
  std::string to;                  ///< the number or app instance called
  std::string caller_id;           ///< the caller's id in rosters
  /// A call rejoined after a restart starts waiting or talking, not new;
  /// talking, with the agent that is in it.
  call_state resume = call_state::answering;
  std::string agent_id;
  std::string teams_user_id;
  std::string agent_participant;
  /// A callback the engine offers: no caller on the line; the bot calls
  /// the agent, then `callback_number` (a telephone number, or a Teams
  /// user id) from application instance `app_instance` (if any).
  bool is_callback = false;
  std::string callback_number;
  std::string app_instance;
};

struct call_data;

/// Where the gateway keeps which actor owns which call.
class call_registry {
 public:
  virtual ~call_registry() = default;
  /// The call `st` ended: its engine events and notifications no longer
  /// reach `owner`. A call placed for it that it never heard of is hung
  /// up.
  virtual void forget(const call_actor& owner, const call_data& st) = 0;
  /// The bot is about to place a call: notifications for calls nobody
  /// has are kept until Graph's answer says its id.
  virtual void placing() = 0;
  /// The call `owner` (the actor of engine call `call_id`) placed has
  /// Graph id `graph_call_id`: its notifications (those already come,
  /// too) reach `owner`. False when `owner` no longer has the engine's
  /// call: the placed call is the caller's to hang up.
  virtual bool placed(const call_actor& owner, const std::string& call_id,
                      const std::string& graph_call_id)
    = 0;
  /// Graph did not place the call.
  virtual void not_placed() = 0;
  /// The customer of callback `call_id` joined `owner`'s call: the
  /// engine's later offers of the call (after a transfer) are `owner`'s,
  /// as an incoming call's are.
  virtual void customer_joined(const call_actor& owner,
                               const std::string& call_id)
    = 0;
};

/// Everything a call actor uses; outlives every call actor.
struct call_env {
  graph_api* graph = nullptr;
  gateway::router_link* router = nullptr;
  router::logger* log = nullptr;
  call_registry* registry = nullptr;
  std::string name;
  /// The URL Graph posts this call's notifications to.
  std::string callback_url;
  /// A prompt played to a waiting caller (an audio file's URL); empty:
  /// none.
  std::string hold_prompt;
  /// The URL of the engine's announcements, "{prompt}" standing for the
  /// prompt id; empty: none are played.
  std::string announcement_url;
  /// An announcement not over by then is cut short.
  std::chrono::milliseconds announcement_limit{std::chrono::seconds{60}};
  /// The tone (Graph's name: tone1, star, pound, ...) a waiting caller
  /// presses to be called back; empty: callers cannot ask.
  std::string callback_tone;
  /// Graph's answers may come after the bot is gone (the HTTP client
  /// answers what is in flight when it stops): they are dropped then.
  std::shared_ptr<http::lifeline> life = std::make_shared<http::lifeline>();
};

/// The call's consult or conference leg, while it has one.
struct leg_data {
  leg_state state = leg_state::none;
  std::string call_id; ///< the engine's id of the leg
  std::string offer_id;
  std::string agent_id;
  std::string teams_user_id;
  std::string participant;
};

struct call_data {
  static constexpr const char* name = "graph_call";
  call_setup call;
  call_state state = call_state::answering;
  std::string offer_id;
  std::string agent_id;
  std::string teams_user_id;
  /// The agent's participant id once in the roster (to remove them).
  std::string agent_participant;
  /// After a transfer, the agent who stays with the caller until the next
  /// agent joins: their Teams user id and participant id.
  std::string previous_user;
  std::string previous_participant;
  /// The caller was in a roster (a callback's customer joins later), and
  /// their participant id there.
  bool caller_seen = false;
  std::string caller_participant;
  /// Graph's id of the call: the engine's call id, but for a callback's
  /// call, which the bot places.
  std::string graph_call_id;
  leg_data leg;
  /// Agents invited for an offer that closed before they joined (Teams
  /// rings on): removed should they join after all.
  std::vector<std::string> late_invitees;
  /// RequestCallbacks sent (each press of the callback digit is one).
  unsigned callback_requests = 0;
};

call_actor::behavior_type
call_behavior(call_actor::stateful_pointer<call_data> self, call_setup setup,
              const call_env* env);

} // namespace switchboard::graph
