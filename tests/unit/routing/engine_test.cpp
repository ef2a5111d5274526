#include "routing/engine.hpp"

#include <gtest/gtest.h>

using namespace switchboard::routing;
using namespace std::chrono_literals;

namespace {

/// A tenant with one voice queue "sales" (offer timeout 10 s, wrap-up
/// 5 s, two misses make an agent not ready) and agents a1, a2 in it.
class engine_test : public ::testing::Test {
 protected:
  engine_test() : eng("t1") {
    queue q;
    q.id = "sales";
    q.offer_timeout = 10s;
    q.wrap_up = 5s;
    q.max_missed_offers = 2;
    EXPECT_TRUE(eng.upsert_queue(q, now));
    add_agent("a1");
    add_agent("a2");
    eng.take_changes();
  }

  void add_agent(const std::string& id, bool available = false) {
    agent a;
    a.id = id;
    a.queues = {"sales"};
    EXPECT_TRUE(eng.upsert_agent(a, now));
    if (available)
      make_available(id);
  }

  void make_available(const std::string& id) {
    EXPECT_TRUE(eng.set_presence(id, presence::available, now));
    EXPECT_TRUE(eng.set_ready(id, true, {}, now));
  }

  status submit(const std::string& id, int32_t priority = 0) {
    call c;
    c.id = id;
    c.queue_id = "sales";
    c.priority = priority;
    return eng.submit(c, now);
  }

  status submit_from(const std::string& id, const std::string& from) {
    call c;
    c.id = id;
    c.queue_id = "sales";
    c.from = from;
    return eng.submit(c, now);
  }

  /// A second engine given what a store would hold of this one, not yet
  /// recovered.
  engine restored() const {
    engine back("t1");
    for (auto& q : eng.queues())
      back.restore(q);
    for (auto& a : eng.agents())
      back.restore(a);
    for (auto* c : eng.calls())
      back.restore(*c);
    return back;
  }

  const live_call& call_of(const std::string& id) {
    auto* c = eng.find_call(id);
    EXPECT_NE(c, nullptr) << id;
    static live_call none;
    return c == nullptr ? none : *c;
  }

  void pass(duration d) {
    now += d;
    eng.advance(now);
  }

  std::vector<event_type> event_types() {
    std::vector<event_type> result;
    for (auto& e : eng.pending().events)
      result.push_back(e.type);
    return result;
  }

  timestamp now = from_micros(1'700'000'000'000'000);
  engine eng;
};

} // namespace

TEST_F(engine_test, a_call_waits_until_an_agent_is_available) {
  ASSERT_TRUE(submit("c1"));
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  EXPECT_EQ(eng.position("c1"), 1u);
  make_available("a1");
  EXPECT_EQ(call_of("c1").data.state, call_state::offered);
  EXPECT_EQ(call_of("c1").agent_id, "a1");
  EXPECT_EQ(call_of("c1").offer_id, "c1#1");
  EXPECT_EQ(eng.position("c1"), 0u);
}

TEST_F(engine_test, full_lifecycle_with_wrap_up) {
  make_available("a1");
  eng.take_changes();
  ASSERT_TRUE(submit("c1"));
  EXPECT_EQ(event_types(),
            (std::vector{event_type::call_queued, event_type::call_offered}));
  ASSERT_TRUE(eng.accept("c1", "a1", "c1#1", now));
  EXPECT_EQ(call_of("c1").data.state, call_state::assigned);
  ASSERT_TRUE(eng.complete("c1", now));
  EXPECT_EQ(call_of("c1").data.state, call_state::wrap_up);
  EXPECT_EQ(eng.find_agent("a1")->data.in_wrap_up, true);
  // During wrap-up the agent gets no work.
  ASSERT_TRUE(submit("c2"));
  EXPECT_EQ(call_of("c2").data.state, call_state::queued);
  eng.take_changes();
  pass(5s - 1us);
  EXPECT_EQ(call_of("c1").data.state, call_state::wrap_up);
  pass(1us);
  EXPECT_EQ(eng.find_call("c1"), nullptr);
  auto changed = eng.take_changes();
  ASSERT_EQ(changed.finished.size(), 1u);
  EXPECT_EQ(changed.finished[0].data.state, call_state::completed);
  EXPECT_EQ(changed.finished[0].offers[0].outcome, "accepted");
  // Wrap-up over: the waiting call is offered at once.
  EXPECT_EQ(call_of("c2").data.state, call_state::offered);
  EXPECT_EQ(call_of("c2").agent_id, "a1");
}

TEST_F(engine_test, a_disposition_is_given_while_answered_or_wrapping_up) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  // Not before the call is answered.
  EXPECT_EQ(eng.set_disposition("c1", "resolved", "note").code,
            errc::failed_precondition);
  EXPECT_EQ(eng.set_disposition("nope", "resolved", "").code, errc::not_found);
  ASSERT_TRUE(eng.accept("c1", "a1", "c1#1", now));
  eng.take_changes();
  ASSERT_TRUE(eng.set_disposition("c1", "follow-up", "call back Monday"));
  EXPECT_EQ(eng.take_changes().calls.count("c1"), 1u); // stored
  ASSERT_TRUE(eng.complete("c1", now));
  ASSERT_TRUE(eng.set_disposition("c1", "resolved", "credit promised"));
  pass(5s);
  auto changed = eng.take_changes();
  ASSERT_EQ(changed.finished.size(), 1u);
  EXPECT_EQ(changed.finished[0].disposition_code, "resolved");
  EXPECT_EQ(changed.finished[0].note, "credit promised");
}

TEST_F(engine_test,
       a_call_cancelled_while_ringing_names_the_offer_it_withdrew) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  eng.take_changes();
  ASSERT_TRUE(eng.cancel("c1", true, now));
  auto changed = eng.take_changes();
  auto ended = std::find_if(changed.events.begin(), changed.events.end(),
                            [](const event& e) {
                              return e.type == event_type::call_abandoned;
                            });
  ASSERT_NE(ended, changed.events.end());
  EXPECT_EQ(ended->offer_id, "c1#1");
  EXPECT_EQ(ended->offer_agent_id, "a1");
}

TEST_F(engine_test, decline_returns_the_call_to_its_place) {
  ASSERT_TRUE(submit("c1"));
  pass(1s);
  ASSERT_TRUE(submit("c2"));
  make_available("a1");
  ASSERT_EQ(call_of("c1").agent_id, "a1");
  ASSERT_TRUE(eng.decline("c1", "a1", "c1#1", now));
  // c1 keeps its place ahead of c2 and its original enqueue time; the
  // only agent gets it again.
  EXPECT_EQ(call_of("c1").data.enqueued_at, now - 1s);
  EXPECT_EQ(call_of("c1").data.state, call_state::offered);
  EXPECT_EQ(call_of("c1").offer_id, "c1#2");
  EXPECT_EQ(call_of("c1").offers[0].outcome, "declined");
  EXPECT_EQ(eng.find_agent("a1")->missed_in_a_row, 1u);
  EXPECT_EQ(eng.position("c2"), 1u);
}

