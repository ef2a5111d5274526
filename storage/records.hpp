#pragma once

// The records a node stores, as bytes. Records are the public API's
// protobuf messages (switchboard.v1), so stored data evolves by protobuf's
// compatibility rules across upgrades, and events can be streamed to
// subscribers exactly as stored. Decoding validates like the API does: a
// record that does not decode is a bad_record error naming its key.

#include "routing/engine.hpp"
#include "routing/model.hpp"

#include <caf/expected.hpp>

#include <string>
#include <string_view>

namespace switchboard::storage {

std::string encode(const routing::tenant& x);
caf::expected<routing::tenant> decode_tenant(std::string_view bytes,
                                             std::string_view key);

std::string encode(const routing::queue& x, const std::string& tenant);
caf::expected<routing::queue> decode_queue(std::string_view bytes,
                                           std::string_view key);

/// A tenant's classification rules (family config, classification_key).
std::string encode(const routing::classification& x, const std::string& tenant);
caf::expected<routing::classification>
decode_classification(std::string_view bytes, std::string_view key);
std::string classification_key(const std::string& tenant);

/// Who last answered a caller (family live, last_agent_key).
std::string encode(const routing::last_served& x);
caf::expected<routing::last_served> decode_last_served(std::string_view bytes,
                                                       std::string_view key);
std::string last_agent_key(const std::string& tenant,
                           const std::string& caller);

/// One minute of a queue's counts (family live, minute_key).
std::string encode(const routing::minute_counts& x);
caf::expected<routing::minute_counts> decode_minute(std::string_view bytes,
                                                    std::string_view key);
/// Kind 'S', the queue id, a NUL (ids have none), the minute as 8
/// big-endian bytes: a queue's minutes sort in time order.
std::string minute_key(const std::string& tenant, const std::string& queue_id,
                       int64_t minute);

/// An agent's configuration (family config).
std::string encode_agent_config(const routing::agent& x,
                                const std::string& tenant);

/// An agent's state (family live), with the offers it has open.
std::string encode_agent_state(const routing::agent& x,
                               uint16_t offers_pending);

/// An agent from its configuration record and, if it has one, its state
/// record; without a state record the agent is offline and not ready.
caf::expected<routing::agent> decode_agent(std::string_view config,
                                           std::string_view state,
                                           std::string_view key);

/// An agent's state with the engine's counters (family live).
std::string encode_agent_state(const routing::agent_view& x);

/// An agent with its engine counters from its two records.
caf::expected<routing::agent_view> decode_agent_view(std::string_view config,
                                                     std::string_view state,
                                                     std::string_view key);

/// A live call (family live, kind 'C').
std::string encode_call(const routing::live_call& x, const std::string& tenant);
caf::expected<routing::live_call> decode_call(std::string_view bytes,
                                              std::string_view key);

/// A finished call (family history), kept whole like a live one so that
/// GetCall and repeated submits can show it; decode it with decode_call.
std::string encode_history(const routing::live_call& x,
                           const std::string& tenant);

/// An event as subscribers receive it: a v1::Event.
/// The v1::EventType number of an event type, as encode_event writes it.
int32_t event_type_number(routing::event_type t);

std::string encode_event(const routing::event& x, const std::string& tenant,
                         uint64_t sequence);
/// When a stored event happened, or nothing if the bytes do not decode.
std::optional<routing::timestamp> event_time(std::string_view bytes);
/// The v1::EventType number of a stored event (0 if it does not decode).
int32_t event_type_of(std::string_view bytes);

/// The history key of a finished call: kind 'H', the end time as 8
/// big-endian bytes (so history reads in time order), then the call id.
std::string history_key(const std::string& tenant, const routing::live_call& x);
/// Where a tenant's history of calls that ended at or after `ended_at`
/// begins: history keys start with the end time.
std::string history_start_key(const std::string& tenant,
                              routing::timestamp ended_at);

/// The key of a configuration change (family history, kind 'K'): the time
/// it was made as 8 big-endian bytes, then the sequence of the event that
/// published it as 8; the value is that event (a v1::Event).
std::string change_key(const std::string& tenant, routing::timestamp at,
                       uint64_t sequence);
/// Where a tenant's configuration changes made at or after `at` begin.
std::string change_start_key(const std::string& tenant, routing::timestamp at);

/// The key of a tenant's last event sequence (family live, kind 'M').
std::string sequence_key(const std::string& tenant);
std::string encode_sequence(uint64_t sequence);
caf::expected<uint64_t> decode_sequence(std::string_view bytes,
                                        std::string_view key);

} // namespace switchboard::storage
