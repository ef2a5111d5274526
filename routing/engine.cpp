#include "routing/engine.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace switchboard::routing {

namespace {

constexpr std::array<std::string_view, 17> event_names = {
  "call_queued",         "call_offered",          "call_assigned",
  "call_wrap_up",        "call_completed",        "call_abandoned",
  "call_cancelled",      "call_overflowed",       "call_timed_out",
  "call_transferred",    "offer_declined",        "offer_expired",
  "agent_state_changed", "call_disconnected",     "call_callback_requested",
  "call_conferenced",    "configuration_changed",
};

/// Reason shown on an agent made not ready by missed offers.
constexpr const char* not_responding = "not responding";

status fail(errc code, std::string message) {
  return {code, std::move(message)};
}

/// The limit actions of a queue, with the field each is configured in.
std::array<std::pair<const limit_action*, const char*>, 4>
actions_of(const queue& q) {
  return {{{&q.when_full, "when_full"},
           {&q.when_max_wait, "when_max_wait"},
           {&q.when_no_agents, "when_no_agents"},
           {&q.when_closed, "when_closed"}}};
}

bool holds_work(const agent& a) {
  for (auto n : a.load)
    if (n > 0)
      return true;
  return false;
}

} // namespace

std::string_view to_string(event_type x) {
  return event_names[static_cast<size_t>(x)];
}

engine::engine(std::string tenant_id) : tenant_id_(std::move(tenant_id)) {
  // Nothing else.
}

// -- helpers ------------------------------------------------------------------

status engine::wrong_state(const live_call& c, std::string_view why) const {
  return fail(errc::failed_precondition,
              "call '" + c.data.id + "' of tenant '" + tenant_id_ + "' is "
                + std::string{to_string(c.data.state)} + std::string{why});
}

status engine::not_found(const char* what, const std::string& id) const {
  return fail(errc::not_found, std::string{what} + " '" + id
                                 + "' does not exist in tenant '" + tenant_id_
                                 + "'");
}

agent_view* engine::agent_ptr(const std::string& id) {
  auto i = agents_.find(id);
  return i == agents_.end() ? nullptr : &i->second;
}

live_call* engine::call_ptr(const std::string& id) {
  auto i = calls_.find(id);
  return i == calls_.end() ? nullptr : &i->second;
}

void engine::touch(const live_call& c) { pending_.calls.insert(c.data.id); }

namespace {

int64_t day_number(timestamp t) {
  return std::chrono::duration_cast<std::chrono::hours>(t.time_since_epoch())
           .count()
         / 24;
}

/// Adds the time since `s.since` to the mode it was spent in, starting a
/// new day's figures when the day changed.
void account(agent_stats& s, timestamp now) {
  auto today = day_number(now);
  if (s.day != today) {
    auto mode = s.mode;
    auto since = s.since;
    s = agent_stats{};
    s.day = today;
    s.mode = mode;
    s.since = std::max(since, timestamp{std::chrono::hours{24 * today}});
  }
  if (s.since != timestamp{} && now > s.since) {
    if (s.mode == 1)
      s.available += now - s.since;
    else if (s.mode == 2)
      s.busy += now - s.since;
  }
  s.since = now;
}

} // namespace

void engine::touch_agent(const std::string& id, timestamp now) {
  pending_.agents.insert(id);
  auto* extra = agent_ptr(id);
  auto* a = index_.find_agent(id);
  if (extra == nullptr || a == nullptr)
    return;
  account(extra->today, now);
  // Ringing offers count as available: the agent is not working yet.
  uint32_t held = 0;
  for (auto n : a->load)
    held += n;
  if (a->in_wrap_up || held > extra->offers_pending)
    extra->today.mode = 2;
  else if (a->ready
           && (default_routable_presences & presence_bit(a->pres)) != 0)
    extra->today.mode = 1;
  else
    extra->today.mode = 0;
}

void engine::emit(event_type type, const live_call* c,
                  const std::string& agent_id, timestamp now,
                  const std::string& offer_id) {
  event e;
  e.type = type;
  e.at = now;
  // The subject: the call, or for agent events the agent. A call event
  // names its agent in the call (and offer) already.
  if (c != nullptr)
    e.call = *c;
  else if (!agent_id.empty())
    e.agent = find_agent(agent_id);
  e.offer_id = offer_id;
  e.offer_agent_id = offer_id.empty() ? std::string{} : agent_id;
  pending_.events.push_back(std::move(e));
}

void engine::emit_agent(const std::string& agent_id, timestamp now) {
  touch_agent(agent_id, now);
  emit(event_type::agent_state_changed, nullptr, agent_id, now);
}

changes engine::take_changes() {
  changes result;
  std::swap(result, pending_);
  return result;
}

// -- configuration ------------------------------------------------------------

void engine::record_change(configuration_change c, timestamp now) {
  event e;
  e.type = event_type::configuration_changed;
  e.at = now;
  e.change = std::move(c);
  pending_.events.push_back(std::move(e));
}

status engine::upsert_queue(const queue& q, timestamp now) {
  if (!q.overflow_queue.empty() && q.overflow_queue != q.id
      && queues_.count(q.overflow_queue) == 0)
    return fail(errc::not_found,
                "queue.overflow_queue_id: queue '" + q.overflow_queue
                  + "' does not exist in tenant '" + tenant_id_ + "'");
  if (q.overflow_queue == q.id)
    return fail(errc::invalid_argument,
                "queue.overflow_queue_id: a queue cannot overflow to itself");
  for (auto [a, field] : actions_of(q)) {
    if (a->what != limit_action::kind::overflow)
      continue;
    if (a->queue_id == q.id)
      return fail(errc::invalid_argument, "queue." + std::string{field}
                                            + ".queue_id: a queue cannot "
                                              "overflow to itself");
    if (queues_.count(a->queue_id) == 0)
      return fail(errc::not_found, "queue." + std::string{field}
                                     + ".queue_id: queue '" + a->queue_id
                                     + "' does not exist in tenant '"
                                     + tenant_id_ + "'");
  }
  queues_[q.id] = q;
  index_.upsert_queue(q);
  // Wider selectors or presences may make waiting calls routable.
  route_everyone(now);
  return status::ok();
}

status engine::remove_queue(const std::string& id, timestamp) {
  if (queues_.count(id) == 0)
    return not_found("queue", id);
  if (auto i = live_per_queue_.find(id);
      i != live_per_queue_.end() && i->second > 0)
    return fail(errc::failed_precondition,
                "queue '" + id + "' of tenant '" + tenant_id_ + "' has "
                  + std::to_string(i->second)
                  + " live calls; they must end or move first");
  for (auto& [other_id, other] : queues_) {
    bool target = other.overflow_queue == id;
    for (auto [a, field] : actions_of(other))
      target
        = target
          || (a->what == limit_action::kind::overflow && a->queue_id == id);
    if (target)
      return fail(errc::failed_precondition,
                  "queue '" + id + "' of tenant '" + tenant_id_
                    + "' is the overflow target of queue '" + other_id + "'");
  }
  for (auto& r : classification_.rules)
    if (r.queue_id == id)
      return fail(errc::failed_precondition,
                  "queue '" + id + "' of tenant '" + tenant_id_
                    + "' is the queue of classification rule '" + r.id + "'");
  if (classification_.default_queue == id)
    return fail(errc::failed_precondition,
                "queue '" + id + "' of tenant '" + tenant_id_
                  + "' is the default queue of its classification rules");
  index_.remove_queue(id);
  queues_.erase(id);
  lines_.erase(id);
  return status::ok();
}

status engine::set_classification(routing::classification c) {
  for (size_t i = 0; i < c.rules.size(); ++i)
    if (queues_.count(c.rules[i].queue_id) == 0)
      return fail(errc::not_found,
                  "rules[" + std::to_string(i) + "].queue_id: queue '"
                    + c.rules[i].queue_id + "' does not exist in tenant '"
                    + tenant_id_ + "'");
  if (!c.default_queue.empty() && queues_.count(c.default_queue) == 0)
    return fail(errc::not_found, "default_queue_id: queue '" + c.default_queue
                                   + "' does not exist in tenant '" + tenant_id_
                                   + "'");
  classification_ = std::move(c);
  return status::ok();
}