TEST_F(engine_test, a_declined_call_goes_to_another_agent_first_in_line) {
  make_available("a1");
  now += 1s;
  make_available("a2");
  ASSERT_TRUE(submit("c1"));
  ASSERT_EQ(call_of("c1").agent_id, "a1"); // idle longest
  ASSERT_TRUE(eng.decline("c1", "a1", {}, now));
  EXPECT_EQ(call_of("c1").agent_id, "a2");
}

TEST_F(engine_test, expiry_counts_a_miss_and_misses_in_a_row_make_not_ready) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  pass(10s - 1us);
  EXPECT_EQ(call_of("c1").offer_id, "c1#1");
  pass(1us);
  // Expired and offered again to the only agent.
  EXPECT_EQ(call_of("c1").offers[0].outcome, "expired");
  EXPECT_EQ(call_of("c1").offer_id, "c1#2");
  EXPECT_EQ(eng.find_agent("a1")->missed_in_a_row, 1u);
  pass(10s);
  auto a1 = eng.find_agent("a1");
  EXPECT_FALSE(a1->data.ready);
  EXPECT_EQ(a1->data.not_ready_reason, "not responding");
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  // Back to ready: the count starts again and the call is offered.
  ASSERT_TRUE(eng.set_ready("a1", true, {}, now));
  EXPECT_EQ(eng.find_agent("a1")->missed_in_a_row, 0u);
  EXPECT_EQ(call_of("c1").offer_id, "c1#3");
}

TEST_F(engine_test, accept_resets_the_missed_count) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.decline("c1", "a1", {}, now));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  EXPECT_EQ(eng.find_agent("a1")->missed_in_a_row, 0u);
}

TEST_F(engine_test, stale_offers_are_refused) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.decline("c1", "a1", {}, now));
  auto st = eng.accept("c1", "a1", "c1#1", now);
  EXPECT_EQ(st.code, errc::failed_precondition);
  EXPECT_EQ(st.message,
            "offer 'c1#1' is no longer open; call 'c1' has offer 'c1#2' open");
  st = eng.accept("c1", "a2", {}, now);
  EXPECT_EQ(st.code, errc::failed_precondition);
  EXPECT_EQ(eng.accept("nope", "a1", {}, now).code, errc::not_found);
  EXPECT_EQ(eng.accept("c1", "nobody", {}, now).code, errc::not_found);
}

TEST_F(engine_test, presence_and_readiness_gate_offers) {
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.set_ready("a1", true, {}, now));
  EXPECT_EQ(call_of("c1").data.state, call_state::queued); // offline
  for (auto p : {presence::away, presence::be_right_back, presence::busy,
                 presence::busy_idle, presence::do_not_disturb,
                 presence::offline, presence::presence_unknown}) {
    ASSERT_TRUE(eng.set_presence("a1", p, now));
    EXPECT_EQ(call_of("c1").data.state, call_state::queued) << to_string(p);
  }
  ASSERT_TRUE(eng.set_ready("a1", false, "lunch", now));
  ASSERT_TRUE(eng.set_presence("a1", presence::available_idle, now));
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  EXPECT_EQ(eng.find_agent("a1")->data.not_ready_reason, "lunch");
  ASSERT_TRUE(eng.set_ready("a1", true, {}, now));
  EXPECT_EQ(call_of("c1").data.state, call_state::offered);
}

TEST_F(engine_test, max_wait_overflows_keeping_the_original_place) {
  queue backup;
  backup.id = "backup";
  ASSERT_TRUE(eng.upsert_queue(backup, now));
  queue sales = *eng.find_queue("sales");
  sales.max_wait = 30s;
  sales.overflow_queue = "backup";
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  auto arrived = now;
  ASSERT_TRUE(submit("c1"));
  pass(30s);
  auto& c = call_of("c1");
  EXPECT_EQ(c.data.queue_id, "backup");
  EXPECT_EQ(c.data.enqueued_at, arrived);
  EXPECT_EQ(c.queue_path, (std::vector<std::string>{"sales", "backup"}));
  agent b;
  b.id = "b1";
  b.queues = {"backup"};
  ASSERT_TRUE(eng.upsert_agent(b, now));
  make_available("b1");
  EXPECT_EQ(call_of("c1").agent_id, "b1");
}

TEST_F(engine_test, max_wait_without_overflow_times_out) {
  queue sales = *eng.find_queue("sales");
  sales.max_wait = 30s;
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("c1"));
  eng.take_changes();
  pass(30s);
  EXPECT_EQ(eng.find_call("c1"), nullptr);
  auto changed = eng.take_changes();
  ASSERT_EQ(changed.finished.size(), 1u);
  EXPECT_EQ(changed.finished[0].data.state, call_state::timed_out);
}

TEST_F(engine_test, full_queue_is_refused) {
  queue sales = *eng.find_queue("sales");
  sales.max_length = 1;
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("c1"));
  auto st = submit("c2");
  EXPECT_EQ(st.code, errc::resource_exhausted);
  EXPECT_EQ(st.message, "queue 'sales' of tenant 't1' is full: 1 calls wait, "
                        "its max_length");
  EXPECT_EQ(eng.find_call("c2"), nullptr);
}

TEST_F(engine_test, priority_orders_the_line) {
  ASSERT_TRUE(submit("low"));
  pass(1s);
  ASSERT_TRUE(submit("high", 5));
  EXPECT_EQ(eng.position("high"), 1u);
  EXPECT_EQ(eng.position("low"), 2u);
  make_available("a1");
  EXPECT_EQ(call_of("high").agent_id, "a1");
}

TEST_F(engine_test, cancel_withdraws_an_open_offer) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(submit("c2"));
  ASSERT_EQ(call_of("c1").agent_id, "a1");
  ASSERT_TRUE(eng.cancel("c1", true, now));
  EXPECT_EQ(eng.find_call("c1"), nullptr);
  // The agent is free again and takes the next call; no miss counted.
  EXPECT_EQ(call_of("c2").agent_id, "a1");
  EXPECT_EQ(eng.find_agent("a1")->missed_in_a_row, 0u);
  auto stats = eng.stats("sales", now);
  EXPECT_EQ(stats->abandoned, 1u);
  EXPECT_EQ(stats->offered, 2u);
}

TEST_F(engine_test, an_answered_call_cannot_be_cancelled) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  EXPECT_EQ(eng.cancel("c1", true, now).code, errc::failed_precondition);
  EXPECT_EQ(eng.complete("nope", now).code, errc::not_found);
}

TEST_F(engine_test, unknown_queue_and_preferred_agent_are_named) {
  call c;
  c.id = "c1";
  c.queue_id = "nope";
  auto st = eng.submit(c, now);
  EXPECT_EQ(st.code, errc::not_found);
  EXPECT_EQ(st.message,
            "call.queue_id: queue 'nope' does not exist in tenant 't1'");
  c.queue_id = "sales";
  c.preferred_agent = "ghost";
  st = eng.submit(c, now);
  EXPECT_EQ(st.code, errc::not_found);
  EXPECT_EQ(st.message, "call.preferred_agent_id: agent 'ghost' does not "
                        "exist in tenant 't1'");
}

