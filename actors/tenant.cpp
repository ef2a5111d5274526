#include "actors/tenant.hpp"

#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace switchboard {

namespace {

using storage::family;
using storage::record_key;
using self_ptr = tenant_actor::stateful_pointer<tenant_state>;

ec to_ec(routing::errc x) {
  switch (x) {
    case routing::errc::ok: return ec::none;
    case routing::errc::invalid_argument: return ec::invalid_argument;
    case routing::errc::not_found: return ec::not_found;
    case routing::errc::failed_precondition: return ec::failed_precondition;
    case routing::errc::resource_exhausted: return ec::resource_exhausted;
  }
  return ec::failed_precondition;
}

caf::error to_error(const routing::status& st) {
  return caf::make_error(to_ec(st.code), st.message);
}

routing::timestamp now_of(self_ptr self) {
  auto& st = self->state;
  return st.wall_base
         + std::chrono::duration_cast<routing::duration>(self->clock().now()
                                                         - st.clock_base);
}

std::string idempotency_key(const tenant_state& st, const std::string& id) {
  return record_key(st.tenant_id, 'I', "e:" + id);
}

std::string finished_key(const tenant_state& st, const std::string& call_id) {
  return record_key(st.tenant_id, 'I', "c:" + call_id);
}

/// Moves what the engine changed into the pending write: live records,
/// history, events (numbered here), the tenant's sequence.
void stage_changes(self_ptr self) {
  auto& st = self->state;
  auto changed = st.engine.take_changes();
  if (changed.empty())
    return;
  for (auto& id : changed.calls)
    if (auto* c = st.engine.find_call(id))
      st.batch.put(family::live, record_key(st.tenant_id, 'C', id),
                   storage::encode_call(*c, st.tenant_id));
  for (auto& c : changed.finished) {
    auto hkey = storage::history_key(st.tenant_id, c);
    st.batch.erase(family::live, record_key(st.tenant_id, 'C', c.data.id));
    st.batch.put(family::history, hkey,
                 storage::encode_history(c, st.tenant_id));
    st.batch.put(family::idempotency, finished_key(st, c.data.id), hkey);
    for (auto& o : c.offers)
      if (st.obs != nullptr && o.outcome == "withdrawn")
        st.obs->offer_ended(o.outcome);
  }
  for (auto& caller : changed.callers) {
    auto key = storage::last_agent_key(st.tenant_id, caller);
    if (auto last = st.engine.last_agent_of(caller))
      st.batch.put(family::live, key, storage::encode(*last));
    else
      st.batch.erase(family::live, key);
  }
  for (auto& id : changed.agents)
    if (auto a = st.engine.find_agent(id))
      st.batch.put(family::live, record_key(st.tenant_id, 'A', id),
                   storage::encode_agent_state(*a));
  for (auto& e : changed.events) {
    ++st.sequence;
    auto bytes = storage::encode_event(e, st.tenant_id, st.sequence);
    if (st.obs != nullptr) {
      switch (e.type) {
        case routing::event_type::call_assigned:
          st.obs->offer_ended("accepted");
          break;
        case routing::event_type::offer_declined:
          st.obs->offer_ended("declined");
          break;
        case routing::event_type::offer_expired:
          st.obs->offer_ended("expired");
          break;
        default: break;
      }
    }
    if (e.type == routing::event_type::call_offered)
      st.offers_made.push_back(self->clock().now());
    // Encoded once: stored, then sent to subscribers as these bytes.
    st.batch.put(family::events, storage::event_key(st.tenant_id, st.sequence),
                 bytes);
    // Who changed the configuration is kept as long as the call history,
    // past the events' own retention.
    if (e.type == routing::event_type::configuration_changed)
      st.batch.put(family::history,
                   storage::change_key(st.tenant_id, e.at, st.sequence), bytes);
    if (st.events.events.empty())
      st.events.first_sequence = st.sequence;
    st.events.types.push_back(storage::event_type_number(e.type));
    st.events.events.push_back(std::move(bytes));
  }
  st.batch.put(family::live, storage::sequence_key(st.tenant_id),
               storage::encode_sequence(st.sequence));
}

void schedule_flush(self_ptr self) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  st.flush_scheduled = true;
  // Queued behind the messages already waiting: every command that arrives
  // before the flush runs shares its write (group commit).
  caf::anon_send(caf::actor_cast<tenant_actor>(self), atom::flush_v);
}

