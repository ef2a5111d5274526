#include "nodes/sbc_gateway/call_fsm.hpp"

#include <cstdio>
#include <initializer_list>

namespace switchboard::sbc {

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

// Events not listed for a state change nothing. Ringback is refreshed in
// every state before the answer; an offer can arrive before SubmitCall's
// answer (events and answers come on different streams).
// clang-format off
const row table[] = {
  // state          event               actions                     next
  {s::submitting, e::invite, {a::submit_call}, s::submitting},
  {s::submitting, e::submitted, {a::send_ringing, a::arm_ring_timer}, s::waiting},
  {s::submitting, e::submit_refused, {a::refuse_caller}, s::ended},
  {s::submitting, e::offered, {a::lookup_agent}, s::looking_up},
  {s::submitting, e::engine_ended, {a::end_caller}, s::ended},
  {s::submitting, e::caller_cancel, {a::cancel_call}, s::ended},

  {s::waiting, e::offered, {a::lookup_agent}, s::looking_up},
  {s::waiting, e::engine_ended, {a::end_caller}, s::ended},
  {s::waiting, e::caller_cancel, {a::cancel_call}, s::ended},
  {s::waiting, e::ring_timer, {a::send_ringing, a::arm_ring_timer}, s::waiting},

  {s::looking_up, e::submitted, {a::send_ringing, a::arm_ring_timer}, s::looking_up},
  {s::looking_up, e::agent_found, {a::invite_agent}, s::ringing},
  {s::looking_up, e::agent_unknown, {a::decline_offer}, s::waiting},
  {s::looking_up, e::offer_closed, {}, s::waiting},
  {s::looking_up, e::engine_ended, {a::end_caller}, s::ended},
  {s::looking_up, e::caller_cancel, {a::cancel_call}, s::ended},
  {s::looking_up, e::ring_timer, {a::send_ringing, a::arm_ring_timer}, s::looking_up},

  {s::ringing, e::submitted, {a::send_ringing, a::arm_ring_timer}, s::ringing},
  {s::ringing, e::agent_ringing, {}, s::ringing},
  {s::ringing, e::agent_answered, {a::accept_offer}, s::accepting},
  {s::ringing, e::agent_declined, {a::decline_offer}, s::waiting},
  // 408, 480 and the like: the offer runs out in the engine, whose expiry
  // then moves the call on (and a CANCEL finds the leg already gone).
  {s::ringing, e::agent_failed, {}, s::ringing},
  {s::ringing, e::offer_closed, {a::cancel_agent}, s::waiting},
  {s::ringing, e::engine_ended, {a::cancel_agent, a::end_caller}, s::ended},
  {s::ringing, e::caller_cancel, {a::cancel_call, a::cancel_agent}, s::ended},
  {s::ringing, e::ring_timer, {a::send_ringing, a::arm_ring_timer}, s::ringing},

  {s::accepting, e::submitted, {a::send_ringing}, s::accepting},
  {s::accepting, e::accepted, {a::answer_caller}, s::talking},
  {s::accepting, e::accept_refused, {a::bye_agent}, s::waiting},
  // The accept is on its way: whichever of cancel and complete fits the
  // state the engine reaches is applied, the other refused.
  {s::accepting, e::caller_cancel, {a::bye_agent, a::cancel_call, a::complete_call}, s::ended},
  {s::accepting, e::agent_bye, {a::end_caller, a::cancel_call, a::complete_call}, s::ended},
  {s::accepting, e::engine_ended, {a::bye_agent, a::end_caller}, s::ended},
  {s::accepting, e::ring_timer, {a::send_ringing, a::arm_ring_timer}, s::accepting},

  {s::talking, e::caller_bye, {a::bye_agent, a::complete_call}, s::ended},
  // A CANCEL that crossed the 200: the caller's leg ends, so does the call.
  {s::talking, e::caller_cancel, {a::bye_agent, a::complete_call}, s::ended},
  {s::talking, e::agent_bye, {a::bye_caller, a::complete_call}, s::ended},
};
// clang-format on

} // namespace

call_step transition(call_state state, call_event event) {
  for (auto& r : table)
    if (r.state == state && r.event == event)
      return {std::vector<call_action>(r.actions), r.next, true};
  return {{}, state, false};
}

const char* to_string(call_state x) {
  switch (x) {
    case s::submitting: return "submitting";
    case s::waiting: return "waiting";
    case s::looking_up: return "looking_up";
    case s::ringing: return "ringing";
    case s::accepting: return "accepting";
    case s::talking: return "talking";
    case s::ended: return "ended";
  }
  return "?";
}

const char* to_string(call_event x) {
  switch (x) {
    case e::invite: return "invite";
    case e::submitted: return "submitted";
    case e::submit_refused: return "submit_refused";
    case e::offered: return "offered";
    case e::agent_found: return "agent_found";
    case e::agent_unknown: return "agent_unknown";
    case e::agent_ringing: return "agent_ringing";
    case e::agent_answered: return "agent_answered";
    case e::agent_declined: return "agent_declined";
    case e::agent_failed: return "agent_failed";
    case e::accepted: return "accepted";
    case e::accept_refused: return "accept_refused";
    case e::offer_closed: return "offer_closed";
    case e::engine_ended: return "engine_ended";
    case e::caller_cancel: return "caller_cancel";
    case e::caller_bye: return "caller_bye";
    case e::agent_bye: return "agent_bye";
    case e::ring_timer: return "ring_timer";
  }
  return "?";
}

const char* to_string(call_action x) {
  switch (x) {
    case a::submit_call: return "submit_call";
    case a::send_ringing: return "send_ringing";
    case a::arm_ring_timer: return "arm_ring_timer";
    case a::refuse_caller: return "refuse_caller";
    case a::end_caller: return "end_caller";
    case a::lookup_agent: return "lookup_agent";
    case a::invite_agent: return "invite_agent";
    case a::accept_offer: return "accept_offer";
    case a::decline_offer: return "decline_offer";
    case a::answer_caller: return "answer_caller";
    case a::cancel_agent: return "cancel_agent";
    case a::bye_agent: return "bye_agent";
    case a::bye_caller: return "bye_caller";
    case a::cancel_call: return "cancel_call";
    case a::complete_call: return "complete_call";
  }
  return "?";
}

namespace {

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex(uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

bool valid_id(const std::string& x, size_t max) {
  if (x.empty() || x.size() > max)
    return false;
  for (char c : x)
    if (c <= ' ' || c >= 127)
      return false;
  return true;
}

} // namespace

std::string engine_call_id(const std::string& sip_call_id) {
  if (valid_id(sip_call_id, 200))
    return sip_call_id;
  return "sip-" + hex(fnv1a(sip_call_id));
}

std::string command_event_id(const std::string& call_id,
                             const std::string& what) {
  auto id = "sbc/" + call_id + "/" + what;
  if (valid_id(id, 256))
    return id;
  return "sbc/h" + hex(fnv1a(id));
}

sip_refusal refusal_for(int grpc_code) {
  switch (grpc_code) {
    case 5: return {404, "Not Found", false};           // NOT_FOUND
    case 9: return {404, "Not Found", false};           // FAILED_PRECONDITION
    case 8: return {486, "Busy Here", false};           // RESOURCE_EXHAUSTED
    case 14: return {503, "Service Unavailable", true}; // UNAVAILABLE
    case 4: return {503, "Service Unavailable", true};  // DEADLINE_EXCEEDED
    default: return {500, "Server Internal Error", false};
  }
}

} // namespace switchboard::sbc