TEST_F(engine_test, transfer_moves_an_assigned_call_to_another_queue) {
  queue other;
  other.id = "support";
  ASSERT_TRUE(eng.upsert_queue(other, now));
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  ASSERT_TRUE(eng.transfer("c1", "support", {}, now));
  auto& c = call_of("c1");
  EXPECT_EQ(c.data.state, call_state::queued);
  EXPECT_EQ(c.data.queue_id, "support");
  EXPECT_EQ(eng.find_agent("a1")->data.load[0], 0u);
}

TEST_F(engine_test, a_blind_transfer_outside_keeps_the_agent_until_completed) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  // Only an answered call leaves the contact center this way.
  EXPECT_EQ(
    eng.transfer("c1", transfer_target{"outside", "+14255550100"}, now).code,
    errc::failed_precondition);
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  eng.take_changes();
  ASSERT_TRUE(
    eng.transfer("c1", transfer_target{"outside", "+14255550100"}, now));
  // The agent keeps the call while its gateway hands it over.
  EXPECT_EQ(call_of("c1").data.state, call_state::assigned);
  EXPECT_EQ(call_of("c1").agent_id, "a1");
  auto changes = eng.take_changes();
  ASSERT_EQ(changes.events.size(), 1u);
  EXPECT_EQ(changes.events[0].type, event_type::call_transferred);
  EXPECT_EQ(changes.events[0].call->transfer_number, "+14255550100");
  // Only the event carries the number, not the call: a later transfer
  // (after a failed one out) is not taken for another one out.
  EXPECT_EQ(call_of("c1").transfer_number, "");
}

TEST_F(engine_test, a_transfer_names_its_target_by_number_or_teams_user) {
  queue support;
  support.id = "support";
  ASSERT_TRUE(eng.upsert_queue(support, now));
  agent desk;
  desk.id = "desk";
  desk.queues = {"support"};
  desk.sip_uri = "sip:+14255550177@sbc.example.net;user=phone";
  desk.teams_user_id = "6a1b2c3d";
  ASSERT_TRUE(eng.upsert_agent(desk, now));
  classification rules;
  classification_rule line;
  line.id = "support-line";
  line.conditions = {{"to", condition::match_kind::equals, {"+14255550199"}}};
  line.queue_id = "support";
  rules.rules = {line};
  rules.default_queue = "sales";
  ASSERT_TRUE(eng.set_classification(rules));
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));

  // A queue's number: the rule that routes it.
  ASSERT_TRUE(
    eng.transfer("c1", transfer_target{"number", "+14255550199"}, now));
  EXPECT_EQ(call_of("c1").data.queue_id, "support");
  EXPECT_EQ(call_of("c1").data.preferred_agent, "");
  // An agent's number, and a Teams user: that agent, preferred.
  ASSERT_TRUE(
    eng.transfer("c1", transfer_target{"number", "+14255550177"}, now));
  EXPECT_EQ(call_of("c1").data.preferred_agent, "desk");
  ASSERT_TRUE(eng.transfer("c1", transfer_target{"queue", "sales"}, now));
  ASSERT_TRUE(eng.transfer("c1", transfer_target{"teams", "6a1b2c3d"}, now));
  EXPECT_EQ(call_of("c1").data.preferred_agent, "desk");
  // Anything else is not the tenant's: the default queue does not count.
  auto outside
    = eng.transfer("c1", transfer_target{"number", "+14255559999"}, now);
  EXPECT_EQ(outside.code, errc::not_found);
  EXPECT_EQ(outside.message,
            "dialled_number: '+14255559999' is no agent's number and no "
            "classification rule of tenant 't1' routes it");
  EXPECT_EQ(eng.transfer("c1", transfer_target{"teams", "nobody"}, now).code,
            errc::not_found);
}

TEST_F(engine_test, relaxation_makes_a_call_routable_on_time) {
  make_available("a1");
  call c;
  c.id = "c1";
  c.queue_id = "sales";
  selector s;
  s.kind = selector_kind::skill;
  s.name = "french";
  s.op = selector_op::ge;
  s.values = {"50"};
  s.relax_after = 20s;
  c.selectors = {s};
  ASSERT_TRUE(eng.submit(c, now));
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  ASSERT_EQ(eng.next_deadline(), now + 20s);
  pass(20s - 1us);
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  pass(1us);
  EXPECT_EQ(call_of("c1").agent_id, "a1");
}

TEST_F(engine_test, answered_offers_set_no_timer) {
  make_available("a1");
  make_available("a2");
  ASSERT_TRUE(submit("c1"));
  now += 1s;
  ASSERT_TRUE(submit("c2"));
  // Both offers are open: the first one's expiry comes first.
  ASSERT_EQ(eng.next_deadline(), now - 1s + 10s);
  auto first = call_of("c1");
  ASSERT_TRUE(eng.accept("c1", first.agent_id, first.offer_id, now));
  // Answered, its expiry no longer wakes the tenant; the second does.
  EXPECT_EQ(eng.next_deadline(), now + 10s);
  auto second = call_of("c2");
  ASSERT_TRUE(eng.accept("c2", second.agent_id, second.offer_id, now));
  EXPECT_EQ(eng.next_deadline(), std::nullopt);
}

TEST_F(engine_test, agents_holding_work_and_queues_with_calls_stay) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  EXPECT_EQ(eng.remove_agent("a1", now).code, errc::failed_precondition);
  EXPECT_EQ(eng.remove_queue("sales", now).code, errc::failed_precondition);
  EXPECT_TRUE(eng.remove_agent("a2", now));
}

TEST_F(engine_test, recovery_rebuilds_load_and_resumes_deadlines) {
  make_available("a1");
  make_available("a2");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(submit("c2"));
  ASSERT_TRUE(eng.accept("c1", eng.find_call("c1")->agent_id, {}, now));
  ASSERT_TRUE(submit("c3"));
  // Copy out what a store would hold, then rebuild 4 s later.
  auto back = restored();
  auto c2_agent = eng.find_call("c2")->agent_id;
  auto later = now + 4s;
  back.recover(later);
  EXPECT_EQ(back.find_call("c1")->data.state, call_state::assigned);
  EXPECT_EQ(back.find_call("c2")->data.state, call_state::offered);
  EXPECT_EQ(back.find_call("c3")->data.state, call_state::queued);
  EXPECT_EQ(back.find_agent("a1")->data.load[0], 1u);
  EXPECT_EQ(back.find_agent("a2")->data.load[0], 1u);
  // Nothing changed, so nothing is written back: not even the waiting c3.
  EXPECT_TRUE(back.take_changes().calls.empty());
  // The offer keeps its deadline: 10 s after it was made.
  back.advance(now + 10s - 1us);
  EXPECT_EQ(back.find_call("c2")->offer_id, "c2#1");
  back.advance(now + 10s);
  EXPECT_EQ(back.find_call("c2")->offers[0].outcome, "expired");
  EXPECT_EQ(back.find_agent(c2_agent)->missed_in_a_row, 1u);
}

