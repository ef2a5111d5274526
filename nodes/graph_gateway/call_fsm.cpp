#include "nodes/graph_gateway/call_fsm.hpp"

#include <initializer_list>

namespace switchboard::graph {

namespace {

using s = call_state;
using e = call_event;
using a = call_action;

struct row {
  call_state state;
  call_event event;
  std::initializer_list<call_action> actions;
  call_state next;
};

// Events not listed for a state change nothing. Graph may send
// `established` before the answer request's own 202 is seen; the engine's
// offer may come before SubmitCall's answer (events and answers come on
// different streams). When the caller leaves while an accept is in
// flight, both CancelCall and CompleteCall go: the engine applies the one
// that fits the call's state then.
// clang-format off
const row table[] = {
  // state            event                actions                          next
  {s::answering,    e::incoming,       {a::answer_call},                 s::answering},
  {s::answering,    e::answered,       {},                               s::establishing},
  {s::answering,    e::established,    {a::submit_call},                 s::submitting},
  {s::answering,    e::answer_failed,  {a::reject_call},                 s::ended},
  {s::answering,    e::caller_left,    {},                               s::ended},

  {s::establishing, e::established,    {a::submit_call},                 s::submitting},
  {s::establishing, e::answer_failed,  {a::hang_up},                     s::ended},
  {s::establishing, e::caller_left,    {},                               s::ended},

  {s::submitting,   e::answered,       {},                               s::submitting},
  {s::submitting,   e::submitted,      {a::play_hold, a::listen_for_tones}, s::waiting},
  {s::submitting,   e::submit_refused, {a::hang_up},                     s::ended},
  {s::submitting,   e::offered,        {a::lookup_agent},                s::looking_up},
  {s::submitting,   e::engine_ended,   {a::hang_up},                     s::ended},
  {s::submitting,   e::ended_with_announcement, {a::announce},           s::announcing},
  {s::submitting,   e::caller_left,    {a::cancel_call},                 s::ended},

  {s::waiting,      e::offered,        {a::lookup_agent},                s::looking_up},
  {s::waiting,      e::agent_joined,   {a::remove_agent},                s::waiting},
  {s::waiting,      e::engine_ended,   {a::hang_up},                     s::ended},
  {s::waiting,      e::ended_with_announcement, {a::announce},           s::announcing},
  {s::waiting,      e::caller_left,    {a::cancel_call, a::end_handoff}, s::ended},
  {s::waiting,      e::transferred,    {},                               s::waiting},
  // The engine's answer to RequestCallback is its CALL_CALLBACK_REQUESTED
  // (engine_ended): the bot hangs up then.
  {s::waiting,      e::callback_digit, {a::request_callback},            s::waiting},
  {s::waiting,      e::previous_agent_left, {a::forget_previous_agent},  s::waiting},

  {s::looking_up,   e::submitted,      {},                               s::looking_up},
  {s::looking_up,   e::agent_found,    {a::invite_agent},                s::inviting},
  {s::looking_up,   e::agent_unknown,  {a::decline_offer},               s::waiting},
  {s::looking_up,   e::offer_closed,   {},                               s::waiting},
  {s::looking_up,   e::engine_ended,   {a::hang_up},                     s::ended},
  {s::looking_up,   e::ended_with_announcement, {a::announce},           s::announcing},
  {s::looking_up,   e::caller_left,    {a::cancel_call, a::end_handoff}, s::ended},
  {s::looking_up,   e::transferred,    {},                               s::waiting},
  {s::looking_up,   e::callback_agent_found, {a::place_call},            s::calling_agent},
  {s::looking_up,   e::previous_agent_left, {a::forget_previous_agent},  s::looking_up},

  {s::inviting,     e::submitted,      {},                               s::inviting},
  {s::inviting,     e::agent_joined,   {a::accept_offer},                s::accepting},
  {s::inviting,     e::invite_failed,  {a::decline_offer},               s::waiting},
  {s::inviting,     e::offer_closed,   {},                               s::waiting},
  {s::inviting,     e::engine_ended,   {a::hang_up},                     s::ended},
  {s::inviting,     e::ended_with_announcement, {a::announce},           s::announcing},
  {s::inviting,     e::caller_left,    {a::cancel_call, a::end_handoff}, s::ended},
  // An invite still out when the call moves on: should the agent join
  // after all, they are removed (waiting, agent_joined).
  {s::inviting,     e::transferred,    {},                               s::waiting},
  {s::inviting,     e::previous_agent_left, {a::forget_previous_agent},  s::inviting},

  {s::accepting,    e::accepted,       {a::remove_previous_agent},       s::talking},
  {s::accepting,    e::accept_refused, {a::remove_agent},                s::waiting},
  {s::accepting,    e::engine_ended,   {a::hang_up},                     s::ended},
  {s::accepting,    e::ended_with_announcement, {a::hang_up},            s::ended},
  {s::accepting,    e::caller_left,    {a::cancel_call, a::complete_call}, s::ended},
  {s::accepting,    e::agent_left,     {a::cancel_call, a::complete_call, a::hang_up}, s::ended},
  {s::accepting,    e::transferred,    {a::remove_agent},                s::waiting},
  {s::accepting,    e::callback_accepted, {a::invite_customer},          s::dialling},
  {s::accepting,    e::callback_lost,  {a::hang_up},                     s::ended},
  {s::accepting,    e::previous_agent_left, {a::forget_previous_agent},  s::accepting},
  // A callback's agent who hangs up before the engine has the accept:
  // the bot leaves and waits for the accept's answer (leaving).
  {s::accepting,    e::callback_agent_left, {a::hang_up},                s::leaving},

  {s::talking,      e::caller_left,    {a::complete_call, a::hang_up},   s::ended},
  {s::talking,      e::agent_left,     {a::complete_call, a::hang_up},   s::ended},
  {s::talking,      e::engine_ended,   {a::hang_up},                     s::ended},
  {s::talking,      e::ended_with_announcement, {a::hang_up},            s::ended},
  {s::talking,      e::transferred,    {a::hand_off},                    s::waiting},
  {s::talking,      e::transferred_out, {a::transfer_out},               s::transferring},
  // The call's agent hangs up with the consulted agent (or the
  // conference's) in the call: that agent takes it. Should the engine
  // refuse (the leg ended meanwhile), the call ends as for any agent.
  {s::talking,      e::consulting_agent_left, {a::complete_consult},     s::talking},
  {s::talking,      e::consult_refused, {a::complete_call, a::hang_up},  s::ended},

  // A blind transfer out. The caller leaving is its success: the agent
  // wraps up and the bot leaves. A failure leaves caller and agent
  // talking; an agent who hangs up after asking does not stop it.
  {s::transferring, e::caller_left,    {a::complete_call, a::hang_up},   s::ended},
  {s::transferring, e::transfer_failed, {},                              s::talking},
  {s::transferring, e::agent_left,     {},                               s::transferring},
  {s::transferring, e::engine_ended,   {a::hang_up},                     s::ended},

  // The engine has ended the call: the caller hears why, then the bot
  // hangs up. An agent whose invite was still out is removed.
  {s::announcing,   e::announcement_done, {a::hang_up},                  s::ended},
  {s::announcing,   e::caller_left,    {},                               s::ended},
  {s::announcing,   e::agent_joined,   {a::remove_agent},                s::announcing},

  // A callback. The bot's call to the agent rings: answered, it is
  // accepted; refused, unanswered or failed, the offer is declined and
  // the engine offers the callback again (to a new actor).
  {s::calling_agent, e::call_placed,   {},                               s::calling_agent},
  {s::calling_agent, e::transferred,   {a::hang_up},                     s::ended},
  {s::calling_agent, e::established,   {a::accept_offer},                s::accepting},
  {s::calling_agent, e::caller_left,   {a::decline_offer},               s::ended},
  {s::calling_agent, e::invite_failed, {a::decline_offer},               s::ended},
  {s::calling_agent, e::offer_closed,  {a::hang_up},                     s::ended},
  {s::calling_agent, e::engine_ended,  {a::hang_up},                     s::ended},
  {s::calling_agent, e::ended_with_announcement, {a::hang_up},           s::ended},
  // The customer is invited: joining, they talk with the agent; not
  // reached, the agent wraps up.
  {s::dialling,     e::caller_joined,  {},                               s::talking},
  {s::dialling,     e::invite_failed,  {a::complete_call, a::hang_up},   s::ended},
  {s::dialling,     e::callback_agent_left, {a::complete_call, a::hang_up}, s::ended},
  {s::dialling,     e::caller_left,    {a::complete_call},               s::ended},
  {s::dialling,     e::engine_ended,   {a::hang_up},                     s::ended},
  {s::dialling,     e::ended_with_announcement, {a::hang_up},            s::ended},
  // The agent hung up before the engine answered the accept. Accepted,
  // the callback goes back in line (to the number the caller had
  // called) for the next agent; refused, the engine offers it again.
  {s::leaving,      e::callback_accepted, {a::requeue_callback},         s::ended},
  {s::leaving,      e::callback_lost,  {},                               s::ended},
  {s::leaving,      e::offer_closed,   {},                               s::ended},
  {s::leaving,      e::engine_ended,   {},                               s::ended},
  {s::leaving,      e::ended_with_announcement, {},                      s::ended},
};
// clang-format on

} // namespace

namespace {

using ls = leg_state;
using le = leg_event;
using la = leg_action;

struct leg_row {
  leg_state state;
  leg_event event;
  std::initializer_list<leg_action> actions;
  leg_state next;
};

// An offer closed before the consulted agent joined leaves the leg to the
// engine, which offers it again (offered) or ends it (ended).
// clang-format off
const leg_row leg_table[] = {
  {ls::none,       le::offered,        {la::lookup_agent},               ls::looking_up},
  {ls::looking_up, le::agent_found,    {la::invite_agent},               ls::inviting},
  {ls::looking_up, le::agent_unknown,  {la::decline_offer},              ls::none},
  {ls::looking_up, le::offer_closed,   {},                               ls::none},
  {ls::looking_up, le::ended,          {},                               ls::none},
  {ls::inviting,   le::agent_joined,   {la::accept_offer},               ls::accepting},
  {ls::inviting,   le::invite_failed,  {la::decline_offer},              ls::none},
  {ls::inviting,   le::offer_closed,   {},                               ls::none},
  {ls::inviting,   le::ended,          {},                               ls::none},
  {ls::accepting,  le::accepted,       {},                               ls::consulting},
  {ls::accepting,  le::accept_refused, {la::remove_agent},               ls::none},
  {ls::accepting,  le::agent_left,     {la::complete_leg},               ls::none},
  {ls::accepting,  le::ended,          {la::remove_agent},               ls::none},
  // CompleteConsult or JoinConsult may come before the accept's answer.
  {ls::accepting,  le::conferenced,    {},                               ls::conference},
  {ls::accepting,  le::completed,      {la::take_over},                  ls::none},
  {ls::consulting, le::conferenced,    {},                               ls::conference},
  {ls::consulting, le::completed,      {la::take_over},                  ls::none},
  {ls::consulting, le::agent_left,     {la::complete_leg},               ls::none},
  {ls::consulting, le::ended,          {la::remove_agent},               ls::none},
  {ls::conference, le::agent_left,     {la::complete_leg},               ls::none},
  {ls::conference, le::completed,      {la::take_over},                  ls::none},
  {ls::conference, le::ended,          {la::remove_agent},               ls::none},
};
// clang-format on

} // namespace

leg_step transition(leg_state state, leg_event event) {
  for (const auto& r : leg_table)
    if (r.state == state && r.event == event)
      return {std::vector<leg_action>(r.actions), r.next, true};
  return {{}, state, false};
}

const char* to_string(leg_state x) {
  switch (x) {
    case ls::none: return "none";
    case ls::looking_up: return "looking_up";
    case ls::inviting: return "inviting";
    case ls::accepting: return "accepting";
    case ls::consulting: return "consulting";
    case ls::conference: return "conference";
  }
  return "unknown";
}

const char* to_string(leg_event x) {
  switch (x) {
    case le::offered: return "offered";
    case le::agent_found: return "agent_found";
    case le::agent_unknown: return "agent_unknown";
    case le::invite_failed: return "invite_failed";
    case le::offer_closed: return "offer_closed";
    case le::agent_joined: return "agent_joined";
    case le::accepted: return "accepted";
    case le::accept_refused: return "accept_refused";
    case le::conferenced: return "conferenced";
    case le::completed: return "completed";
    case le::agent_left: return "agent_left";
    case le::ended: return "ended";
  }
  return "unknown";
}

const char* to_string(leg_action x) {
  switch (x) {
    case la::lookup_agent: return "lookup_agent";
    case la::invite_agent: return "invite_agent";
    case la::accept_offer: return "accept_offer";
    case la::decline_offer: return "decline_offer";
    case la::remove_agent: return "remove_agent";
    case la::complete_leg: return "complete_leg";
    case la::take_over: return "take_over";
  }
  return "unknown";
}

call_step transition(call_state state, call_event event) {
  for (const auto& r : table)
    if (r.state == state && r.event == event)
      return {std::vector<call_action>(r.actions), r.next, true};
  return {{}, state, false};
}

const char* to_string(call_state x) {
  switch (x) {
    case s::answering: return "answering";
    case s::establishing: return "establishing";
    case s::submitting: return "submitting";
    case s::waiting: return "waiting";
    case s::looking_up: return "looking_up";
    case s::inviting: return "inviting";
    case s::accepting: return "accepting";
    case s::talking: return "talking";
    case s::announcing: return "announcing";
    case s::calling_agent: return "calling_agent";
    case s::dialling: return "dialling";
    case s::transferring: return "transferring";
    case s::leaving: return "leaving";
    case s::ended: return "ended";
  }
  return "unknown";
}

const char* to_string(call_event x) {
  switch (x) {
    case e::incoming: return "incoming";
    case e::answered: return "answered";
    case e::answer_failed: return "answer_failed";
    case e::established: return "established";
    case e::submitted: return "submitted";
    case e::submit_refused: return "submit_refused";
    case e::offered: return "offered";
    case e::agent_found: return "agent_found";
    case e::agent_unknown: return "agent_unknown";
    case e::invite_failed: return "invite_failed";
    case e::agent_joined: return "agent_joined";
    case e::accepted: return "accepted";
    case e::accept_refused: return "accept_refused";
    case e::offer_closed: return "offer_closed";
    case e::engine_ended: return "engine_ended";
    case e::caller_left: return "caller_left";
    case e::agent_left: return "agent_left";
    case e::ended_with_announcement: return "ended_with_announcement";
    case e::announcement_done: return "announcement_done";
    case e::transferred: return "transferred";
    case e::callback_digit: return "callback_digit";
    case e::callback_agent_found: return "callback_agent_found";
    case e::callback_accepted: return "callback_accepted";
    case e::callback_lost: return "callback_lost";
    case e::caller_joined: return "caller_joined";
    case e::call_placed: return "call_placed";
    case e::previous_agent_left: return "previous_agent_left";
    case e::transferred_out: return "transferred_out";
    case e::transfer_failed: return "transfer_failed";
    case e::callback_agent_left: return "callback_agent_left";
    case e::consulting_agent_left: return "consulting_agent_left";
    case e::consult_refused: return "consult_refused";
  }
  return "unknown";
}

const char* to_string(call_action x) {
  switch (x) {
    case a::answer_call: return "answer_call";
    case a::reject_call: return "reject_call";
    case a::submit_call: return "submit_call";
    case a::play_hold: return "play_hold";
    case a::lookup_agent: return "lookup_agent";
    case a::invite_agent: return "invite_agent";
    case a::remove_agent: return "remove_agent";
    case a::accept_offer: return "accept_offer";
    case a::decline_offer: return "decline_offer";
    case a::cancel_call: return "cancel_call";
    case a::complete_call: return "complete_call";
    case a::hang_up: return "hang_up";
    case a::announce: return "announce";
    case a::hand_off: return "hand_off";
    case a::remove_previous_agent: return "remove_previous_agent";
    case a::end_handoff: return "end_handoff";
    case a::listen_for_tones: return "listen_for_tones";
    case a::request_callback: return "request_callback";
    case a::place_call: return "place_call";
    case a::invite_customer: return "invite_customer";
    case a::transfer_out: return "transfer_out";
    case a::forget_previous_agent: return "forget_previous_agent";
    case a::complete_consult: return "complete_consult";
    case a::requeue_callback: return "requeue_callback";
  }
  return "unknown";
}

} // namespace switchboard::graph
