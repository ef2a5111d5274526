#pragma once

// A gateway's link to a router node over gRPC, shared by the SBC and Graph
// gateways: one Ingest stream for every command (each with an event_id;
// unanswered commands are sent again with the same id after a reconnect,
// so the engine applies each once), one Subscribe stream per tenant served
// (resumed after the last sequence seen), and GetAgent for how to reach an
// agent. gRPC stays inside router_link.cpp: the gateways see plain
// structs.

#include "nodes/gateway/router_token.hpp"
#include "nodes/router/log.hpp"
#include "nodes/tls/grpc_credentials.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace grpc {
class ChannelCredentials;
} // namespace grpc

namespace switchboard::gateway {

struct engine_command {
  /// cancel: the caller hung up; withdraw: the gateway ends the call
  /// itself (it has no dialog for it).
  enum kind_t : uint8_t {
    submit,
    cancel,
    withdraw,
    complete,
    accept,
    decline,
    transfer,
    presence,         ///< SetAgentPresence: agent_id, availability
    callback,         ///< RequestCallback: callback_number ("" = the caller's)
    complete_consult, ///< CompleteConsult: the consulted agent takes the call
  };
  kind_t kind = submit;
  std::string event_id;
  std::string tenant_id;
  std::string call_id;
  // submit
  std::string from;
  std::string to;
  std::map<std::string, std::string> attributes;
  // accept, decline
  std::string agent_id;
  std::string offer_id;
  // transfer: to the agent with this Teams user id, else to this number
  // (an agent's or a queue's, as the engine resolves it).
  std::string teams_user_id;
  std::string dialled_number;
  // presence: Teams' availability (Available, Busy, DoNotDisturb, ...).
  std::string availability;
  // callback: where the caller is called back; "" = the call's from.
  std::string callback_number;
};

struct command_result {
  std::string event_id;
  int code = 0; // a google.rpc.Code; 0 = applied
  std::string message;
  bool duplicate = false;
};

/// A call event a gateway acts on.
struct engine_event {
  enum kind_t : uint8_t {
    offered,         // CALL_OFFERED: offer_id and agent_id set
    offer_closed,    // OFFER_EXPIRED or OFFER_DECLINED: offer_id set
    transferred,     // CALL_TRANSFERRED: back to a queue, or (assigned_agent
                     // set) to the agent of its completed consult
    conferenced,     // CALL_CONFERENCED: a consult leg became a conference
    transferred_out, // CALL_TRANSFERRED to transfer_number, outside
    ended,           // ABANDONED, CANCELLED, TIMED_OUT, DISCONNECTED, ...
    other,
  };
  kind_t kind = other;
  uint64_t sequence = 0;
  std::string type; // the event type's name, for logs
  std::string tenant_id;
  std::string call_id;
  std::string offer_id;
  std::string agent_id;
  std::string limit_reason;
  std::string announcement; // the limit action's prompt id
  /// A consult or conference leg: the call it belongs to, and "consult"
  /// or "conference".
  std::string parent_call_id;
  std::string leg;
  /// The agent the call is assigned to as of the event ("" when none).
  std::string assigned_agent;
  /// transferred_out: the number outside the contact center.
  std::string transfer_number;
  /// CALL_CALLBACK_REQUESTED: the caller leaves the line (kind ended).
  bool callback_requested = false;
  /// A callback's offer: where the caller is called back, and the number
  /// the caller had dialled; empty for other calls.
  std::string callback_number;
  std::string dialled;
  /// CALL_OFFERED: the call's attributes, which say which gateway owns
  /// it (after a restart, or for a callback hours later).
  std::map<std::string, std::string> attributes;

  /// The attribute `key`, or "".
  std::string attribute(const std::string& key) const {
    auto i = attributes.find(key);
    return i == attributes.end() ? std::string{} : i->second;
  }
};

/// A call of the engine's that is not over, as the gateway reconciles it.
struct live_call {
  std::string call_id;
  /// Answered (the agent talks): completed rather than withdrawn.
  bool answered = false;
  /// A callback not answered yet: it waits in line without a dialog.
  bool callback = false;
};

/// How to reach an agent: their SIP URI (SBC gateway) and Teams user id
/// (Graph gateway), either of which may be empty.
struct agent_lookup {
  bool found = false;
  std::string sip_uri;
  std::string teams_user_id;
  std::string error;
};

/// A tenant's settings a gateway needs.
struct tenant_settings {
  std::string tenant_id;
  std::string microsoft_tenant_id;
  std::vector<std::string> dialled_numbers;
};

/// Credentials for reaching the router at `address` per `o`, which are
/// logged (plain to an address other than loopback with a warning), with
/// the gateway's own token per `token` when it has one; null with `error`
/// naming the setting and file when a TLS file or a token setting is
/// wrong.
std::shared_ptr<grpc::ChannelCredentials>
router_credentials(const std::string& address, const tls::client_options& o,
                   const router_token_options& token, router::logger& log,
                   std::string& error);

class router_link {
 public:
  /// `credentials`: plain or TLS, from tls::channel_credentials.
  router_link(const std::string& address,
              std::shared_ptr<grpc::ChannelCredentials> credentials,
              router::logger& log);
  ~router_link();

  router_link(const router_link&) = delete;
  router_link& operator=(const router_link&) = delete;

  /// Starts the Ingest stream and one Subscribe per tenant; `on_event` is
  /// called from the stream's thread, in sequence order per tenant.
  /// `on_up`, if given, is told each time the Ingest stream connects or
  /// is lost.
  void start(const std::vector<std::string>& tenants,
             std::function<void(const engine_event&)> on_event,
             std::function<void(bool)> on_up = nullptr);

  /// Sends a command; `on_result` is called once, from a gRPC thread, when
  /// the engine answered it (after any number of reconnects).
  void send(engine_command cmd,
            std::function<void(const command_result&)> on_result);

  /// Reads how to reach an agent; `done` is called once, from a gRPC
  /// thread.
  void get_agent(const std::string& tenant_id, const std::string& agent_id,
                 std::function<void(const agent_lookup&)> done);

  /// The tenant's calls that are not over and whose attribute `key` is
  /// `value`, every page of them; false and `error` if the router cannot
  /// tell. Blocks: not for the SIP thread or an actor.
  bool live_calls(const std::string& tenant_id, const std::string& key,
                  const std::string& value, std::vector<live_call>& out,
                  std::string& error);

  /// Every agent of the tenant as (agent id, Teams user id), those
  /// without a Teams user id left out; false and `error` if the router
  /// cannot tell. Blocks: not for an actor.
  bool teams_agents(const std::string& tenant_id,
                    std::vector<std::pair<std::string, std::string>>& out,
                    std::string& error);

  /// Reads tenant `tenant_id`'s settings; false and `error` if the router
  /// cannot tell. Blocks: not for an actor.
  bool tenant(const std::string& tenant_id, tenant_settings& out,
              std::string& error);

  /// True while the Ingest stream is connected to a router.
  bool up() const;

  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::gateway