status engine::upsert_agent(agent a, timestamp now) {
  for (size_t i = 0; i < a.queues.size(); ++i)
    if (queues_.count(a.queues[i]) == 0)
      return fail(errc::not_found, "agent.queue_ids[" + std::to_string(i)
                                     + "]: queue '" + a.queues[i]
                                     + "' does not exist in tenant '"
                                     + tenant_id_ + "'");
  std::vector<std::string> left;
  if (auto* old = index_.find_agent(a.id)) {
    count_signed_in(*old, -1);
    if (old->pres != presence::offline)
      for (auto& q : old->queues)
        if (std::find(a.queues.begin(), a.queues.end(), q) == a.queues.end())
          left.push_back(q);
    a.pres = old->pres;
    a.ready = old->ready;
    a.not_ready_reason = old->not_ready_reason;
    a.in_wrap_up = old->in_wrap_up;
    a.load = old->load;
    a.idle_since = old->idle_since;
  } else {
    a.pres = presence::offline;
    a.ready = false;
    a.not_ready_reason.clear();
    a.in_wrap_up = false;
    a.load = {};
    a.idle_since = now;
  }
  auto id = a.id;
  count_signed_in(a, +1);
  index_.upsert_agent(a);
  agents_[id];
  touch_agent(id, now);
  route_agent(id, now);
  act_on_unstaffed(left, now);
  return status::ok();
}

status engine::remove_agent(const std::string& id, timestamp now) {
  auto* a = index_.find_agent(id);
  if (a == nullptr)
    return not_found("agent", id);
  if (holds_work(*a) || a->in_wrap_up)
    return fail(errc::failed_precondition, "agent '" + id + "' of tenant '"
                                             + tenant_id_
                                             + "' holds work; end it first");
  count_signed_in(*a, -1);
  auto queues = a->queues;
  index_.remove_agent(id);
  agents_.erase(id);
  pending_.agents.erase(id);
  act_on_unstaffed(queues, now);
  return status::ok();
}

// -- the waiting line ---------------------------------------------------------

void engine::enqueue(live_call& c, timestamp now, bool changed) {
  c.data.state = call_state::queued;
  auto& aging = queues_[c.data.queue_id].aging;
  c.priority_boost = aging.boost(now - c.data.enqueued_at);
  index_.enqueue(c.data, c.priority_boost, c.exclusive_until);
  auto& l = lines_[c.data.queue_id];
  if (l.keys.insert(key_of(c)).second) {
    l.per_priority[-c.effective_priority()]++;
    if (c.is_callback())
      callbacks_in_line_[c.data.queue_id]++;
  }
  if (changed)
    touch(c);
  if (aging.enabled() && c.priority_boost < aging.max_boost) {
    // The next step: when the time waited reaches the next multiple.
    auto steps = (now - c.data.enqueued_at) / aging.every;
    schedule(c.data.enqueued_at + aging.every * (steps + 1),
             deadline_kind::aging, c.data.id, c.priority_boost);
  }
  schedule_relaxation();
}

void engine::leave_line(const live_call& c) {
  if (auto i = lines_.find(c.data.queue_id); i != lines_.end()) {
    if (i->second.keys.erase(key_of(c)) > 0) {
      auto band = i->second.per_priority.find(-c.effective_priority());
      if (--band->second == 0)
        i->second.per_priority.erase(band);
      if (c.is_callback())
        callbacks_in_line_[c.data.queue_id]--;
    }
  }
}

size_t engine::callers_waiting(const std::string& queue_id) const {
  size_t waiting = 0;
  if (auto i = lines_.find(queue_id); i != lines_.end())
    waiting = i->second.keys.size();
  if (auto i = callbacks_in_line_.find(queue_id); i != callbacks_in_line_.end())
    waiting -= std::min(waiting, i->second);
  return waiting;
}

void engine::count_signed_in(const agent& a, int sign) {
  if (a.pres != presence::offline)
    count_members(a.queues, sign);
}

void engine::count_members(const std::vector<std::string>& queues, int sign) {
  for (auto& q : queues) {
    auto& n = signed_in_[q];
    n = sign > 0 ? n + 1 : (n > 0 ? n - 1 : 0);
  }
}

void engine::act_on_unstaffed(const std::vector<std::string>& queues,
                              timestamp now) {
  for (auto& queue_id : queues) {
    auto q = queues_.find(queue_id);
    auto waiting_line = lines_.find(queue_id);
    if (q == queues_.end() || waiting_line == lines_.end()
        || q->second.when_no_agents.what == limit_action::kind::none
        || signed_in_[queue_id] > 0)
      continue;
    auto action = q->second.when_no_agents;
    std::vector<std::string> waiting;
    for (auto& key : waiting_line->second.keys)
      waiting.push_back(std::get<2>(key));
    for (auto& id : waiting) {
      auto* c = call_ptr(id);
      if (c == nullptr || c->is_callback()
          || c->data.state != call_state::queued)
        continue;
      act_in_line(*c, action, "no_agents", now);
    }
  }
}

void engine::age(live_call& c, timestamp now) {
  auto& aging = queues_[c.data.queue_id].aging;
  if (aging.boost(now - c.data.enqueued_at) == c.priority_boost)
    return;
  index_.remove_call(c.data.id);
  leave_line(c);
  // The boost is derived from the time waited; storing it each step would
  // only cost writes, so the call is not marked changed.
  enqueue(c, now, false);
}

void engine::finish(live_call& c, call_state final_state, timestamp now,
                    const std::string& withdrawn_from,
                    const std::string& withdrawn_offer) {
  auto id = c.data.id;
  c.data.state = final_state;
  if (c.ended_at == timestamp{})
    c.ended_at = now;
  uncount(c);
  with_agent_.erase(id);
  event_type type = event_type::call_completed;
  switch (final_state) {
    case call_state::abandoned: type = event_type::call_abandoned; break;
    case call_state::cancelled: type = event_type::call_cancelled; break;
    case call_state::timed_out: type = event_type::call_timed_out; break;
    case call_state::disconnected: type = event_type::call_disconnected; break;
    case call_state::transferred: type = event_type::call_transferred; break;
    default: break;
  }
  if (!c.limit.empty()
      && (final_state == call_state::timed_out
          || final_state == call_state::disconnected))
    counters_[c.data.queue_id].disconnected++;
  if (final_state == call_state::completed && c.answered_at != timestamp{}) {
    auto& m = minute_of(c.data.queue_id, now);
    m.handled++;
    m.handle_time += now - c.answered_at;
    if (auto* extra = agent_ptr(c.agent_id)) {
      account(extra->today, now);
      extra->today.handled++;
      extra->today.handle_time += now - c.answered_at;
    }
  }
  if (withdrawn_offer.empty())
    emit(type, &c, c.agent_id, now);
  else
    emit(type, &c, withdrawn_from, now, withdrawn_offer);
  if (!c.parent_id.empty()) {
    if (auto i = legs_.find(c.parent_id); i != legs_.end()) {
      auto& legs = i->second;
      legs.erase(std::remove(legs.begin(), legs.end(), id), legs.end());
      if (legs.empty())
        legs_.erase(i);
    }
  }
  pending_.calls.erase(id);
  pending_.finished.push_back(std::move(c));
  calls_.erase(id);
}

// -- offers -------------------------------------------------------------------

void engine::make_offer(live_call& c, const std::string& agent_id,
                        timestamp now) {
  if (!index_.assign(c.data.id, agent_id))
    return;
  leave_line(c);
  auto& q = queues_[c.data.queue_id];
  c.data.state = call_state::offered;
  c.offers.push_back({agent_id, now, "open"});
  c.agent_id = agent_id;
  with_agent_.insert(c.data.id);
  c.offer_id = c.data.id + "#" + std::to_string(c.offers.size());
  c.offer_expires_at = now + q.offer_timeout;
  agents_[agent_id].offers_pending++;
  schedule(c.offer_expires_at, deadline_kind::offer, c.data.id,
           static_cast<int64_t>(c.offers.size()));
  touch(c);
  touch_agent(agent_id, now);
  emit(event_type::call_offered, &c, agent_id, now, c.offer_id);
}

