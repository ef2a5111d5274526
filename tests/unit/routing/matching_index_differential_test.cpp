// Randomized differential test: on thousands of random contact centers and
// random sequences of changes, the matching index must decide exactly as
// the brute-force reference router does, in both directions.

#include "routing/matching_index.hpp"
#include "tests/support/reference_router.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

using namespace switchboard::routing;
using switchboard::testing::reference_router;
using namespace std::chrono_literals;

namespace {

/// How much the comparisons exercised, so the test cannot pass by
/// comparing empty answers.
struct coverage {
  uint64_t agent_decisions = 0;
  uint64_t agents_found = 0;
  uint64_t call_decisions = 0;
  uint64_t calls_found = 0;
  uint64_t relaxations = 0;
};

class instance {
 public:
  instance(uint64_t seed, coverage& cov) : rng_(seed), cov_(cov) {}

  void build() {
    auto queue_count = pick(1, 4);
    for (int i = 0; i < queue_count; ++i)
      add_queue("q" + std::to_string(i));
    auto agent_count = pick(1, 40);
    for (int i = 0; i < agent_count; ++i)
      add_agent("a" + std::to_string(i));
    ref_.now = from_micros(pick(0, 1000) * 1'000'000);
    index_.advance_to(ref_.now);
    auto call_count = pick(0, 60);
    for (int i = 0; i < call_count; ++i)
      add_call();
  }

  /// Compares every decision of the index with the reference's.
  void check(const std::string& context) {
    ASSERT_EQ(index_.waiting_count(), ref_.waiting.size()) << context;
    for (auto& [id, c] : ref_.waiting) {
      auto expected = ref_.best_agent(c);
      auto* got = index_.best_agent_for(id);
      ++cov_.agent_decisions;
      cov_.agents_found += expected.has_value();
      ASSERT_EQ(got ? std::optional<std::string>{got->id} : std::nullopt,
                expected)
        << context << ": best agent for waiting call " << id;
    }
    for (auto& [id, a] : ref_.agents) {
      auto expected = ref_.best_call(id);
      auto* got = index_.best_call_for(id);
      ++cov_.call_decisions;
      cov_.calls_found += expected.has_value();
      ASSERT_EQ(got ? std::optional<std::string>{got->id} : std::nullopt,
                expected)
        << context << ": best call for agent " << id;
    }
    // A new arrival, asked before it waits.
    auto fresh = random_call("fresh");
    auto expected = ref_.best_agent(fresh);
    auto* got = index_.best_agent_for(fresh);
    ASSERT_EQ(got ? std::optional<std::string>{got->id} : std::nullopt,
              expected)
      << context << ": best agent for a new call";
  }