TEST_F(engine_test, recovery_expires_offers_whose_deadline_passed) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  auto back = restored();
  back.recover(now + 11s);
  auto* c = back.find_call("c1");
  EXPECT_EQ(c->offers[0].outcome, "expired");
  EXPECT_EQ(c->offer_id, "c1#2"); // re-offered to the only agent
  EXPECT_EQ(back.find_agent("a1")->data.load[0], 1u);
}

TEST_F(engine_test, stats_count_answers_within_the_threshold) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  ASSERT_TRUE(submit("c2"));
  pass(25s);
  ASSERT_TRUE(submit("c3"));
  auto s = eng.stats("sales", now);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->waiting, 2u);
  EXPECT_EQ(s->longest_wait, 25s);
  EXPECT_EQ(s->answered, 1u);
  EXPECT_EQ(s->answered_in_threshold, 1u);
  ASSERT_EQ(s->agents.size(), 2u);
  EXPECT_EQ(s->agents[0].activity, activity::idle);
  EXPECT_EQ(s->agents[0].pres, presence::offline);
  EXPECT_FALSE(s->agents[0].ready);
  EXPECT_EQ(s->agents[0].agents, 1u);
  EXPECT_EQ(s->agents[1].activity, activity::busy);
  EXPECT_EQ(s->agents[1].pres, presence::available);
  EXPECT_TRUE(s->agents[1].ready);
  EXPECT_EQ(s->agents[1].agents, 1u);
}

TEST_F(engine_test, places_in_line_agree_however_they_are_computed) {
  // Mixed priorities and arrival times; some leave the line.
  for (int i = 0; i < 60; ++i) {
    pass(1ms);
    ASSERT_TRUE(submit("c" + std::to_string(i), (i * 7) % 4));
  }
  for (int i = 0; i < 60; i += 9)
    ASSERT_TRUE(eng.cancel("c" + std::to_string(i), true, now));
  auto places = eng.positions();
  EXPECT_EQ(places.size(), 53u);
  std::set<uint32_t> seen;
  for (auto& [id, place] : places) {
    EXPECT_EQ(eng.position(id), place) << id;
    seen.insert(place);
  }
  EXPECT_EQ(*seen.begin(), 1u);
  EXPECT_EQ(*seen.rbegin(), 53u); // 1..53, each once
  EXPECT_EQ(seen.size(), 53u);
}

TEST_F(engine_test, classification_picks_the_first_matching_rule) {
  queue support;
  support.id = "support";
  ASSERT_TRUE(eng.upsert_queue(support, now));
  classification rules;
  classification_rule chat;
  chat.id = "chat";
  chat.conditions = {{"channel", condition::match_kind::equals, {"chat"}}};
  chat.queue_id = "support";
  chat.priority = 3;
  classification_rule uk;
  uk.id = "uk";
  uk.conditions
    = {{"to", condition::match_kind::prefix, {"+44", "+353"}},
       {"attribute.tier", condition::match_kind::in, {"gold", "silver"}}};
  uk.queue_id = "sales";
  rules.rules = {chat, uk};
  ASSERT_TRUE(eng.set_classification(rules));

  auto classified = [&](call c) {
    c.id = "c" + std::to_string(eng.live_call_count() + 1);
    auto st = eng.submit(c, now);
    EXPECT_TRUE(st) << st.message;
    return eng.find_call(c.id)->data;
  };
  call c;
  c.channel = channel::chat;
  auto x = classified(c);
  EXPECT_EQ(x.queue_id, "support");
  EXPECT_EQ(x.priority, 3);
  // A call's own priority stands.
  c.priority = 9;
  EXPECT_EQ(classified(c).priority, 9);
  // Every condition of a rule must hold.
  call d;
  d.to = "+442071838750";
  EXPECT_EQ(eng
              .submit(
                [&] {
                  auto y = d;
                  y.id = "d1";
                  return y;
                }(),
                now)
              .code,
            errc::failed_precondition);
  d.attributes["tier"] = "silver";
  EXPECT_EQ(classified(d).queue_id, "sales");
  // Matching nothing with a default queue: the default.
  rules.default_queue = "support";
  ASSERT_TRUE(eng.set_classification(rules));
  call e;
  e.to = "+14255550100";
  EXPECT_EQ(classified(e).queue_id, "support");
  // Rules must name queues that exist.
  rules.rules[1].queue_id = "nowhere";
  EXPECT_EQ(eng.set_classification(rules).code, errc::not_found);
  EXPECT_EQ(eng.classification().rules[1].queue_id, "sales");
}

// -- limits, callbacks and priority aging -------------------------------------

TEST_F(engine_test, a_full_queue_overflows_new_calls_with_their_arrival_time) {
  queue backup;
  backup.id = "backup";
  ASSERT_TRUE(eng.upsert_queue(backup, now));
  queue sales = *eng.find_queue("sales");
  sales.max_length = 1;
  sales.when_full = {limit_action::kind::overflow, "backup", "sorry-busy"};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("c1"));
  eng.take_changes();
  ASSERT_TRUE(submit("c2"));
  auto& c2 = call_of("c2");
  EXPECT_EQ(c2.data.queue_id, "backup");
  EXPECT_EQ(c2.data.enqueued_at, now);
  EXPECT_EQ(c2.limit, "queue_full");
  EXPECT_EQ(c2.announcement, "sorry-busy");
  EXPECT_EQ(c2.queue_path, (std::vector<std::string>{"sales", "backup"}));
  EXPECT_EQ(event_types(), (std::vector<event_type>{event_type::call_overflowed,
                                                    event_type::call_queued}));
  EXPECT_EQ(eng.stats("sales", now)->overflowed, 1u);
  // A queue that a limit overflows to cannot be deleted.
  EXPECT_EQ(eng.remove_queue("backup", now).code, errc::failed_precondition);
}

TEST_F(engine_test, a_full_queue_can_disconnect_and_keeps_the_record) {
  queue sales = *eng.find_queue("sales");
  sales.max_length = 1;
  sales.when_full = {limit_action::kind::disconnect, "", "all-busy"};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("c1"));
  eng.take_changes();
  ASSERT_TRUE(submit("c2"));
  auto changed = eng.take_changes();
  ASSERT_EQ(changed.finished.size(), 1u);
  EXPECT_EQ(changed.finished[0].data.state, call_state::disconnected);
  EXPECT_EQ(changed.finished[0].limit, "queue_full");
  EXPECT_EQ(changed.finished[0].announcement, "all-busy");
  ASSERT_EQ(changed.events.size(), 1u);
  EXPECT_EQ(changed.events[0].type, event_type::call_disconnected);
  EXPECT_EQ(eng.stats("sales", now)->disconnected, 1u);
  EXPECT_EQ(eng.stats("sales", now)->waiting, 1u);
}