void engine::close_offer(live_call& c, const std::string& outcome,
                         timestamp now) {
  auto agent_id = c.agent_id;
  index_.release(agent_id, c.data.channel, now);
  if (!c.offers.empty())
    c.offers.back().outcome = outcome;
  if (auto* a = agent_ptr(agent_id); a != nullptr && a->offers_pending > 0)
    a->offers_pending--;
  c.agent_id.clear();
  with_agent_.erase(c.data.id);
  c.offer_id.clear();
  c.offer_expires_at = {};
  touch(c);
  touch_agent(agent_id, now);
  if (outcome == "declined" || outcome == "expired") {
    miss(agent_id, c.data.queue_id, now);
    // The preferred agent did not take it: the call goes to anyone now,
    // not back to the same agent.
    if (agent_id == c.data.preferred_agent) {
      c.data.preferred_agent.clear();
      c.last_agent = false;
      c.exclusive_until = {};
    }
  }
}

void engine::miss(const std::string& agent_id, const std::string& queue_id,
                  timestamp now) {
  auto* extra = agent_ptr(agent_id);
  auto* a = index_.find_agent(agent_id);
  if (extra == nullptr || a == nullptr)
    return;
  extra->missed_in_a_row++;
  account(extra->today, now);
  extra->today.missed++;
  auto q = queues_.find(queue_id);
  if (q == queues_.end() || q->second.max_missed_offers == 0)
    return;
  if (a->ready && extra->missed_in_a_row >= q->second.max_missed_offers) {
    index_.set_ready(agent_id, false, not_responding);
    emit_agent(agent_id, now);
  }
}

// -- routing ------------------------------------------------------------------

void engine::route_call(const std::string& call_id, timestamp now) {
  auto* c = call_ptr(call_id);
  if (c == nullptr || c->data.state != call_state::queued)
    return;
  if (auto* a = index_.best_agent_for(call_id)) {
    auto agent_id = a->id;
    make_offer(*c, agent_id, now);
  }
}

void engine::route_agent(const std::string& agent_id, timestamp now) {
  // Each offer takes capacity, so the loop ends when the agent is full or
  // nothing it can take waits; the bound guards against an index that
  // would not take the offer.
  for (int i = 0; i < 1024; ++i) {
    auto* w = index_.best_call_for(agent_id);
    if (w == nullptr)
      return;
    auto* c = call_ptr(w->id);
    if (c == nullptr)
      return;
    auto offers_before = c->offers.size();
    make_offer(*c, agent_id, now);
    if (c->offers.size() == offers_before)
      return;
  }
}

void engine::route_everyone(timestamp now) {
  std::vector<std::string> ids;
  ids.reserve(agents_.size());
  for (auto& [id, extra] : agents_)
    ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (auto& id : ids)
    route_agent(id, now);
}

void engine::check_max_wait(live_call& c, timestamp now) {
  auto q = queues_.find(c.data.queue_id);
  if (q == queues_.end() || q->second.max_wait.count() <= 0
      || c.data.state != call_state::queued || c.is_callback()
      || now - c.queue_entered_at < q->second.max_wait)
    return;
  auto action = q->second.when_max_wait;
  if (action.what == limit_action::kind::none) {
    // The settings from before limit actions: overflow if a queue is set.
    auto& target = q->second.overflow_queue;
    action.what = target.empty() || queues_.count(target) == 0
                    ? limit_action::kind::disconnect
                    : limit_action::kind::overflow;
    action.queue_id = target;
  }
  act_in_line(c, action, "max_wait", now);
}

void engine::act_in_line(live_call& c, const limit_action& a, const char* limit,
                         timestamp now) {
  if (a.what == limit_action::kind::callback && !c.data.from.empty()) {
    // The call keeps its place in the line it is in.
    c.limit = limit;
    c.announcement = a.announcement;
    become_callback(c, c.data.from, now);
    return;
  }
  index_.remove_call(c.data.id);
  leave_line(c);
  act(c, a, limit, now, 0);
}

void engine::act(live_call& c, const limit_action& a, const char* limit,
                 timestamp now, size_t hops) {
  c.limit = limit;
  c.announcement = a.announcement;
  auto what = a.what;
  if (what == limit_action::kind::callback && c.data.from.empty()
      && !c.is_callback())
    what = limit_action::kind::disconnect; // no number to call back
  if (what == limit_action::kind::overflow && queues_.count(a.queue_id) == 0)
    what = limit_action::kind::none; // its target is gone: the call stays
  switch (what) {
    case limit_action::kind::overflow:
      counters_[c.data.queue_id].overflowed++;
      emit(event_type::call_overflowed, &c, {}, now);
      uncount(c);
      enter_queue(c, a.queue_id, now, hops + 1);
      return;
    case limit_action::kind::disconnect:
      finish(c,
             std::string_view{limit} == "max_wait" ? call_state::timed_out
                                                   : call_state::disconnected,
             now);
      return;
    case limit_action::kind::callback:
      if (!c.is_callback())
        become_callback(c, c.data.from, now);
      [[fallthrough]];
    case limit_action::kind::none: {
      // Into the line of the queue it is counted in, as if no limit acted.
      uncount(c);
      auto queue_id = c.data.queue_id;
      c.queue_path.pop_back();
      enter_queue(c, queue_id, now, queues_.size() + 1);
      return;
    }
  }
}

void engine::become_callback(live_call& c, std::string number, timestamp now) {
  c.callback_number = std::move(number);
  c.callback_requested_at = now;
  if (c.data.state == call_state::queued && lines_.count(c.data.queue_id) > 0
      && lines_[c.data.queue_id].keys.count(key_of(c)) > 0)
    callbacks_in_line_[c.data.queue_id]++;
  touch(c);
  emit(event_type::call_callback_requested, &c, {}, now);
}

void engine::uncount(const live_call& c) {
  if (auto i = live_per_queue_.find(c.data.queue_id);
      i != live_per_queue_.end() && i->second > 0)
    --i->second;
}

void engine::enter_queue(live_call& c, std::string queue_id, timestamp now,
                         size_t hops) {
  auto& q = queues_[queue_id];
  c.queue_path.push_back(queue_id);
  c.data.queue_id = std::move(queue_id);
  live_per_queue_[c.data.queue_id]++;
  // Limits act until overflows have visited every queue once: a cycle of
  // full queues ends with the call waiting, not lost.
  if (hops <= queues_.size()) {
    if (q.hours.enabled() && !q.hours.is_open(now)) {
      auto closed = q.when_closed;
      if (closed.what == limit_action::kind::none)
        closed.what = limit_action::kind::disconnect;
      return act(c, closed, "closed", now, hops);
    }
    if (q.when_full.what != limit_action::kind::none && q.max_length > 0
        && !c.is_callback() && callers_waiting(c.data.queue_id) >= q.max_length)
      return act(c, q.when_full, "queue_full", now, hops);
    if (q.when_no_agents.what != limit_action::kind::none
        && signed_in_[c.data.queue_id] == 0)
      return act(c, q.when_no_agents, "no_agents", now, hops);
  }
  c.queue_entered_at = now;
  minute_of(c.data.queue_id, now).offered++;
  c.exclusive_until
    = !c.data.preferred_agent.empty() && q.preferred_wait.count() > 0
        ? now + q.preferred_wait
        : timestamp{};
  counters_[c.data.queue_id].offered++;
  enqueue(c, now);
  emit(event_type::call_queued, &c, {}, now);
  if (q.max_wait.count() > 0 && !c.is_callback())
    schedule(now + q.max_wait, deadline_kind::max_wait, c.data.id,
             to_micros(now));
  route_call(c.data.id, now);
}

std::string engine::detach(live_call& c, timestamp now) {
  std::string freed;
  switch (c.data.state) {
    case call_state::queued:
      index_.remove_call(c.data.id);
      leave_line(c);
      break;
    case call_state::offered:
      freed = c.agent_id;
      close_offer(c, "withdrawn", now);
      break;
    case call_state::assigned:
      freed = c.agent_id;
      index_.release(freed, c.data.channel, now);
      touch_agent(freed, now);
      c.agent_id.clear();
      with_agent_.erase(c.data.id);
      break;
    default: break;
  }
  return freed;
}

// -- commands -----------------------------------------------------------------

