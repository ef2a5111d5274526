#include "routing/matching_index.hpp"

#include <gtest/gtest.h>

using namespace switchboard::routing;
using namespace std::chrono_literals;

namespace {

timestamp at(int64_t seconds) { return from_micros(seconds * 1'000'000); }

std::vector<selector> sel(std::string_view text) {
  auto result = parse_selectors(text);
  EXPECT_TRUE(result) << result.error->to_string();
  return result.selectors;
}

class matching_index_test : public ::testing::Test {
 protected:
  void SetUp() override {
    add_queue("sales");
    index.advance_to(at(1000));
  }

  queue& add_queue(const std::string& id,
                   distribution_mode mode = distribution_mode::longest_idle) {
    queue q;
    q.id = id;
    q.mode = mode;
    queues[id] = q;
    index.upsert_queue(q);
    return queues[id];
  }

  agent make_agent(const std::string& id, int64_t idle_since = 0,
                   std::vector<std::string> qs = {"sales"}) {
    agent a;
    a.id = id;
    a.queues = std::move(qs);
    a.pres = presence::available;
    a.ready = true;
    a.idle_since = at(idle_since);
    return a;
  }

  void add_agent(const std::string& id, int64_t idle_since = 0,
                 std::vector<std::string> qs = {"sales"}) {
    index.upsert_agent(make_agent(id, idle_since, std::move(qs)));
  }

  call make_call(const std::string& id, int64_t enqueued = 1000,
                 std::string_view selectors = "", int32_t priority = 0,
                 std::string queue_id = "sales") {
    call c;
    c.id = id;
    c.queue_id = std::move(queue_id);
    c.priority = priority;
    c.selectors = sel(selectors);
    c.enqueued_at = at(enqueued);
    return c;
  }

  std::string best_agent(const std::string& call_id) {
    auto* a = index.best_agent_for(call_id);
    return a ? a->id : "none";
  }

  std::string best_agent(const call& c) {
    auto* a = index.best_agent_for(c);
    return a ? a->id : "none";
  }

  std::string best_call(const std::string& agent_id) {
    auto* c = index.best_call_for(agent_id);
    return c ? c->id : "none";
  }

  matching_index index;
  std::map<std::string, queue> queues;
};

} // namespace

// -- distribution modes
// --------------------------------------------------------

TEST_F(matching_index_test, longest_idle_picks_the_agent_idle_longest) {
  add_agent("recent", 900);
  add_agent("oldest", 100);
  add_agent("middle", 500);
  EXPECT_EQ(best_agent(make_call("c1")), "oldest");
}

TEST_F(matching_index_test, longest_idle_prefers_lower_load_over_idle_time) {
  // "busy" idles longest but already holds a chat; "free" holds nothing.
  auto busy = make_agent("busy", 10);
  busy.load[static_cast<size_t>(channel::chat)] = 1;
  index.upsert_agent(busy);
  add_agent("free", 900);
  auto c = make_call("c1");
  c.channel = channel::chat;
  EXPECT_EQ(best_agent(c), "free");
}

TEST_F(matching_index_test, longest_idle_ties_break_by_agent_id) {
  add_agent("bravo", 100);
  add_agent("alpha", 100);
  add_agent("charlie", 100);
  EXPECT_EQ(best_agent(make_call("c1")), "alpha");
}