/// Sets a timer for the engine's next deadline if none earlier is set.
void arm(self_ptr self) {
  auto& st = self->state;
  auto next = st.engine.next_deadline();
  if (!next || (st.tick_at && *st.tick_at <= *next))
    return;
  st.tick_at = next;
  auto delay = std::max(routing::duration{0}, *next - now_of(self));
  self->delayed_send(self, delay, atom::tick_v);
}

/// Writes the pending group, then answers and publishes it. A failed write
/// fails every command of the group and stops the actor: its memory is
/// ahead of the store, and the node rebuilds the tenant from what was
/// written.
void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.batch.empty() && st.replies.empty())
    return;
  auto started = std::chrono::steady_clock::now();
  auto err = st.batch.empty() ? caf::error{} : st.store->write(st.batch);
  auto took = std::chrono::steady_clock::now() - started;
  if (st.obs != nullptr && !st.batch.empty())
    st.obs->store_write(took, st.batch.entries().size());
  auto failures = std::move(st.failures);
  auto replies = std::move(st.replies);
  auto events = std::move(st.events);
  auto offers = std::move(st.offers_made);
  st.batch = storage::batch{};
  st.keys.clear();
  st.failures.clear();
  st.replies.clear();
  st.events = event_batch{};
  st.offers_made.clear();
  if (err) {
    for (auto& f : failures)
      f(err);
    self->quit(err);
    return;
  }
  for (auto& r : replies)
    r();
  if (st.obs != nullptr) {
    auto done = self->clock().now();
    for (auto t : offers)
      st.obs->routed(done - t);
  }
  // One message per sink and write, not per event.
  if (!events.events.empty())
    for (auto& sink : st.sinks)
      caf::anon_send(sink, atom::event_v, events);
  arm(self);
}

/// The error a repeated idempotency key answers with, or none if the key
/// is new.
caf::error check_repeat(self_ptr self, const std::string& event_id) {
  auto& st = self->state;
  if (event_id.empty())
    return {};
  auto key = idempotency_key(st, event_id);
  if (auto i = st.keys.find(key); i != st.keys.end())
    return caf::make_error(ec::duplicate, i->second);
  auto found = st.store->get(family::idempotency, key);
  if (!found)
    return found.error();
  if (*found)
    return caf::make_error(ec::duplicate, **found);
  return {};
}

/// Deletes the events that happened before the event retention, at most
/// `max_expired` per audit. Sequences go on from where they were; a
/// subscriber resuming from a deleted event is told so.
void expire_events(self_ptr self) {
  constexpr size_t max_expired = 100'000;
  auto& st = self->state;
  if (st.options.event_retention.count() <= 0)
    return;
  auto cutoff = now_of(self) - st.options.event_retention;
  auto begin = storage::kind_prefix(st.tenant_id, 'E');
  std::optional<uint64_t> last_expired;
  size_t expired = 0;
  auto err = st.store->scan(
    family::events, begin, [&](std::string_view key, std::string_view value) {
      auto at = storage::event_time(value);
      auto seq = storage::event_sequence(key);
      if (expired == max_expired || !at || !seq || *at >= cutoff)
        return false;
      last_expired = seq;
      ++expired;
      return true;
    });
  // A failed read deletes nothing; the next audit tries again.
  // Up to the last expired one only: events of this group not yet written
  // are in the same batch and must stay.
  if (!err && last_expired)
    st.batch.erase_range(family::events, begin,
                         storage::event_key(st.tenant_id, *last_expired + 1));
}

/// Deletes the history of calls that ended before the retention, with the
/// keys that let GetCall and repeated submits find them, at most
/// `max_expired` calls per audit so that a long backlog does not hold up
/// the tenant; and the configuration changes made before it.
void expire_history(self_ptr self) {
  constexpr size_t max_expired = 100'000;
  auto& st = self->state;
  auto retention = st.tenant_history_retention.count() > 0
                     ? st.tenant_history_retention
                     : st.options.history_retention;
  if (retention.count() <= 0)
    return;
  auto begin = storage::kind_prefix(st.tenant_id, 'H');
  auto end = storage::history_start_key(st.tenant_id, now_of(self) - retention);
  // The ids are the keys' tails: no record is decoded.
  auto id_at = begin.size() + 8;
  size_t expired = 0;
  auto err = st.store->scan(
    family::history, begin, [&](std::string_view key, std::string_view) {
      if (key >= end)
        return false;
      if (expired == max_expired) {
        end = std::string{key};
        return false;
      }
      st.batch.erase(family::idempotency,
                     finished_key(st, std::string{key.substr(id_at)}));
      ++expired;
      return true;
    });
  if (err)
    return;
  if (expired > 0)
    st.batch.erase_range(family::history, begin, end);
  st.batch.erase_range(
    family::history, storage::kind_prefix(st.tenant_id, 'K'),
    storage::change_start_key(st.tenant_id, now_of(self) - retention));
  schedule_flush(self);
}

