#pragma once

// A call's protocol state machine in the gateway, as a table of
// (state, event) -> (actions, next state). It knows nothing of SIP stacks,
// actors or gRPC: the call actor feeds it events and carries out the
// actions, so the table is tested without sockets.

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::sbc {

enum class call_state : uint8_t {
  submitting, // caller's INVITE admitted, SubmitCall sent
  waiting,    // in the engine's queue; the caller hears ringback
  looking_up, // the engine offered the call; reading the agent's SIP URI
  ringing,    // INVITE out to the agent
  accepting,  // the agent answered; AcceptOffer sent
  talking,    // caller and agent bridged
  // The agent asked (REFER) to transfer the call; TransferCall sent.
  transferring,
  // The transfer's target is outside the contact center: INVITE out.
  referring,
  outside, // caller and the outside party bridged; done in the engine
  // The engine ended the call with an announcement: the caller, answered
  // at the hold media server, hears it before the gateway hangs up.
  announcing,
  // A callback: its agent answered and the engine has the accept; the
  // INVITE to the customer's number is out.
  dialling,
  ended,
};

enum class call_event : uint8_t {
  invite,           // the caller's INVITE, admitted
  submitted,        // SubmitCall applied
  submit_refused,   // SubmitCall refused (status says why)
  offered,          // CALL_OFFERED for this call
  agent_found,      // the agent's SIP URI is known
  agent_unknown,    // GetAgent failed or the agent has no SIP URI
  agent_ringing,    // 18x from the agent
  agent_answered,   // 2xx from the agent
  agent_declined,   // 486, 600 or 603 from the agent
  agent_failed,     // another final failure (408, 480, ...): the engine expires
  accepted,         // AcceptOffer applied
  accept_refused,   // AcceptOffer refused (the offer closed meanwhile)
  offer_closed,     // OFFER_EXPIRED or OFFER_DECLINED for the open offer
  engine_ended,     // the engine ended the call (timed out, disconnected, ...)
  caller_cancel,    // CANCEL (or BYE) from the caller before the answer
  caller_bye,       // BYE from the caller after the answer
  agent_bye,        // BYE from the agent after the answer
  transferred,      // CALL_TRANSFERRED (or TransferCall applied): re-queued
  transferred_out,  // CALL_TRANSFERRED to a number outside (TransferCall)
  refer,            // REFER from the agent to a number or Teams user
  refer_outside,    // REFER from the agent to an address only
  transfer_unknown, // TransferCall refused: no such agent or number
  transfer_refused, // TransferCall refused otherwise
  outside_answered, // 2xx from the outside target
  outside_failed,   // final failure from the outside target
  outside_failed_alone, // the same, after the agent hung up
  outside_bye,          // BYE from the outside party
  media_answered,       // 2xx from the hold media server
  media_failed,         // the hold media server refused or hung up
  // The engine ended the call with an announcement the gateway can play.
  ended_with_announcement,
  announcement_answered, // 2xx from the announcement's media server
  announcement_done,     // it hung up (played), failed, or took too long
  callback_accepted,     // AcceptOffer applied for a callback
  customer_answered,     // 2xx from the number a callback calls
  customer_failed,       // it refused, did not answer, or hung up at once
};

enum class call_action : uint8_t {
  submit_call,
  send_ringing,  // 180 to the caller
  refuse_caller, // final failure to the caller from the engine's refusal
  end_caller,    // final failure to the caller: the engine ended the call
  lookup_agent,  // GetAgent for the offered agent's SIP URI
  invite_agent,  // new INVITE to the agent with the caller's SDP
  accept_offer,
  decline_offer,
  answer_caller, // 200 to the caller with the agent's SDP
  cancel_agent,  // CANCEL toward the ringing agent
  bye_agent,
  bye_caller,
  cancel_call,            // CancelCall, caller hung up
  complete_call,          // CompleteCall: the agent wraps up
  transfer_call,          // TransferCall to the REFER's target
  notify_transfer_ok,     // NOTIFY 200 to the agent who sent REFER
  notify_transfer_failed, // NOTIFY with the failure
  invite_outside,         // new INVITE to the REFER's target
  bridge_outside,         // re-INVITE the caller with the target's SDP
  cancel_outside,
  bye_outside,
  hold_caller,          // INVITE to the hold media server with the caller's SDP
  connect_media,        // answer (or re-INVITE) the caller with its SDP
  announce,             // INVITE to the announcement URI with the prompt
  connect_announcement, // re-INVITE the caller to the announcement
  dial_customer,        // a callback's INVITE to the customer, agent's SDP
  connect_agent,        // re-INVITE the agent with the customer's SDP
  cancel_customer,      // CANCEL toward the customer a callback rings
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

/// A call's engine id from its SIP Call-ID: the Call-ID itself when it is
/// a valid engine id (1-200 printable ASCII characters, no spaces), else a
/// stable hash of it, so that every replica derives the same id.
std::string engine_call_id(const std::string& sip_call_id);

/// The Ingest event id of one command about a call: derived from the call
/// id and the command, so that a retry after a reconnect (or a second
/// replica) sends the same id and the engine applies it once.
std::string command_event_id(const std::string& call_id,
                             const std::string& what);

/// What a REFER's Refer-To names: a number (its user part when that is
/// E.164, or an x-m parameter that is one), a Teams user (x-m
/// "8:orgid:<object id>"), and the URI to INVITE when the target is
/// outside the contact center (without angle brackets or URI headers).
struct refer_target {
  std::string number;
  std::string teams_user_id;
  std::string uri;
};
refer_target parse_refer_to(const std::string& value);

/// A callback's number as a telephone number: "+" and 3 to 20 digits (or
/// the digits alone), from the engine's Callback.number, which is either
/// a number ("+1 425 555-1234": spaces, '-', '.', '(' and ')' are visual
/// separators) or the caller's From URI ("sip:+14255551234@host;user=phone",
/// "tel:+14255551234"); empty when it holds no such number.
std::string callback_number(const std::string& value);

/// The SIP URI a callback calls: `pattern` with "{number}" replaced by the
/// number and "{trunk}" by the trunk FQDN the call came by (e.g.
/// "sip:{number}@{trunk};user=phone"); empty when the number is empty.
std::string callback_uri(const std::string& pattern, const std::string& number,
                         const std::string& trunk);

/// The SIP final response for an engine refusal (a google.rpc.Code).
struct sip_refusal {
  int status;
  const char* phrase;
  bool retry_after;
};
sip_refusal refusal_for(int grpc_code);

/// The SIP final response for a waiting call the engine ended, by the
/// limit that ended it (CallView.limit_reason) or else the event's type:
/// a full queue is busy (486), a closed queue, a long wait or no agent
/// signed in is unavailable (480).
sip_refusal ending_for(const std::string& reason);

/// The SIP URI that plays a prompt: `pattern` with "{prompt}" replaced by
/// the prompt id (RFC 4240 style, e.g.
/// "sip:annc@ms.example.com;play=https://prompts.example.com/{prompt}.wav").
/// Empty when there is no pattern, or the id is empty, longer than 64
/// characters or holds anything but letters, digits, '.', '_' and '-'
/// (an id from configuration must not rewrite the URI).
std::string prompt_uri(const std::string& pattern, const std::string& prompt);

} // namespace switchboard::sbc