TEST_F(engine_test, overflow_cycles_of_full_queues_end_with_the_call_waiting) {
  queue other;
  other.id = "other";
  ASSERT_TRUE(eng.upsert_queue(other, now));
  queue sales = *eng.find_queue("sales");
  sales.max_length = 1;
  sales.when_full = {limit_action::kind::overflow, "other", ""};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  other.max_length = 1;
  other.when_full = {limit_action::kind::overflow, "sales", ""};
  ASSERT_TRUE(eng.upsert_queue(other, now));
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(submit("c2"));
  EXPECT_EQ(call_of("c2").data.queue_id, "other");
  ASSERT_TRUE(submit("c3"));
  EXPECT_EQ(call_of("c3").data.state, call_state::queued);
  EXPECT_EQ(eng.waiting_count(), 3u);
}

TEST_F(engine_test, no_agent_signed_in_makes_a_callback_that_keeps_its_place) {
  queue sales = *eng.find_queue("sales");
  sales.when_no_agents = {limit_action::kind::callback, "", "we-call-back"};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit_from("c1", "+14255550100"));
  EXPECT_EQ(call_of("c1").callback_number, "+14255550100");
  EXPECT_EQ(call_of("c1").limit, "no_agents");
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  EXPECT_EQ(event_types(),
            (std::vector<event_type>{event_type::call_callback_requested,
                                     event_type::call_queued}));
  EXPECT_EQ(eng.stats("sales", now)->callbacks_waiting, 1u);
  pass(5s);
  // Once an agent signs in, new calls wait behind the callback.
  make_available("a1");
  EXPECT_EQ(call_of("c1").agent_id, "a1");
  ASSERT_TRUE(submit("c2"));
  EXPECT_TRUE(call_of("c2").callback_number.empty());
  // The callback's caller is not on the line: no hang-up counts.
  ASSERT_TRUE(eng.cancel("c1", true, now));
  EXPECT_EQ(eng.stats("sales", now)->abandoned, 0u);
}

TEST_F(engine_test, the_last_agent_signing_out_acts_on_the_waiting_calls) {
  queue sales = *eng.find_queue("sales");
  sales.when_no_agents = {limit_action::kind::callback, "", "we-call-back"};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(eng.set_presence("a1", presence::busy, now)); // signed in
  ASSERT_TRUE(submit_from("c1", "+14255550100"));
  pass(1s);
  ASSERT_TRUE(submit("c2")); // no number to call back
  pass(1s);
  ASSERT_TRUE(submit_from("c3", "+14255550103"));
  EXPECT_TRUE(call_of("c1").callback_number.empty());

  ASSERT_TRUE(eng.set_presence("a1", presence::offline, now));
  EXPECT_EQ(call_of("c1").callback_number, "+14255550100");
  EXPECT_EQ(call_of("c1").limit, "no_agents");
  EXPECT_EQ(call_of("c1").announcement, "we-call-back");
  EXPECT_EQ(eng.position("c1"), 1u);
  EXPECT_EQ(eng.position("c3"), 2u);
  EXPECT_EQ(eng.find_call("c2"), nullptr); // disconnected, in history
  EXPECT_EQ(eng.stats("sales", now)->disconnected, 1u);
  EXPECT_EQ(eng.stats("sales", now)->callbacks_waiting, 2u);
}

TEST_F(engine_test, an_unstaffed_queue_overflows_its_waiting_calls_in_order) {
  queue backup;
  backup.id = "backup";
  ASSERT_TRUE(eng.upsert_queue(backup, now));
  queue sales = *eng.find_queue("sales");
  sales.when_no_agents = {limit_action::kind::overflow, "backup", ""};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  agent a2;
  a2.id = "a2";
  a2.queues = {"sales"};
  ASSERT_TRUE(eng.upsert_agent(a2, now));
  ASSERT_TRUE(eng.set_presence("a2", presence::away, now));
  ASSERT_TRUE(submit("c1"));
  auto arrived = now;
  pass(1s);
  ASSERT_TRUE(submit("c2"));
  // Taking a2 out of the queue leaves it without anyone signed in.
  a2.queues = {"backup"};
  ASSERT_TRUE(eng.upsert_agent(a2, now));
  EXPECT_EQ(call_of("c1").data.queue_id, "backup");
  EXPECT_EQ(call_of("c1").data.enqueued_at, arrived);
  EXPECT_EQ(call_of("c2").data.queue_id, "backup");
  EXPECT_EQ(eng.position("c1"), 1u);
  EXPECT_EQ(call_of("c1").limit, "no_agents");
}

TEST_F(engine_test, a_requested_callback_keeps_its_place_and_skips_max_wait) {
  queue sales = *eng.find_queue("sales");
  sales.max_wait = 30s;
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("first"));
  pass(1s);
  ASSERT_TRUE(submit("second"));
  EXPECT_EQ(eng.request_callback("first", {}, now).code,
            errc::invalid_argument); // no from number
  ASSERT_TRUE(eng.request_callback("first", "+14255550111", now));
  EXPECT_EQ(eng.position("first"), 1u);
  pass(40s);
  // The caller still waiting timed out; the callback did not.
  EXPECT_EQ(eng.find_call("second"), nullptr);
  EXPECT_EQ(call_of("first").data.state, call_state::queued);
  make_available("a1");
  EXPECT_EQ(call_of("first").data.state, call_state::offered);
  EXPECT_EQ(eng.request_callback("first", {}, now).code,
            errc::failed_precondition);
}

TEST_F(engine_test, max_wait_can_turn_the_call_into_a_callback_in_place) {
  queue sales = *eng.find_queue("sales");
  sales.max_wait = 30s;
  sales.when_max_wait = {limit_action::kind::callback, "", "cb-confirm"};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit_from("c1", "+14255550100"));
  pass(1s);
  ASSERT_TRUE(submit("c2"));
  pass(30s);
  EXPECT_EQ(call_of("c1").callback_number, "+14255550100");
  EXPECT_EQ(call_of("c1").limit, "max_wait");
  EXPECT_EQ(eng.position("c1"), 1u);
  // c2 has no number to call back: it ends instead.
  pass(1s);
  EXPECT_EQ(eng.find_call("c2"), nullptr);
}

TEST_F(engine_test, priority_aging_lets_an_old_call_pass_a_newer_urgent_one) {
  queue sales = *eng.find_queue("sales");
  sales.aging = {10s, 1, 3};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("old"));
  pass(25s); // two steps: effective priority 2
  EXPECT_EQ(call_of("old").effective_priority(), 2);
  ASSERT_TRUE(submit("urgent", 1));
  EXPECT_EQ(eng.position("old"), 1u);
  EXPECT_EQ(eng.position("urgent"), 2u);
  pass(60s); // capped at 3
  EXPECT_EQ(call_of("old").effective_priority(), 3);
  EXPECT_EQ(call_of("urgent").effective_priority(), 4);
  EXPECT_EQ(eng.position("urgent"), 1u);
  make_available("a1");
  EXPECT_EQ(call_of("urgent").agent_id, "a1");
  // Rebuilt from a store, the boost is computed again from the wait.
  auto back = restored();
  back.recover(now);
  EXPECT_EQ(back.find_call("old")->effective_priority(), 3);
}

