#pragma once

#include "nodes/graph_gateway/notification_crypto.hpp"

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// The notifications Graph POSTs to the gateway, read into plain structs:
/// call notifications (`commsNotifications`) to the bot's callback URL,
/// change and lifecycle notifications of presence subscriptions. Fields
/// are matched ASCII case-insensitively and unknown ones ignored, since
/// Graph's casing varies (`subcode` / `subCode`).
namespace switchboard::graph {

/// One identity of an `identitySet`: which kind (`user`, `phone`,
/// `applicationInstance`, `application`, `guest`, ...) and its fields.
struct party {
  std::string kind;
  std::string id; ///< an object id, or an E.164 number for `phone`
  std::string display_name;
  std::string tenant_id;
};

/// `resultInfo`: why an operation or a call ended.
struct result_info {
  std::int64_t code = 0;
  std::int64_t subcode = 0;
  std::string message;
};

/// A participant of a call's roster (`#microsoft.graph.participant`).
struct participant {
  std::string id; ///< the participant id (null in some rosters: "")
  std::optional<party> who;
  bool in_lobby = false;
  bool muted = false;
};

/// `#microsoft.graph.call` as notifications carry it (most fields only on
/// the incoming notification).
struct call_resource {
  std::string id;
  std::string state; ///< incoming, establishing, established, ...; "" on delete
  std::string direction;
  std::string tenant_id;
  std::string call_chain_id;
  std::string my_participant_id;
  std::optional<party> source;
  std::vector<party> targets;
  /// `incomingContext`: who the call was for, when forwarded or
  /// transferred.
  std::string source_participant_id;
  std::string observed_participant_id;
  std::optional<party> on_behalf_of;
  std::optional<party> transferor;
  std::optional<result_info> result;
  /// `toneInfo` of a DTMF digit (`tone0` .. `tone9`, `star`, `pound`, ...).
  std::string tone;
  std::int64_t tone_sequence = 0;
};

/// An operation's outcome (`inviteParticipantsOperation`,
/// `playPromptOperation`, `subscribeToToneOperation`, ...).
struct operation {
  std::string kind; ///< the `@odata.type` without its namespace
  std::string id;
  std::string status; ///< notStarted, running, completed, failed
  std::string client_context;
  std::optional<result_info> result;
};

/// One `commsNotification`.
struct call_notification {
  enum class about : std::uint8_t { call, participants, operation, other };
  std::string change_type; ///< created, updated, deleted
  std::string resource_url;
  std::string call_id; ///< from `resourceUrl` (`/communications/calls/{id}`)
  about kind = about::other;
  call_resource call;              ///< kind == call
  std::vector<participant> roster; ///< kind == participants
  operation op;                    ///< kind == operation
};

/// A `commsNotifications` body, or why it could not be read.
struct call_notifications {
  std::vector<call_notification> value;
  std::string error;
};

/// Reads a `commsNotifications` document (or a bare `commsNotification`).
call_notifications read_call_notifications(const boost::json::value& doc);

/// One element of a change notification collection: a resource change or,
/// with `lifecycle_event` set, a lifecycle notification.
struct change_notification {
  std::string subscription_id;
  std::string client_state;
  std::string change_type;
  std::string tenant_id;
  std::string resource;
  std::string resource_id; ///< `resourceData.id` (the user, for presence)
  std::string
    lifecycle_event; ///< reauthorizationRequired, subscriptionRemoved, missed
  std::optional<encrypted_content> encrypted;
};

/// A change notification collection, or why it could not be read.
struct change_notifications {
  std::vector<change_notification> value;
  std::vector<std::string> validation_tokens;
  std::string error;
};

change_notifications read_change_notifications(const boost::json::value& doc);

/// A user's presence (`#microsoft.graph.presence`).
struct presence {
  std::string user_id;
  std::string availability;
  std::string activity;
};

/// Reads one presence resource; nullopt without an id.
std::optional<presence> read_presence(const boost::json::value& v);

/// Reads `getPresencesByUserId`'s response (`{"value": [presence...]}`).
std::vector<presence> read_presences(const boost::json::value& doc);

/// A call resource (`GET /communications/calls/{id}`, or a notification's
/// resource data).
call_resource read_call(const boost::json::value& v);

/// One participant, and a `{"value": [participant...]}` collection
/// (`GET .../participants`).
participant read_participant(const boost::json::value& v);
std::vector<participant> read_participants(const boost::json::value& doc);

/// The call id of a resource URL such as
/// `/communications/calls/{id}/operations/{op}`, or "".
std::string call_id_of(std::string_view resource_url);

} // namespace switchboard::graph