status engine::submit(call c, timestamp now) {
  if (calls_.count(c.id) > 0)
    return fail(errc::failed_precondition, "call '" + c.id
                                             + "' already exists in tenant '"
                                             + tenant_id_ + "'");
  if (c.queue_id.empty()) {
    auto rule = std::find_if(classification_.rules.begin(),
                             classification_.rules.end(), [&](auto& r) {
                               return matches(r, c);
                             });
    if (rule != classification_.rules.end()) {
      c.queue_id = rule->queue_id;
      if (c.priority == 0)
        c.priority = rule->priority;
      c.selectors.insert(c.selectors.end(), rule->selectors.begin(),
                         rule->selectors.end());
    } else if (!classification_.default_queue.empty()) {
      c.queue_id = classification_.default_queue;
    } else {
      return fail(errc::failed_precondition,
                  "call '" + c.id + "' (to '" + c.to + "', from '" + c.from
                    + "', " + std::string{to_string(c.channel)}
                    + ") names no queue, matches none of tenant '" + tenant_id_
                    + "''s " + std::to_string(classification_.rules.size())
                    + " classification rules, and the tenant has no "
                      "default queue");
    }
  }
  auto q = queues_.find(c.queue_id);
  if (q == queues_.end())
    return fail(errc::not_found, "call.queue_id: queue '" + c.queue_id
                                   + "' does not exist in tenant '" + tenant_id_
                                   + "'");
  if (!c.preferred_agent.empty() && agents_.count(c.preferred_agent) == 0)
    return fail(errc::not_found,
                "call.preferred_agent_id: agent '" + c.preferred_agent
                  + "' does not exist in tenant '" + tenant_id_ + "'");
  auto waiting = callers_waiting(c.queue_id);
  if (q->second.max_length > 0 && waiting >= q->second.max_length
      && q->second.when_full.what == limit_action::kind::none)
    return fail(errc::resource_exhausted,
                "queue '" + c.queue_id + "' of tenant '" + tenant_id_
                  + "' is full: " + std::to_string(waiting)
                  + " calls wait, its max_length");
  live_call lc;
  lc.data = std::move(c);
  lc.data.enqueued_at = now;
  lc.created_at = now;
  if (auto window = q->second.last_agent_window;
      window.count() > 0 && lc.data.preferred_agent.empty()
      && !lc.data.from.empty()) {
    auto last = last_agents_.find(lc.data.from);
    auto* a = last == last_agents_.end()
                ? nullptr
                : index_.find_agent(last->second.agent_id);
    if (a != nullptr && now - last->second.at <= window
        && std::find(a->queues.begin(), a->queues.end(), q->first)
             != a->queues.end()) {
      lc.data.preferred_agent = a->id;
      lc.last_agent = true;
    }
  }
  auto id = lc.data.id;
  auto queue_id = lc.data.queue_id;
  enter_queue(calls_.emplace(id, std::move(lc)).first->second,
              std::move(queue_id), now);
  return status::ok();
}

status engine::cancel(const std::string& call_id, bool caller_hung_up,
                      timestamp now) {
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  if (c->data.state != call_state::queued
      && c->data.state != call_state::offered)
    return wrong_state(*c, "; only a waiting or offered call can be cancelled"
                           " (end an answered call with CompleteCall)");
  // A callback's caller is not on the line: it cannot hang up.
  caller_hung_up = caller_hung_up && !c->is_callback();
  auto rang
    = c->data.state == call_state::offered ? c->offer_id : std::string{};
  auto freed_agent = detach(*c, now);
  if (caller_hung_up) {
    counters_[c->data.queue_id].abandoned++;
    minute_of(c->data.queue_id, now).abandoned++;
  }
  finish(*c, caller_hung_up ? call_state::abandoned : call_state::cancelled,
         now, freed_agent, rang);
  if (!freed_agent.empty())
    route_agent(freed_agent, now);
  return status::ok();
}

status engine::check_open_offer(const live_call* c, const std::string& call_id,
                                const std::string& agent_id,
                                const std::string& offer_id) const {
  if (c == nullptr)
    return not_found("call", call_id);
  if (agents_.count(agent_id) == 0)
    return not_found("agent", agent_id);
  if (c->data.state != call_state::offered || c->agent_id != agent_id)
    return fail(errc::failed_precondition,
                "call '" + call_id + "' has no open offer for agent '"
                  + agent_id + "' (the call is "
                  + std::string{to_string(c->data.state)} + ")");
  if (!offer_id.empty() && offer_id != c->offer_id)
    return fail(errc::failed_precondition,
                "offer '" + offer_id + "' is no longer open; call '" + call_id
                  + "' has offer '" + c->offer_id + "' open");
  return status::ok();
}

status engine::accept(const std::string& call_id, const std::string& agent_id,
                      const std::string& offer_id, timestamp now) {
  auto* c = call_ptr(call_id);
  if (auto st = check_open_offer(c, call_id, agent_id, offer_id); !st)
    return st;
  c->data.state = call_state::assigned;
  c->answered_at = now;
  c->offers.back().outcome = "accepted";
  auto& extra = agents_[agent_id];
  if (extra.offers_pending > 0)
    extra.offers_pending--;
  extra.missed_in_a_row = 0;
  c->exclusive_until = {};
  if (!c->data.from.empty()) {
    last_agents_[c->data.from] = {agent_id, now};
    pending_.callers.insert(c->data.from);
  }
  auto& n = counters_[c->data.queue_id];
  auto& m = minute_of(c->data.queue_id, now);
  n.answered++;
  m.answered++;
  auto waited = now - c->data.enqueued_at;
  n.total_answer_wait += waited;
  m.answer_wait += waited;
  if (waited <= queues_[c->data.queue_id].sla.threshold) {
    n.answered_in_threshold++;
    m.answered_in_threshold++;
  }
  c->offer_id.clear();
  c->offer_expires_at = {};
  touch(*c);
  touch_agent(agent_id, now);
  emit(event_type::call_assigned, c, agent_id, now);
  return status::ok();
}

status engine::decline(const std::string& call_id, const std::string& agent_id,
                       const std::string& offer_id, timestamp now) {
  auto* c = call_ptr(call_id);
  if (auto st = check_open_offer(c, call_id, agent_id, offer_id); !st)
    return st;
  auto closed = c->offer_id;
  emit(event_type::offer_declined, c, agent_id, now, closed);
  close_offer(*c, "declined", now);
  enqueue(*c, now);
  check_max_wait(*c, now);
  route_call(call_id, now);
  route_agent(agent_id, now);
  return status::ok();
}

status engine::set_disposition(const std::string& call_id, std::string code,
                               std::string note) {
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  if (c->data.state != call_state::assigned
      && c->data.state != call_state::wrap_up)
    return wrong_state(*c, "; a disposition is given to an answered call, "
                           "during its wrap-up, or in the hour after it "
                           "ended");
  c->disposition_code = std::move(code);
  c->note = std::move(note);
  touch(*c);
  return status::ok();
}

status engine::complete(const std::string& call_id, timestamp now) {
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  if (c->data.state != call_state::assigned)
    return wrong_state(*c, "; only an assigned call can be completed"
                           " (a waiting call is cancelled with CancelCall)");
  if (legs_.count(call_id) > 0) {
    end_legs(call_id, now);
    c = call_ptr(call_id);
  }
  auto agent_id = c->agent_id;
  auto wrap = queues_[c->data.queue_id].wrap_up;
  if (wrap.count() <= 0) {
    index_.release(agent_id, c->data.channel, now);
    touch_agent(agent_id, now);
    finish(*c, call_state::completed, now);
    route_agent(agent_id, now);
    return status::ok();
  }
  index_.set_wrap_up(agent_id, true, now);
  index_.release(agent_id, c->data.channel, now);
  auto& extra = agents_[agent_id];
  extra.wrap_up_until = std::max(extra.wrap_up_until, now + wrap);
  extra.wrap_up_calls.push_back(call_id);
  c->data.state = call_state::wrap_up;
  c->ended_at = now;
  schedule(extra.wrap_up_until, deadline_kind::wrap_up, agent_id,
           to_micros(extra.wrap_up_until));
  touch(*c);
  emit(event_type::call_wrap_up, c, agent_id, now);
  emit_agent(agent_id, now);
  return status::ok();
}

