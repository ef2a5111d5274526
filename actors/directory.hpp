#pragma once

#include "actors/actors.hpp"
#include "actors/observer.hpp"
#include "actors/tenant.hpp"
#include "routing/model.hpp"
#include "storage/store.hpp"

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace switchboard {

/// The tenants of a node and their actors. Safe to use from any thread:
/// the gRPC handlers look a tenant up here without asking an actor.
/// Tenant records are node-level: stored under the empty tenant prefix,
/// which no tenant has (tenant ids are not empty).
class directory {
 public:
  directory(caf::actor_system& sys, storage::store& store,
            observer* obs = nullptr, tenant_options options = {});

  /// Spawns every stored tenant, rebuilt from the store.
  caf::error open();

  /// Creates or replaces a tenant; a new one gets its actor.
  caf::expected<routing::tenant> upsert(routing::tenant t);

  /// A tenant moving here: stores its records and its own record in one
  /// write, then starts its actor from the store.
  caf::expected<tenant_actor> adopt(const routing::tenant& t,
                                    const record_set& records);

  /// A tenant that moved away: deletes every record of it and forgets it.
  caf::error release(const std::string& id);

  /// Starts a tenant's actor again from the store (after a move that did
  /// not complete stopped it).
  caf::expected<tenant_actor> restart(const std::string& id);

  /// Stops every tenant's actor, each after writing and answering what it
  /// has pending, and waits until they are gone or `timeout` passed;
  /// returns how many did not stop in time. The node's shutdown: nothing
  /// may start a tenant after it.
  size_t stop(caf::timespan timeout);

  std::optional<tenant_actor> find(const std::string& id) const;

  std::optional<routing::tenant> get(const std::string& id) const;

  /// Every tenant, ordered by id.
  std::vector<routing::tenant> list() const;

  /// Every tenant's actor, ordered by tenant id.
  std::vector<std::pair<std::string, tenant_actor>> actors() const;

 private:
  /// Spawns a tenant's actor from the store and registers it; holds mtx_.
  caf::expected<tenant_actor> start(const routing::tenant& t);

  struct entry {
    routing::tenant config;
    tenant_actor actor;
  };

  caf::actor_system& sys_;
  storage::store& store_;
  observer* obs_;
  tenant_options options_;
  mutable std::shared_mutex mtx_;
  std::map<std::string, entry> tenants_;
};

} // namespace switchboard