/// Stores the minutes of queue statistics counted since the last audit,
/// and deletes those that left the day the windows cover.
void store_minutes(self_ptr self) {
  auto& st = self->state;
  auto counted = st.engine.take_counted_minutes();
  if (counted.empty())
    return;
  std::set<std::string> queues;
  for (auto& [queue_id, m] : counted) {
    st.batch.put(family::live,
                 storage::minute_key(st.tenant_id, queue_id, m.minute),
                 storage::encode(m));
    queues.insert(queue_id);
  }
  auto oldest = std::chrono::duration_cast<std::chrono::minutes>(
                  now_of(self).time_since_epoch())
                  .count()
                - 24 * 60;
  for (auto& queue_id : queues)
    st.batch.erase_range(family::live,
                         storage::minute_key(st.tenant_id, queue_id, 0),
                         storage::minute_key(st.tenant_id, queue_id, oldest));
  schedule_flush(self);
}

/// Applies a command: `apply` changes the engine and returns its status;
/// `reply` computes the answer after it. The answer (or the refusal, which
/// an idempotency key records too) is delivered after the group's write.
template<class Reply, class Apply, class MakeReply>
caf::result<Reply> command(self_ptr self, const std::string& event_id,
                           Apply apply, MakeReply reply) {
  auto& st = self->state;
  if (auto err = check_repeat(self, event_id))
    return err;
  st.now = now_of(self);
  st.engine.advance(st.now);
  routing::status outcome = apply(st.now);
  if (!event_id.empty()) {
    auto key = idempotency_key(st, event_id);
    auto first = std::to_string(static_cast<int>(to_ec(outcome.code))) + "|"
                 + outcome.message;
    st.batch.put(family::idempotency, key, first);
    st.keys.insert_or_assign(key, std::move(first));
  }
  // The answer first: a call the command ended is still among the
  // engine's pending changes until they are staged.
  std::optional<Reply> answer;
  if (outcome)
    answer = reply();
  stage_changes(self);
  auto promise = self->template make_response_promise<Reply>();
  if (outcome) {
    st.replies.push_back([promise, value = std::move(*answer)]() mutable {
      promise.deliver(value);
    });
  } else {
    st.replies.push_back([promise, err = to_error(outcome)]() mutable {
      promise.deliver(err);
    });
  }
  st.failures.push_back([promise](const caf::error& err) mutable {
    promise.deliver(err);
  });
  stage_changes(self);
  schedule_flush(self);
  return promise;
}

/// A call as it is now: live, or as the command being answered ended it
/// (still in the engine's pending changes).
call_reply reply_for(const tenant_state& st, const std::string& call_id,
                     bool already = false) {
  call_reply result;
  if (auto* live = st.engine.find_call(call_id)) {
    result.call = *live;
    result.position = st.engine.position(call_id);
    if (result.position > 0)
      result.estimated_wait = st.engine.estimated_wait(live->data.queue_id,
                                                       result.position, st.now);
  } else {
    for (auto& ended : st.engine.pending().finished)
      if (ended.data.id == call_id)
        result.call = ended;
  }
  result.already_submitted = already;
  return result;
}

/// The id of the newest consult or conference leg of `call_id`, or empty.
std::string open_leg(const tenant_state& st, const std::string& call_id) {
  auto legs = st.engine.legs_of(call_id);
  return legs.empty() ? std::string{} : legs.back();
}

/// A finished call from history, or nothing if the call was never seen.
caf::expected<std::optional<call_reply>>
finished_call(self_ptr self, const std::string& call_id, bool already) {
  auto& st = self->state;
  auto hkey = st.store->get(family::idempotency, finished_key(st, call_id));
  if (!hkey)
    return hkey.error();
  if (!*hkey)
    return std::optional<call_reply>{};
  auto bytes = st.store->get(family::history, **hkey);
  if (!bytes)
    return bytes.error();
  if (!*bytes)
    return caf::make_error(ec::storage_corrupt,
                           "history of call '" + call_id + "' of tenant '"
                             + st.tenant_id + "' is missing");
  auto record = storage::decode_call(**bytes, **hkey);
  if (!record)
    return record.error();
  call_reply result;
  result.call = std::move(*record);
  result.already_submitted = already;
  return std::optional<call_reply>{std::move(result)};
}

caf::error call_missing(const tenant_state& st, const std::string& id) {
  return caf::make_error(ec::not_found, "call '" + id
                                          + "' does not exist in tenant '"
                                          + st.tenant_id + "'");
}

