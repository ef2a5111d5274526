// switchboard-sim: runs a contact center through the routing core in
// simulated time and prints what a contact-center manager wants to know.

#include "nodes/simulator/simulation.hpp"
#include "nodes/version/version.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <unistd.h>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

std::string clock_text(routing::duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  char buf[32];
  std::snprintf(
    buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
    static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

double seconds(routing::duration d) {
  return std::chrono::duration<double>{d}.count();
}

void print_report(const simulator::report& r, const simulator::scenario& s) {
  std::printf("\n%-10s %-13s %8s %8s %9s %8s %8s %8s %9s\n", "queue", "mode",
              "offered", "answered", "abandoned", "abandon%", "ASA", "SL",
              "max wait");
  auto row = [](const simulator::queue_report& q, const char* mode) {
    std::printf("%-10s %-13s %8llu %8llu %9llu %7.1f%% %7.1fs %7.1f%% %8.0fs\n",
                q.queue.c_str(), mode,
                static_cast<unsigned long long>(q.offered),
                static_cast<unsigned long long>(q.answered),
                static_cast<unsigned long long>(q.abandoned), q.abandon_rate(),
                seconds(q.asa()), q.service_level(), seconds(q.longest_wait));
  };
  for (auto& q : r.queues)
    row(q, std::string{routing::to_string(q.mode)}.c_str());
  row(r.total, "");
  std::printf("\nSL = answered within the queue's threshold (");
  for (size_t i = 0; i < s.queues.size(); ++i)
    std::printf("%s%s %.0fs", i ? ", " : "", s.queues[i].id.c_str(),
                seconds(s.queues[i].sla.threshold));
  std::printf(") / (answered + abandoned)\n");

  std::printf("\n%-16s %7s %8s %10s\n", "agent group", "agents", "handled",
              "occupancy");
  for (auto& g : r.groups)
    std::printf("%-16s %7u %8llu %9.1f%%\n", g.group.c_str(), g.agents,
                static_cast<unsigned long long>(g.handled), g.occupancy);
  std::printf("%-16s %7s %8s %9.1f%%\n", "all agents", "", "", r.occupancy);

  std::printf("\nsimulated %s; offers declined or unanswered: %llu; calls "
              "whose requirements relaxed: %llu\n",
              clock_text(r.simulated).c_str(),
              static_cast<unsigned long long>(r.declined_offers),
              static_cast<unsigned long long>(r.relaxed_calls));
  if (r.decisions > 0)
    std::printf("routing core: %llu decisions, %.2f us each on average "
                "(wall clock)\n",
                static_cast<unsigned long long>(r.decisions),
                seconds(r.decision_time) * 1e6
                  / static_cast<double>(r.decisions));
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Simulates a contact center through the Switchboard routing "
               "core in simulated time (demo scenario: 4 queues, 44 agents)."};
  auto s = simulator::scenario::demo();
  double speed = 360;
  double hours = 1;
  app.set_version_flag("--version", version_text("switchboard-sim"),
                       "print the version, commit and build type, and exit");
  app
    .add_option("--seed", s.seed,
                "Random seed; the same seed gives the "
                "same result")
    ->capture_default_str();
  app.add_option("--calls-per-hour", s.calls_per_hour, "Arrival rate")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
  app.add_option("--hours", hours, "Hours of arrivals to simulate")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);
  app
    .add_option("--speed", speed,
                "Simulated seconds per real second; 0 runs as fast as "
                "possible")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  s.length = std::chrono::duration_cast<routing::duration>(
    std::chrono::duration<double, std::ratio<3600>>{hours});

  simulator::simulation sim{s};
  if (auto problem = sim.validate(); !problem.empty()) {
    std::fprintf(stderr, "switchboard-sim: invalid scenario: %s\n",
                 problem.c_str());
    return 2;
  }
  uint32_t agents = 0;
  for (auto& g : s.groups)
    agents += g.count;
  std::printf("Simulating %s of a contact center: %zu queues, %u agents, "
              "%.0f calls/h, seed %llu\n",
              clock_text(s.length).c_str(), s.queues.size(), agents,
              s.calls_per_hour, static_cast<unsigned long long>(s.seed));
  bool tty = isatty(STDOUT_FILENO) != 0;
  auto started = std::chrono::steady_clock::now();
  auto report = sim.run([&](const simulator::progress& p) {
    if (speed > 0) {
      auto due = started
                 + std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::duration<double>{seconds(p.elapsed) / speed});
      std::this_thread::sleep_until(due);
    }
    auto minute
      = std::chrono::duration_cast<std::chrono::minutes>(p.elapsed).count();
    if (!tty && minute % 10 != 0)
      return;
    std::printf("%s[%s] waiting %3zu | agents busy %2u/%u | answered %5llu | "
                "abandoned %4llu | SL %5.1f%%%s",
                tty ? "\r" : "", clock_text(p.elapsed).c_str(), p.waiting,
                p.agents_busy, p.agents_total,
                static_cast<unsigned long long>(p.answered),
                static_cast<unsigned long long>(p.abandoned), p.service_level,
                tty ? "" : "\n");
    std::fflush(stdout);
  });
  if (tty)
    std::printf("\n");
  print_report(report, s);
  return 0;
}
