// switchboard-bench-scale: one tenant's routing domain at contact-center
// scale, and its recovery from the store.
//
// 1. Loads N agents (offline, so nothing is routed) and M waiting calls
//    into a routing::engine, as a node holds them: peak RSS and the cost
//    of a submit at that size.
// 2. Decision latency at that size: agents become available one at a time
//    and each takes its best waiting call (set presence + ready, the offer
//    made, the records and events staged) - the routing step a real agent
//    triggers.
// 3. Recovery: the same calls and agents written to a RocksDB store as the
//    node writes them, then the time to rebuild the tenant from it (scan,
//    decode, rebuild the index, route) - what a restart costs before the
//    node serves again. The store stays in --dir, with the tenant's record
//    as the node's directory writes it, so that scripts/bench can also
//    start the real node on it.
//
//   switchboard-bench-scale [--agents N] [--calls M] [--json FILE]

#include "actors/atoms.hpp"
#include "actors/tenant.hpp"
#include "nodes/settings/settings.hpp"
#include "routing/engine.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"
#include "storage/rocksdb_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

using namespace switchboard;
using clock_type = std::chrono::steady_clock;

namespace {

/// Peak resident set size of this process so far, in MiB.
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

/// Current resident set size, in MiB.
double rss_mib() {
  std::ifstream in{"/proc/self/statm"};
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * 4096.0 / (1024.0 * 1024.0);
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

constexpr int queue_count = 10;

/// The workload: 10 queues, agents in 2 each with 4 of 24 skills, calls
/// asking for one skill level (half relaxing after a minute), priorities
/// 0-3, spread over ten minutes of waiting.
struct workload {
  size_t agents;
  size_t calls;
  std::mt19937_64 rng{42};

  routing::queue queue(int i) {
    routing::queue q;
    q.id = "q" + std::to_string(i);
    q.mode = i % 3 == 0   ? routing::distribution_mode::best_skill
             : i % 3 == 1 ? routing::distribution_mode::longest_idle
                          : routing::distribution_mode::round_robin;
    return q;
  }

  routing::agent agent(size_t i) {
    routing::agent a;
    a.id = "agent-" + std::to_string(i);
    a.queues = {"q" + std::to_string(i % queue_count),
                "q" + std::to_string((i / queue_count + i) % queue_count)};
    if (a.queues[0] == a.queues[1])
      a.queues.pop_back();
    for (int k = 0; k < 4; ++k)
      a.attrs.skills["s" + std::to_string((i * 7 + k * 5) % 24)]
        = static_cast<uint8_t>(40 + (i * 13 + k * 17) % 61);
    return a;
  }

  routing::call call(size_t i) {
    routing::call c;
    c.id = "call-" + std::to_string(i);
    c.queue_id = "q" + std::to_string(i % queue_count);
    c.priority = static_cast<int32_t>(i % 4);
    routing::selector s;
    s.kind = routing::selector_kind::skill;
    s.name = "s" + std::to_string(i % 24);
    s.op = routing::selector_op::ge;
    s.values = {std::to_string(40 + (i % 5) * 10)};
    if (i % 2 == 0)
      s.relax_after = std::chrono::seconds{60};
    c.selectors = {s};
    return c;
  }
};

routing::timestamp t0() { return routing::from_micros(1'800'000'000'000'000); }

} // namespace

int main(int argc, char** argv) {
  if (switchboard::settings::print_version_if_asked("switchboard-bench-scale",
                                                    argc, argv))
    return 0;
  size_t agents = 100'000;
  size_t calls = 1'000'000;
  std::string json_out;
  std::string dir = "build/bench/scale-store";
  auto usage = [&] {
    std::printf(
      "switchboard-bench-scale: one tenant at contact-center scale: memory, "
      "decisions, recovery from the store\n"
      "  --agents N   agents loaded (default %zu)\n"
      "  --calls M    waiting calls loaded (default %zu)\n"
      "  --dir DIR    the store, kept for scripts/bench (default %s)\n"
      "  --json FILE  the figures as JSON (default: none)\n"
      "  --version    print the version, commit and build type\n",
      agents, calls, dir.c_str());
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage();
      return 0;
    }
    if (i + 1 == argc) {
      std::fprintf(stderr, "switchboard-bench-scale: %s needs a value\n",
                   flag.c_str());
      return 2;
    }
    std::string value = argv[++i];
    auto count = [&](size_t& out) {
      char* end = nullptr;
      auto n = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 100'000'000) {
        std::fprintf(stderr,
                     "switchboard-bench-scale: %s: expected a whole number "
                     "from 1 to 100000000, found '%s'\n",
                     flag.c_str(), value.c_str());
        return false;
      }
      out = static_cast<size_t>(n);
      return true;
    };
    if (flag == "--agents") {
      if (!count(agents))
        return 2;
    } else if (flag == "--calls") {
      if (!count(calls))
        return 2;
    } else if (flag == "--json") {
      json_out = value;
    } else if (flag == "--dir") {
      dir = value;
    } else {
      std::fprintf(stderr,
                   "switchboard-bench-scale: unknown option '%s' (see "
                   "--help)\n",
                   flag.c_str());
      return 2;
    }
  }
  workload w{agents, calls};
  std::printf("scale: %zu agents, %zu waiting calls, %d queues\n", agents,
              calls, queue_count);
  auto base_rss = rss_mib();

  // 1. Load.
  auto eng = std::make_unique<routing::engine>("scale");
  auto now = t0();
  for (int i = 0; i < queue_count; ++i)
    eng->upsert_queue(w.queue(i), now);
  auto started = clock_type::now();
  for (size_t i = 0; i < agents; ++i)
    eng->upsert_agent(w.agent(i), now);
  auto agents_s = seconds_since(started);
  started = clock_type::now();
  // Ten minutes of arrivals.
  auto step
    = std::chrono::microseconds{600'000'000 / std::max<size_t>(calls, 1)};
  for (size_t i = 0; i < calls; ++i) {
    now += step;
    eng->submit(w.call(i), now);
    if (i % 65536 == 0)
      eng->take_changes();
  }
  eng->take_changes();
  auto calls_s = seconds_since(started);
  auto loaded_rss = rss_mib();
  std::printf("  load: agents %.2f s (%.2f us each), calls %.2f s (%.2f us "
              "each)\n",
              agents_s, agents_s * 1e6 / agents, calls_s,
              calls_s * 1e6 / calls);
  std::printf("  memory: %.0f MiB for the domain (%.0f bytes per call with "
              "its share of agents); peak RSS %.0f MiB\n",
              loaded_rss - base_rss,
              (loaded_rss - base_rss) * 1024 * 1024 / calls, peak_rss_mib());

  // 2. Decisions at this size: an agent becomes available and takes its
  //    best waiting call.
  std::vector<double> us;
  size_t offers = 0;
  size_t probes = std::min<size_t>(agents, 20'000);
  for (size_t i = 0; i < probes; ++i) {
    auto id = "agent-" + std::to_string((i * 7919) % agents);
    auto t = clock_type::now();
    eng->set_presence(id, routing::presence::available, now);
    eng->set_ready(id, true, {}, now);
    auto changed = eng->take_changes();
    us.push_back(
      std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
    for (auto& e : changed.events)
      offers += e.type == routing::event_type::call_offered;
  }
  std::sort(us.begin(), us.end());
  auto q = [&](double p) {
    return us[static_cast<size_t>(p * (us.size() - 1))];
  };
  std::printf("  decision (agent available -> offer staged): p50 %.1f us, "
              "p99 %.1f us, p99.9 %.1f us over %zu agents (%zu offers)\n",
              q(0.5), q(0.99), q(0.999), probes, offers);

  // The periodic audit of every agent against the calls it holds: how
  // long it holds up the tenant's actor at this size.
  auto audit_start = clock_type::now();
  auto found = eng->audit();
  auto audit_ms
    = std::chrono::duration<double, std::milli>(clock_type::now() - audit_start)
        .count();
  std::printf("  audit: %.1f ms for every agent and live call (%zu "
              "inconsistencies)\n",
              audit_ms, found.size());

  // 3. Recovery from the store.
  std::filesystem::remove_all(dir);
  storage::store_options opts;
  opts.path = dir;
  auto store = storage::rocksdb_store::open(opts);
  if (!store) {
    std::fprintf(stderr, "cannot open %s\n", dir.c_str());
    return 1;
  }
  started = clock_type::now();
  {
    storage::batch b;
    auto flush = [&] {
      if (auto err = (*store)->write(b)) {
        std::fprintf(stderr, "write failed\n");
        std::exit(1);
      }
      b = storage::batch{};
    };
    routing::tenant tenant;
    tenant.id = "scale";
    tenant.name = "scale benchmark";
    b.put(storage::family::config, storage::tenant_key(tenant.id),
          storage::encode(tenant));
    for (auto& qu : eng->queues())
      b.put(storage::family::config, storage::record_key("scale", 'Q', qu.id),
            storage::encode(qu, "scale"));
    for (auto& a : eng->agents()) {
      auto key = storage::record_key("scale", 'A', a.data.id);
      b.put(storage::family::config, key,
            storage::encode_agent_config(a.data, "scale"));
      b.put(storage::family::live, key, storage::encode_agent_state(a));
      if (b.entries().size() > 10'000)
        flush();
    }
    for (auto* c : eng->calls()) {
      b.put(storage::family::live,
            storage::record_key("scale", 'C', c->data.id),
            storage::encode_call(*c, "scale"));
      if (b.entries().size() > 10'000)
        flush();
    }
    flush();
  }
  auto write_s = seconds_since(started);
  auto live_calls = eng->live_call_count();
  eng.reset();
  std::printf("  store: %zu live calls written in %.1f s\n", live_calls,
              write_s);

  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  started = clock_type::now();
  auto t = spawn_tenant(sys, **store, "scale");
  if (!t) {
    std::fprintf(stderr, "recovery failed: %s\n",
                 sys.render(t.error()).c_str());
    return 1;
  }
  // Serving: the first request answered.
  caf::scoped_actor self{sys};
  size_t recovered = 0;
  self->request(*t, std::chrono::minutes{5}, atom::list_v, atom::queue_v)
    .receive(
      [&](std::vector<routing::queue>& qs) {
        recovered = qs.size();
      },
      [&](caf::error& err) {
        std::fprintf(stderr, "%s\n", sys.render(err).c_str());
      });
  auto recovery_s = seconds_since(started);
  std::printf("  recovery: serving again %.2f s after start (%zu queues, "
              "%zu live calls); peak RSS %.0f MiB\n",
              recovery_s, recovered, live_calls, peak_rss_mib());
  self->send_exit(*t, caf::exit_reason::user_shutdown);

  if (!json_out.empty()) {
    std::ofstream out{json_out};
    out << "{\n  \"agents\": " << agents << ",\n  \"calls\": " << calls
        << ",\n  \"domain_mib\": " << loaded_rss - base_rss
        << ",\n  \"peak_rss_mib\": " << peak_rss_mib()
        << ",\n  \"submit_us\": " << calls_s * 1e6 / calls
        << ",\n  \"decision_p50_us\": " << q(0.5)
        << ",\n  \"decision_p99_us\": " << q(0.99)
        << ",\n  \"decision_p999_us\": " << q(0.999)
        << ",\n  \"audit_ms\": " << audit_ms
        << ",\n  \"recovery_s\": " << recovery_s << "\n}\n";
  }
  return 0;
}
