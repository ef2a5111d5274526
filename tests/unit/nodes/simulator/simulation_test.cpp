#include "nodes/simulator/simulation.hpp"

#include <gtest/gtest.h>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

simulator::scenario one_queue(uint32_t agents, double calls_per_hour) {
  simulator::scenario s;
  s.seed = 7;
  s.length = 1h;
  s.calls_per_hour = calls_per_hour;
  routing::queue q;
  q.id = "main";
  s.queues = {q};
  simulator::agent_group g;
  g.name = "team";
  g.count = agents;
  g.queues = {"main"};
  s.groups = {g};
  simulator::call_type t;
  t.name = "any";
  t.queue = "main";
  s.call_types = {t};
  return s;
}

} // namespace

TEST(simulation, every_call_is_answered_or_abandoned) {
  auto s = simulator::scenario::demo();
  auto r = simulator::simulation{s}.run();
  ASSERT_GT(r.total.offered, 400u);
  for (auto& q : r.queues)
    EXPECT_EQ(q.offered, q.answered + q.abandoned) << q.queue;
  EXPECT_EQ(r.total.offered, r.total.answered + r.total.abandoned);
  uint64_t handled = 0;
  for (auto& g : r.groups)
    handled += g.handled;
  EXPECT_EQ(handled, r.total.answered);
}

TEST(simulation, no_call_waits_while_an_eligible_agent_is_free) {
  auto s = simulator::scenario::demo();
  s.check_work_conserving = true;
  auto r = simulator::simulation{s}.run();
  EXPECT_GT(r.relaxed_calls, 0u);
  EXPECT_GT(r.total.abandoned, 0u); // the queues were under pressure
  EXPECT_EQ(r.work_conserving_violations, 0u);
}

TEST(simulation, the_same_seed_gives_the_same_result) {
  auto a = simulator::simulation{simulator::scenario::demo()}.run();
  auto b = simulator::simulation{simulator::scenario::demo()}.run();
  EXPECT_EQ(a.total.answered, b.total.answered);
  EXPECT_EQ(a.total.abandoned, b.total.abandoned);
  EXPECT_EQ(a.total.total_answer_wait, b.total.total_answer_wait);
  EXPECT_EQ(a.declined_offers, b.declined_offers);
}

TEST(simulation, without_agents_every_caller_abandons) {
  auto r = simulator::simulation{one_queue(0, 120)}.run();
  EXPECT_GT(r.total.offered, 0u);
  EXPECT_EQ(r.total.answered, 0u);
  EXPECT_EQ(r.total.abandoned, r.total.offered);
  EXPECT_EQ(r.total.service_level(), 0.0);
}

TEST(simulation, ample_staff_answers_everyone_at_once) {
  auto s = one_queue(50, 60);
  s.break_length = 0s;
  s.decline_rate = 0;
  s.mean_patience = 1000h; // nobody hangs up while the phone rings
  auto r = simulator::simulation{s}.run();
  EXPECT_GT(r.total.answered, 0u);
  EXPECT_EQ(r.total.abandoned, 0u);
  EXPECT_EQ(r.total.service_level(), 100.0);
  EXPECT_EQ(r.total.asa(), s.ring_time); // nobody waits beyond the ring
  EXPECT_GT(r.occupancy, 0.0);
  EXPECT_LT(r.occupancy, 50.0);
}

TEST(simulation, callers_are_served_only_by_agents_who_match) {
  auto s = one_queue(0, 200);
  s.break_length = 0s;
  simulator::agent_group spanish;
  spanish.name = "spanish";
  spanish.count = 5;
  spanish.attrs.skills["spanish"] = 90;
  spanish.queues = {"main"};
  simulator::agent_group english;
  english.name = "english";
  english.count = 20;
  english.attrs.skills["english"] = 90;
  english.queues = {"main"};
  s.groups = {spanish, english};
  s.call_types[0].selectors = "skill.spanish >= 50";
  auto r = simulator::simulation{s}.run();
  EXPECT_GT(r.groups[0].handled, 0u);
  EXPECT_EQ(r.groups[1].handled, 0u);
}

TEST(simulation, relaxed_requirements_let_other_agents_help) {
  auto s = one_queue(0, 200);
  s.break_length = 0s;
  simulator::agent_group experts;
  experts.name = "experts";
  experts.count = 1;
  experts.attrs.skills["billing"] = 95;
  experts.queues = {"main"};
  simulator::agent_group others;
  others.name = "others";
  others.count = 20;
  others.attrs.skills["billing"] = 40;
  others.queues = {"main"};
  s.groups = {experts, others};
  s.call_types[0].selectors = "skill.billing >= 90 relax after 30s";
  s.decline_rate = 0;
  auto r = simulator::simulation{s}.run();
  EXPECT_GT(r.relaxed_calls, 0u);
  EXPECT_GT(r.groups[1].handled, 0u);
  // Nobody waits much beyond the relaxation step.
  EXPECT_LT(r.total.longest_wait, 30s + s.ring_time + 1s);
}

TEST(simulation, names_what_is_wrong_with_a_scenario) {
  auto s = one_queue(1, 10);
  s.call_types[0].queue = "nowhere";
  EXPECT_EQ(simulator::simulation{s}.validate(),
            "call type 'any' names unknown queue 'nowhere'");
  s = one_queue(1, 10);
  s.call_types[0].selectors = "skill.x >> 1";
  EXPECT_EQ(simulator::simulation{s}.validate().rfind("call type 'any' "
                                                      "selectors: column 10",
                                                      0),
            0u);
  EXPECT_EQ(simulator::simulation{simulator::scenario::demo()}.validate(), "");
}
