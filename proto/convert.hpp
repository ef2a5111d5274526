#pragma once

// Between the public API (switchboard.v1 messages) and the routing core's
// types. Reading from the API validates: bad input becomes a field_error
// naming the field by its path in the request, which the services return
// as INVALID_ARGUMENT. The store keeps its records as these messages too
// (storage/records.hpp), so stored data evolves by protobuf's rules.

#include "routing/engine.hpp"
#include "routing/model.hpp"

#include "switchboard/v1/admin.pb.h"
#include "switchboard/v1/common.pb.h"
#include "switchboard/v1/events.pb.h"
#include "switchboard/v1/records.pb.h"
#include "switchboard/v1/routing.pb.h"
#include "switchboard/v1/stats.pb.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::api {

/// What is wrong with a request, and where: `field` is a path such as
/// "queue.selectors[1].values[0]".
struct field_error {
  std::string field;
  std::string message;

  /// "queue.selectors[1].values[0]: a skill proficiency is ..."
  std::string to_string() const;
};

using maybe_error = std::optional<field_error>;

/// What the API accepts (docs/api.md lists them): every number and size
/// from outside is bounded before the routing core sees it.
namespace limits {
/// Display names, skill, label and attribute names, label values, selector
/// values, reasons.
constexpr size_t name = 256;
/// from, to, SIP URIs, classification values.
constexpr size_t address = 1024;
constexpr size_t attributes = 64;
constexpr size_t attribute_value = 4096;
/// Names and values of one call's attributes together.
constexpr size_t attribute_bytes = 32 * 1024;
constexpr size_t skills = 256;
constexpr size_t labels = 64;
constexpr size_t agent_queues = 1000;
/// Selectors of one list (a queue's, a call's, a step's, a rule's).
constexpr size_t selectors = 32;
constexpr size_t selector_values = 100;
constexpr size_t steps = 16;
constexpr size_t trunks = 64;
constexpr size_t numbers = 10'000;
constexpr size_t rules = 1000;
constexpr size_t conditions = 32;
constexpr size_t condition_values = 1000;
constexpr size_t opening_hours = 64;
constexpr size_t holidays = 1000;
constexpr uint32_t max_queue_length = 1'000'000;
constexpr auto min_offer_timeout = std::chrono::seconds{1};
constexpr auto max_offer_timeout = std::chrono::hours{1};
constexpr auto max_wrap_up = std::chrono::hours{24};
/// Encoded size of a call, an agent, a queue, a tenant, a tenant's
/// classification rules: what one list item can add to a page.
constexpr size_t call_bytes = 64 * 1024;
constexpr size_t agent_bytes = 64 * 1024;
constexpr size_t queue_bytes = 256 * 1024;
constexpr size_t tenant_bytes = 512 * 1024;
constexpr size_t rules_bytes = 1024 * 1024;
/// A callback number.
constexpr size_t number = 32;
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, Timestamp's own range.
constexpr int64_t min_timestamp_seconds = -62'135'596'800;
constexpr int64_t max_timestamp_seconds = 253'402'300'799;
} // namespace limits

/// Ids (tenant, queue, agent, call, ...): 1 to 256 printable ASCII
/// characters without spaces. SIP Call-IDs and Entra object ids fit.
maybe_error check_id(const std::string& id, const std::string& field);

// -- from the API (validating)
// --------------------------------------------------

maybe_error from_proto(const v1::Selector& in, routing::selector& out,
                       const std::string& field);

maybe_error from_proto(const v1::Tenant& in, routing::tenant& out,
                       const std::string& field = "tenant");

maybe_error from_proto(const v1::Queue& in, routing::queue& out,
                       const std::string& field = "queue");

/// Configuration only; the agent's state is left as it is in `out`.
maybe_error from_proto(const v1::Agent& in, routing::agent& out,
                       const std::string& field = "agent");

/// State only (presence, readiness, wrap-up, load, idle since); the
/// configuration is left as it is in `out`.
maybe_error from_proto(const v1::AgentState& in, routing::agent& out,
                       const std::string& field = "state");

/// Reads a call. An unspecified channel is voice.
maybe_error from_proto(const v1::Call& in, routing::call& out,
                       const std::string& field = "call");

