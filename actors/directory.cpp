#include "actors/directory.hpp"

#include "actors/tenant.hpp"
#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
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
  // A tenant record that does not decode is set aside; the tenant starts
  // with default settings, so its queues, agents and calls are served.
  storage::batch aside;
  auto prefix = storage::kind_prefix(node_level, 'T');
  auto err = store_.scan(
    storage::family::config, prefix,
    [&](std::string_view key, std::string_view value) {
      auto t = storage::decode_tenant(value, key);
      if (!t) {
        routing::tenant fallback;
        fallback.id = std::string{key.substr(prefix.size())};
        aside.put(
          storage::family::config,
          storage::set_aside_key(node_level, storage::family::config, key),
          std::string{value});
        aside.put(storage::family::config, std::string{key},
                  storage::encode(fallback));
        if (obs_ != nullptr)
          obs_->set_aside(fallback.id, storage::printable(key),
                          render(t.error())
                            + "; the tenant starts with default settings");
        t = std::move(fallback);
      }
      stored.push_back(std::move(*t));
      return true;
    });
  if (err)
    return err;
  if (!aside.empty())
    if (auto werr = store_.write(aside))
      return werr;
  std::unique_lock guard{mtx_};
  for (auto& t : stored)
    if (auto actor = start(t); !actor)
      return actor.error();
  return {};
}

caf::expected<tenant_actor> directory::start(const routing::tenant& t) {
  auto actor = spawn_tenant(sys_, store_, t.id, obs_, options_);
  if (!actor)
    return actor.error();
  caf::anon_send(*actor, atom::upsert_v, t);
  tenants_[t.id] = entry{t, *actor};
  return actor;
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
  if (auto actor = start(t); !actor)
    return actor.error();
  return t;
}

caf::expected<tenant_actor> directory::adopt(const routing::tenant& t,
                                             const record_set& records) {
  storage::batch b;
  auto prefix = storage::tenant_prefix(t.id);
  for (size_t i = 0; i < records.keys.size(); ++i) {
    // Only the tenant's own keys: a record set cannot write elsewhere.
    if (records.keys[i].compare(0, prefix.size(), prefix) != 0
        || records.families[i] >= storage::family_count)
      return caf::make_error(ec::bad_record,
                             "a record handed over with tenant '" + t.id
                               + "' is not one of its records");
    b.put(static_cast<storage::family>(records.families[i]), records.keys[i],
          records.values[i]);
  }
  b.put(storage::family::config, storage::tenant_key(t.id), storage::encode(t));
  if (auto err = store_.write(b))
    return err;
  std::unique_lock guard{mtx_};
  return start(t);
}

caf::error directory::release(const std::string& id) {
  auto prefix = storage::tenant_prefix(id);
  // Every key of the tenant starts with its prefix, and no other tenant's
  // does; each continues with an ASCII kind letter, so the prefix followed
  // by 0xff bounds them all.
  auto end = prefix + '\xff';
  storage::batch b;
  for (size_t f = 0; f < storage::family_count; ++f)
    b.erase_range(static_cast<storage::family>(f), prefix, end);
  b.erase(storage::family::config, storage::tenant_key(id));
  if (auto err = store_.write(b))
    return err;
  std::unique_lock guard{mtx_};
  tenants_.erase(id);
  return {};
}

caf::expected<tenant_actor> directory::restart(const std::string& id) {
  std::unique_lock guard{mtx_};
  auto i = tenants_.find(id);
  if (i == tenants_.end())
    return caf::make_error(ec::not_found, "tenant '" + id + "' is not here");
  auto config = i->second.config;
  return start(config);
}

size_t directory::stop(caf::timespan timeout) {
  auto running = actors();
  caf::scoped_actor self{sys_};
  for (auto& [id, actor] : running) {
    self->monitor(actor);
    self->send_exit(actor, caf::exit_reason::user_shutdown);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t left = running.size();
  while (left > 0) {
    auto wait = std::chrono::duration_cast<caf::timespan>(
      deadline - std::chrono::steady_clock::now());
    if (wait.count() <= 0)
      break;
    bool timed_out = false;
    self->receive(
      [&](const caf::down_msg&) {
        --left;
      },
      caf::after(wait) >>
        [&] {
          timed_out = true;
        });
    if (timed_out)
      break;
  }
  return left;
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
