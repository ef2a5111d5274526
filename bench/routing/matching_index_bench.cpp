// Time per routing decision of the matching index, in both directions, as
// the numbers of agents, waiting calls and selectors per call grow.
//
// Workload: agents are hired into `profiles` roles (skills with proficiency
// tiers, language, region, tier), each a member of 2 of 8 queues (longest
// idle, round robin and best skill). Calls come from 128 requirement
// templates with 1, 5 or 20 selectors (a language, a skill level, then
// loose ones so that selectivity stays comparable), priorities 0-3, up to ten
// minutes of waiting, half with a relaxation step. Every call asks for a
// language. 20 % of agents are idle, all speaking English or Spanish; the
// waiting calls ask for Portuguese, French or German. That is the hard
// case for an index, and the same at every size: many idle agents and many
// waiting calls that cannot serve each other. (The build still drains the
// state to work-conserving, as a running node would be, in case any idle
// agent matches a waiting call.) Probes ask for all five languages.
//
// Decisions measured:
// - call_to_agent: a new call arrives and asks for the best agent.
// - agent_to_call: an agent's work ends and it asks for the best call.
// The `found` counter is the share of decisions that found a match.

#include "nodes/settings/settings.hpp"
#include "routing/matching_index.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace switchboard::routing;
using namespace std::chrono_literals;

namespace {

constexpr int queue_count = 8;
constexpr int skill_count = 32;
constexpr int requirement_templates = 128;
constexpr size_t probe_count = 4096;

const char* languages[] = {"en", "es", "pt", "fr", "de"};
const char* regions[] = {"emea", "amer", "apac"};

std::string skill_name(int i) { return "skill" + std::to_string(i); }

struct params {
  int64_t agents;
  int64_t calls;
  int64_t selectors;
  int64_t profiles;