/// Reads a tenant's classification rules; field paths start at the
/// request ("rules[0].conditions[1].values").
maybe_error from_proto(const v1::ClassificationRules& in,
                       routing::classification& out);

std::optional<routing::channel> from_proto(v1::Channel x);
std::optional<routing::presence> from_proto(v1::Presence x);

// -- commands (validating)
// -----------------------------------------------------------------
//
// The fields of a request other than its tenant (checked where the tenant
// is found). `prefix` starts each field path: empty for a unary request,
// "accept_offer." for an Ingest item.

maybe_error check(const v1::GetQueueRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::DeleteQueueRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::GetAgentRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::DeleteAgentRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::GetQueueStatsRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::GetAgentStatsRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::GetCallRequest& in, const std::string& prefix = {});
maybe_error check(const v1::CancelCallRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::CompleteCallRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::SetCallDispositionRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::TransferCallRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::AcceptOfferRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::DeclineOfferRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::RequestCallbackRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::SetAgentPresenceRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::SetAgentReadyRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::ConsultCallRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::ConsultActionRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::EndWrapUpRequest& in,
                  const std::string& prefix = {});
maybe_error check(const v1::ExtendWrapUpRequest& in,
                  const std::string& prefix = {});

/// A wrap-up extension: longer than zero, at most an hour.
maybe_error read_extension(const google::protobuf::Duration& in,
                           routing::duration& out, const std::string& field);

// -- to the API
// -------------------------------------------------------------------

/// The v1::EventType number of an event type.
int32_t event_type_number(routing::event_type t);

void to_proto(const routing::selector& in, v1::Selector& out);
void to_proto(const routing::classification& in, const std::string& tenant_id,
              v1::ClassificationRules& out);
void to_proto(const routing::tenant& in, v1::Tenant& out);
void to_proto(const routing::queue& in, const std::string& tenant_id,
              v1::Queue& out);
void to_proto(const routing::agent& in, const std::string& tenant_id,
              v1::Agent& out);
void to_proto(const routing::agent& in, uint16_t offers_pending,
              v1::AgentState& out);
void to_proto(const routing::call& in, const std::string& tenant_id,
              v1::Call& out);

/// An agent with its state as the engine counts it.
void to_proto(const routing::agent_view& in, const std::string& tenant_id,
              v1::AgentView& out);

/// A live call as clients see it; `position` while it waits, else 0.
void to_proto(const routing::live_call& in, const std::string& tenant_id,
              uint32_t position, v1::CallView& out);

/// A finished call for history.
void to_proto(const routing::live_call& in, v1::CallRecord& out);

/// A live call as a node stores it.
void to_proto(const routing::live_call& in, const std::string& tenant_id,
              v1::StoredCall& out);

/// An event of tenant `tenant_id` with its sequence number.
void to_proto(const routing::event& in, const std::string& tenant_id,
              uint64_t sequence, v1::Event& out);

/// Reads a stored call back.
maybe_error from_proto(const v1::StoredCall& in, routing::live_call& out);

/// The agent's engine counters (missed offers, wrap-up end) from its state.
void from_proto(const v1::AgentState& in, routing::agent_view& out);

v1::AgentStats to_proto(const routing::agent_stats& in,
                        const std::string& tenant_id,
                        const std::string& agent_id);

v1::QueueStats to_proto(const routing::queue_stats& in,
                        const std::string& tenant_id,
                        const std::string& queue_id, routing::duration sla);

/// A stored or trusted timestamp, clamped to Timestamp's valid range.
routing::timestamp read_timestamp(const google::protobuf::Timestamp& in);
/// A timestamp from a request: outside Timestamp's valid range is an error.
maybe_error read_timestamp(const google::protobuf::Timestamp& in,
                           routing::timestamp& out, const std::string& field);
void write_timestamp(routing::timestamp in, google::protobuf::Timestamp& out);
void write_duration(routing::duration in, google::protobuf::Duration& out);

v1::Channel to_proto(routing::channel x);
v1::Presence to_proto(routing::presence x);
v1::CallState to_proto(routing::call_state x);

} // namespace switchboard::api
