#pragma once

// Between the public API (switchboard.v1 messages) and the routing core's
// types. Reading from the API validates: bad input becomes a field_error
// naming the field by its path in the request, which the services return
// as INVALID_ARGUMENT. The store keeps its records as these messages too
// (storage/records.hpp), so stored data evolves by protobuf's rules.

#include "routing/model.hpp"

#include "switchboard/v1/common.pb.h"

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

std::optional<routing::channel> from_proto(v1::Channel x);
std::optional<routing::presence> from_proto(v1::Presence x);

// -- to the API
// -------------------------------------------------------------------

void to_proto(const routing::selector& in, v1::Selector& out);
void to_proto(const routing::tenant& in, v1::Tenant& out);
void to_proto(const routing::queue& in, const std::string& tenant_id,
              v1::Queue& out);
void to_proto(const routing::agent& in, const std::string& tenant_id,
              v1::Agent& out);
void to_proto(const routing::agent& in, uint16_t offers_pending,
              v1::AgentState& out);
void to_proto(const routing::call& in, const std::string& tenant_id,
              v1::Call& out);

v1::Channel to_proto(routing::channel x);
v1::Presence to_proto(routing::presence x);
v1::CallState to_proto(routing::call_state x);

} // namespace switchboard::api