  bool operator==(const params& x) const {
    return agents == x.agents && calls == x.calls && selectors == x.selectors
           && profiles == x.profiles;
  }
};

/// Profile `index`; even profiles speak English or Spanish.
attributes make_profile(int index) {
  std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
  std::uniform_int_distribution<int> skill(0, skill_count - 1);
  std::uniform_int_distribution<int> tier(1, 5);
  attributes a;
  while (a.skills.size() < 6)
    a.skills[skill_name(skill(rng))] = static_cast<uint8_t>(tier(rng) * 20);
  a.labels["language"]
    = index % 2 == 0 ? languages[rng() % 2] : languages[2 + rng() % 3];
  a.labels["region"] = regions[rng() % 3];
  a.labels["tier"] = std::to_string(1 + rng() % 3);
  return a;
}

/// `count` selectors on distinct keys: two selective ones, then loose ones.
std::vector<selector> make_requirement(int index, int64_t count) {
  std::mt19937_64 rng(static_cast<uint64_t>(index) * 104729 + 7);
  std::vector<selector> result;
  auto add = [&](selector_kind kind, std::string name, selector_op op,
                 std::vector<std::string> values) {
    selector x;
    x.kind = kind;
    x.name = std::move(name);
    x.op = op;
    x.values = std::move(values);
    result.push_back(std::move(x));
  };
  // Selective: a language, then a skill level that relaxes for half.
  add(selector_kind::label, "language", selector_op::eq,
      {languages[index % 5]});
  if (count >= 2) {
    add(selector_kind::skill, skill_name(static_cast<int>(rng() % skill_count)),
        selector_op::ge, {std::to_string(20 * (1 + rng() % 3))});
    if (index % 2 == 0)
      result.back().relax_after = std::chrono::seconds{30 + rng() % 60};
  }
  // Loose: keys most agents pass, so selectivity does not collapse.
  if (static_cast<int64_t>(result.size()) < count)
    add(selector_kind::label, "region", selector_op::in,
        {"emea", "amer", "apac"});
  if (static_cast<int64_t>(result.size()) < count)
    add(selector_kind::label, "tier", selector_op::le, {"3"});
  int next_skill = 0;
  while (static_cast<int64_t>(result.size()) < count)
    add(selector_kind::skill, skill_name(next_skill++), selector_op::ne,
        {std::to_string(1 + rng() % 19)}); // no profile has these levels
  return result;
}

struct fixture {
  params p;
  matching_index index;
  std::vector<call> probes;
  std::vector<std::string> freed_agents;
  std::vector<std::vector<selector>> requirements;
  timestamp now = from_micros(1'767'225'600'000'000);
  bool agents_freed = false;

  explicit fixture(params x) : p(x) {
    std::mt19937_64 rng(42);
    for (int q = 0; q < queue_count; ++q) {
      queue settings;
      settings.id = "queue" + std::to_string(q);
      settings.mode = q < 3   ? distribution_mode::longest_idle
                      : q < 6 ? distribution_mode::round_robin
                              : distribution_mode::best_skill;
      index.upsert_queue(settings);
    }
    index.advance_to(now);
    std::vector<attributes> profiles;
    for (int i = 0; i < p.profiles; ++i)
      profiles.push_back(make_profile(i));
    for (int i = 0; i < requirement_templates; ++i)
      requirements.push_back(make_requirement(i, p.selectors));

    std::vector<std::string> busy;
    for (int64_t i = 0; i < p.agents; ++i) {
      agent a;
      a.id = "agent-" + std::to_string(i);
      bool idle = rng() % 5 == 0;
      // Idle agents speak English or Spanish (even profiles).
      auto profile = rng() % profiles.size();
      if (idle)
        profile -= profile % 2;
      a.attrs = profiles[profile];
      auto q1 = static_cast<int>(rng() % queue_count);
      auto q2
        = (q1 + 1 + static_cast<int>(rng() % (queue_count - 1))) % queue_count;
      a.queues = {"queue" + std::to_string(q1), "queue" + std::to_string(q2)};
      a.pres = presence::available;
      a.ready = true;
      a.idle_since = now - std::chrono::seconds{rng() % 3600};
      if (!idle) {
        a.load[static_cast<size_t>(channel::voice)] = 1;
        busy.push_back(a.id);
      }
      index.upsert_agent(a);
    }
    for (int64_t i = 0; i < p.calls; ++i)
      index.enqueue(random_call("call-" + std::to_string(i), rng, true));
    // Drain to work-conserving: idle agents take every call they match.
    for (int64_t i = 0; i < p.agents; ++i) {
      auto id = "agent-" + std::to_string(i);
      while (auto* c = index.best_call_for(id)) {
        auto call_id = c->id;
        if (!index.assign(call_id, id))
          break;
      }
    }
    for (size_t i = 0; i < probe_count; ++i)
      probes.push_back(random_call("probe-" + std::to_string(i), rng, false));
    std::shuffle(busy.begin(), busy.end(), rng);
    busy.resize(std::min(busy.size(), size_t{512}));
    freed_agents = std::move(busy);
  }

  /// A call; `surplus` ones ask for Portuguese, French or German.
  call random_call(std::string id, std::mt19937_64& rng, bool surplus) {
    call c;
    c.id = std::move(id);
    c.queue_id = "queue" + std::to_string(rng() % queue_count);
    c.channel = rng() % 5 == 0 ? channel::chat : channel::voice;
    auto r = rng() % 10;
    c.priority = r < 7 ? 0 : r < 9 ? 1 : static_cast<int32_t>(2 + rng() % 2);
    // Template t asks for language t % 5; 2..4 are pt, fr and de.
    size_t t;
    do {
      t = rng() % requirements.size();
    } while (surplus && t % 5 < 2);
    c.selectors = requirements[t];
    c.enqueued_at = now - std::chrono::microseconds{rng() % 600'000'000};
    return c;
  }

  /// Ends the work of the probe agents: each now asks for a call.
  void free_agents() {
    if (agents_freed)
      return;
    for (auto& id : freed_agents)
      index.release(id, channel::voice, now);
    agents_freed = true;
  }
};

std::unique_ptr<fixture> current;

fixture& fixture_for(const params& p) {
  if (!current || !(current->p == p)) {
    current.reset(); // free the old one first: they can be large
    current = std::make_unique<fixture>(p);
  }
  return *current;
}

void call_to_agent(benchmark::State& state, params p) {
  auto& f = fixture_for(p);
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    auto* a = f.index.best_agent_for(f.probes[i++ % f.probes.size()]);
    found += a != nullptr;
    benchmark::DoNotOptimize(a);
  }
  state.counters["found"] = benchmark::Counter(
    static_cast<double>(found), benchmark::Counter::kAvgIterations);
  state.counters["profiles"] = static_cast<double>(f.index.profile_count());
  state.counters["requirements"]
    = static_cast<double>(f.index.requirement_count());
}

void agent_to_call(benchmark::State& state, params p) {
  auto& f = fixture_for(p);
  f.free_agents();
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    auto* c
      = f.index.best_call_for(f.freed_agents[i++ % f.freed_agents.size()]);
    found += c != nullptr;
    benchmark::DoNotOptimize(c);
  }
  state.counters["found"] = benchmark::Counter(
    static_cast<double>(found), benchmark::Counter::kAvgIterations);
  state.counters["waiting"] = static_cast<double>(f.index.waiting_count());
}