  /// Applies one random change to both routers.
  std::string step() {
    switch (pick(0, 10)) {
      case 0:
      case 1: { // route: a waiting call goes to the index's best agent
        if (ref_.waiting.empty())
          return "noop";
        auto id = any_key(ref_.waiting);
        auto* a = index_.best_agent_for(id);
        if (a == nullptr)
          return "no agent for " + id;
        auto agent_id = a->id;
        auto c = ref_.waiting.at(id);
        EXPECT_TRUE(index_.assign(id, agent_id));
        ref_.reserve(agent_id, c.queue_id, c.channel);
        ref_.waiting.erase(id);
        held_.push_back({agent_id, c.channel});
        return "assign " + id + " to " + agent_id;
      }
      case 2: { // work ends
        if (held_.empty())
          return "noop";
        auto i = static_cast<size_t>(pick(0, int(held_.size()) - 1));
        auto [agent_id, ch] = held_[i];
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
        EXPECT_TRUE(index_.release(agent_id, ch, ref_.now));
        ref_.release(agent_id, ch, ref_.now);
        return "release " + agent_id;
      }
      case 3: { // presence
        auto id = any_key(ref_.agents);
        auto p = static_cast<presence>(pick(0, presence_count - 1));
        index_.set_presence(id, p);
        ref_.agents.at(id).pres = p;
        return "presence " + id;
      }
      case 4: { // readiness and wrap-up
        auto id = any_key(ref_.agents);
        auto& a = ref_.agents.at(id);
        if (pick(0, 1) == 0) {
          a.ready = !a.ready;
          index_.set_ready(id, a.ready, "break");
        } else {
          bool on = !a.in_wrap_up;
          index_.set_wrap_up(id, on, ref_.now);
          bool idle = std::all_of(a.load.begin(), a.load.end(), [](uint16_t n) {
            return n == 0;
          });
          if (a.in_wrap_up && !on && idle)
            a.idle_since = ref_.now;
          a.in_wrap_up = on;
        }
        return "state " + id;
      }
      case 5: { // time passes: relaxations fall due
        // Whole seconds land exactly on relaxation deadlines; one
        // microsecond either side checks both edges.
        ref_.now
          += std::chrono::microseconds{pick(1, 90) * 1'000'000 + pick(-1, 1)};
        cov_.relaxations += index_.advance_to(ref_.now).size();
        return "advance";
      }
      case 6: { // a caller hangs up
        if (ref_.waiting.empty())
          return "noop";
        auto id = any_key(ref_.waiting);
        EXPECT_TRUE(index_.remove_call(id));
        ref_.waiting.erase(id);
        return "remove " + id;
      }
      case 7: // a new call waits
        add_call();
        return "enqueue";
      case 8: { // an agent's record changes (skills, queues, state)
        auto id = any_key(ref_.agents);
        auto held = ref_.agents.at(id).load;
        auto a = random_agent(id);
        a.load = held; // work held stays
        a.idle_since = ref_.agents.at(id).idle_since;
        ref_.agents[id] = a;
        index_.upsert_agent(a);
        return "upsert agent " + id;
      }
      case 9: { // a queue is reconfigured while calls wait
        auto id = any_key(ref_.queues);
        auto q = random_queue(id);
        ref_.queues[id] = q;
        index_.upsert_queue(q);
        return "upsert queue " + id;
      }
      default: { // an agent goes idle and takes the best call
        auto id = any_key(ref_.agents);
        auto* c = index_.best_call_for(id);
        if (c == nullptr)
          return "no call for " + id;
        auto call_id = c->id;
        auto rc = ref_.waiting.at(call_id);
        EXPECT_TRUE(index_.assign(call_id, id));
        ref_.reserve(id, rc.queue_id, rc.channel);
        ref_.waiting.erase(call_id);
        held_.push_back({id, rc.channel});
        return "pull " + call_id + " by " + id;
      }
    }
  }

 private:
  int pick(int lo, int hi) {
    return std::uniform_int_distribution<int>{lo, hi}(rng_);
  }

  template<class Map>
  std::string any_key(const Map& m) {
    auto i = m.begin();
    std::advance(i, pick(0, int(m.size()) - 1));
    return i->first;
  }

  selector random_selector() {
    selector x;
    x.kind = pick(0, 2) == 0 ? selector_kind::label : selector_kind::skill;
    x.op = static_cast<selector_op>(pick(0, 7));
    auto value = [&] {
      if (x.kind == selector_kind::skill)
        return std::to_string(pick(0, 10) * 10);
      static const char* labels[] = {"en", "es", "pt", "1", "2", "10", "07"};
      return std::string{labels[pick(0, 6)]};
    };
    if (x.kind == selector_kind::skill) {
      static const char* skills[] = {"billing", "sales", "tech", "vip"};
      x.name = skills[pick(0, 3)];
    } else {
      static const char* labels[] = {"language", "tier", "site"};
      x.name = labels[pick(0, 2)];
    }
    if (x.op == selector_op::in) {
      auto n = pick(1, 3);
      for (int i = 0; i < n; ++i)
        x.values.push_back(value());
    } else if (x.op != selector_op::exists) {
      x.values.push_back(value());
    }
    if (pick(0, 2) == 0)
      x.relax_after = std::chrono::seconds{pick(0, 120)};
    // A later step of stepwise relaxation: applies from a time on.
    if (pick(0, 3) == 0) {
      x.apply_after = std::chrono::seconds{pick(1, 60)};
      if (x.relax_after && *x.relax_after <= *x.apply_after)
        x.relax_after = *x.apply_after + std::chrono::seconds{pick(1, 60)};
    }
    return x;
  }

  queue random_queue(const std::string& id) {
    queue q;
    q.id = id;
    q.mode = static_cast<distribution_mode>(pick(0, 2));
    if (pick(0, 3) == 0)
      q.routable_presences
        |= presence_bit(presence::busy) | presence_bit(presence::away);
    auto n = pick(0, 2);
    for (int i = 0; i < n; ++i)
      q.selectors.push_back(random_selector());
    return q;
  }