caf::error agent_missing(const tenant_state& st, const std::string& id) {
  return caf::make_error(ec::not_found, "agent '" + id
                                          + "' does not exist in tenant '"
                                          + st.tenant_id + "'");
}

} // namespace

tenant_actor::behavior_type tenant(self_ptr self,
                                   std::shared_ptr<tenant_state> init) {
  self->state = std::move(*init);
  init.reset();
  self->state.wall_base
    = routing::timestamp{std::chrono::duration_cast<routing::duration>(
      std::chrono::system_clock::now().time_since_epoch())};
  self->state.clock_base = self->clock().now();
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& sinks = self->state.sinks;
    sinks.erase(std::remove_if(sinks.begin(), sinks.end(),
                               [&](const caf::actor& x) {
                                 return x.address() == down.source;
                               }),
                sinks.end());
  });
  // Stopped by its node: what is applied but not yet written is written
  // and answered first, so that nothing acknowledged is lost and no
  // request waits for an answer that never comes.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    stage_changes(self);
    flush(self);
    self->quit(msg.reason);
  });
  // What recovery changed (offers expired while the node was down, calls
  // routed to agents they freed) is written before anything else.
  stage_changes(self);
  if (!self->state.batch.empty())
    schedule_flush(self);
  arm(self);
  self->delayed_send(self, self->state.options.audit_every, atom::audit_v);
  return {
    // -- configuration --
    [self](atom::upsert, routing::queue& q,
           std::string& by) -> caf::result<routing::queue> {
      return command<routing::queue>(
        self, {},
        [&](routing::timestamp now) {
          auto st = self->state.engine.upsert_queue(q, now);
          if (st) {
            self->state.batch.put(family::config,
                                  record_key(self->state.tenant_id, 'Q', q.id),
                                  storage::encode(q, self->state.tenant_id));
            self->state.engine.record_change(
              {"UpsertQueue", "queue", q.id, std::move(by)}, now);
          }
          return st;
        },
        [&] {
          return q;
        });
    },
    [self](atom::get, atom::queue,
           const std::string& id) -> caf::result<routing::queue> {
      if (auto* q = self->state.engine.find_queue(id))
        return *q;
      return caf::make_error(ec::not_found, "queue '" + id
                                              + "' does not exist in tenant '"
                                              + self->state.tenant_id + "'");
    },
    [self](atom::list, atom::queue) {
      return self->state.engine.queues();
    },
    [self](atom::erase, atom::queue, const std::string& id,
           std::string& by) -> caf::result<atom::ok> {
      return command<atom::ok>(
        self, {},
        [&](routing::timestamp now) {
          auto st = self->state.engine.remove_queue(id, now);
          if (st) {
            self->state.batch.erase(family::config,
                                    record_key(self->state.tenant_id, 'Q', id));
            self->state.engine.record_change(
              {"DeleteQueue", "queue", id, std::move(by)}, now);
          }
          return st;
        },
        [] {
          return atom::ok_v;
        });
    },
    [self](atom::upsert, routing::agent& a,
           std::string& by) -> caf::result<routing::agent_view> {
      auto id = a.id;
      return command<routing::agent_view>(
        self, {},
        [&](routing::timestamp now) {
          auto st = self->state.engine.upsert_agent(a, now);
          if (st) {
            self->state.batch.put(
              family::config, record_key(self->state.tenant_id, 'A', id),
              storage::encode_agent_config(a, self->state.tenant_id));
            self->state.engine.record_change(
              {"UpsertAgent", "agent", id, std::move(by)}, now);
          }
          return st;
        },
        [&] {
          return *self->state.engine.find_agent(id);
        });
    },
    [self](atom::upsert, routing::classification& c,
           std::string& by) -> caf::result<routing::classification> {
      return command<routing::classification>(
        self, {},
        [&](routing::timestamp now) {
          auto& st = self->state;
          auto applied = st.engine.set_classification(std::move(c));
          if (applied) {
            st.batch.put(
              family::config, storage::classification_key(st.tenant_id),
              storage::encode(st.engine.classification(), st.tenant_id));
            st.engine.record_change({"UpsertClassificationRules",
                                     "classification_rules", st.tenant_id,
                                     std::move(by)},
                                    now);
          }
          return applied;
        },
        [&] {
          return self->state.engine.classification();
        });
    },
    [self](atom::get, atom::rules) {
      return self->state.engine.classification();
    },
    [self](atom::get, atom::agent,
           const std::string& id) -> caf::result<routing::agent_view> {
      if (auto a = self->state.engine.find_agent(id))
        return std::move(*a);
      return agent_missing(self->state, id);
    },
    [self](atom::list, atom::agent) {
      return self->state.engine.agents();
    },
    [self](atom::erase, atom::agent, const std::string& id,
           std::string& by) -> caf::result<atom::ok> {
      return command<atom::ok>(
        self, {},
        [&](routing::timestamp now) {
          auto st = self->state.engine.remove_agent(id, now);
          if (st) {
            auto key = record_key(self->state.tenant_id, 'A', id);
            self->state.batch.erase(family::config, key);
            self->state.batch.erase(family::live, key);
            self->state.engine.record_change(
              {"DeleteAgent", "agent", id, std::move(by)}, now);
          }
          return st;
        },
        [] {
          return atom::ok_v;
        });
    },
    // -- calls --
    [self](atom::submit, routing::call& c,
           const std::string& event_id) -> caf::result<call_reply> {
      auto& st = self->state;
      st.now = now_of(self);
      auto id = c.id;
      if (st.engine.find_call(id) != nullptr) {
        if (auto err = check_repeat(self, event_id))
          return err;
        return reply_for(st, id, true);
      }
      // A call that ended before is reported as it ended.
      auto finished = finished_call(self, id, true);
      if (!finished)
        return finished.error();
      if (*finished) {
        if (auto err = check_repeat(self, event_id))
          return err;
        return std::move(**finished);
      }
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.submit(c, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::get, atom::call,
           const std::string& id) -> caf::result<call_reply> {
      self->state.now = now_of(self);
      if (self->state.engine.find_call(id) != nullptr)
        return reply_for(self->state, id);
      auto finished = finished_call(self, id, false);
      if (!finished)
        return finished.error();
      if (!*finished)
        return call_missing(self->state, id);
      return std::move(**finished);
    },
    [self](atom::list, atom::call) {
      std::vector<call_reply> result;
      auto places = self->state.engine.positions();
      for (auto* c : self->state.engine.calls()) {
        call_reply r;
        r.call = *c;
        if (auto i = places.find(c->data.id); i != places.end())
          r.position = i->second;
        result.push_back(std::move(r));
      }
      return result;
    },
    [self](atom::cancel, const std::string& id, bool hung_up,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.cancel(id, hung_up, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::consult, const std::string& id, const std::string& queue_id,
           const std::string& agent_id,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.consult(id, queue_id, agent_id, now);
        },
        [&] {
          return reply_for(self->state, open_leg(self->state, id));
        });
    },
    [self](atom::consult, atom::complete, const std::string& id,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.complete_consult(id, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::join, const std::string& id,
           const std::string& event_id) -> caf::result<call_reply> {
      std::string leg;
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          leg = open_leg(self->state, id);
          return self->state.engine.join_consult(id, now);
        },
        [&] {
          return reply_for(self->state, leg);
        });
    },
    [self](atom::callback, const std::string& id, const std::string& number,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.request_callback(id, number, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::complete, const std::string& id,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.complete(id, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::transfer, const std::string& id, const std::string& kind,
           const std::string& target,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.transfer(id, {kind, target}, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::accept, const std::string& id, const std::string& agent_id,
           const std::string& offer_id,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.accept(id, agent_id, offer_id, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::decline, const std::string& id, const std::string& agent_id,
           const std::string& offer_id,
           const std::string& event_id) -> caf::result<call_reply> {
      return command<call_reply>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.decline(id, agent_id, offer_id, now);
        },
        [&] {
          return reply_for(self->state, id);
        });
    },
    [self](atom::outcome, const std::string& id, const std::string& code,
           const std::string& note) -> caf::result<call_reply> {
      auto& st = self->state;
      if (st.engine.find_call(id) != nullptr)
        return command<call_reply>(
          self, std::string{},
          [&](routing::timestamp) {
            return st.engine.set_disposition(id, code, note);
          },
          [&] {
            return reply_for(st, id);
          });
      // A finished call: its history record, in the hour after it ended.
      auto found = finished_call(self, id, false);
      if (!found)
        return found.error();
      if (!*found)
        return call_missing(st, id);
      auto done = std::move(**found);
      return command<call_reply>(
        self, std::string{},
        [&](routing::timestamp now) {
          auto& c = done.call;
          if (c.data.state != routing::call_state::completed
              || now - c.ended_at > std::chrono::hours{1})
            return routing::status{
              routing::errc::failed_precondition,
              "call '" + id + "' of tenant '" + st.tenant_id
                + "' ended more than an hour ago or was never answered; a "
                  "disposition is given to an answered call, during its "
                  "wrap-up, or in the hour after it ended"};
          c.disposition_code = code;
          c.note = note;
          st.batch.put(family::history, storage::history_key(st.tenant_id, c),
                       storage::encode_history(c, st.tenant_id));
          return routing::status::ok();
        },
        [&] {
          return done;
        });
    },
    // -- agents --
    [self](atom::wrap_up, const std::string& id, caf::timespan extend_by,
           const std::string& event_id) -> caf::result<routing::agent_view> {
      return command<routing::agent_view>(
        self, event_id,
        [&](routing::timestamp now) {
          auto by = std::chrono::duration_cast<routing::duration>(extend_by);
          return extend_by.count() == 0
                   ? self->state.engine.end_wrap_up(id, now)
                   : self->state.engine.extend_wrap_up(id, by, now);
        },
        [&] {
          return *self->state.engine.find_agent(id);
        });
    },
    [self](atom::presence, const std::string& id, routing::presence p,
           const std::string& event_id) -> caf::result<routing::agent_view> {
      return command<routing::agent_view>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.set_presence(id, p, now);
        },
        [&] {
          return *self->state.engine.find_agent(id);
        });
    },
    [self](atom::ready, const std::string& id, bool ready,
           const std::string& reason,
           const std::string& event_id) -> caf::result<routing::agent_view> {
      return command<routing::agent_view>(
        self, event_id,
        [&](routing::timestamp now) {
          return self->state.engine.set_ready(id, ready, reason, now);
        },
        [&] {
          return *self->state.engine.find_agent(id);
        });
    },
    // -- refusals --
    [self](atom::refuse, const std::string& message,
           const std::string& event_id) -> caf::result<atom::ok> {
      return command<atom::ok>(
        self, event_id,
        [&](routing::timestamp) {
          return routing::status{routing::errc::invalid_argument, message};
        },
        [] {
          return atom::ok_v;
        });
    },
    // -- statistics and events --
    [self](atom::stats,
           const std::string& queue_id) -> caf::result<routing::queue_stats> {
      auto s = self->state.engine.stats(queue_id, now_of(self));
      if (!s)
        return caf::make_error(ec::not_found, "queue '" + queue_id
                                                + "' does not exist in tenant '"
                                                + self->state.tenant_id + "'");
      return std::move(*s);
    },
    [self](atom::stats, atom::agent,
           const std::string& agent_id) -> caf::result<routing::agent_stats> {
      auto s = self->state.engine.agent_figures(agent_id, now_of(self));
      if (!s)
        return caf::make_error(ec::not_found, "agent '" + agent_id
                                                + "' does not exist in tenant '"
                                                + self->state.tenant_id + "'");
      return std::move(*s);
    },
    [self](atom::stats) {
      auto queues = self->state.engine.queues();
      std::vector<routing::queue_stats> stats;
      auto now = now_of(self);
      for (auto& q : queues)
        stats.push_back(*self->state.engine.stats(q.id, now));
      return std::make_tuple(std::move(queues), std::move(stats));
    },
    [self](atom::subscribe, caf::actor& sink) {
      self->monitor(sink);
      self->state.sinks.push_back(sink);
      // Events staged but not yet written are sent after their write, so
      // the subscriber's store read ends at the last written sequence.
      return self->state.sequence - self->state.events.events.size();
    },
    [self](atom::event, uint64_t after,
           uint64_t last) -> caf::result<uint64_t, event_batch> {
      constexpr size_t max_events = 1000;
      auto& st = self->state;
      auto prefix = storage::kind_prefix(st.tenant_id, 'E');
      uint64_t oldest = last + 1;
      auto err = st.store->scan(family::events, prefix,
                                [&](std::string_view key, std::string_view) {
                                  if (auto seq = storage::event_sequence(key))
                                    oldest = *seq;
                                  return false;
                                });
      event_batch out;
      if (!err)
        err = st.store->scan_from(
          family::events, prefix, storage::event_key(st.tenant_id, after + 1),
          [&](std::string_view key, std::string_view value) {
            auto seq = storage::event_sequence(key);
            if (!seq || *seq > last || out.events.size() == max_events)
              return false;
            if (out.events.empty())
              out.first_sequence = *seq;
            out.events.emplace_back(value);
            out.types.push_back(storage::event_type_of(value));
            return true;
          });
      if (err)
        return err;
      return {oldest, std::move(out)};
    },
    [self](atom::history, int64_t from, int64_t to, const std::string& queue_id,
           const std::string& agent_id, const std::string& caller,
           const std::string& after,
           uint32_t size) -> caf::result<history_page> {
      auto& st = self->state;
      auto prefix = storage::kind_prefix(st.tenant_id, 'H');
      // History keys start with the call's end time: the scan starts at
      // `from` or after the previous page's last record.
      auto start
        = storage::history_start_key(st.tenant_id, routing::from_micros(from));
      if (!after.empty())
        start = std::max(start, prefix + after + '\0');
      auto limit = std::max<size_t>(size, 1);
      history_page page;
      size_t bytes = 0;
      size_t looked_at = 0;
      std::string last_seen;
      caf::error bad;
      auto err = st.store->scan_from(
        family::history, prefix, start,
        [&](std::string_view key, std::string_view value) {
          auto suffix = key.substr(prefix.size());
          if (looked_at == history_page_scan) {
            page.next_after = last_seen;
            return false;
          }
          ++looked_at;
          auto c = storage::decode_call(value, key);
          if (!c) {
            bad = c.error();
            return false;
          }
          if (routing::to_micros(c->ended_at) >= to)
            return false;
          last_seen = std::string{suffix};
          if (!queue_id.empty()
              && std::find(c->queue_path.begin(), c->queue_path.end(), queue_id)
                   == c->queue_path.end())
            return true;
          if (!agent_id.empty() && c->agent_id != agent_id)
            return true;
          if (!caller.empty() && c->data.from != caller)
            return true;
          if (page.records.size() == limit
              || (!page.records.empty()
                  && bytes + value.size() > history_page_bytes)) {
            page.next_after = page.keys.back();
            return false;
          }
          bytes += value.size();
          page.keys.emplace_back(suffix);
          page.records.emplace_back(value);
          return true;
        });
      if (err || bad)
        return err ? err : bad;
      return page;
    },
    [self](atom::history, atom::change, int64_t from, int64_t to,
           const std::string& after,
           uint32_t size) -> caf::result<history_page> {
      auto& st = self->state;
      auto prefix = storage::kind_prefix(st.tenant_id, 'K');
      // Change keys start with the time the change was made.
      auto start
        = storage::change_start_key(st.tenant_id, routing::from_micros(from));
      if (!after.empty())
        start = std::max(start, prefix + after + '\0');
      auto end
        = storage::change_start_key(st.tenant_id, routing::from_micros(to));
      auto limit = std::max<size_t>(size, 1);
      history_page page;
      auto err = st.store->scan_from(
        family::history, prefix, start,
        [&](std::string_view key, std::string_view value) {
          if (key >= end)
            return false;
          if (page.records.size() == limit) {
            page.next_after = page.keys.back();
            return false;
          }
          page.keys.emplace_back(key.substr(prefix.size()));
          page.records.emplace_back(value);
          return true;
        });
      if (err)
        return err;
      return page;
    },
    [self](atom::tick) {
      auto& st = self->state;
      auto now = now_of(self);
      if (st.tick_at && *st.tick_at <= now)
        st.tick_at.reset();
      st.engine.advance(now);
      stage_changes(self);
      if (!st.batch.empty())
        schedule_flush(self);
      else
        arm(self);
    },
    [self](atom::flush) {
      flush(self);
    },
    [self](atom::move) -> caf::result<record_set> {
      auto& st = self->state;
      stage_changes(self);
      flush(self);
      record_set out;
      auto prefix = storage::tenant_prefix(st.tenant_id);
      for (auto f : {family::config, family::live, family::events,
                     family::history, family::idempotency}) {
        auto err = st.store->scan(
          f, prefix, [&](std::string_view key, std::string_view value) {
            out.families.push_back(static_cast<uint8_t>(f));
            out.keys.emplace_back(key);
            out.values.emplace_back(value);
            return true;
          });
        if (err)
          return err;
      }
      auto rp = self->make_response_promise<record_set>();
      rp.deliver(std::move(out));
      self->quit();
      return rp;
    },
    [self](atom::upsert, const routing::tenant& t) {
      self->state.tenant_history_retention = t.history_retention;
    },
    [self](atom::audit) {
      auto& st = self->state;
      // Callers served longer ago than any last-agent window are
      // forgotten here too, once per audit, and history past its
      // retention is deleted.
      st.engine.forget_last_agents(now_of(self));
      stage_changes(self);
      expire_history(self);
      expire_events(self);
      store_minutes(self);
      if (!st.batch.empty())
        schedule_flush(self);
      auto found = st.engine.audit();
      if (st.obs != nullptr) {
        std::set<std::string> agents;
        for (auto& x : found) {
          st.obs->inconsistency(st.tenant_id, x.agent_id, x.what);
          agents.insert(x.agent_id);
        }
        st.obs->audited(st.tenant_id, agents.size());
      }
      self->delayed_send(self, st.options.audit_every, atom::audit_v);
    },
  };
}