void engine::finish_wrap_up(const std::string& agent_id, timestamp now) {
  auto* extra = agent_ptr(agent_id);
  if (extra == nullptr)
    return;
  auto ids = std::move(extra->wrap_up_calls);
  extra->wrap_up_calls.clear();
  extra->wrap_up_until = {};
  for (auto& id : ids)
    if (auto* c = call_ptr(id);
        c != nullptr && c->data.state == call_state::wrap_up)
      finish(*c, call_state::completed, now);
  index_.set_wrap_up(agent_id, false, now);
  emit_agent(agent_id, now);
  route_agent(agent_id, now);
}

status engine::end_wrap_up(const std::string& agent_id, timestamp now) {
  auto* extra = agent_ptr(agent_id);
  if (extra == nullptr)
    return not_found("agent", agent_id);
  if (extra->wrap_up_until == timestamp{})
    return fail(errc::failed_precondition, "agent '" + agent_id
                                             + "' of tenant '" + tenant_id_
                                             + "' is not in wrap-up");
  finish_wrap_up(agent_id, now);
  return status::ok();
}

status engine::extend_wrap_up(const std::string& agent_id, duration extra_time,
                              timestamp now) {
  auto* extra = agent_ptr(agent_id);
  if (extra == nullptr)
    return not_found("agent", agent_id);
  if (extra_time <= duration{0} || extra_time > std::chrono::hours{1})
    return fail(errc::invalid_argument,
                "extend_by: must be longer than zero and at most 1h");
  if (extra->wrap_up_until == timestamp{})
    return fail(errc::failed_precondition, "agent '" + agent_id
                                             + "' of tenant '" + tenant_id_
                                             + "' is not in wrap-up");
  extra->wrap_up_until += extra_time;
  schedule(extra->wrap_up_until, deadline_kind::wrap_up, agent_id,
           to_micros(extra->wrap_up_until));
  emit_agent(agent_id, now);
  return status::ok();
}

status engine::target_of(const live_call& c, const std::string& queue_id,
                         const std::string& agent_id,
                         std::string& target) const {
  target = queue_id;
  if (!agent_id.empty()) {
    auto* a = index_.find_agent(agent_id);
    if (a == nullptr)
      return fail(errc::not_found, "agent_id: agent '" + agent_id
                                     + "' does not exist in tenant '"
                                     + tenant_id_ + "'");
    auto member = std::find(a->queues.begin(), a->queues.end(), c.data.queue_id)
                  != a->queues.end();
    if (!member && a->queues.empty())
      return fail(errc::failed_precondition,
                  "agent '" + agent_id + "' is a member of no queue");
    target = member ? c.data.queue_id : a->queues.front();
  } else if (queues_.count(target) == 0) {
    return fail(errc::not_found, "queue_id: queue '" + target
                                   + "' does not exist in tenant '" + tenant_id_
                                   + "'");
  }
  return status::ok();
}

namespace {

/// "+14255550123" of "sip:+14255550123@host;user=phone" or
/// "tel:+14255550123;ext=1".
std::string uri_user(const std::string& uri) {
  auto colon = uri.find(':');
  if (colon == std::string::npos)
    return {};
  auto end = uri.find_first_of("@;>", colon + 1);
  return uri.substr(colon + 1, end == std::string::npos ? std::string::npos
                                                        : end - colon - 1);
}

} // namespace

status engine::transfer(const std::string& call_id,
                        const transfer_target& target, timestamp now) {
  if (target.kind == "queue")
    return transfer(call_id, target.value, {}, now);
  if (target.kind == "agent")
    return transfer(call_id, {}, target.value, now);
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  if (target.kind == "outside")
    return transfer_outside(*c, target.value, now);
  bool number = target.kind == "number";
  if (!number && target.kind != "teams")
    return fail(errc::invalid_argument,
                "target: unknown kind '" + target.kind + "'");
  // Agents first, in id order so that two agents with one number always
  // resolve alike.
  std::vector<std::string> ids;
  for (auto& [id, _] : agents_) {
    auto* a = index_.find_agent(id);
    if (a != nullptr
        && (number ? !a->sip_uri.empty() && uri_user(a->sip_uri) == target.value
                   : a->teams_user_id == target.value))
      ids.push_back(id);
  }
  if (!ids.empty())
    return transfer(call_id, {}, *std::min_element(ids.begin(), ids.end()),
                    now);
  if (number) {
    auto dialled = c->data;
    dialled.to = target.value;
    for (auto& rule : classification_.rules)
      if (matches(rule, dialled))
        return transfer(call_id, rule.queue_id, {}, now);
    return fail(errc::not_found,
                "dialled_number: '" + target.value
                  + "' is no agent's number and no classification rule of "
                    "tenant '"
                  + tenant_id_ + "' routes it");
  }
  return fail(errc::not_found, "teams_user_id: no agent of tenant '"
                                 + tenant_id_ + "' has Teams user id '"
                                 + target.value + "'");
}

status engine::transfer(const std::string& call_id, const std::string& queue_id,
                        const std::string& agent_id, timestamp now) {
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  std::string target;
  if (auto st = target_of(*c, queue_id, agent_id, target); !st)
    return st;
  if (legs_.count(call_id) > 0)
    return fail(errc::failed_precondition,
                "call '" + call_id + "' of tenant '" + tenant_id_
                  + "' has a consult or conference leg; complete or cancel "
                    "it first");
  if (c->data.state != call_state::queued
      && c->data.state != call_state::offered
      && c->data.state != call_state::assigned)
    return wrong_state(*c, "; it can no longer be transferred");
  auto freed_agent = detach(*c, now);
  emit(event_type::call_transferred, c, agent_id, now);
  pending_.events.back().released_agent_id = freed_agent;
  uncount(*c);
  c->data.preferred_agent = agent_id;
  enter_queue(*c, target, now);
  if (!freed_agent.empty())
    route_agent(freed_agent, now);
  return status::ok();
}

status engine::transfer_outside(live_call& c, const std::string& number,
                                timestamp now) {
  if (c.data.state != call_state::assigned)
    return wrong_state(c, "; only an answered call is transferred outside");
  if (legs_.count(c.data.id) > 0)
    return fail(errc::failed_precondition,
                "call '" + c.data.id + "' of tenant '" + tenant_id_
                  + "' has a consult or conference leg; complete or cancel "
                    "it first");
  // The agent keeps the call until its gateway has handed it over and
  // completes it (or, should the transfer fail, until it ends as usual).
  // Only the event carries the number: a later transfer of this call
  // (after a failed one out) must not be taken for another one out.
  c.transfer_number = number;
  emit(event_type::call_transferred, &c, c.agent_id, now);
  c.transfer_number.clear();
  touch(c);
  return status::ok();
}

status engine::request_callback(const std::string& call_id,
                                const std::string& number, timestamp now) {
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  if (c->data.state != call_state::queued)
    return wrong_state(*c,
                       "; a callback can be requested only while it waits in "
                       "line");
  auto to = number.empty() ? c->data.from : number;
  if (to.size() > 256)
    return fail(errc::invalid_argument,
                "number: must be at most 256 characters (a phone number or "
                "SIP URI)");
  if (to.empty())
    return fail(errc::invalid_argument,
                "number: call '" + call_id
                  + "' has no from number to call back; give one");
  if (c->is_callback()) {
    c->callback_number = to;
    touch(*c);
    return status::ok();
  }
  c->limit.clear();
  c->announcement.clear();
  become_callback(*c, to, now);
  return status::ok();
}

// -- consult and conference ---------------------------------------------------

live_call* engine::open_consult(const live_call& c) {
  auto i = legs_.find(c.data.id);
  if (i == legs_.end())
    return nullptr;
  for (auto& id : i->second)
    if (auto* leg = call_ptr(id); leg != nullptr && leg->leg == "consult")
      return leg;
  return nullptr;
}

void engine::end_legs(const std::string& call_id, timestamp now) {
  auto i = legs_.find(call_id);
  if (i == legs_.end())
    return;
  auto ids = i->second;
  for (auto& id : ids) {
    auto* leg = call_ptr(id);
    if (leg == nullptr)
      continue;
    if (leg->data.state == call_state::assigned)
      (void)complete(id, now);
    else if (leg->data.state == call_state::queued
             || leg->data.state == call_state::offered)
      (void)cancel(id, false, now);
  }
  legs_.erase(call_id);
}

