#pragma once

// The records a node stores, as bytes. Records are the public API's
// protobuf messages (switchboard.v1), so stored data evolves by protobuf's
// compatibility rules across upgrades, and events can be streamed to
// subscribers exactly as stored. Decoding validates like the API does: a
// record that does not decode is a bad_record error naming its key.

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

} // namespace switchboard::storage
