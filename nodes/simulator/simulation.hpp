#pragma once

#include "routing/model.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::simulator {

using routing::duration;

/// Agents hired into one role: same skills, labels and queues.
struct agent_group {
  std::string name;
  uint32_t count = 0;
  routing::attributes attrs;
  std::vector<std::string> queues;
};

/// A kind of call the contact center receives, as the IVR classifies it.
struct call_type {
  std::string name;
  std::string queue;
  /// Share of all arrivals, relative to the other types.
  double weight = 1;
  routing::channel channel = routing::channel::voice;
  int32_t priority = 0;
  /// Compact selector text, e.g. `skill.billing >= 80 relax after 30s`.
  std::string selectors;
  duration mean_handle = std::chrono::minutes{4};
};

/// A contact center and the traffic it gets.
struct scenario {
  uint64_t seed = 1;
  /// Arrivals stop after this; calls in progress then run to their end.
  duration length = std::chrono::hours{1};
  double calls_per_hour = 600;
  std::vector<routing::queue> queues;
  std::vector<agent_group> groups;
  std::vector<call_type> call_types;
  /// Mean time a caller waits before hanging up (exponential).
  duration mean_patience = std::chrono::minutes{3};
  /// Time from offer to the agent picking up.
  duration ring_time = std::chrono::seconds{4};
  /// Share of offers an agent declines or lets ring out.
  double decline_rate = 0.03;
  /// Each agent takes one break of this length at a random time.
  duration break_length = std::chrono::minutes{10};
  /// After every event, checks that no waiting call has an eligible agent
  /// (routing is work-conserving) and counts violations. Costs a scan of
  /// the waiting calls per event: for tests.
  bool check_work_conserving = false;

  /// Four queues (voice sales, billing and support, and chat), 44 agents
  /// in six roles, English and Spanish callers, VIP priority, and
  /// stepwise skill relaxation.
  static scenario demo();
};

/// What a contact-center manager reads per queue.
struct queue_report {
  std::string queue;
  routing::distribution_mode mode = routing::distribution_mode::longest_idle;
  uint64_t offered = 0;
  uint64_t answered = 0;
  uint64_t abandoned = 0;
  uint64_t answered_in_threshold = 0;
  duration total_answer_wait{0};
  duration longest_wait{0};
  duration sla_threshold{0};

  /// Average speed of answer.
  duration asa() const;
  /// Share of finished calls answered within the threshold, in percent:
  /// answered in threshold / (answered + abandoned).
  double service_level() const;
  double abandon_rate() const;
};

struct group_report {
  std::string group;
  uint32_t agents = 0;
  uint64_t handled = 0;
  /// Share of staffed time (not on break) spent with work or in wrap-up.
  double occupancy = 0;
};

struct report {
  duration simulated{0};
  std::vector<queue_report> queues;
  queue_report total;
  std::vector<group_report> groups;
  double occupancy = 0;
  uint64_t declined_offers = 0;
  uint64_t relaxed_calls = 0;
  uint64_t decisions = 0;
  /// Events after which a waiting call had an eligible agent; only counted
  /// with `scenario::check_work_conserving`.
  uint64_t work_conserving_violations = 0;
  /// Wall-clock time spent inside routing decisions, for display only.
  duration decision_time{0};
};

/// A snapshot for a live progress line.
struct progress {
  duration elapsed{0};
  duration length{0};
  size_t waiting = 0;
  uint32_t agents_busy = 0;
  uint32_t agents_total = 0;
  uint64_t answered = 0;
  uint64_t abandoned = 0;
  double service_level = 100;
};

/// Runs a scenario through the routing core in simulated time: arrivals,
/// routing decisions, offers that are accepted or declined, talk and
/// wrap-up, breaks, callers who hang up, and relaxation timers.
class simulation {
 public:
  explicit simulation(scenario s);
  ~simulation();
  simulation(const simulation&) = delete;
  simulation& operator=(const simulation&) = delete;

  /// Checks the scenario. Returns a message naming what is wrong.
  std::string validate() const;

  /// Runs to the end; calls `on_progress` once per simulated minute.
  report run(const std::function<void(const progress&)>& on_progress = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::simulator