TEST_F(matching_index_test, round_robin_rotates_through_the_members) {
  add_queue("sales", distribution_mode::round_robin);
  add_agent("a", 0);
  add_agent("b", 0);
  add_agent("c", 0);
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    auto id = "call" + std::to_string(i);
    ASSERT_EQ(index.enqueue(make_call(id)), enqueue_status::ok);
    auto who = best_agent(id);
    order.push_back(who);
    ASSERT_TRUE(index.assign(id, who));
    ASSERT_TRUE(index.release(who, channel::voice, at(1000 + i)));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST_F(matching_index_test, round_robin_turns_are_per_queue) {
  add_queue("sales", distribution_mode::round_robin);
  add_queue("support", distribution_mode::round_robin);
  add_agent("a", 0, {"sales", "support"});
  add_agent("b", 0, {"sales", "support"});
  ASSERT_TRUE(index.reserve("a", "sales", channel::voice));
  ASSERT_TRUE(index.release("a", channel::voice, at(1000)));
  // "a" had its turn in sales, not in support.
  EXPECT_EQ(best_agent(make_call("s1")), "b");
  EXPECT_EQ(best_agent(make_call("p1", 1000, "", 0, "support")), "a");
}

TEST_F(matching_index_test, best_skill_picks_the_highest_proficiency) {
  add_queue("sales", distribution_mode::best_skill);
  auto low = make_agent("low", 10);
  low.attrs.skills["billing"] = 60;
  auto high = make_agent("high", 900);
  high.attrs.skills["billing"] = 95;
  index.upsert_agent(low);
  index.upsert_agent(high);
  EXPECT_EQ(best_agent(make_call("c1", 1000, "skill.billing >= 50")), "high");
}

TEST_F(matching_index_test, best_skill_ties_fall_back_to_longest_idle) {
  add_queue("sales", distribution_mode::best_skill);
  for (auto [id, idle] : {std::pair{"x", 500}, std::pair{"y", 100}}) {
    auto a = make_agent(id, idle);
    a.attrs.skills["billing"] = 80;
    index.upsert_agent(a);
  }
  EXPECT_EQ(best_agent(make_call("c1", 1000, "skill.billing >= 50")), "y");
}

TEST_F(matching_index_test, best_skill_sums_the_skills_the_call_names) {
  add_queue("sales", distribution_mode::best_skill);
  auto specialist = make_agent("specialist");
  specialist.attrs.skills = {{"billing", 100}, {"sales", 10}};
  auto generalist = make_agent("generalist");
  generalist.attrs.skills = {{"billing", 70}, {"sales", 70}};
  index.upsert_agent(specialist);
  index.upsert_agent(generalist);
  EXPECT_EQ(best_agent(make_call("c1", 1000, "skill.billing exists")),
            "specialist");
  EXPECT_EQ(best_agent(make_call(
              "c2", 1000, "skill.billing exists and skill.sales exists")),
            "generalist");
}

// -- eligibility
// -----------------------------------------------------------------

TEST_F(matching_index_test,
       only_available_and_available_idle_route_by_default) {
  for (size_t i = 0; i < presence_count; ++i) {
    auto p = static_cast<presence>(i);
    auto a = make_agent("a");
    a.pres = p;
    index.upsert_agent(a);
    bool routable = p == presence::available || p == presence::available_idle;
    EXPECT_EQ(best_agent(make_call("c1")), routable ? "a" : "none")
      << to_string(p);
  }
}

TEST_F(matching_index_test, a_queue_may_route_other_presences) {
  auto& q = add_queue("chat");
  q.routable_presences |= presence_bit(presence::busy);
  index.upsert_queue(q);
  auto a = make_agent("a", 0, {"sales", "chat"});
  a.pres = presence::busy;
  index.upsert_agent(a);
  EXPECT_EQ(best_agent(make_call("c1", 1000, "", 0, "chat")), "a");
  EXPECT_EQ(best_agent(make_call("c2")), "none");
}

TEST_F(matching_index_test, presence_changes_take_effect_immediately) {
  add_agent("a");
  auto c = make_call("c1");
  ASSERT_TRUE(index.set_presence("a", presence::do_not_disturb));
  EXPECT_EQ(best_agent(c), "none");
  ASSERT_TRUE(index.set_presence("a", presence::available_idle));
  EXPECT_EQ(best_agent(c), "a");
}

TEST_F(matching_index_test, not_ready_agents_get_nothing) {
  add_agent("a");
  ASSERT_TRUE(index.set_ready("a", false, "lunch"));
  EXPECT_EQ(index.find_agent("a")->not_ready_reason, "lunch");
  EXPECT_EQ(best_agent(make_call("c1")), "none");
  ASSERT_TRUE(index.set_ready("a", true));
  EXPECT_EQ(best_agent(make_call("c1")), "a");
}

TEST_F(matching_index_test, agents_in_wrap_up_get_nothing_and_idle_after) {
  add_agent("a", 0);
  add_agent("b", 500);
  ASSERT_TRUE(index.set_wrap_up("a", true, at(1000)));
  EXPECT_EQ(best_agent(make_call("c1")), "b");
  ASSERT_TRUE(index.set_wrap_up("a", false, at(1010)));
  EXPECT_EQ(index.find_agent("a")->idle_since, at(1010));
  EXPECT_EQ(best_agent(make_call("c1")), "b"); // b idles longer now
}

TEST_F(matching_index_test, only_members_of_the_queue_are_eligible) {
  add_queue("support");
  add_agent("a", 0, {"support"});
  EXPECT_EQ(best_agent(make_call("c1")), "none");
  EXPECT_EQ(best_agent(make_call("c2", 1000, "", 0, "support")), "a");
}

// -- capacity
// --------------------------------------------------------------------

TEST_F(matching_index_test, a_voice_call_blocks_chats_with_standard_capacity) {
  add_agent("a");
  ASSERT_TRUE(index.reserve("a", "sales", channel::voice));
  auto chat = make_call("chat1");
  chat.channel = channel::chat;
  EXPECT_EQ(best_agent(chat), "none");
  EXPECT_FALSE(index.reserve("a", "sales", channel::chat));
}

TEST_F(matching_index_test, chats_fill_up_to_three_then_stop) {
  add_agent("a");
  auto chat = make_call("chat");
  chat.channel = channel::chat;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(best_agent(chat), "a") << i;
    ASSERT_TRUE(index.reserve("a", "sales", channel::chat));
  }
  EXPECT_EQ(best_agent(chat), "none");
  EXPECT_FALSE(index.reserve("a", "sales", channel::chat));
  // A chat in progress leaves no room for voice (33 + 100 > 100).
  EXPECT_EQ(best_agent(make_call("voice")), "none");
  ASSERT_TRUE(index.release("a", channel::chat, at(1000)));
  EXPECT_EQ(best_agent(chat), "a");
}