/// A full routing step for a new call: decide, reserve the agent, and
/// release it again (or enqueue and withdraw the call), so the state stays
/// the same from one iteration to the next.
void route_and_commit(benchmark::State& state, params p) {
  auto& f = fixture_for(p);
  size_t i = 0;
  for (auto _ : state) {
    auto& c = f.probes[i++ % f.probes.size()];
    if (auto* a = f.index.best_agent_for(c)) {
      std::string id = a->id;
      f.index.reserve(id, c.queue_id, c.channel);
      f.index.release(id, c.channel, f.now);
    } else {
      f.index.enqueue(c);
      f.index.remove_call(c.id);
    }
  }
}

std::string name(const char* what, const params& p) {
  return std::string{what} + "/agents:" + std::to_string(p.agents) + "/calls:"
         + std::to_string(p.calls) + "/selectors:" + std::to_string(p.selectors)
         + "/profiles:" + std::to_string(p.profiles);
}

void register_all(bool smoke) {
  std::vector<params> grid;
  if (smoke) {
    grid.push_back({1000, 10000, 5, 256});
  } else {
    for (int64_t agents : {1000, 10000, 100000})
      for (int64_t calls : {10000, 100000, 1000000})
        for (int64_t selectors : {1, 5, 20})
          grid.push_back({agents, calls, selectors, 256});
    // What the cost does grow with: distinct profiles.
    for (int64_t profiles : {16, 4096})
      grid.push_back({100000, 100000, 5, profiles});
  }
  // Both directions share a fixture: register them next to each other so
  // it is built once. agent_to_call frees agents, so it runs last.
  for (auto& p : grid) {
    benchmark::RegisterBenchmark(name("call_to_agent", p).c_str(),
                                 call_to_agent, p)
      ->Unit(benchmark::kNanosecond);
    if (p.selectors == 5 && p.profiles == 256)
      benchmark::RegisterBenchmark(name("route_and_commit", p).c_str(),
                                   route_and_commit, p)
        ->Unit(benchmark::kNanosecond);
    benchmark::RegisterBenchmark(name("agent_to_call", p).c_str(),
                                 agent_to_call, p)
      ->Unit(benchmark::kNanosecond);
  }
}

} // namespace

int main(int argc, char** argv) {
  if (switchboard::settings::print_version_if_asked("switchboard-bench-routing",
                                                    argc, argv))
    return 0;
  // --smoke: one small size, to check in the test suite that it runs.
  bool smoke = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string{argv[i]} == "--smoke")
      smoke = true;
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data(), [] {
    std::printf(
      "switchboard-bench-routing: the routing core's matching index\n"
      "  --smoke      one small size, to check that it runs (default: off)\n"
      "  --version    print the version, commit and build type\n"
      "Google Benchmark's options (--benchmark_min_time 0.5 s, all "
      "benchmarks, console output by default):\n");
    benchmark::PrintDefaultHelp();
  });
  register_all(smoke);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  current.reset();
  return 0;
}
