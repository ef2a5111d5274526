#include "actors/directory.hpp"

#include "actors/tenant.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <mutex>

namespace switchboard {

namespace {

/// Node-level records live under the empty tenant prefix.
const std::string node_level;

} // namespace

directory::directory(caf::actor_system& sys, storage::store& store,
                     observer* obs, tenant_options options)
  : sys_(sys), store_(store), obs_(obs), options_(options) {
  // Nothing else.
}

caf::error directory::open() {
  std::vector<routing::tenant> stored;
  caf::error failed;
  auto err = store_.scan(storage::family::config,
                         storage::kind_prefix(node_level, 'T'),
                         [&](std::string_view key, std::string_view value) {
                           auto t = storage::decode_tenant(value, key);
                           if (!t) {
                             failed = t.error();
                             return false;
                           }
                           stored.push_back(std::move(*t));
                           return true;
                         });
  if (err)
    return err;
  if (failed)
    return failed;
  for (auto& t : stored) {
    auto actor = spawn_tenant(sys_, store_, t.id, obs_, options_);
    if (!actor)
      return actor.error();
    caf::anon_send(*actor, atom::upsert_v, t);
    std::unique_lock guard{mtx_};
    tenants_[t.id] = entry{t, *actor};
  }
  return {};
}

caf::expected<routing::tenant> directory::upsert(routing::tenant t) {
  std::unique_lock guard{mtx_};
  storage::batch b;
  b.put(storage::family::config, storage::tenant_key(t.id), storage::encode(t));
  if (auto err = store_.write(b))
    return err;
  if (auto i = tenants_.find(t.id); i != tenants_.end()) {
    i->second.config = t;
    caf::anon_send(i->second.actor, atom::upsert_v, t);
    return t;
  }
  auto actor = spawn_tenant(sys_, store_, t.id, obs_, options_);
  if (!actor)
    return actor.error();
  caf::anon_send(*actor, atom::upsert_v, t);
  tenants_[t.id] = entry{t, *actor};
  return t;
}

std::optional<tenant_actor> directory::find(const std::string& id) const {
  std::shared_lock guard{mtx_};
  auto i = tenants_.find(id);
  if (i == tenants_.end())
    return std::nullopt;
  return i->second.actor;
}

std::optional<routing::tenant> directory::get(const std::string& id) const {
  std::shared_lock guard{mtx_};
  auto i = tenants_.find(id);
  if (i == tenants_.end())
    return std::nullopt;
  return i->second.config;
}

std::vector<routing::tenant> directory::list() const {
  std::shared_lock guard{mtx_};
  std::vector<routing::tenant> result;
  for (auto& [id, e] : tenants_)
    result.push_back(e.config);
  return result;
}

std::vector<std::pair<std::string, tenant_actor>> directory::actors() const {
  std::shared_lock guard{mtx_};
  std::vector<std::pair<std::string, tenant_actor>> result;
  for (auto& [id, e] : tenants_)
    result.emplace_back(id, e.actor);
  return result;
}

} // namespace switchboard