  void add_queue(const std::string& id) {
    auto q = random_queue(id);
    ref_.queues[id] = q;
    index_.upsert_queue(q);
  }

  agent random_agent(const std::string& id) {
    agent a;
    a.id = id;
    static const char* skills[] = {"billing", "sales", "tech", "vip"};
    for (auto* s : skills)
      if (pick(0, 2) > 0)
        a.attrs.skills[s] = static_cast<uint8_t>(pick(0, 10) * 10);
    static const char* languages[] = {"en", "es", "pt"};
    if (pick(0, 3) > 0)
      a.attrs.labels["language"] = languages[pick(0, 2)];
    static const char* tiers[] = {"1", "2", "10", "07"};
    if (pick(0, 1) > 0)
      a.attrs.labels["tier"] = tiers[pick(0, 3)];
    for (auto& [qid, q] : ref_.queues)
      if (pick(0, 2) > 0)
        a.queues.push_back(qid);
    a.pres = pick(0, 2) > 0
               ? presence::available
               : static_cast<presence>(pick(0, presence_count - 1));
    a.ready = pick(0, 5) > 0;
    a.in_wrap_up = pick(0, 7) == 0;
    if (pick(0, 3) == 0) {
      // Voice does not block chat for this agent.
      a.cap.channels[static_cast<size_t>(channel::voice)].cost = 0;
    }
    a.idle_since = from_micros(pick(0, 5) * 1'000'000); // ties happen
    return a;
  }

  void add_agent(const std::string& id) {
    auto a = random_agent(id);
    ref_.agents[id] = a;
    index_.upsert_agent(a);
  }

  call random_call(const std::string& id) {
    call c;
    c.id = id;
    c.queue_id = any_key(ref_.queues);
    c.channel = static_cast<channel>(pick(0, 3) == 0 ? 1 : 0);
    c.priority = pick(0, 2);
    auto n = pick(0, 3);
    for (int i = 0; i < n; ++i)
      c.selectors.push_back(random_selector());
    if (pick(0, 5) == 0 && !ref_.agents.empty())
      c.preferred_agent = any_key(ref_.agents);
    // Arrived up to 3 minutes ago, in whole seconds so ties happen.
    c.enqueued_at = ref_.now - std::chrono::seconds{pick(0, 180)};
    return c;
  }

  void add_call() {
    auto c = random_call("c" + std::to_string(next_call_++));
    ASSERT_EQ(index_.enqueue(c), enqueue_status::ok);
    ref_.waiting[c.id] = c;
  }

  std::mt19937_64 rng_;
  coverage& cov_;
  matching_index index_;
  reference_router ref_;
  std::vector<std::pair<std::string, channel>> held_;
  int next_call_ = 0;
};

} // namespace

TEST(matching_index_differential, decides_as_the_brute_force_reference) {
  constexpr uint64_t instances = 3000;
  constexpr int steps = 25;
  coverage cov;
  for (uint64_t seed = 1; seed <= instances; ++seed) {
    instance x{seed, cov};
    x.build();
    x.check("seed " + std::to_string(seed) + " initial");
    if (::testing::Test::HasFatalFailure())
      return;
    for (int i = 0; i < steps; ++i) {
      auto what = x.step();
      x.check("seed " + std::to_string(seed) + " step " + std::to_string(i)
              + " (" + what + ")");
      if (::testing::Test::HasFatalFailure())
        return;
    }
  }
  // The comparisons must have had something to compare.
  EXPECT_GT(cov.agent_decisions, 100'000u);
  EXPECT_GT(cov.agents_found, cov.agent_decisions / 20);
  EXPECT_GT(cov.call_decisions, 100'000u);
  EXPECT_GT(cov.calls_found, cov.call_decisions / 20);
  EXPECT_GT(cov.relaxations, 1000u);
  std::printf("compared %llu agent and %llu call decisions (%llu and %llu "
              "non-empty), %llu relaxations\n",
              static_cast<unsigned long long>(cov.agent_decisions),
              static_cast<unsigned long long>(cov.call_decisions),
              static_cast<unsigned long long>(cov.agents_found),
              static_cast<unsigned long long>(cov.calls_found),
              static_cast<unsigned long long>(cov.relaxations));
}