TEST_F(engine_test, stepwise_relaxation_widens_the_agents_step_by_step) {
  queue sales = *eng.find_queue("sales");
  sales.steps = {{parse_selectors("skill.billing >= 80").selectors, 30s},
                 {parse_selectors("skill.billing >= 50").selectors, 60s},
                 {{}, 0s}};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  agent mid;
  mid.id = "mid";
  mid.queues = {"sales"};
  mid.attrs.skills["billing"] = 60;
  ASSERT_TRUE(eng.upsert_agent(mid, now));
  make_available("mid");
  make_available("a1"); // no billing skill at all
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(submit("c2"));
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  pass(30s - 1us);
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  pass(1us); // second step: billing >= 50
  EXPECT_EQ(call_of("c1").agent_id, "mid");
  EXPECT_EQ(call_of("c2").data.state, call_state::queued);
  pass(60s); // last step: anyone in the queue
  EXPECT_EQ(call_of("c2").agent_id, "a1");
}

// -- agent states -------------------------------------------------------------

TEST_F(engine_test, wrap_up_can_be_extended_and_ended_early) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  ASSERT_TRUE(eng.complete("c1", now));
  EXPECT_EQ(eng.end_wrap_up("a2", now).code, errc::failed_precondition);
  EXPECT_EQ(eng.extend_wrap_up("a1", 0s, now).code, errc::invalid_argument);
  ASSERT_TRUE(eng.extend_wrap_up("a1", 10s, now));
  EXPECT_EQ(eng.find_agent("a1")->wrap_up_until, now + 15s);
  pass(5s); // the queue's own wrap-up would end here
  EXPECT_EQ(call_of("c1").data.state, call_state::wrap_up);
  ASSERT_TRUE(submit("c2"));
  EXPECT_EQ(call_of("c2").data.state, call_state::queued);
  eng.take_changes();
  ASSERT_TRUE(eng.end_wrap_up("a1", now));
  EXPECT_EQ(eng.find_call("c1"), nullptr);
  EXPECT_EQ(call_of("c2").agent_id, "a1");
  // The agent's state changes are events of their own.
  auto types = event_types();
  EXPECT_NE(
    std::find(types.begin(), types.end(), event_type::agent_state_changed),
    types.end());
  EXPECT_TRUE(eng.audit().empty());
}

TEST_F(engine_test, chats_wrapped_up_together_end_together) {
  make_available("a1");
  for (auto id : {"chat1", "chat2"}) {
    call c;
    c.id = id;
    c.queue_id = "sales";
    c.channel = channel::chat;
    ASSERT_TRUE(eng.submit(c, now));
    ASSERT_TRUE(eng.accept(id, "a1", {}, now));
  }
  ASSERT_TRUE(eng.complete("chat1", now));
  pass(2s);
  ASSERT_TRUE(eng.complete("chat2", now));
  pass(4s); // chat1's wrap-up time passed, chat2's not
  EXPECT_EQ(call_of("chat1").data.state, call_state::wrap_up);
  pass(1s);
  EXPECT_EQ(eng.find_call("chat1"), nullptr);
  EXPECT_EQ(eng.find_call("chat2"), nullptr);
  EXPECT_TRUE(eng.audit().empty());
}

TEST_F(engine_test, an_extended_wrap_up_survives_recovery) {
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  ASSERT_TRUE(eng.complete("c1", now));
  ASSERT_TRUE(eng.extend_wrap_up("a1", 20s, now));
  auto back = restored();
  back.recover(now + 10s);
  EXPECT_EQ(back.find_call("c1")->data.state, call_state::wrap_up);
  back.advance(now + 25s);
  EXPECT_EQ(back.find_call("c1"), nullptr);
  EXPECT_TRUE(back.audit().empty());
}

TEST_F(engine_test, the_audit_agrees_after_random_traffic_and_names_a_defect) {
  // Random commands, valid or not, for a simulated hour.
  for (int i = 0; i < 3; ++i)
    add_agent("x" + std::to_string(i), true);
  uint32_t seed = 12345;
  auto pick = [&](uint32_t n) {
    seed = seed * 1103515245 + 12345;
    return (seed >> 16) % n;
  };
  int accepted = 0;
  int completed = 0;
  for (int step = 0; step < 5000; ++step) {
    auto id = "c" + std::to_string(pick(200));
    // Half the time a call that is with an agent.
    std::vector<std::string> with_agent;
    for (auto* c : eng.calls())
      if (!c->agent_id.empty())
        with_agent.push_back(c->data.id);
    if (!with_agent.empty() && pick(2) == 0)
      id = with_agent[pick(static_cast<uint32_t>(with_agent.size()))];
    auto agent_id
      = std::vector<std::string>{"a1", "a2", "x0", "x1", "x2"}[pick(5)];
    // Mostly the agent the call is with, so that offers get answered.
    if (auto* c = eng.find_call(id);
        c != nullptr && !c->agent_id.empty() && pick(4) != 0)
      agent_id = c->agent_id;
    switch (pick(9)) {
      case 0: (void)submit(id, static_cast<int32_t>(pick(3))); break;
      case 1: accepted += eng.accept(id, agent_id, {}, now) ? 1 : 0; break;
      case 2: (void)eng.decline(id, agent_id, {}, now); break;
      case 3: completed += eng.complete(id, now) ? 1 : 0; break;
      case 4: (void)eng.cancel(id, pick(2) == 0, now); break;
      case 5: (void)eng.end_wrap_up(agent_id, now); break;
      case 6: (void)eng.extend_wrap_up(agent_id, 3s, now); break;
      case 7:
        (void)eng.set_presence(
          agent_id, pick(2) == 0 ? presence::available : presence::offline,
          now);
        break;
      case 8: (void)eng.set_ready(agent_id, pick(3) != 0, {}, now); break;
    }
    pass(std::chrono::milliseconds{pick(1500)});
    ASSERT_TRUE(eng.audit().empty()) << "after step " << step;
  }
  // The traffic did reach every state.
  EXPECT_GT(accepted, 20) << accepted;
  EXPECT_GT(completed, 10) << completed << " live " << eng.live_call_count();
  // A defect: the agent's record put back as if nothing were held.
  queue solo;
  solo.id = "solo";
  ASSERT_TRUE(eng.upsert_queue(solo, now));
  agent s1;
  s1.id = "s1";
  s1.queues = {"solo"};
  ASSERT_TRUE(eng.upsert_agent(s1, now));
  make_available("s1");
  call c;
  c.id = "held";
  c.queue_id = "solo";
  ASSERT_TRUE(eng.submit(c, now));
  ASSERT_EQ(call_of("held").agent_id, "s1");
  eng.restore(*eng.find_agent("s1"));
  auto found = eng.audit();
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].agent_id, "s1");
  EXPECT_EQ(found[0].what, "counts 0 voice items but holds 1 offered or "
                           "answered");
}