status engine::consult(const std::string& call_id, const std::string& queue_id,
                       const std::string& agent_id, timestamp now) {
  auto* c = call_ptr(call_id);
  if (c == nullptr)
    return not_found("call", call_id);
  if (c->data.state != call_state::assigned)
    return wrong_state(*c, "; only an answered call can consult");
  if (!c->parent_id.empty())
    return fail(errc::failed_precondition, "call '" + call_id + "' is itself a "
                                             + c->leg + " leg of '"
                                             + c->parent_id + "'");
  if (auto* open = open_consult(*c))
    return fail(errc::failed_precondition,
                "call '" + call_id + "' has consult '" + open->data.id
                  + "' open; complete, join or cancel it first");
  std::string target;
  if (auto st = target_of(*c, queue_id, agent_id, target); !st)
    return st;
  if (!agent_id.empty() && agent_id == c->agent_id)
    return fail(errc::invalid_argument, "agent_id: agent '" + agent_id
                                          + "' is already on call '" + call_id
                                          + "'");
  live_call leg;
  leg.data.id = call_id + "/consult-" + std::to_string(to_micros(now));
  leg.data.channel = c->data.channel;
  leg.data.from = c->data.from;
  leg.data.to = c->data.to;
  leg.data.attributes = c->data.attributes;
  leg.data.priority = c->data.priority;
  leg.data.preferred_agent = agent_id;
  leg.data.enqueued_at = now;
  leg.created_at = now;
  leg.parent_id = call_id;
  leg.leg = "consult";
  auto id = leg.data.id;
  legs_[call_id].push_back(id);
  enter_queue(calls_.emplace(id, std::move(leg)).first->second, target, now);
  return status::ok();
}

live_call* engine::answered_consult(const std::string& call_id,
                                    const char* verb, status& st,
                                    bool or_conference) {
  auto* c = call_ptr(call_id);
  if (c == nullptr) {
    st = not_found("call", call_id);
    return nullptr;
  }
  auto* leg = open_consult(*c);
  // A conference with a newer consult not answered yet is still left by
  // its conference leg.
  if (or_conference
      && (leg == nullptr || leg->data.state != call_state::assigned))
    if (auto i = legs_.find(call_id); i != legs_.end())
      for (auto& id : i->second)
        if (auto* l = call_ptr(id); l != nullptr && l->leg == "conference"
                                    && l->data.state == call_state::assigned)
          leg = l;
  if (leg == nullptr || leg->data.state != call_state::assigned) {
    st = fail(errc::failed_precondition,
              "call '" + call_id + "' has no answered consult to " + verb
                + (leg == nullptr
                     ? std::string{}
                     : " (consult '" + leg->data.id + "' is "
                         + std::string{to_string(leg->data.state)} + ")"));
    return nullptr;
  }
  return leg;
}

status engine::complete_consult(const std::string& call_id, timestamp now) {
  status st;
  // A conference's first agent may leave it this way too.
  auto* leg = answered_consult(call_id, "complete", st, true);
  if (leg == nullptr)
    return st;
  auto* c = call_ptr(call_id);
  // The first agent leaves the call and wraps up; the consulted agent
  // keeps the capacity its leg reserved, now for the call.
  auto first = c->agent_id;
  auto second = leg->agent_id;
  auto wrap = queues_[c->data.queue_id].wrap_up;
  index_.release(first, c->data.channel, now);
  if (wrap.count() > 0) {
    index_.set_wrap_up(first, true, now);
    auto& extra = agents_[first];
    extra.wrap_up_until = std::max(extra.wrap_up_until, now + wrap);
    schedule(extra.wrap_up_until, deadline_kind::wrap_up, first,
             to_micros(extra.wrap_up_until));
  }
  emit_agent(first, now);
  uncount(*c);
  c->data.queue_id = leg->data.queue_id;
  c->queue_path.push_back(leg->data.queue_id);
  live_per_queue_[c->data.queue_id]++;
  c->agent_id = second;
  touch(*c);
  emit(event_type::call_transferred, c, second, now);
  pending_.events.back().released_agent_id = first;
  finish(*leg, call_state::transferred, now);
  if (wrap.count() <= 0)
    route_agent(first, now);
  return status::ok();
}

status engine::join_consult(const std::string& call_id, timestamp now) {
  status st;
  auto* leg = answered_consult(call_id, "join", st);
  if (leg == nullptr)
    return st;
  leg->leg = "conference";
  touch(*leg);
  emit(event_type::call_conferenced, leg, leg->agent_id, now);
  return status::ok();
}

status engine::set_presence(const std::string& agent_id, presence p,
                            timestamp now) {
  auto* a = index_.find_agent(agent_id);
  if (a == nullptr)
    return not_found("agent", agent_id);
  if (a->pres != p) {
    auto signs_out = p == presence::offline;
    if ((a->pres == presence::offline) != signs_out)
      count_members(a->queues, signs_out ? -1 : +1);
    index_.set_presence(agent_id, p);
    emit_agent(agent_id, now);
    route_agent(agent_id, now);
    if (signs_out)
      act_on_unstaffed(index_.find_agent(agent_id)->queues, now);
  }
  return status::ok();
}

status engine::set_ready(const std::string& agent_id, bool ready,
                         const std::string& reason, timestamp now) {
  auto* a = index_.find_agent(agent_id);
  if (a == nullptr)
    return not_found("agent", agent_id);
  if (ready)
    agents_[agent_id].missed_in_a_row = 0;
  if (a->ready != ready || a->not_ready_reason != (ready ? "" : reason)) {
    index_.set_ready(agent_id, ready, ready ? std::string{} : reason);
    emit_agent(agent_id, now);
    route_agent(agent_id, now);
  }
  return status::ok();
}

// -- time ---------------------------------------------------------------------

void engine::schedule(timestamp at, deadline_kind kind, const std::string& id,
                      int64_t token) {
  deadlines_.push({at, kind, id, token});
}

void engine::schedule_relaxation() {
  auto next = index_.next_relaxation();
  if (!next)
    return;
  if (!relax_scheduled_ || *next < *relax_scheduled_) {
    relax_scheduled_ = next;
    schedule(*next, deadline_kind::relax, {}, 0);
  }
}

std::optional<timestamp> engine::next_deadline() {
  while (!deadlines_.empty() && stale(deadlines_.top()))
    deadlines_.pop();
  if (deadlines_.empty())
    return std::nullopt;
  return deadlines_.top().at;
}

bool engine::stale(const deadline& d) const {
  if (d.kind == deadline_kind::relax)
    return false;
  if (d.kind == deadline_kind::wrap_up) {
    // An agent's wrap-up: stale once it ended or was extended.
    auto a = agents_.find(d.id);
    return a == agents_.end() || to_micros(a->second.wrap_up_until) != d.token;
  }
  auto i = calls_.find(d.id);
  if (i == calls_.end())
    return true;
  auto& c = i->second;
  switch (d.kind) {
    case deadline_kind::offer:
      return c.data.state != call_state::offered
             || static_cast<int64_t>(c.offers.size()) != d.token;
    case deadline_kind::wrap_up: return true; // handled above
    case deadline_kind::max_wait:
      return to_micros(c.queue_entered_at) != d.token;
    case deadline_kind::aging:
      return c.data.state != call_state::queued || c.priority_boost != d.token;
    case deadline_kind::relax: return false;
  }
  return false;
}

void engine::advance(timestamp now) {
  while (!deadlines_.empty() && deadlines_.top().at <= now) {
    auto d = deadlines_.top();
    deadlines_.pop();
    on_deadline(d, now);
  }
}

void engine::on_deadline(const deadline& d, timestamp now) {
  switch (d.kind) {
    case deadline_kind::relax: {
      if (relax_scheduled_ && *relax_scheduled_ <= d.at)
        relax_scheduled_.reset();
      for (auto& id : index_.advance_to(now))
        route_call(id, now);
      schedule_relaxation();
      return;
    }
    case deadline_kind::offer: {
      if (stale(d))
        return;
      auto* c = call_ptr(d.id);
      auto agent_id = c->agent_id;
      emit(event_type::offer_expired, c, agent_id, now, c->offer_id);
      close_offer(*c, "expired", now);
      enqueue(*c, now);
      check_max_wait(*c, now);
      route_call(d.id, now);
      route_agent(agent_id, now);
      return;
    }
    case deadline_kind::wrap_up: {
      if (stale(d))
        return;
      finish_wrap_up(d.id, now);
      return;
    }
    case deadline_kind::max_wait: {
      if (stale(d))
        return;
      auto* c = call_ptr(d.id);
      check_max_wait(*c, now);
      return;
    }
    case deadline_kind::aging: {
      if (stale(d))
        return;
      age(*call_ptr(d.id), now);
      return;
    }
  }
}

