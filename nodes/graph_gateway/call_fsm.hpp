#pragma once

// A Graph call's state machine in the gateway, as a table of
// (state, event) -> (actions, next state). It knows nothing of HTTP,
// actors or gRPC: the call's actor turns notifications, Graph's answers
// and the engine's events into these events and carries out the actions,
// so the table is tested without sockets.
//
// The bot answers the incoming call (service-hosted media), stays in it
// as its anchor while it waits, and invites the chosen agent into it; it
// sees the agent join and the caller or agent leave in roster updates.
//
// A transfer from the API is a warm handoff: the call goes back to the
// engine's line while the first agent stays with the caller, and the
// first agent is removed once the next one has joined. A caller waiting
// in line can press the callback digit: the engine keeps their place and
// the bot hangs up. When the engine offers that callback, the bot calls
// the agent (a new Graph call), and once the agent has answered and the
// engine has the accept, invites the customer into it.

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::graph {

enum class call_state : std::uint8_t {
  answering,     // incoming call notification taken; answer sent to Graph
  establishing,  // Graph took the answer; the call is not established yet
  submitting,    // established; SubmitCall sent
  waiting,       // in the engine's queue; the hold prompt plays
  looking_up,    // the engine offered the call; reading the agent's Teams id
  inviting,      // participants/invite sent for the agent
  accepting,     // the agent joined; AcceptOffer sent
  talking,       // caller and agent in the call, the bot anchoring it
  announcing,    // the engine ended the call; its announcement plays
  calling_agent, // a callback: the bot's call to the agent rings
  dialling,      // a callback: the agent answered; the customer is invited
  transferring,  // a blind transfer out: Graph transfers the caller
  leaving,       // a callback: the agent hung up before the accept's answer
  ended,
};

enum class call_event : std::uint8_t {
  incoming,       // the incoming call notification
  answered,       // Graph accepted the answer request (202)
  answer_failed,  // Graph refused it, or no answer in time
  established,    // state established (may come before `answered`)
  submitted,      // SubmitCall applied
  submit_refused, // SubmitCall refused (no queue, no tenant, ...)
  offered,        // CALL_OFFERED for this call
  agent_found,    // the agent's Teams user id is known
  agent_unknown,  // GetAgent failed or the agent has no Teams user id
  invite_failed,  // participants/invite refused, or its operation failed
  agent_joined,   // the roster shows the invited agent
  accepted,       // AcceptOffer applied
  accept_refused, // AcceptOffer refused (the offer closed meanwhile)
  offer_closed,   // OFFER_EXPIRED or OFFER_DECLINED for the open offer
  engine_ended,   // the engine ended the call (limits, disconnect)
  caller_left,    // the call terminated, or the caller left the roster
  agent_left,     // the agent left the roster after joining
  // The engine ended the call with an announcement the gateway can play.
  ended_with_announcement,
  announcement_done, // its playPrompt completed or failed, or took too long
  transferred,       // CALL_TRANSFERRED: the call is back in the engine's line
  callback_digit,    // the waiting caller pressed the callback digit
  // A callback's own events (the call actor turns agent_found, accepted
  // and accept_refused into these for a callback).
  callback_agent_found, // the agent's Teams user id is known: call them
  callback_accepted,    // AcceptOffer applied: invite the customer
  callback_lost,        // AcceptOffer refused: the offer closed meanwhile
  caller_joined,        // the roster shows the caller (the customer) first
  call_placed,          // Graph made the bot's call to the agent (its id)
  transferred_out, // CALL_TRANSFERRED to a number outside (text: the number)
  transfer_failed, // Graph refused the transfer, or it failed
  previous_agent_left, // the agent who transferred hung up before the next
                       // joined
  // The call's agent left the roster of a callback (the actor turns
  // agent_left into it), or while a consult or conference leg is
  // answered.
  callback_agent_left,
  consulting_agent_left,
  consult_refused, // CompleteConsult refused (the leg ended meanwhile)
};

enum class call_action : std::uint8_t {
  answer_call,  // POST .../answer, service-hosted media
  reject_call,  // POST .../reject (before the answer)
  submit_call,  // SubmitCall
  play_hold,    // playPrompt with the queue's hold prompt, if configured
  lookup_agent, // GetAgent for the offered agent's Teams user id
  invite_agent, // POST .../participants/invite for the agent
  remove_agent, // the agent joined too late: remove them from the call
  accept_offer,
  decline_offer,
  cancel_call,   // CancelCall: the caller left while waiting
  complete_call, // CompleteCall: the agent wraps up
  hang_up,       // DELETE the call: the bot leaves and the call ends
  announce,      // playPrompt with the engine's announcement
  // Transfer: the agent in the call becomes the previous agent, who stays
  // until the next agent joins and is then removed; a caller who leaves
  // meanwhile ends the call for the previous agent too.
  hand_off,
  remove_previous_agent,
  end_handoff,
  listen_for_tones, // subscribeToTone: the caller's digits are notified
  request_callback, // RequestCallback to the caller's own number
  place_call,       // a callback: POST /communications/calls to the agent
  invite_customer,  // a callback: participants/invite for the customer
  transfer_out,     // POST .../transfer of the caller to the outside number
  forget_previous_agent, // the previous agent is gone: no handoff to end
  complete_consult,      // CompleteConsult: the consulted agent takes the call
  requeue_callback,      // TransferCall of a callback to the number it came to
};

struct call_step {
  std::vector<call_action> actions;
  call_state next;
  bool handled = false; // false: the event means nothing in this state
};

/// The one place that says what an event does in a state.
call_step transition(call_state state, call_event event);

const char* to_string(call_state x);
const char* to_string(call_event x);
const char* to_string(call_action x);

// A consult leg of a call in talk (the engine's ConsultCall): the
// consulted agent is invited into the same Teams call, the caller and the
// call's agent staying in it. Completing the consult (CompleteConsult, or
// the call's agent hanging up while the consulted agent is in) hands the
// call to the consulted agent and removes the first; joining it
// (JoinConsult) makes a conference, both agents staying. The leg runs
// beside the call's own state, in its own table.
enum class leg_state : std::uint8_t {
  none,       // no consult
  looking_up, // the engine offered the leg; reading the agent's Teams id
  inviting,   // participants/invite sent for the consulted agent
  accepting,  // the consulted agent joined; AcceptOffer for the leg sent
  consulting, // both agents in the call, the leg answered
  conference, // the engine made the leg a conference
};

enum class leg_event : std::uint8_t {
  offered,        // CALL_OFFERED for the leg
  agent_found,    // the consulted agent's Teams user id is known
  agent_unknown,  // they have none, or GetAgent failed
  invite_failed,  // their invite's operation failed
  offer_closed,   // OFFER_EXPIRED or OFFER_DECLINED for the leg's offer
  agent_joined,   // the roster shows the consulted agent
  accepted,       // AcceptOffer for the leg applied
  accept_refused, // refused (the leg's offer closed meanwhile)
  conferenced,    // CALL_CONFERENCED for the leg
  completed,      // the call's CALL_TRANSFERRED to the consulted agent
  agent_left,     // the consulted agent left the roster
  ended,          // the engine ended the leg (cancelled, the call over)
};

enum class leg_action : std::uint8_t {
  lookup_agent,
  invite_agent,
  accept_offer,
  decline_offer,
  remove_agent, // the consulted agent leaves the call
  complete_leg, // CompleteCall for the leg: the consulted agent wraps up
  take_over,    // the consulted agent becomes the call's; the first removed
};

struct leg_step {
  std::vector<leg_action> actions;
  leg_state next;
  bool handled = false;
};

leg_step transition(leg_state state, leg_event event);

const char* to_string(leg_state x);
const char* to_string(leg_event x);
const char* to_string(leg_action x);

} // namespace switchboard::graph
