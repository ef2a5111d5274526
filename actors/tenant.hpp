#pragma once

#include "actors/actors.hpp"
#include "storage/store.hpp"

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <map>
#include <string>

namespace switchboard {

struct tenant_state {
  static constexpr const char* name = "tenant";

  std::string tenant_id;
  /// Shared by every actor of the node; RocksDB is safe to use from
  /// several threads.
  storage::store* store = nullptr;
  std::map<std::string, routing::queue> queues;
  std::map<std::string, routing::agent> agents;
};

tenant_actor::behavior_type
tenant(tenant_actor::stateful_pointer<tenant_state> self, tenant_state initial);

/// Reads the tenant's configuration from `store` and spawns its actor.
/// Fails if a stored record does not decode.
caf::expected<tenant_actor> spawn_tenant(caf::actor_system& sys,
                                         storage::store& store,
                                         const std::string& tenant_id);

} // namespace switchboard
