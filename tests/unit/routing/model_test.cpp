#include "routing/model.hpp"

#include <gtest/gtest.h>

using namespace switchboard::routing;

TEST(presence, parses_graph_spellings_in_any_case) {
  EXPECT_EQ(parse_presence("Available"), presence::available);
  EXPECT_EQ(parse_presence("busy"), presence::busy);
  EXPECT_EQ(parse_presence("BERIGHTBACK"), presence::be_right_back);
  EXPECT_EQ(parse_presence("PresenceUnknown"), presence::presence_unknown);
  EXPECT_EQ(parse_presence("Lunch"), std::nullopt);
  for (size_t i = 0; i < presence_count; ++i) {
    auto p = static_cast<presence>(i);
    EXPECT_EQ(parse_presence(to_string(p)), p);
  }
}

TEST(channel, parses_its_names) {
  for (size_t i = 0; i < channel_count; ++i) {
    auto ch = static_cast<channel>(i);
    EXPECT_EQ(parse_channel(to_string(ch)), ch);
  }
  EXPECT_EQ(parse_channel("fax"), std::nullopt);
}

TEST(distribution_mode, accepts_dashes_or_underscores) {
  EXPECT_EQ(parse_distribution_mode("longest-idle"),
            distribution_mode::longest_idle);
  EXPECT_EQ(parse_distribution_mode("round_robin"),
            distribution_mode::round_robin);
  EXPECT_EQ(parse_distribution_mode("Best-Skill"),
            distribution_mode::best_skill);
  EXPECT_EQ(parse_distribution_mode("random"), std::nullopt);
}

TEST(capacity, counts_cost_against_the_total_and_per_channel_limits) {
  auto cap = capacity::standard();
  channel_load load{};
  EXPECT_TRUE(has_room(cap, load, channel::voice));
  EXPECT_TRUE(has_room(cap, load, channel::chat));
  load[static_cast<size_t>(channel::chat)] = 2;
  EXPECT_EQ(used_units(cap, load), 66u);
  EXPECT_TRUE(has_room(cap, load, channel::chat));
  EXPECT_FALSE(has_room(cap, load, channel::voice));
  EXPECT_FALSE(has_room(cap, load, channel::email)); // 66 + 50 > 100
  load[static_cast<size_t>(channel::chat)] = 3;
  EXPECT_FALSE(has_room(cap, load, channel::chat)); // max_concurrent
  EXPECT_EQ(load_ppm(cap, load), 990'000u);
}

TEST(capacity, a_channel_without_slots_never_has_room) {
  capacity cap;
  cap.total = 100;
  channel_load load{};
  for (size_t i = 0; i < channel_count; ++i)
    EXPECT_FALSE(has_room(cap, load, static_cast<channel>(i)));
}

TEST(capacity, load_ratio_is_in_parts_per_million) {
  auto cap = capacity::standard();
  channel_load load{};
  EXPECT_EQ(load_ppm(cap, load), 0u);
  load[static_cast<size_t>(channel::chat)] = 1;
  EXPECT_EQ(load_ppm(cap, load), 330'000u);
  load = {};
  load[static_cast<size_t>(channel::voice)] = 1;
  EXPECT_EQ(load_ppm(cap, load), 1'000'000u);
  capacity none;
  none.total = 0;
  EXPECT_EQ(load_ppm(none, {}), 1'000'000u);
}

TEST(activity, derives_from_the_work_held) {
  agent a;
  EXPECT_EQ(activity_of(a, 0), activity::idle);
  a.load[static_cast<size_t>(channel::voice)] = 1;
  EXPECT_EQ(activity_of(a, 1), activity::offered);
  EXPECT_EQ(activity_of(a, 0), activity::busy);
  a.in_wrap_up = true;
  EXPECT_EQ(activity_of(a, 0), activity::wrap_up);
}

TEST(call_lifecycle, follows_the_documented_path) {
  using s = call_state;
  EXPECT_TRUE(is_valid_transition(s::created, s::queued));
  EXPECT_TRUE(is_valid_transition(s::queued, s::offered));
  EXPECT_TRUE(is_valid_transition(s::offered, s::assigned));
  EXPECT_TRUE(is_valid_transition(s::assigned, s::wrap_up));
  EXPECT_TRUE(is_valid_transition(s::wrap_up, s::completed));
}

TEST(call_lifecycle, a_declined_or_expired_offer_returns_to_the_queue) {
  EXPECT_TRUE(is_valid_transition(call_state::offered, call_state::queued));
}

TEST(call_lifecycle, exits) {
  using s = call_state;
  EXPECT_TRUE(is_valid_transition(s::queued, s::abandoned));
  EXPECT_TRUE(is_valid_transition(s::offered, s::abandoned));
  EXPECT_TRUE(is_valid_transition(s::queued, s::overflowed));
  EXPECT_TRUE(is_valid_transition(s::queued, s::timed_out));
  EXPECT_TRUE(is_valid_transition(s::assigned, s::transferred));
  EXPECT_TRUE(is_valid_transition(s::assigned, s::cancelled));
  EXPECT_FALSE(is_valid_transition(s::assigned, s::abandoned));
  EXPECT_FALSE(is_valid_transition(s::created, s::assigned));
  EXPECT_FALSE(is_valid_transition(s::queued, s::completed));
}

TEST(call_lifecycle, final_states_are_final) {
  using s = call_state;
  for (auto from : {s::completed, s::abandoned, s::cancelled, s::overflowed,
                    s::timed_out, s::transferred}) {
    EXPECT_TRUE(is_final(from));
    for (int to = 0; to <= static_cast<int>(s::transferred); ++to)
      EXPECT_FALSE(is_valid_transition(from, static_cast<s>(to)))
        << to_string(from) << " -> " << to_string(static_cast<s>(to));
  }
  EXPECT_FALSE(is_final(s::queued));
}