TEST_F(matching_index_test, voice_without_cost_mixes_with_chats) {
  auto a = make_agent("a");
  a.cap.channels[static_cast<size_t>(channel::voice)].cost = 0;
  index.upsert_agent(a);
  ASSERT_TRUE(index.reserve("a", "sales", channel::voice));
  auto chat = make_call("chat");
  chat.channel = channel::chat;
  EXPECT_EQ(best_agent(chat), "a");
  // Still only one voice call at a time.
  EXPECT_EQ(best_agent(make_call("voice")), "none");
}

TEST_F(matching_index_test, an_agent_without_a_channel_never_gets_it) {
  auto a = make_agent("a");
  a.cap.channels[static_cast<size_t>(channel::email)] = {};
  index.upsert_agent(a);
  auto email = make_call("e1");
  email.channel = channel::email;
  EXPECT_EQ(best_agent(email), "none");
}

TEST_F(matching_index_test, release_makes_the_agent_idle_only_when_free) {
  add_agent("a", 0);
  ASSERT_TRUE(index.reserve("a", "sales", channel::chat));
  ASSERT_TRUE(index.reserve("a", "sales", channel::chat));
  ASSERT_TRUE(index.release("a", channel::chat, at(1001)));
  EXPECT_EQ(index.find_agent("a")->idle_since, at(0));
  ASSERT_TRUE(index.release("a", channel::chat, at(1002)));
  EXPECT_EQ(index.find_agent("a")->idle_since, at(1002));
  EXPECT_FALSE(index.release("a", channel::chat, at(1003)));
}

// -- selectors and relaxation
// ------------------------------------------------------

TEST_F(matching_index_test, selectors_filter_agents) {
  auto en = make_agent("en", 0);
  en.attrs.labels["language"] = "en";
  en.attrs.skills["billing"] = 90;
  auto es = make_agent("es", 500);
  es.attrs.labels["language"] = "es";
  es.attrs.skills["billing"] = 40;
  index.upsert_agent(en);
  index.upsert_agent(es);
  EXPECT_EQ(best_agent(make_call("c1", 1000, "label.language == es")), "es");
  EXPECT_EQ(best_agent(make_call("c2", 1000, "skill.billing >= 50")), "en");
  EXPECT_EQ(best_agent(make_call(
              "c3", 1000, "skill.billing >= 50 and label.language == es")),
            "none");
}

TEST_F(matching_index_test, queue_selectors_apply_to_every_call) {
  auto& q = queues["sales"];
  q.selectors = sel("label.site == lisbon");
  index.upsert_queue(q);
  auto lisbon = make_agent("lisbon", 500);
  lisbon.attrs.labels["site"] = "lisbon";
  index.upsert_agent(lisbon);
  add_agent("porto", 0);
  EXPECT_EQ(best_agent(make_call("c1")), "lisbon");
}

TEST_F(matching_index_test, changing_queue_selectors_reindexes_waiting_calls) {
  add_agent("plain", 0);
  ASSERT_EQ(index.enqueue(make_call("c1")), enqueue_status::ok);
  EXPECT_EQ(best_call("plain"), "c1");
  auto& q = queues["sales"];
  q.selectors = sel("skill.vip exists");
  index.upsert_queue(q);
  EXPECT_EQ(best_call("plain"), "none");
  EXPECT_EQ(best_agent("c1"), "none");
}