// -- recovery -----------------------------------------------------------------

void engine::restore(const queue& q) {
  queues_[q.id] = q;
  index_.upsert_queue(q);
}

void engine::restore(const agent_view& a) {
  auto data = a.data;
  // Load is rebuilt from the live calls in recover().
  data.load = {};
  count_signed_in(data, +1);
  index_.upsert_agent(data);
  auto& extra = agents_[data.id];
  extra.missed_in_a_row = a.missed_in_a_row;
  extra.wrap_up_until = a.wrap_up_until;
  extra.today = a.today;
  extra.offers_pending = 0;
}

void engine::restore(live_call c) {
  auto id = c.data.id;
  calls_[id] = std::move(c);
}

void engine::restore(const std::string& caller, last_served x) {
  last_agents_[caller] = std::move(x);
}

std::optional<last_served>
engine::last_agent_of(const std::string& caller) const {
  auto i = last_agents_.find(caller);
  if (i == last_agents_.end())
    return std::nullopt;
  return i->second;
}

void engine::forget_last_agents(timestamp now) {
  duration longest{0};
  for (auto& [id, q] : queues_)
    longest = std::max(longest, q.last_agent_window);
  for (auto i = last_agents_.begin(); i != last_agents_.end();) {
    if (longest.count() == 0 || now - i->second.at > longest) {
      pending_.callers.insert(i->first);
      i = last_agents_.erase(i);
    } else {
      ++i;
    }
  }
}

void engine::recover(timestamp now) {
  // Oldest first, so that equal keys keep their order.
  std::vector<live_call*> order;
  order.reserve(calls_.size());
  for (auto& [id, c] : calls_)
    order.push_back(&c);
  std::sort(order.begin(), order.end(), [](auto* x, auto* y) {
    return key_of(*x) < key_of(*y);
  });
  std::vector<std::string> lost;
  std::vector<std::string> orphans;
  for (auto* c : order) {
    auto& q = c->data.queue_id;
    if (queues_.count(q) == 0) {
      lost.push_back(c->data.id);
      continue;
    }
    live_per_queue_[q]++;
    if (!c->parent_id.empty())
      legs_[c->parent_id].push_back(c->data.id);
    switch (c->data.state) {
      case call_state::created:
      case call_state::queued:
        // A call stored as queued is not written again: with a million
        // waiting calls that rewrite took half of the restart.
        enqueue(*c, now, c->data.state == call_state::created);
        if (auto mw = queues_[q].max_wait; mw.count() > 0)
          schedule(c->queue_entered_at + mw, deadline_kind::max_wait,
                   c->data.id, to_micros(c->queue_entered_at));
        break;
      case call_state::offered:
        if (!index_.reserve(c->agent_id, q, c->data.channel)) {
          // The agent is gone or full: the call waits again.
          c->agent_id.clear();
          c->offer_id.clear();
          if (!c->offers.empty())
            c->offers.back().outcome = "withdrawn";
          enqueue(*c, now);
          break;
        }
        agents_[c->agent_id].offers_pending++;
        with_agent_.insert(c->data.id);
        schedule(c->offer_expires_at, deadline_kind::offer, c->data.id,
                 static_cast<int64_t>(c->offers.size()));
        break;
      case call_state::assigned:
        index_.reserve(c->agent_id, q, c->data.channel);
        with_agent_.insert(c->data.id);
        break;
      case call_state::wrap_up: {
        auto a = agents_.find(c->agent_id);
        if (a == agents_.end()) {
          orphans.push_back(c->data.id); // its agent is gone: it ends now
          break;
        }
        if (a->second.wrap_up_until == timestamp{})
          a->second.wrap_up_until = now;
        a->second.wrap_up_calls.push_back(c->data.id);
        with_agent_.insert(c->data.id);
        index_.set_wrap_up(c->agent_id, true, now);
        break;
      }
      default: break;
    }
  }
  // Ids, not pointers: the calls below may end and leave calls_.
  std::vector<std::string> line_order;
  for (auto* c : order)
    if (c->data.state == call_state::queued)
      line_order.push_back(c->data.id);
  order.clear();
  for (auto& id : lost)
    calls_.erase(id);
  for (auto& id : orphans)
    finish(calls_[id], call_state::completed, now);
  // Agents in wrap-up without a call wrapping up end it now; the others
  // end it when it was due. Time while the node was down counts for
  // nothing in the agents' figures.
  for (auto& [id, extra] : agents_) {
    extra.today.since = now;
    if (extra.wrap_up_until == timestamp{})
      continue;
    if (extra.wrap_up_calls.empty()) {
      extra.wrap_up_until = {};
      index_.set_wrap_up(id, false, now);
      continue;
    }
    schedule(extra.wrap_up_until, deadline_kind::wrap_up, id,
             to_micros(extra.wrap_up_until));
  }
  for (auto& id : index_.advance_to(now))
    (void)id;
  advance(now);
  route_everyone(now);
  // Routing what waits first, in line order.
  for (auto& id : line_order)
    route_call(id, now);
  schedule_relaxation();
}

// -- reading ------------------------------------------------------------------

const queue* engine::find_queue(const std::string& id) const {
  auto i = queues_.find(id);
  return i == queues_.end() ? nullptr : &i->second;
}

const live_call* engine::find_call(const std::string& id) const {
  auto i = calls_.find(id);
  return i == calls_.end() ? nullptr : &i->second;
}

std::optional<agent_view> engine::find_agent(const std::string& id) const {
  auto* a = index_.find_agent(id);
  auto i = agents_.find(id);
  if (a == nullptr || i == agents_.end())
    return std::nullopt;
  auto result = i->second;
  result.data = *a;
  return result;
}

std::vector<queue> engine::queues() const {
  std::vector<queue> result;
  result.reserve(queues_.size());
  for (auto& [id, q] : queues_)
    result.push_back(q);
  return result;
}

std::vector<agent_view> engine::agents() const {
  std::vector<agent_view> result;
  result.reserve(agents_.size());
  for (auto& [id, extra] : agents_)
    if (auto a = find_agent(id))
      result.push_back(std::move(*a));
  std::sort(result.begin(), result.end(), [](auto& x, auto& y) {
    return x.data.id < y.data.id;
  });
  return result;
}

std::vector<const live_call*> engine::calls() const {
  std::vector<const live_call*> result;
  result.reserve(calls_.size());
  for (auto& [id, c] : calls_)
    result.push_back(&c);
  std::sort(result.begin(), result.end(), [](auto* x, auto* y) {
    return x->data.id < y->data.id;
  });
  return result;
}

uint32_t engine::position(const std::string& call_id) const {
  auto* c = find_call(call_id);
  if (c == nullptr || c->data.state != call_state::queued)
    return 0;
  auto l = lines_.find(c->data.queue_id);
  if (l == lines_.end())
    return 0;
  auto& keys = l->second.keys;
  auto i = keys.find(key_of(*c));
  if (i == keys.end())
    return 0;
  auto next = std::next(i);
  if (next == keys.end() || std::get<0>(*next) != std::get<0>(*i)) {
    // The back of its priority: every call of a higher or its own
    // priority is ahead of it or is it.
    size_t place = 0;
    for (auto& [band, n] : l->second.per_priority) {
      place += n;
      if (band == std::get<0>(*i))
        break;
    }
    return static_cast<uint32_t>(place);
  }
  return static_cast<uint32_t>(std::distance(keys.begin(), i)) + 1;
}

std::unordered_map<std::string, uint32_t> engine::positions() const {
  std::unordered_map<std::string, uint32_t> result;
  for (auto& [queue_id, l] : lines_) {
    uint32_t place = 0;
    for (auto& key : l.keys)
      result[std::get<2>(key)] = ++place;
  }
  return result;
}

