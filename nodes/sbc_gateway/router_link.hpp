#pragma once

// The SBC gateway's names for the shared router link, and the attributes
// it puts on every call it submits.

#include "nodes/gateway/router_link.hpp"

namespace switchboard::sbc {

using gateway::agent_lookup;
using gateway::command_result;
using gateway::engine_command;
using gateway::engine_event;
using gateway::live_call;
using gateway::router_link;

/// Attributes the gateway sets on every call it submits: its own name
/// (after a restart it finds its calls by it), the trunk FQDN the call
/// came by, and the SBC it came from as "transport:host:port" (a callback
/// goes out the same way, perhaps hours later).
inline constexpr const char* owner_attribute = "sbc_gateway";
inline constexpr const char* trunk_attribute = "sbc_trunk";
inline constexpr const char* route_attribute = "sbc_route";

} // namespace switchboard::sbc
