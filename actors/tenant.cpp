#include "actors/tenant.hpp"

#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"

#include <caf/actor_system.hpp>
#include <caf/result.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace switchboard {

namespace {

using storage::family;
using storage::record_key;

caf::error not_found(const tenant_state& st, const char* what,
                     const std::string& id) {
  return caf::make_error(ec::not_found, std::string{what} + " '" + id
                                          + "' does not exist in tenant '"
                                          + st.tenant_id + "'");
}

/// The object with `id` in `objects`, or not_found naming it.
template<class Map>
caf::result<typename Map::mapped_type>
find_in(const Map& objects, const tenant_state& st, const char* what,
        const std::string& id) {
  auto i = objects.find(id);
  if (i == objects.end())
    return not_found(st, what, id);
  return i->second;
}

/// Every object in `objects`, ordered by id.
template<class Map>
std::vector<typename Map::mapped_type> all_of(const Map& objects) {
  std::vector<typename Map::mapped_type> result;
  result.reserve(objects.size());
  for (auto& [id, x] : objects)
    result.push_back(x);
  return result;
}

bool holds_work(const routing::agent& a) {
  for (auto n : a.load)
    if (n > 0)
      return true;
  return false;
}

} // namespace

tenant_actor::behavior_type
tenant(tenant_actor::stateful_pointer<tenant_state> self,
       tenant_state initial) {
  self->state = std::move(initial);
  // The store is written synchronously: a few microseconds per change
  // without sync writes. Batching changes into group commits is the
  // store's next step (bench/README.md, store figures).
  return {
    [self](atom::upsert, routing::queue& q) -> caf::result<routing::queue> {
      auto& st = self->state;
      storage::batch b;
      b.put(family::config, record_key(st.tenant_id, 'Q', q.id),
            storage::encode(q, st.tenant_id));
      if (auto err = st.store->write(b))
        return err;
      st.queues[q.id] = q;
      return q;
    },
    [self](atom::get, atom::queue, const std::string& id) {
      return find_in(self->state.queues, self->state, "queue", id);
    },
    [self](atom::list, atom::queue) {
      return all_of(self->state.queues);
    },
    [self](atom::erase, atom::queue,
           const std::string& id) -> caf::result<atom::ok> {
      auto& st = self->state;
      if (st.queues.count(id) == 0)
        return not_found(st, "queue", id);
      storage::batch b;
      b.erase(family::config, record_key(st.tenant_id, 'Q', id));
      if (auto err = st.store->write(b))
        return err;
      st.queues.erase(id);
      return atom::ok_v;
    },
    [self](atom::upsert, routing::agent& a) -> caf::result<routing::agent> {
      auto& st = self->state;
      auto i = st.agents.find(a.id);
      storage::batch b;
      auto key = record_key(st.tenant_id, 'A', a.id);
      if (i != st.agents.end()) {
        // Configuration replaced, state kept.
        auto& old = i->second;
        a.pres = old.pres;
        a.ready = old.ready;
        a.not_ready_reason = old.not_ready_reason;
        a.in_wrap_up = old.in_wrap_up;
        a.load = old.load;
        a.idle_since = old.idle_since;
      } else {
        a.pres = routing::presence::offline;
        a.ready = false;
        a.not_ready_reason.clear();
        a.in_wrap_up = false;
        a.load = {};
        b.put(family::live, key, storage::encode_agent_state(a, 0));
      }
      b.put(family::config, key, storage::encode_agent_config(a, st.tenant_id));
      if (auto err = st.store->write(b))
        return err;
      st.agents[a.id] = a;
      return a;
    },
    [self](atom::get, atom::agent, const std::string& id) {
      return find_in(self->state.agents, self->state, "agent", id);
    },
    [self](atom::list, atom::agent) {
      return all_of(self->state.agents);
    },
    [self](atom::erase, atom::agent,
           const std::string& id) -> caf::result<atom::ok> {
      auto& st = self->state;
      auto i = st.agents.find(id);
      if (i == st.agents.end())
        return not_found(st, "agent", id);
      if (holds_work(i->second))
        return caf::make_error(ec::failed_precondition,
                               "agent '" + id + "' of tenant '" + st.tenant_id
                                 + "' holds work; end it first");
      auto key = record_key(st.tenant_id, 'A', id);
      storage::batch b;
      b.erase(family::config, key);
      b.erase(family::live, key);
      if (auto err = st.store->write(b))
        return err;
      st.agents.erase(i);
      return atom::ok_v;
    },
  };
}

caf::expected<tenant_actor> spawn_tenant(caf::actor_system& sys,
                                         storage::store& store,
                                         const std::string& tenant_id) {
  tenant_state initial;
  initial.tenant_id = tenant_id;
  initial.store = &store;
  caf::error failed;
  auto scan_err
    = store.scan(family::config, storage::kind_prefix(tenant_id, 'Q'),
                 [&](std::string_view key, std::string_view value) {
                   auto q = storage::decode_queue(value, key);
                   if (!q) {
                     failed = q.error();
                     return false;
                   }
                   initial.queues[q->id] = std::move(*q);
                   return true;
                 });
  if (scan_err)
    return scan_err;
  if (failed)
    return failed;
  scan_err = store.scan(family::config, storage::kind_prefix(tenant_id, 'A'),
                        [&](std::string_view key, std::string_view value) {
                          auto state = store.get(family::live, key);
                          if (!state) {
                            failed = state.error();
                            return false;
                          }
                          auto a = storage::decode_agent(
                            value, state->value_or(""), key);
                          if (!a) {
                            failed = a.error();
                            return false;
                          }
                          initial.agents[a->id] = std::move(*a);
                          return true;
                        });
  if (scan_err)
    return scan_err;
  if (failed)
    return failed;
  return sys.spawn(tenant, std::move(initial));
}

} // namespace switchboard