caf::expected<tenant_actor> spawn_tenant(caf::actor_system& sys,
                                         storage::store& store,
                                         const std::string& tenant_id,
                                         observer* obs,
                                         tenant_options options) {
  auto init = std::make_shared<tenant_state>(tenant_id);
  init->store = &store;
  init->obs = obs;
  init->options = options;
  auto& eng = init->engine;
  caf::error failed;
  auto fail = [&](caf::error err) {
    failed = std::move(err);
    return false;
  };
  // A record that cannot be applied is set aside, not allowed to keep the
  // tenant (and so the node) from starting: moved under the tenant's 'X'
  // keys with the same value, reported, and skipped.
  storage::batch aside;
  auto set_aside = [&](family f, std::string_view key, std::string_view value,
                       const std::string& why) {
    aside.put(family::config, storage::set_aside_key(tenant_id, f, key),
              std::string{value});
    aside.erase(f, std::string{key});
    if (obs != nullptr)
      obs->set_aside(tenant_id, storage::printable(key), why);
    return true;
  };
  auto err = store.scan(family::config, storage::kind_prefix(tenant_id, 'Q'),
                        [&](std::string_view key, std::string_view value) {
                          auto q = storage::decode_queue(value, key);
                          if (!q)
                            return set_aside(family::config, key, value,
                                             render(q.error()));
                          eng.restore(*q);
                          return true;
                        });
  if (!err) {
    // After the queues, which the rules name.
    auto key = storage::classification_key(tenant_id);
    auto rules = store.get(family::config, key);
    if (!rules)
      err = rules.error();
    else if (*rules) {
      auto c = storage::decode_classification(**rules, key);
      if (!c)
        set_aside(family::config, key, **rules, render(c.error()));
      else if (auto st = eng.set_classification(std::move(*c)); !st)
        set_aside(family::config, key, **rules,
                  "the rules do not apply to the stored queues: " + st.message);
    }
  }
  if (!err)
    err = store.scan(
      family::config, storage::kind_prefix(tenant_id, 'A'),
      [&](std::string_view key, std::string_view value) {
        auto state = store.get(family::live, key);
        if (!state)
          return fail(state.error());
        auto a = storage::decode_agent_view(value, state->value_or(""), key);
        if (!a) {
          // The agent's state goes with its configuration.
          if (*state)
            set_aside(family::live, key, **state,
                      "its agent's configuration is set aside");
          return set_aside(family::config, key, value, render(a.error()));
        }
        eng.restore(*a);
        return true;
      });
  if (!err)
    err = store.scan(
      family::live, storage::kind_prefix(tenant_id, 'S'),
      [&](std::string_view key, std::string_view value) {
        auto m = storage::decode_minute(value, key);
        if (!m)
          return set_aside(family::live, key, value, render(m.error()));
        auto rest = key.substr(storage::kind_prefix(tenant_id, 'S').size());
        eng.restore(std::string{rest.substr(0, rest.find('\0'))}, *m);
        return true;
      });
  if (!err)
    err = store.scan(
      family::live, storage::kind_prefix(tenant_id, 'L'),
      [&](std::string_view key, std::string_view value) {
        auto last = storage::decode_last_served(value, key);
        if (!last)
          return set_aside(family::live, key, value, render(last.error()));
        auto caller = key.substr(storage::kind_prefix(tenant_id, 'L').size());
        eng.restore(std::string{caller}, std::move(*last));
        return true;
      });
  if (!err)
    err = store.scan(family::live, storage::kind_prefix(tenant_id, 'C'),
                     [&](std::string_view key, std::string_view value) {
                       auto c = storage::decode_call(value, key);
                       if (!c)
                         return set_aside(family::live, key, value,
                                          render(c.error()));
                       eng.restore(std::move(*c));
                       return true;
                     });
  if (!err) {
    auto seq = store.get(family::live, storage::sequence_key(tenant_id));
    if (!seq)
      err = seq.error();
    else if (*seq) {
      auto n
        = storage::decode_sequence(**seq, storage::sequence_key(tenant_id));
      if (!n)
        err = n.error();
      else
        init->sequence = *n;
    }
  }
  if (err)
    return err;
  if (failed)
    return failed;
  if (!aside.empty())
    if (auto werr = store.write(aside))
      return werr;
  eng.recover(routing::timestamp{std::chrono::duration_cast<routing::duration>(
    std::chrono::system_clock::now().time_since_epoch())});
  return sys.spawn(tenant, init);
}

} // namespace switchboard
