#pragma once

// The SIP side of the gateway: sofia-sip's nua on one thread of its own.
// Nothing of sofia-sip leaks out of sip_stack.cpp: the rest of the gateway
// sees legs by number and plain structs copied out of each message, and
// hands work to the SIP thread through a queue it drains when an eventfd
// wakes its loop. Every call here is thread-safe and returns at once.

#include "nodes/sbc_gateway/trunks.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sbc {

/// One SIP dialog (or dialog attempt) the gateway takes part in.
using leg_id = uint64_t;

/// A new INVITE from outside (not a re-INVITE), copied out of the stack.
struct incoming_invite {
  leg_id leg = 0;
  std::string call_id;
  std::string from_uri;
  std::string asserted_uri; // P-Asserted-Identity, if any
  invite_facts facts;
  uint16_t source_port = 0;
  /// "udp", "tcp" or "tls": how the INVITE reached the gateway.
  std::string source_transport = "udp";
  std::string sdp;
  /// Headers the stack does not parse itself (X-*, User-to-User,
  /// Diversion, History-Info, ...), in order, names as sent.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Messages above this size are not parsed (a UDP datagram is smaller).
inline constexpr size_t max_parsed_message_bytes = 65'536;

/// Reads a SIP message from its bytes with the stack's own parser and,
/// when it is a well-formed INVITE, what the gateway takes from it (as
/// for an INVITE from the network, without a leg or a source); else
/// nothing, with `error` saying why. For the fuzzer and the tests.
std::optional<incoming_invite>
parse_invite(std::string_view bytes,
             const std::vector<std::string>& copy_headers, std::string& error);

/// An in-dialog request a peer sent that the call answers (with
/// sip_stack::answer), and the gateway's own in-dialog requests.
enum class dialog_method : uint8_t {
  reinvite, // re-INVITE with a new SDP offer
  update,   // UPDATE with a new SDP offer
  info,     // INFO (DTMF, application data)
};

/// Something that happened on a leg.
struct leg_event {
  enum kind_t : uint8_t {
    provisional, // 18x on an outgoing INVITE
    answered,    // 2xx on an outgoing INVITE (ACK sent by the stack)
    failed,      // final failure on an outgoing INVITE
    acked,       // ACK for our 2xx
    cancelled,   // CANCEL of an incoming INVITE (487 sent by the stack)
    bye,         // BYE received (200 sent by the stack)
    terminated,  // the dialog is over; the leg number is no longer valid
    // An in-dialog request (method, request, content_type, body) that
    // waits for sip_stack::answer. Session refreshes (a re-INVITE or
    // UPDATE with no SDP or the SDP of before) are answered by the stack
    // and never reported.
    request,
    // The final answer (status, content_type, body) to the gateway's own
    // in-dialog request (method) sent with sip_stack::send.
    request_answered,
    // REFER (202 sent by the stack): refer_to, referred_by. Report how
    // the transfer goes with sip_stack::notify_refer.
    refer,
  };
  leg_event() = default;
  leg_event(leg_id l, kind_t k, int s = 0, std::string p = {},
            std::string body = {})
    : leg(l), kind(k), status(s), phrase(std::move(p)), sdp(std::move(body)) {}

