#include "nodes/sbc_gateway/call_fsm.hpp"

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

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

// Events not listed for a state change nothing. Ringback, once sent, is
// refreshed by the SIP stack until the answer; an offer can arrive before
// SubmitCall's answer (events and answers come on different streams).
// clang-format off
const row table[] = {
  // state          event               actions                     next
  {s::submitting, e::invite, {a::submit_call}, s::submitting},
  {s::submitting, e::submitted, {a::send_ringing, a::hold_caller}, s::waiting},
  {s::submitting, e::submit_refused, {a::refuse_caller}, s::ended},
  {s::submitting, e::offered, {a::lookup_agent}, s::looking_up},
  {s::submitting, e::engine_ended, {a::end_caller}, s::ended},
  {s::submitting, e::caller_cancel, {a::cancel_call}, s::ended},

  {s::waiting, e::offered, {a::lookup_agent}, s::looking_up},
  {s::waiting, e::engine_ended, {a::end_caller}, s::ended},
  {s::waiting, e::caller_cancel, {a::cancel_call}, s::ended},

  {s::looking_up, e::submitted, {a::send_ringing}, s::looking_up},
  {s::looking_up, e::agent_found, {a::invite_agent}, s::ringing},
  {s::looking_up, e::agent_unknown, {a::decline_offer}, s::waiting},
  {s::looking_up, e::offer_closed, {}, s::waiting},
  {s::looking_up, e::engine_ended, {a::end_caller}, s::ended},
  {s::looking_up, e::caller_cancel, {a::cancel_call}, s::ended},

  {s::ringing, e::submitted, {a::send_ringing}, s::ringing},
  {s::ringing, e::agent_ringing, {}, s::ringing},
  {s::ringing, e::agent_answered, {a::accept_offer}, s::accepting},
  {s::ringing, e::agent_declined, {a::decline_offer}, s::waiting},
  // 408, 480 and the like: the offer runs out in the engine, whose expiry
  // then moves the call on (and a CANCEL finds the leg already gone).
  {s::ringing, e::agent_failed, {}, s::ringing},
  {s::ringing, e::offer_closed, {a::cancel_agent}, s::waiting},
  {s::ringing, e::engine_ended, {a::cancel_agent, a::end_caller}, s::ended},
  {s::ringing, e::caller_cancel, {a::cancel_call, a::cancel_agent}, s::ended},

  {s::accepting, e::submitted, {a::send_ringing}, s::accepting},
  {s::accepting, e::accepted, {a::answer_caller}, s::talking},
  {s::accepting, e::accept_refused, {a::bye_agent}, s::waiting},
  // The accept is on its way: whichever of cancel and complete fits the
  // state the engine reaches is applied, the other refused.
  {s::accepting, e::caller_cancel, {a::bye_agent, a::cancel_call, a::complete_call}, s::ended},
  {s::accepting, e::agent_bye, {a::end_caller, a::cancel_call, a::complete_call}, s::ended},
  {s::accepting, e::engine_ended, {a::bye_agent, a::end_caller}, s::ended},

  {s::talking, e::caller_bye, {a::bye_agent, a::complete_call}, s::ended},
  // A CANCEL that crossed the 200: the caller's leg ends, so does the call.
  {s::talking, e::caller_cancel, {a::bye_agent, a::complete_call}, s::ended},
  {s::talking, e::agent_bye, {a::bye_caller, a::complete_call}, s::ended},
  // A transfer from the API: the caller stays on the line and waits again.
  {s::talking, e::transferred, {a::bye_agent, a::hold_caller}, s::waiting},
  {s::waiting, e::transferred, {}, s::waiting},
  {s::looking_up, e::transferred, {}, s::waiting},
  {s::ringing, e::transferred, {a::cancel_agent}, s::waiting},
  {s::accepting, e::transferred, {a::bye_agent, a::hold_caller}, s::waiting},

  // A transfer the agent asked for with REFER.
  {s::talking, e::refer, {a::transfer_call}, s::transferring},
  {s::talking, e::refer_outside, {a::invite_outside}, s::referring},
  // A transfer out from the API: the engine keeps the call with its agent
  // until the outside party answers, as after a REFER.
  {s::talking, e::transferred_out, {a::invite_outside}, s::referring},
  {s::transferring, e::transferred, {a::notify_transfer_ok, a::bye_agent, a::hold_caller}, s::waiting},
  {s::transferring, e::transfer_unknown, {a::invite_outside}, s::referring},
  {s::transferring, e::transfer_refused, {a::notify_transfer_failed}, s::talking},
  // After a REFER the agent may hang up at once: the transfer goes on.
  {s::transferring, e::agent_bye, {}, s::transferring},
  {s::transferring, e::caller_bye, {a::bye_agent, a::cancel_call, a::complete_call}, s::ended},
  {s::referring, e::outside_answered, {a::bridge_outside, a::notify_transfer_ok, a::bye_agent, a::complete_call}, s::outside},
  {s::referring, e::outside_failed, {a::notify_transfer_failed}, s::talking},
  {s::referring, e::outside_failed_alone, {a::bye_caller, a::complete_call}, s::ended},
  {s::referring, e::agent_bye, {}, s::referring},
  {s::referring, e::caller_bye, {a::cancel_outside, a::bye_agent, a::complete_call}, s::ended},
  {s::outside, e::caller_bye, {a::bye_outside}, s::ended},
  {s::outside, e::outside_bye, {a::bye_caller}, s::ended},

  // A hold media server answers the waiting caller (ringback stops); if
  // it fails or hangs up, ringback goes on (or, answered, the caller
  // waits in silence). The call actor releases its leg once the call
  // leaves the queue.
  {s::submitting, e::media_answered, {a::connect_media}, s::submitting},
  {s::waiting, e::media_answered, {a::connect_media}, s::waiting},
  {s::looking_up, e::media_answered, {a::connect_media}, s::looking_up},
  {s::ringing, e::media_answered, {a::connect_media}, s::ringing},
  {s::accepting, e::media_answered, {a::connect_media}, s::accepting},
  {s::submitting, e::media_failed, {a::send_ringing}, s::submitting},
  {s::waiting, e::media_failed, {a::send_ringing}, s::waiting},
  {s::looking_up, e::media_failed, {a::send_ringing}, s::looking_up},
  {s::ringing, e::media_failed, {a::send_ringing}, s::ringing},
  {s::accepting, e::media_failed, {a::send_ringing}, s::accepting},

  // The engine ended a call waiting at the hold media server with an
  // announcement (a queue limit's prompt): played, then the caller is
  // hung up.
  {s::waiting, e::ended_with_announcement, {a::announce}, s::announcing},
  {s::looking_up, e::ended_with_announcement, {a::announce}, s::announcing},
  {s::ringing, e::ended_with_announcement, {a::cancel_agent, a::announce}, s::announcing},
  {s::accepting, e::ended_with_announcement, {a::bye_agent, a::announce}, s::announcing},
  {s::announcing, e::announcement_answered, {a::connect_announcement}, s::announcing},
  {s::announcing, e::announcement_done, {a::bye_caller}, s::ended},
  // Over in the engine already: nothing to tell it.
  {s::announcing, e::caller_cancel, {}, s::ended},

  // A callback: no caller on the line. Its actor starts in waiting when
  // the engine offers it; the agent is rung as for any call (with a
  // black-hole SDP offer) and, once the engine has the accept, the
  // customer is called with the agent's SDP and the agent re-INVITEd with
  // the customer's: from then on it is a call like any other. A customer
  // not reached ends it: the agent wraps up.
  {s::accepting, e::callback_accepted, {a::dial_customer}, s::dialling},
  {s::dialling, e::customer_answered, {a::connect_agent}, s::talking},
  {s::dialling, e::customer_failed, {a::cancel_customer, a::bye_agent, a::complete_call}, s::ended},
  {s::dialling, e::agent_bye, {a::cancel_customer, a::complete_call}, s::ended},
  {s::dialling, e::engine_ended, {a::cancel_customer, a::bye_agent}, s::ended},
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
    case s::transferring: return "transferring";
    case s::referring: return "referring";
    case s::outside: return "outside";
    case s::announcing: return "announcing";
    case s::dialling: return "dialling";
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
    case e::transferred: return "transferred";
    case e::transferred_out: return "transferred_out";
    case e::refer: return "refer";
    case e::refer_outside: return "refer_outside";
    case e::transfer_unknown: return "transfer_unknown";
    case e::transfer_refused: return "transfer_refused";
    case e::outside_answered: return "outside_answered";
    case e::outside_failed: return "outside_failed";
    case e::outside_failed_alone: return "outside_failed_alone";
    case e::outside_bye: return "outside_bye";
    case e::media_answered: return "media_answered";
    case e::media_failed: return "media_failed";
    case e::ended_with_announcement: return "ended_with_announcement";
    case e::announcement_answered: return "announcement_answered";
    case e::announcement_done: return "announcement_done";
    case e::callback_accepted: return "callback_accepted";
    case e::customer_answered: return "customer_answered";
    case e::customer_failed: return "customer_failed";
  }
  return "?";
}