TEST_F(matching_index_test, a_selector_relaxes_exactly_at_relax_after) {
  add_agent("generalist", 0);
  ASSERT_EQ(
    index.enqueue(make_call("c1", 1000, "skill.billing >= 80 relax after 30s")),
    enqueue_status::ok);
  EXPECT_EQ(best_agent("c1"), "none");
  EXPECT_EQ(index.next_relaxation(), at(1030));
  // One microsecond before the deadline the selector still applies.
  EXPECT_TRUE(index.advance_to(at(1030) - 1us).empty());
  EXPECT_EQ(best_agent("c1"), "none");
  EXPECT_EQ(best_call("generalist"), "none");
  // At the deadline it is gone, and the call is reported as widened.
  EXPECT_EQ(index.advance_to(at(1030)), std::vector<std::string>{"c1"});
  EXPECT_EQ(best_agent("c1"), "generalist");
  EXPECT_EQ(best_call("generalist"), "c1");
  EXPECT_EQ(index.next_relaxation(), std::nullopt);
}

TEST_F(matching_index_test, relaxation_steps_widen_one_selector_at_a_time) {
  auto es = make_agent("es_only", 0);
  es.attrs.labels["language"] = "es";
  index.upsert_agent(es);
  auto c = make_call("c1", 1000,
                     "label.language == es relax after 60s and "
                     "skill.billing >= 50 relax after 20s");
  ASSERT_EQ(index.enqueue(c), enqueue_status::ok);
  EXPECT_EQ(best_agent("c1"), "none");
  index.advance_to(at(1020)); // billing requirement dropped
  EXPECT_EQ(best_agent("c1"), "es_only");
}

TEST_F(matching_index_test, calls_arriving_already_past_relaxation_start_wide) {
  add_agent("generalist", 0);
  index.advance_to(at(2000));
  // Transferred back to a queue: it first queued long ago.
  auto c = make_call("c1", 1000, "skill.billing >= 80 relax after 30s");
  EXPECT_EQ(best_agent(c), "generalist");
}

TEST_F(matching_index_test, relaxation_keeps_the_call_in_its_place) {
  auto a = make_agent("a", 0);
  a.attrs.skills["tech"] = 50;
  index.upsert_agent(a);
  ASSERT_TRUE(index.set_ready("a", false));
  ASSERT_EQ(
    index.enqueue(make_call("old", 990, "skill.tech >= 90 relax after 20s")),
    enqueue_status::ok);
  ASSERT_EQ(index.enqueue(make_call("new", 1005, "skill.tech exists")),
            enqueue_status::ok);
  index.advance_to(at(1010));
  ASSERT_TRUE(index.set_ready("a", true));
  EXPECT_EQ(best_call("a"), "old");
}

// -- preferred agent
// -------------------------------------------------------------

TEST_F(matching_index_test, the_preferred_agent_comes_first_when_eligible) {
  add_agent("longest", 0);
  add_agent("favourite", 900);
  auto c = make_call("c1");
  c.preferred_agent = "favourite";
  EXPECT_EQ(best_agent(c), "favourite");
  ASSERT_TRUE(index.set_presence("favourite", presence::away));
  EXPECT_EQ(best_agent(c), "longest");
  c.preferred_agent = "nobody";
  EXPECT_EQ(best_agent(c), "longest");
}

TEST_F(matching_index_test,
       a_call_preferring_the_agent_wins_at_equal_priority) {
  add_agent("a", 0);
  ASSERT_TRUE(index.set_ready("a", false));
  ASSERT_EQ(index.enqueue(make_call("older", 900)), enqueue_status::ok);
  auto mine = make_call("mine", 990);
  mine.preferred_agent = "a";
  ASSERT_EQ(index.enqueue(mine), enqueue_status::ok);
  auto urgent = make_call("urgent", 995, "", 5);
  ASSERT_TRUE(index.set_ready("a", true));
  EXPECT_EQ(best_call("a"), "mine");
  ASSERT_EQ(index.enqueue(urgent), enqueue_status::ok);
  EXPECT_EQ(best_call("a"), "urgent");
}

// -- calls for an agent
// ------------------------------------------------------------

TEST_F(matching_index_test, the_agent_takes_priority_then_oldest_first) {
  add_agent("a", 0);
  ASSERT_TRUE(index.set_ready("a", false));
  ASSERT_EQ(index.enqueue(make_call("low_old", 900, "", 0)),
            enqueue_status::ok);
  ASSERT_EQ(index.enqueue(make_call("high_new", 990, "", 3)),
            enqueue_status::ok);
  ASSERT_EQ(index.enqueue(make_call("high_old", 950, "", 3)),
            enqueue_status::ok);
  ASSERT_TRUE(index.set_ready("a", true));
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    auto id = best_call("a");
    order.push_back(id);
    ASSERT_TRUE(index.assign(id, "a"));
    ASSERT_TRUE(index.release("a", channel::voice, at(1000)));
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"high_old", "high_new", "low_old"}));
  EXPECT_EQ(best_call("a"), "none");
}