  leg_id leg = 0;
  kind_t kind = terminated;
  int status = 0;
  std::string phrase;
  std::string sdp; // for request and request_answered: the body
  dialog_method method = dialog_method::reinvite;
  uint64_t request_id = 0;
  std::string content_type;
  std::string refer_to;
  std::string referred_by;
};

/// Receives what the SIP thread sees; called on the SIP thread, so it must
/// never block.
class sip_listener {
 public:
  virtual ~sip_listener() = default;
  virtual void on_invite(const incoming_invite& x) = 0;
  virtual void on_leg_event(const leg_event& x) = 0;
  /// The answer to an OPTIONS ping of `target` (408 when none came).
  virtual void on_ping(const std::string& target, int status) = 0;
};

/// SIP over TLS: where to listen and what to present. The texts are PEM;
/// the private key is secret and never logged.
struct sip_tls_options {
  std::string host = "127.0.0.1";
  uint16_t port = 5061;
  std::string certificate;
  /// Intermediate certificates sent after it.
  std::string chain;
  std::string private_key;
  /// Trusted authorities; with verify_peer, an SBC connecting must present
  /// a certificate they signed, and an SBC the gateway connects to too.
  std::string authorities;
  bool verify_peer = false;
};

struct sip_options {
  std::string host = "127.0.0.1";
  uint16_t port = 5070;
  std::string user_agent = "switchboard-sbc-gateway";
  std::string allow
    = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER, NOTIFY";
  std::string accept = "application/sdp";
  std::string supported = "timer";
  /// Names (any case) of headers to copy into incoming_invite::headers;
  /// empty: none.
  std::vector<std::string> copy_headers;
  /// SIP over TLS too, when set.
  std::optional<sip_tls_options> tls;
  /// Session timers (RFC 4028): the interval asked for on every dialog,
  /// 0 for none. A dialog whose refreshes stop is ended with BYE; when the
  /// gateway is the refresher it refreshes with UPDATE.
  unsigned session_expires = 1800;
  unsigned min_se = 90;
  /// How often the last provisional response (the caller's 180 Ringing)
  /// to an INVITE not yet answered is sent again, so that no proxy's
  /// Timer C fires (RFC 3261 13.3.1.1).
  std::chrono::milliseconds ring_refresh{std::chrono::seconds{60}};
};

/// A final (or provisional) response to an incoming INVITE.
struct response {
  response() = default;
  response(int s, std::string p, std::string why = {}, std::string retry = {},
           std::string body = {}, std::string type = {})
    : status(s), phrase(std::move(p)), reason(std::move(why)),
      retry_after(std::move(retry)), sdp(std::move(body)),
      content_type(std::move(type)) {}

  int status = 0;
  /// For logs: the response carries the standard phrase of its status
  /// (nua needs a phrase that outlives the call).
  std::string phrase;
  std::string reason;      // Reason header text, quoted as SIP text
  std::string retry_after; // seconds, or empty
  std::string sdp;         // answer body, or empty
  /// The body's type when it is not SDP (an INFO's answer).
  std::string content_type;
};

/// A new INVITE the gateway places (the agent's leg).
struct outgoing_invite {
  std::string request_uri;
  std::string from_uri;
  /// Where to send it: "host:port" of the SBC, or empty for the request
  /// URI's own host.
  std::string next_hop;
  /// "udp", "tcp", "tls", or empty: as the stack chooses (UDP, TCP for
  /// requests too large for a datagram).
  std::string transport;
  std::string sdp;
  /// The Contact to present (in angle brackets), e.g. with the tenant's
  /// trunk FQDN; empty: the stack's own address.
  std::string contact;
};

class sip_stack {
 public:
  virtual ~sip_stack() = default;

  /// Starts the SIP thread, listening on UDP and TCP (and TLS when
  /// options.tls is set); nullptr and `error` if it cannot.
  static std::unique_ptr<sip_stack>
  start(const sip_options& options, sip_listener& listener, std::string& error);

  /// A fresh leg number for place_call.
  virtual leg_id new_leg() = 0;
  virtual void respond(leg_id leg, response r) = 0;
  virtual void place_call(leg_id leg, outgoing_invite x) = 0;
  virtual void cancel(leg_id leg) = 0;
  /// The final answer to an in-dialog request the leg reported as
  /// leg_event::request; r.sdp is the answer's body (SDP for a re-INVITE
  /// or an UPDATE), r.content_type its type when it is not SDP.
  virtual void answer(leg_id leg, uint64_t request, response r) = 0;
  /// Sends an in-dialog request on the leg (a re-INVITE or UPDATE with
  /// `body` as the SDP offer, an INFO with `body` of `content_type`); its
  /// final answer comes as leg_event::request_answered.
  virtual void send(leg_id leg, dialog_method method, std::string content_type,
                    std::string body)
    = 0;
  /// How the transfer the leg asked for with REFER goes: a NOTIFY whose
  /// message/sipfrag is the status line of `status`; a final status ends
  /// the REFER's subscription.
  virtual void notify_refer(leg_id leg, int status) = 0;
  virtual void bye(leg_id leg) = 0;
  /// Sends OPTIONS to `target` ("host:port") over `transport` ("udp",
  /// "tcp", "tls"; empty: as the stack chooses); the answer comes to
  /// sip_listener::on_ping with the same target.
  virtual void ping(std::string target, std::string transport) = 0;
  /// Ends every dialog and stops the thread; waits for it.
  virtual void stop() = 0;
};

} // namespace switchboard::sbc