const char* to_string(call_action x) {
  switch (x) {
    case a::submit_call: return "submit_call";
    case a::send_ringing: return "send_ringing";
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
    case a::transfer_call: return "transfer_call";
    case a::notify_transfer_ok: return "notify_transfer_ok";
    case a::notify_transfer_failed: return "notify_transfer_failed";
    case a::invite_outside: return "invite_outside";
    case a::bridge_outside: return "bridge_outside";
    case a::cancel_outside: return "cancel_outside";
    case a::bye_outside: return "bye_outside";
    case a::hold_caller: return "hold_caller";
    case a::connect_media: return "connect_media";
    case a::announce: return "announce";
    case a::connect_announcement: return "connect_announcement";
    case a::dial_customer: return "dial_customer";
    case a::connect_agent: return "connect_agent";
    case a::cancel_customer: return "cancel_customer";
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

namespace {

bool e164(const std::string& x) {
  if (x.size() < 2 || x.size() > 16 || x[0] != '+')
    return false;
  for (size_t i = 1; i < x.size(); ++i)
    if (x[i] < '0' || x[i] > '9')
      return false;
  return true;
}

} // namespace

refer_target parse_refer_to(const std::string& value) {
  refer_target t;
  auto open = value.find('<');
  auto close = value.rfind('>');
  auto uri
    = open != std::string::npos && close != std::string::npos && close > open
        ? value.substr(open + 1, close - open - 1)
        : value;
  uri = uri.substr(0, uri.find('?'));
  while (!uri.empty() && uri.front() == ' ')
    uri.erase(0, 1);
  while (!uri.empty() && uri.back() == ' ')
    uri.pop_back();
  t.uri = uri;
  auto colon = uri.find(':');
  if (colon == std::string::npos)
    return t;
  auto at = uri.find('@', colon);
  auto user_end = uri.find_first_of("@;", colon + 1);
  if (at != std::string::npos && user_end == at) {
    auto user = uri.substr(colon + 1, at - colon - 1);
    if (e164(user))
      t.number = user;
  } else if (uri.compare(0, 4, "tel:") == 0) {
    auto user = uri.substr(4, user_end == std::string::npos ? std::string::npos
                                                            : user_end - 4);
    if (e164(user))
      t.number = user;
  }
  // URI parameters: ";x-m=...", Teams' target of a transfer.
  for (size_t pos = uri.find(';'); pos != std::string::npos;
       pos = uri.find(';', pos + 1)) {
    auto end = uri.find(';', pos + 1);
    auto param = uri.substr(
      pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    if (param.compare(0, 4, "x-m=") != 0)
      continue;
    auto mri = param.substr(4);
    const std::string orgid = "8:orgid:";
    if (mri.compare(0, orgid.size(), orgid) == 0 && mri.size() > orgid.size())
      t.teams_user_id = mri.substr(orgid.size());
    else if (e164(mri) && t.number.empty())
      t.number = mri;
  }
  return t;
}

std::string prompt_uri(const std::string& pattern, const std::string& prompt) {
  const std::string slot = "{prompt}";
  auto at = pattern.find(slot);
  if (at == std::string::npos || prompt.empty() || prompt.size() > 64)
    return {};
  for (char c : prompt) {
    auto ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok)
      return {};
  }
  return pattern.substr(0, at) + prompt + pattern.substr(at + slot.size());
}

std::string callback_number(const std::string& value) {
  auto x = value;
  auto lower = x;
  for (auto& c : lower)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const char* scheme : {"sip:", "sips:", "tel:"}) {
    if (lower.rfind(scheme, 0) == 0) {
      x = x.substr(std::char_traits<char>::length(scheme));
      x = x.substr(0, x.find_first_of("@;?>"));
      break;
    }
  }
  std::string out;
  for (size_t i = 0; i < x.size(); ++i) {
    char c = x[i];
    if (c == '+' && i == 0)
      out += c;
    else if (c >= '0' && c <= '9')
      out += c;
    else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')')
      return {};
  }
  auto digits = out.size() - (!out.empty() && out[0] == '+' ? 1 : 0);
  if (digits < 3 || digits > 20)
    return {};
  return out;
}

std::string callback_uri(const std::string& pattern, const std::string& number,
                         const std::string& trunk) {
  if (number.empty())
    return {};
  auto out = pattern;
  for (auto [slot, value] :
       {std::pair<std::string, const std::string*>{"{number}", &number},
        {"{trunk}", &trunk}}) {
    for (auto at = out.find(slot); at != std::string::npos;
         at = out.find(slot, at + value->size()))
      out.replace(at, slot.size(), *value);
  }
  return out;
}

sip_refusal ending_for(const std::string& reason) {
  if (reason == "queue_full")
    return {486, "Busy Here", false};
  return {480, "Temporarily Unavailable", false};
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