// -- business hours -----------------------------------------------------------

TEST(business_hours, follow_the_time_zone_through_daylight_saving_time) {
  business_hours h;
  h.time_zone = "Europe/London";
  h.open = {{0b0111110, 8 * 60, 18 * 60}}; // Monday to Friday, 08:00-18:00
  h.holidays = {"2026-12-25"};
  auto at = [](const char* utc) {
    std::tm tm{};
    strptime(utc, "%Y-%m-%d %H:%M", &tm);
    return timestamp{std::chrono::seconds{timegm(&tm)}};
  };
  // Summer (BST, UTC+1): 07:30 UTC is 08:30 in London.
  EXPECT_TRUE(h.is_open(at("2026-07-01 07:30")));
  EXPECT_FALSE(h.is_open(at("2026-07-01 06:59")));
  EXPECT_FALSE(h.is_open(at("2026-07-01 17:00"))); // 18:00 local
  // Winter (GMT): 07:30 UTC is 07:30 in London.
  EXPECT_FALSE(h.is_open(at("2026-12-01 07:30")));
  EXPECT_TRUE(h.is_open(at("2026-12-01 08:00")));
  // A Saturday, and a holiday on a Friday.
  EXPECT_FALSE(h.is_open(at("2026-07-04 10:00")));
  EXPECT_FALSE(h.is_open(at("2026-12-25 10:00")));
  EXPECT_TRUE(h.is_open(at("2026-12-24 10:00")));
  EXPECT_EQ(check_time_zone("Mars/Base"),
            "expected an IANA time zone such as Europe/London or "
            "America/New_York, found 'Mars/Base'");
  EXPECT_EQ(parse_clock("24:00"), 1440);
  EXPECT_FALSE(parse_clock("24:01"));
  EXPECT_FALSE(is_date("2026-02-30"));
}

TEST_F(engine_test, a_closed_queue_takes_its_closed_action) {
  queue after;
  after.id = "after-hours";
  ASSERT_TRUE(eng.upsert_queue(after, now));
  queue sales = *eng.find_queue("sales");
  sales.hours.time_zone = "UTC";
  sales.hours.open = {{0b1111111, 0, 1}}; // one minute after midnight
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  // The fixture's clock stands at 22:13 UTC: closed, no action.
  eng.take_changes();
  ASSERT_TRUE(submit("c1"));
  auto changed = eng.take_changes();
  ASSERT_EQ(changed.finished.size(), 1u);
  EXPECT_EQ(changed.finished[0].data.state, call_state::disconnected);
  EXPECT_EQ(changed.finished[0].limit, "closed");
  EXPECT_FALSE(eng.stats("sales", now)->open);
  sales.when_closed = {limit_action::kind::overflow, "after-hours", "closed"};
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("c2"));
  EXPECT_EQ(call_of("c2").data.queue_id, "after-hours");
  EXPECT_EQ(call_of("c2").limit, "closed");
  sales.hours.open = {{0b1111111, 0, 1440}}; // open all day
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  ASSERT_TRUE(submit("c3"));
  EXPECT_EQ(call_of("c3").data.queue_id, "sales");
  EXPECT_TRUE(eng.stats("sales", now)->open);
}

// -- preferred and last agent -------------------------------------------------

TEST_F(engine_test, a_preferred_agent_is_waited_for_then_anyone_takes_it) {
  queue sales = *eng.find_queue("sales");
  sales.preferred_wait = 30s;
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  make_available("a1"); // a2 is not available yet
  call c;
  c.id = "c1";
  c.queue_id = "sales";
  c.preferred_agent = "a2";
  ASSERT_TRUE(eng.submit(c, now));
  EXPECT_EQ(call_of("c1").data.state, call_state::queued);
  EXPECT_EQ(call_of("c1").exclusive_until, now + 30s);
  // a1 is free but must not take it.
  EXPECT_EQ(eng.find_agent("a1")->offers_pending, 0u);
  // Rebuilt from a store, the window still holds.
  auto back = restored();
  back.recover(now + 10s);
  EXPECT_EQ(back.find_call("c1")->data.state, call_state::queued);
  back.advance(now + 30s);
  EXPECT_EQ(back.find_call("c1")->data.state, call_state::offered);
  // Here the preferred agent comes in time.
  pass(5s);
  make_available("a2");
  EXPECT_EQ(call_of("c1").agent_id, "a2");
}

TEST_F(engine_test, a_returning_caller_waits_for_the_agent_who_served_it) {
  queue sales = *eng.find_queue("sales");
  sales.preferred_wait = 20s;
  sales.last_agent_window = 1h;
  sales.wrap_up = 0s;
  ASSERT_TRUE(eng.upsert_queue(sales, now));
  make_available("a2");
  ASSERT_TRUE(submit_from("first", "+14255550100"));
  ASSERT_TRUE(eng.accept("first", "a2", {}, now));
  EXPECT_EQ(eng.last_agent_of("+14255550100")->agent_id, "a2");
  EXPECT_EQ(eng.take_changes().callers.count("+14255550100"), 1u);
  ASSERT_TRUE(eng.complete("first", now));
  // a2 busy with someone else; a1 free: the caller waits for a2.
  ASSERT_TRUE(submit("other"));
  ASSERT_EQ(call_of("other").agent_id, "a2");
  ASSERT_TRUE(eng.accept("other", "a2", {}, now));
  make_available("a1");
  pass(10min);
  ASSERT_TRUE(submit_from("again", "+14255550100"));
  EXPECT_EQ(call_of("again").data.preferred_agent, "a2");
  EXPECT_TRUE(call_of("again").last_agent);
  EXPECT_EQ(call_of("again").data.state, call_state::queued);
  ASSERT_TRUE(eng.complete("other", now));
  EXPECT_EQ(call_of("again").agent_id, "a2");
  // Declined by a2: the caller goes to anyone at once, not back to a2.
  ASSERT_TRUE(eng.decline("again", "a2", {}, now));
  EXPECT_EQ(call_of("again").agent_id, "a1");
  EXPECT_TRUE(call_of("again").data.preferred_agent.empty());
  // Outside the window the caller is forgotten.
  pass(2h);
  eng.take_changes();
  eng.forget_last_agents(now);
  EXPECT_FALSE(eng.last_agent_of("+14255550100"));
  EXPECT_EQ(eng.take_changes().callers.count("+14255550100"), 1u);
}

// -- statistics ---------------------------------------------------------------