TEST_F(matching_index_test, the_agent_only_takes_calls_of_its_queues) {
  add_queue("support");
  add_agent("a", 0, {"support"});
  ASSERT_EQ(index.enqueue(make_call("sales_call", 900)), enqueue_status::ok);
  EXPECT_EQ(best_call("a"), "none");
  ASSERT_EQ(index.enqueue(make_call("support_call", 950, "", 0, "support")),
            enqueue_status::ok);
  EXPECT_EQ(best_call("a"), "support_call");
}

TEST_F(matching_index_test, the_agent_only_takes_calls_it_has_room_for) {
  add_agent("a", 0);
  ASSERT_TRUE(index.reserve("a", "sales", channel::chat));
  ASSERT_EQ(index.enqueue(make_call("voice", 900)), enqueue_status::ok);
  EXPECT_EQ(best_call("a"), "none");
  auto chat = make_call("chat", 950);
  chat.channel = channel::chat;
  ASSERT_EQ(index.enqueue(chat), enqueue_status::ok);
  EXPECT_EQ(best_call("a"), "chat");
}

TEST_F(matching_index_test, the_agent_skips_calls_whose_selectors_it_fails) {
  auto a = make_agent("a", 0);
  a.attrs.labels["language"] = "en";
  index.upsert_agent(a);
  ASSERT_TRUE(index.set_ready("a", false));
  ASSERT_EQ(index.enqueue(make_call("spanish", 900, "label.language == es")),
            enqueue_status::ok);
  ASSERT_EQ(index.enqueue(make_call("english", 950, "label.language == en")),
            enqueue_status::ok);
  ASSERT_TRUE(index.set_ready("a", true));
  EXPECT_EQ(best_call("a"), "english");
}

// -- bookkeeping
// -----------------------------------------------------------------

TEST_F(matching_index_test, enqueue_refuses_unknown_queues_and_duplicates) {
  EXPECT_EQ(index.enqueue(make_call("c1", 1000, "", 0, "nowhere")),
            enqueue_status::unknown_queue);
  EXPECT_EQ(index.enqueue(make_call("c1")), enqueue_status::ok);
  EXPECT_EQ(index.enqueue(make_call("c1")), enqueue_status::already_waiting);
  EXPECT_EQ(index.waiting_count(), 1u);
  EXPECT_EQ(index.waiting_count("sales"), 1u);
}

TEST_F(matching_index_test, a_queue_with_waiting_calls_cannot_be_removed) {
  ASSERT_EQ(index.enqueue(make_call("c1")), enqueue_status::ok);
  EXPECT_FALSE(index.remove_queue("sales"));
  ASSERT_TRUE(index.remove_call("c1"));
  EXPECT_TRUE(index.remove_queue("sales"));
  EXPECT_EQ(index.enqueue(make_call("c2")), enqueue_status::unknown_queue);
}

TEST_F(matching_index_test, an_overflowed_call_keeps_its_original_place) {
  add_queue("overflow");
  add_agent("a", 0, {"overflow"});
  ASSERT_TRUE(index.set_ready("a", false));
  ASSERT_EQ(index.enqueue(make_call("local", 950, "", 0, "overflow")),
            enqueue_status::ok);
  ASSERT_EQ(index.enqueue(make_call("moved", 900)), enqueue_status::ok);
  ASSERT_TRUE(index.remove_call("moved"));
  auto moved = make_call("moved", 900, "", 0, "overflow");
  ASSERT_EQ(index.enqueue(moved), enqueue_status::ok);
  ASSERT_TRUE(index.set_ready("a", true));
  EXPECT_EQ(best_call("a"), "moved");
}

TEST_F(matching_index_test, removed_agents_are_gone) {
  add_agent("a", 0);
  ASSERT_TRUE(index.remove_agent("a"));
  EXPECT_EQ(index.find_agent("a"), nullptr);
  EXPECT_EQ(best_agent(make_call("c1")), "none");
  EXPECT_FALSE(index.remove_agent("a"));
  EXPECT_EQ(index.agent_count(), 0u);
}

TEST_F(matching_index_test, agents_with_equal_attributes_share_a_profile) {
  for (int i = 0; i < 50; ++i) {
    auto a = make_agent("a" + std::to_string(i));
    a.attrs.skills["billing"] = i % 2 == 0 ? 50 : 70;
    index.upsert_agent(a);
  }
  EXPECT_EQ(index.profile_count(), 2u);
}