std::optional<queue_stats> engine::stats(const std::string& queue_id,
                                         timestamp now) const {
  if (queues_.count(queue_id) == 0)
    return std::nullopt;
  queue_stats result;
  if (auto l = lines_.find(queue_id); l != lines_.end()) {
    result.waiting = static_cast<uint32_t>(l->second.keys.size());
    for (auto& key : l->second.keys)
      result.longest_wait
        = std::max(result.longest_wait, now - from_micros(std::get<1>(key)));
  }
  if (auto n = counters_.find(queue_id); n != counters_.end()) {
    result.offered = n->second.offered;
    result.answered = n->second.answered;
    result.abandoned = n->second.abandoned;
    result.answered_in_threshold = n->second.answered_in_threshold;
    result.total_answer_wait = n->second.total_answer_wait;
    result.overflowed = n->second.overflowed;
    result.disconnected = n->second.disconnected;
  }
  if (auto i = callbacks_in_line_.find(queue_id); i != callbacks_in_line_.end())
    result.callbacks_waiting = static_cast<uint32_t>(i->second);
  result.open = queues_.at(queue_id).hours.is_open(now);
  for (auto window : {std::chrono::minutes{15}, std::chrono::minutes{60},
                      std::chrono::minutes{24 * 60}})
    result.windows.push_back(sum_window(queue_id, window, now));
  result.estimated_wait = estimated_wait(
    queue_id, static_cast<uint32_t>(callers_waiting(queue_id)) + 1, now);
  std::map<std::tuple<activity, presence, bool>, uint32_t> by_state;
  for (auto& [id, extra] : agents_) {
    auto* a = index_.find_agent(id);
    if (a == nullptr
        || std::find(a->queues.begin(), a->queues.end(), queue_id)
             == a->queues.end())
      continue;
    by_state[{activity_of(*a, extra.offers_pending), a->pres, a->ready}]++;
  }
  for (auto& [key, n] : by_state)
    result.agents.push_back(
      {std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  return result;
}

std::vector<inconsistency> engine::audit() const {
  struct held {
    channel_load load{};
    uint16_t offers = 0;
    size_t wrapping = 0;
  };
  std::unordered_map<std::string, held> by_agent;
  std::vector<inconsistency> result;
  // The calls that hold an agent, not every live call: most wait.
  for (auto& id : with_agent_) {
    auto i = calls_.find(id);
    if (i == calls_.end()) {
      result.push_back({"", "call '" + id
                              + "' is counted as held by an "
                                "agent but is not live"});
      continue;
    }
    auto& c = i->second;
    if (c.agent_id.empty()) {
      result.push_back({"", "call '" + id
                              + "' is counted as held by an "
                                "agent but has none"});
      continue;
    }
    auto ch = static_cast<size_t>(c.data.channel);
    auto& h = by_agent[c.agent_id];
    switch (c.data.state) {
      case call_state::offered:
        h.load[ch]++;
        h.offers++;
        break;
      case call_state::assigned: h.load[ch]++; break;
      case call_state::wrap_up: h.wrapping++; break;
      default: break;
    }
    if (agents_.count(c.agent_id) == 0)
      result.push_back({c.agent_id, "call '" + id + "' is "
                                      + std::string{to_string(c.data.state)}
                                      + " with an agent that does not exist"});
  }
  for (auto& [id, extra] : agents_) {
    auto* a = index_.find_agent(id);
    if (a == nullptr) {
      result.push_back({id, "missing from the matching index"});
      continue;
    }
    held h;
    if (auto i = by_agent.find(id); i != by_agent.end())
      h = i->second;
    for (size_t ch = 0; ch < channel_count; ++ch)
      if (a->load[ch] != h.load[ch])
        result.push_back(
          {id, "counts " + std::to_string(a->load[ch]) + " "
                 + std::string{to_string(static_cast<channel>(ch))}
                 + " items but holds " + std::to_string(h.load[ch])
                 + " offered or answered"});
    if (extra.offers_pending != h.offers)
      result.push_back({id, "counts " + std::to_string(extra.offers_pending)
                              + " open offers but holds "
                              + std::to_string(h.offers)});
    // Wrap-up may hold no call (the first agent of a consult transfer),
    // but a call wrapping up needs its agent in wrap-up.
    if (a->in_wrap_up != (extra.wrap_up_until != timestamp{})
        || (h.wrapping > 0 && !a->in_wrap_up)
        || extra.wrap_up_calls.size() != h.wrapping)
      result.push_back(
        {id, std::string{a->in_wrap_up ? "is" : "is not"} + " in wrap-up with "
               + std::to_string(extra.wrap_up_calls.size())
               + " wrap-up calls counted and " + std::to_string(h.wrapping)
               + " calls wrapping up"});
  }
  std::sort(result.begin(), result.end(), [](auto& x, auto& y) {
    return x.agent_id < y.agent_id;
  });
  return result;
}

std::optional<agent_stats> engine::agent_figures(const std::string& agent_id,
                                                 timestamp now) const {
  auto i = agents_.find(agent_id);
  if (i == agents_.end())
    return std::nullopt;
  auto result = i->second.today;
  account(result, now);
  return result;
}

// -- rolling windows ----------------------------------------------------------

namespace {

constexpr int64_t minutes_kept = 24 * 60;

int64_t minute_number(timestamp t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch())
    .count();
}

} // namespace

minute_counts& engine::minute_of(const std::string& queue_id, timestamp now) {
  auto& ring = minutes_[queue_id];
  if (ring.empty())
    ring.resize(minutes_kept);
  auto minute = minute_number(now);
  auto& slot = ring[static_cast<size_t>(minute % minutes_kept)];
  if (slot.minute != minute)
    slot = minute_counts{minute};
  if (!slot.pending) {
    slot.pending = true;
    counted_.emplace(queue_id, minute);
  }
  return slot;
}

window_stats engine::sum_window(const std::string& queue_id, duration window,
                                timestamp now) const {
  window_stats result;
  result.window = window;
  auto ring = minutes_.find(queue_id);
  if (ring == minutes_.end() || ring->second.empty())
    return result;
  auto last = minute_number(now);
  auto count = std::min<int64_t>(
    minutes_kept,
    std::chrono::duration_cast<std::chrono::minutes>(window).count());
  for (auto minute = last - count + 1; minute <= last; ++minute) {
    auto& m = ring->second[static_cast<size_t>(minute % minutes_kept)];
    if (m.minute != minute)
      continue;
    result.offered += m.offered;
    result.answered += m.answered;
    result.answered_in_threshold += m.answered_in_threshold;
    result.abandoned += m.abandoned;
    result.handled += m.handled;
    result.answer_wait += m.answer_wait;
    result.handle_time += m.handle_time;
  }
  return result;
}

duration engine::estimated_wait(const std::string& queue_id, uint32_t position,
                                timestamp now) const {
  auto hour = sum_window(queue_id, std::chrono::hours{1}, now);
  if (hour.handled == 0)
    hour = sum_window(queue_id, std::chrono::hours{24}, now);
  auto staffed = signed_in_.find(queue_id);
  if (hour.handled == 0 || staffed == signed_in_.end() || staffed->second == 0)
    return duration{-1};
  auto aht = hour.handle_time / static_cast<int64_t>(hour.handled);
  return aht * static_cast<int64_t>(position)
         / static_cast<int64_t>(staffed->second);
}

std::vector<std::pair<std::string, minute_counts>>
engine::take_counted_minutes() {
  std::vector<std::pair<std::string, minute_counts>> result;
  for (auto& [queue_id, minute] : counted_) {
    auto ring = minutes_.find(queue_id);
    if (ring == minutes_.end() || ring->second.empty())
      continue;
    auto& m = ring->second[static_cast<size_t>(minute % minutes_kept)];
    if (m.minute == minute) {
      m.pending = false;
      result.emplace_back(queue_id, m);
    }
  }
  counted_.clear();
  return result;
}

void engine::restore(const std::string& queue_id, const minute_counts& m) {
  if (m.minute < 0)
    return;
  auto& ring = minutes_[queue_id];
  if (ring.empty())
    ring.resize(minutes_kept);
  auto& slot = ring[static_cast<size_t>(m.minute % minutes_kept)];
  if (slot.minute <= m.minute)
    slot = m;
}

} // namespace switchboard::routing