TEST_F(engine_test, rolling_windows_and_the_estimated_wait) {
  make_available("a1");
  make_available("a2");
  // Two calls answered after 10 s and talked 60 s (wrap-up 5 s).
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(submit("c2"));
  pass(10s);
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  ASSERT_TRUE(eng.accept("c2", "a2", {}, now));
  pass(60s);
  ASSERT_TRUE(eng.complete("c1", now));
  ASSERT_TRUE(eng.complete("c2", now));
  pass(5s);
  // One caller hangs up while waiting.
  ASSERT_TRUE(submit("c3"));
  ASSERT_TRUE(submit("c4"));
  ASSERT_TRUE(submit("c5"));
  ASSERT_TRUE(eng.cancel("c3", true, now));
  auto s = *eng.stats("sales", now);
  ASSERT_EQ(s.windows.size(), 3u);
  auto& quarter = s.windows[0];
  EXPECT_EQ(quarter.window, 15min);
  EXPECT_EQ(quarter.offered, 5u);
  EXPECT_EQ(quarter.answered, 2u);
  EXPECT_EQ(quarter.abandoned, 1u);
  EXPECT_EQ(quarter.handled, 2u);
  EXPECT_EQ(quarter.answer_wait, 20s);
  EXPECT_EQ(quarter.handle_time, 130s); // 65 s each, wrap-up included
  // c4 and c5 are offered to a1 and a2, nobody waits: a new call is
  // first in line, 65 s over 2 agents signed in.
  EXPECT_EQ(s.estimated_wait, 32500ms);
  EXPECT_EQ(eng.estimated_wait("sales", 3, now), 97500ms);
  // Twenty minutes on, the quarter is empty and the hour still counts.
  pass(20min);
  s = *eng.stats("sales", now);
  EXPECT_EQ(s.windows[0].offered, 0u);
  EXPECT_EQ(s.windows[1].offered, 5u);
  // What is stored and put back gives the same windows.
  auto minutes = eng.take_counted_minutes();
  EXPECT_FALSE(minutes.empty());
  EXPECT_TRUE(eng.take_counted_minutes().empty());
  engine back("t1");
  for (auto& q : eng.queues())
    back.restore(q);
  for (auto& [queue_id, m] : minutes)
    back.restore(queue_id, m);
  back.recover(now);
  EXPECT_EQ(back.stats("sales", now)->windows[1].handled, 2u);
  EXPECT_EQ(back.stats("sales", now)->windows[2].answer_wait, 20s);
}

TEST_F(engine_test, an_agents_day_counts_handled_missed_and_occupancy) {
  make_available("a1");
  pass(30s); // available, idle
  ASSERT_TRUE(submit("c1"));
  pass(2s); // still available while it rings
  ASSERT_TRUE(eng.decline("c1", "a1", {}, now));
  // Back in line, c1 rings at a1 again at once; now a1 answers.
  ASSERT_TRUE(eng.accept("c1", "a1", {}, now));
  pass(60s); // busy talking
  ASSERT_TRUE(eng.complete("c1", now));
  pass(5s); // busy wrapping up; the wrap-up ends here
  auto s = *eng.agent_figures("a1", now);
  EXPECT_EQ(s.handled, 1u);
  EXPECT_EQ(s.handle_time, 65s);
  EXPECT_EQ(s.missed, 1u);
  EXPECT_EQ(s.busy, 65s);
  EXPECT_EQ(s.available, 32s); // ringing counts as available
  EXPECT_FALSE(eng.agent_figures("nobody", now));
  // Survives a rebuild; the time the node was down counts for nothing.
  auto back = restored();
  back.recover(now + 1h);
  auto again = *back.agent_figures("a1", now + 1h);
  EXPECT_EQ(again.handled, 1u);
  EXPECT_EQ(again.busy, 65s);
}

// -- consult and conference ---------------------------------------------------

TEST_F(engine_test, a_consult_becomes_a_transfer_or_a_conference) {
  add_agent("a3", true);
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  auto first = call_of("c1").agent_id;
  ASSERT_TRUE(eng.accept("c1", first, {}, now));
  EXPECT_EQ(eng.consult("c1", {}, first, now).code, errc::invalid_argument);
  ASSERT_TRUE(eng.consult("c1", {}, "a3", now));
  auto legs = eng.legs_of("c1");
  ASSERT_EQ(legs.size(), 1u);
  auto& leg = call_of(legs[0]);
  EXPECT_EQ(leg.parent_id, "c1");
  EXPECT_EQ(leg.agent_id, "a3"); // offered to the consulted agent
  EXPECT_EQ(eng.consult("c1", "sales", {}, now).code,
            errc::failed_precondition); // one at a time
  EXPECT_EQ(eng.complete_consult("c1", now).code, errc::failed_precondition);
  ASSERT_TRUE(eng.accept(legs[0], "a3", {}, now));
  eng.take_changes();
  ASSERT_TRUE(eng.complete_consult("c1", now));
  EXPECT_EQ(call_of("c1").agent_id, "a3");
  EXPECT_EQ(call_of("c1").data.state, call_state::assigned);
  EXPECT_TRUE(eng.legs_of("c1").empty());
  EXPECT_NE(eng.find_agent(first)->wrap_up_until, timestamp{});
  auto changed = eng.take_changes();
  ASSERT_EQ(changed.finished.size(), 1u);
  EXPECT_EQ(changed.finished[0].data.state, call_state::transferred);
  EXPECT_TRUE(eng.audit().empty());

  // Now a3 brings a supervisor in: a conference until the call ends.
  pass(10s); // first's wrap-up ends
  ASSERT_TRUE(eng.consult("c1", {}, first, now));
  auto conf = eng.legs_of("c1")[0];
  ASSERT_TRUE(eng.accept(conf, first, {}, now));
  ASSERT_TRUE(eng.join_consult("c1", now));
  EXPECT_EQ(call_of(conf).leg, "conference");
  EXPECT_EQ(eng.transfer("c1", "sales", {}, now).code,
            errc::failed_precondition);
  // Across a rebuild the leg stays with its call.
  auto back = restored();
  back.recover(now);
  EXPECT_EQ(back.legs_of("c1").size(), 1u);
  ASSERT_TRUE(eng.complete("c1", now));
  EXPECT_EQ(eng.find_call(conf)->data.state, call_state::wrap_up);
  EXPECT_TRUE(eng.legs_of("c1").empty());
  EXPECT_TRUE(eng.audit().empty());
}

TEST_F(engine_test, a_conferences_first_agent_leaving_hands_it_to_the_other) {
  add_agent("a3", true);
  make_available("a1");
  ASSERT_TRUE(submit("c1"));
  auto first = call_of("c1").agent_id;
  ASSERT_TRUE(eng.accept("c1", first, {}, now));
  ASSERT_TRUE(eng.consult("c1", {}, "a3", now));
  auto conf = eng.legs_of("c1")[0];
  ASSERT_TRUE(eng.accept(conf, "a3", {}, now));
  ASSERT_TRUE(eng.join_consult("c1", now));
  // Joined once, the conference cannot be joined again; it can be left.
  EXPECT_EQ(eng.join_consult("c1", now).code, errc::failed_precondition);
  ASSERT_TRUE(eng.complete_consult("c1", now));
  EXPECT_EQ(call_of("c1").agent_id, "a3");
  EXPECT_EQ(call_of("c1").data.state, call_state::assigned);
  EXPECT_TRUE(eng.legs_of("c1").empty());
  EXPECT_NE(eng.find_agent(first)->wrap_up_until, timestamp{});
  EXPECT_TRUE(eng.audit().empty());
}
