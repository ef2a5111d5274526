#pragma once

// What a request of the API is about, read from its fields: the tenant,
// agent and call its caller's rights are checked against.

#include "nodes/router/access.hpp"

namespace google::protobuf {
class Message;
} // namespace google::protobuf

namespace switchboard::router {

/// The request's tenant_id, agent_id and call_id, at its top level or in
/// the one object it carries (UpsertQueue's queue, SubmitCall's call,
/// UpsertTenant's tenant).
access::target target_of(const google::protobuf::Message& m);

} // namespace switchboard::router
