#include "nodes/simulator/simulation.hpp"

#include "routing/matching_index.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <numeric>
#include <queue>
#include <random>
#include <unordered_map>

namespace switchboard::simulator {

using namespace std::chrono_literals;
using routing::channel;
using routing::timestamp;

namespace {

constexpr int64_t forever = std::numeric_limits<int64_t>::max();

/// The simulation starts at a fixed, arbitrary instant so that reports do
/// not depend on the wall clock.
constexpr timestamp start_time{duration{1'767'225'600'000'000}};

enum class event_kind : uint8_t {
  arrival,
  abandon,
  pickup,
  hangup,
  wrap_end,
  break_start,
  break_end,
  relax,
  tick,
};

struct event {
  int64_t at;
  uint64_t seq;
  event_kind kind;
  uint32_t subject; // call or agent index

  friend bool operator>(const event& x, const event& y) {
    return x.at != y.at ? x.at > y.at : x.seq > y.seq;
  }
};

enum class call_phase : uint8_t { waiting, ringing, talking, done };

struct sim_call {
  routing::call data;
  size_t type = 0;
  size_t queue = 0;
  call_phase phase = call_phase::waiting;
  uint32_t agent = 0;
};

struct sim_agent {
  std::string id;
  size_t group = 0;
  bool on_break = false;
  bool wrapping = false;
  uint32_t items = 0;
  int64_t busy_since = -1;
  int64_t busy_total = 0;
  int64_t break_started = 0;
  int64_t break_total = 0;
};

routing::attributes
attrs(std::initializer_list<std::pair<const char*, int>> skills) {
  routing::attributes result;
  for (auto& [name, level] : skills)
    result.skills[name] = static_cast<uint8_t>(level);
  return result;
}

routing::queue make_queue(std::string id, routing::distribution_mode mode,
                          duration wrap_up, duration sla) {
  routing::queue q;
  q.id = id;
  q.name = std::move(id);
  q.mode = mode;
  q.wrap_up = wrap_up;
  q.sla.threshold = sla;
  return q;
}

} // namespace

scenario scenario::demo() {
  using routing::distribution_mode;
  scenario s;
  s.calls_per_hour = 520;
  s.queues = {
    make_queue("sales", distribution_mode::longest_idle, 15s, 20s),
    make_queue("billing", distribution_mode::best_skill, 20s, 20s),
    make_queue("support", distribution_mode::round_robin, 15s, 30s),
    make_queue("chat", distribution_mode::longest_idle, 0s, 60s),
  };
  s.groups = {
    {"sales-en", 12, attrs({{"sales", 80}, {"english", 100}}), {"sales"}},
    {"sales-es",
     6,
     attrs({{"sales", 70}, {"spanish", 100}, {"english", 60}}),
     {"sales"}},
    {"billing-experts",
     5,
     attrs({{"billing", 90}, {"english", 100}}),
     {"billing", "support"}},
    {"billing",
     7,
     attrs({{"billing", 60}, {"english", 100}, {"spanish", 60}}),
     {"billing"}},
    {"tech-support",
     8,
     attrs({{"tech", 80}, {"english", 100}}),
     {"support", "chat"}},
    {"chat-desk",
     6,
     attrs({{"tech", 60}, {"english", 100}, {"spanish", 80}}),
     {"chat", "support"}},
  };
  auto type = [](std::string name, std::string queue, double weight,
                 std::string selectors, int32_t priority = 0,
                 channel ch = channel::voice, duration handle = 4min) {
    call_type t;
    t.name = std::move(name);
    t.queue = std::move(queue);
    t.weight = weight;
    t.selectors = std::move(selectors);
    t.priority = priority;
    t.channel = ch;
    t.mean_handle = handle;
    return t;
  };
  s.call_types = {
    type("sales-en", "sales", 30, "skill.english >= 60"),
    type("sales-es", "sales", 8, "skill.spanish >= 60"),
    type("sales-vip", "sales", 3, "skill.sales >= 80 relax after 20s", 5),
    type("billing", "billing", 20, "skill.billing >= 80 relax after 10s"),
    type("billing-es", "billing", 5, "skill.spanish >= 60"),
    type("support", "support", 20, "skill.tech >= 70 relax after 15s"),
    type("chat", "chat", 25, "skill.tech exists", 0, channel::chat, 6min),
  };
  return s;
}

duration queue_report::asa() const {
  if (answered == 0)
    return duration{0};
  return total_answer_wait / static_cast<int64_t>(answered);
}

double queue_report::service_level() const {
  auto finished = answered + abandoned;
  return finished == 0 ? 100.0
                       : 100.0 * static_cast<double>(answered_in_threshold)
                           / static_cast<double>(finished);
}

double queue_report::abandon_rate() const {
  return offered == 0 ? 0.0
                      : 100.0 * static_cast<double>(abandoned)
                          / static_cast<double>(offered);
}

struct simulation::impl {
  explicit impl(scenario s) : config(std::move(s)), rng(config.seed) {}

  scenario config;
  std::mt19937_64 rng;
  routing::matching_index index;
  std::priority_queue<event, std::vector<event>, std::greater<>> events;
  uint64_t next_seq = 0;
  int64_t now = 0; // microseconds since start_time
  int64_t relax_scheduled = forever;
  std::vector<sim_call> calls;
  std::unordered_map<std::string, uint32_t> call_ids;
  std::vector<sim_agent> agents;
  std::unordered_map<std::string, uint32_t> agent_ids;
  std::unordered_map<std::string, size_t> queue_ids;
  std::vector<std::vector<routing::selector>> type_selectors;
  std::discrete_distribution<size_t> pick_type;
  report result;

  // -- helpers ----------------------------------------------------------------

  timestamp at(int64_t t) const { return start_time + duration{t}; }

  void schedule(int64_t at_time, event_kind kind, uint32_t subject = 0) {
    events.push({at_time, next_seq++, kind, subject});
  }

  int64_t exponential(duration mean) {
    std::exponential_distribution<double> d{
      1.0 / static_cast<double>(mean.count())};
    return static_cast<int64_t>(d(rng));
  }

  bool chance(double p) { return std::bernoulli_distribution{p}(rng); }

  void touch(sim_agent& a) {
    bool busy = a.items > 0 || a.wrapping;
    if (busy && a.busy_since < 0) {
      a.busy_since = now;
    } else if (!busy && a.busy_since >= 0) {
      a.busy_total += now - a.busy_since;
      a.busy_since = -1;
    }
  }

  template<class F>
  auto timed(F f) {
    auto start = std::chrono::steady_clock::now();
    auto r = f();
    result.decision_time += std::chrono::duration_cast<duration>(
      std::chrono::steady_clock::now() - start);
    ++result.decisions;
    return r;
  }

  // -- routing ----------------------------------------------------------------

  void offer(sim_call& c, uint32_t agent, bool was_waiting) {
    auto& a = agents[agent];
    if (was_waiting)
      index.assign(c.data.id, a.id);
    else
      index.reserve(a.id, c.data.queue_id, c.data.channel);
    c.phase = call_phase::ringing;
    c.agent = agent;
    ++a.items;
    touch(a);
    schedule(now + config.ring_time.count(), event_kind::pickup,
             call_ids.at(c.data.id));
  }

  void dispatch_call(uint32_t call) {
    auto& c = calls[call];
    if (c.phase != call_phase::waiting)
      return;
    auto* a = timed([&] {
      return index.best_agent_for(c.data.id);
    });
    if (a != nullptr)
      offer(c, agent_ids.at(a->id), true);
  }

  void dispatch_agent(uint32_t agent) {
    auto& a = agents[agent];
    while (!a.on_break) {
      auto* c = timed([&] {
        return index.best_call_for(a.id);
      });
      if (c == nullptr)
        return;
      offer(calls[call_ids.at(c->id)], agent, true);
    }
  }

  void end_offer(sim_call& c) {
    auto& a = agents[c.agent];
    index.release(a.id, c.data.channel, at(now));
    --a.items;
    touch(a);
  }

  // -- events -----------------------------------------------------------------

  void on_arrival() {
    auto type = pick_type(rng);
    auto& t = config.call_types[type];
    auto id = static_cast<uint32_t>(calls.size());
    sim_call c;
    c.type = type;
    c.queue = queue_ids.at(t.queue);
    c.data.id = "call-" + std::to_string(id);
    c.data.channel = t.channel;
    c.data.priority = t.priority;
    c.data.queue_id = t.queue;
    c.data.selectors = type_selectors[type];
    c.data.enqueued_at = at(now);
    calls.push_back(std::move(c));
    call_ids.emplace(calls.back().data.id, id);
    auto& q = result.queues[calls.back().queue];
    ++q.offered;
    auto* a = timed([&] {
      return index.best_agent_for(calls[id].data);
    });
    if (a != nullptr) {
      offer(calls[id], agent_ids.at(a->id), false);
    } else {
      index.enqueue(calls[id].data);
    }
    schedule(now + exponential(config.mean_patience), event_kind::abandon, id);
    auto next
      = now
        + exponential(std::chrono::duration_cast<duration>(
          std::chrono::duration<double>{3600.0 / config.calls_per_hour}));
    if (next < config.length.count())
      schedule(next, event_kind::arrival);
  }

  void record_wait(sim_call& c) {
    auto waited = at(now) - c.data.enqueued_at;
    auto& q = result.queues[c.queue];
    q.longest_wait = std::max(q.longest_wait, waited);
  }

  void on_abandon(uint32_t call) {
    auto& c = calls[call];
    if (c.phase == call_phase::waiting) {
      index.remove_call(c.data.id);
    } else if (c.phase == call_phase::ringing) {
      end_offer(c);
      dispatch_agent(c.agent);
    } else {
      return; // already answered or gone
    }
    c.phase = call_phase::done;
    record_wait(c);
    ++result.queues[c.queue].abandoned;
  }

  void on_pickup(uint32_t call) {
    auto& c = calls[call];
    if (c.phase != call_phase::ringing)
      return;
    if (chance(config.decline_rate)) {
      // Declined or rang out: back to the queue in its original place.
      ++result.declined_offers;
      end_offer(c);
      c.phase = call_phase::waiting;
      index.enqueue(c.data);
      auto agent = c.agent;
      dispatch_call(call);
      dispatch_agent(agent);
      return;
    }
    c.phase = call_phase::talking;
    record_wait(c);
    auto& q = result.queues[c.queue];
    auto waited = at(now) - c.data.enqueued_at;
    ++q.answered;
    q.total_answer_wait += waited;
    if (waited <= q.sla_threshold)
      ++q.answered_in_threshold;
    schedule(now + exponential(config.call_types[c.type].mean_handle),
             event_kind::hangup, call);
  }

  void on_hangup(uint32_t call) {
    auto& c = calls[call];
    c.phase = call_phase::done;
    auto& a = agents[c.agent];
    ++result.groups[a.group].handled;
    auto wrap = config.queues[c.queue].wrap_up;
    if (wrap.count() > 0 && c.data.channel == channel::voice) {
      index.set_wrap_up(a.id, true, at(now));
      a.wrapping = true;
      schedule(now + wrap.count(), event_kind::wrap_end, c.agent);
    }
    end_offer(c);
    dispatch_agent(c.agent);
  }

  void on_wrap_end(uint32_t agent) {
    auto& a = agents[agent];
    index.set_wrap_up(a.id, false, at(now));
    a.wrapping = false;
    touch(a);
    dispatch_agent(agent);
  }

  void on_break_start(uint32_t agent) {
    auto& a = agents[agent];
    index.set_presence(a.id, routing::presence::away);
    a.on_break = true;
    a.break_started = now;
    schedule(now + config.break_length.count(), event_kind::break_end, agent);
  }

  void on_break_end(uint32_t agent) {
    auto& a = agents[agent];
    index.set_presence(a.id, routing::presence::available);
    a.on_break = false;
    a.break_total += now - a.break_started;
    dispatch_agent(agent);
  }

  progress snapshot() const {
    progress p;
    p.elapsed = duration{now};
    p.length = config.length;
    p.waiting = index.waiting_count();
    p.agents_total = static_cast<uint32_t>(agents.size());
    for (auto& a : agents)
      if (a.items > 0 || a.wrapping)
        ++p.agents_busy;
    queue_report total;
    for (auto& q : result.queues) {
      total.answered += q.answered;
      total.abandoned += q.abandoned;
      total.answered_in_threshold += q.answered_in_threshold;
    }
    p.answered = total.answered;
    p.abandoned = total.abandoned;
    p.service_level = total.service_level();
    return p;
  }

  // -- setup and run ----------------------------------------------------------

  void setup() {
    for (size_t i = 0; i < config.queues.size(); ++i) {
      auto& q = config.queues[i];
      queue_ids.emplace(q.id, i);
      index.upsert_queue(q);
      queue_report r;
      r.queue = q.id;
      r.mode = q.mode;
      r.sla_threshold = q.sla.threshold;
      result.queues.push_back(r);
    }
    std::uniform_int_distribution<int64_t> break_at{
      0, std::max<int64_t>(0, config.length.count()
                                - config.break_length.count())};
    for (size_t g = 0; g < config.groups.size(); ++g) {
      auto& group = config.groups[g];
      result.groups.push_back({group.name, group.count, 0, 0});
      for (uint32_t i = 0; i < group.count; ++i) {
        routing::agent a;
        a.id = group.name + "-" + std::to_string(i + 1);
        a.display_name = a.id;
        a.attrs = group.attrs;
        a.queues = group.queues;
        a.pres = routing::presence::available;
        a.ready = true;
        a.idle_since = at(0);
        index.upsert_agent(a);
        auto handle = static_cast<uint32_t>(agents.size());
        agent_ids.emplace(a.id, handle);
        sim_agent s;
        s.id = a.id;
        s.group = g;
        agents.push_back(std::move(s));
        if (config.break_length.count() > 0)
          schedule(break_at(rng), event_kind::break_start, handle);
      }
    }
    std::vector<double> weights;
    for (auto& t : config.call_types) {
      weights.push_back(t.weight);
      type_selectors.push_back(routing::parse_selectors(t.selectors).selectors);
    }
    pick_type
      = std::discrete_distribution<size_t>{weights.begin(), weights.end()};
    index.advance_to(at(0));
    if (config.calls_per_hour > 0 && !config.call_types.empty())
      schedule(0, event_kind::arrival);
    schedule(std::chrono::microseconds{1min}.count(), event_kind::tick);
  }

  void step(const event& e) {
    now = e.at;
    for (auto& id : index.advance_to(at(now))) {
      ++result.relaxed_calls;
      dispatch_call(call_ids.at(id));
    }
    switch (e.kind) {
      case event_kind::arrival: on_arrival(); break;
      case event_kind::abandon: on_abandon(e.subject); break;
      case event_kind::pickup: on_pickup(e.subject); break;
      case event_kind::hangup: on_hangup(e.subject); break;
      case event_kind::wrap_end: on_wrap_end(e.subject); break;
      case event_kind::break_start: on_break_start(e.subject); break;
      case event_kind::break_end: on_break_end(e.subject); break;
      case event_kind::relax: relax_scheduled = forever; break;
      case event_kind::tick: break;
    }
    if (config.check_work_conserving)
      check_work_conserving();
    if (auto next = index.next_relaxation()) {
      auto t = (*next - start_time).count();
      if (t < relax_scheduled) {
        relax_scheduled = t;
        schedule(t, event_kind::relax);
      }
    }
  }

  void check_work_conserving() {
    for (auto& c : calls)
      if (c.phase == call_phase::waiting
          && index.best_agent_for(c.data.id) != nullptr) {
        ++result.work_conserving_violations;
        return;
      }
  }

  bool work_left() const {
    return std::any_of(calls.begin(), calls.end(), [](const sim_call& c) {
      return c.phase != call_phase::done;
    });
  }

  report run(const std::function<void(const progress&)>& on_progress) {
    setup();
    while (!events.empty()) {
      auto e = events.top();
      events.pop();
      if (e.kind == event_kind::tick) {
        now = e.at;
        if (on_progress)
          on_progress(snapshot());
        // Ticks go on while arrivals do, or while calls are unfinished.
        if (now < config.length.count() || work_left())
          schedule(now + std::chrono::microseconds{1min}.count(),
                   event_kind::tick);
        continue;
      }
      step(e);
    }
    finish();
    return result;
  }

  void finish() {
    result.simulated = duration{now};
    int64_t busy_all = 0;
    int64_t staffed_all = 0;
    std::vector<int64_t> busy(config.groups.size());
    std::vector<int64_t> staffed(config.groups.size());
    for (auto& a : agents) {
      touch(a); // closes an open busy interval
      auto staffed_time = std::max<int64_t>(now - a.break_total, 1);
      busy[a.group] += a.busy_total;
      staffed[a.group] += staffed_time;
      busy_all += a.busy_total;
      staffed_all += staffed_time;
    }
    for (size_t g = 0; g < result.groups.size(); ++g)
      result.groups[g].occupancy = staffed[g] == 0
                                     ? 0.0
                                     : 100.0 * static_cast<double>(busy[g])
                                         / static_cast<double>(staffed[g]);
    result.occupancy = staffed_all == 0 ? 0.0
                                        : 100.0 * static_cast<double>(busy_all)
                                            / static_cast<double>(staffed_all);
    auto& t = result.total;
    t.queue = "total";
    for (auto& q : result.queues) {
      t.offered += q.offered;
      t.answered += q.answered;
      t.abandoned += q.abandoned;
      t.answered_in_threshold += q.answered_in_threshold;
      t.total_answer_wait += q.total_answer_wait;
      t.longest_wait = std::max(t.longest_wait, q.longest_wait);
    }
  }
};

simulation::simulation(scenario s)
  : impl_(std::make_unique<impl>(std::move(s))) {}

simulation::~simulation() = default;

std::string simulation::validate() const {
  auto& s = impl_->config;
  if (s.length.count() <= 0)
    return "length must be positive";
  if (s.calls_per_hour < 0)
    return "calls_per_hour must not be negative";
  if (s.decline_rate < 0 || s.decline_rate > 1)
    return "decline_rate must be between 0 and 1";
  for (auto& t : s.call_types) {
    auto known = std::any_of(s.queues.begin(), s.queues.end(), [&](auto& q) {
      return q.id == t.queue;
    });
    if (!known)
      return "call type '" + t.name + "' names unknown queue '" + t.queue + "'";
    auto parsed = routing::parse_selectors(t.selectors);
    if (!parsed)
      return "call type '" + t.name
             + "' selectors: " + parsed.error->to_string();
    if (t.weight < 0)
      return "call type '" + t.name + "' has a negative weight";
  }
  for (auto& g : s.groups)
    for (auto& q : g.queues)
      if (std::none_of(s.queues.begin(), s.queues.end(), [&](auto& x) {
            return x.id == q;
          }))
        return "agent group '" + g.name + "' names unknown queue '" + q + "'";
  return {};
}

report
simulation::run(const std::function<void(const progress&)>& on_progress) {
  return impl_->run(on_progress);
}

} // namespace switchboard::simulator
