#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"

#include <gtest/gtest.h>

using namespace switchboard;
using namespace switchboard::storage;
using namespace std::chrono_literals;

TEST(records, a_queue_comes_back_as_stored) {
  routing::queue q;
  q.id = "billing";
  q.name = "Billing";
  q.mode = routing::distribution_mode::round_robin;
  q.selectors
    = routing::parse_selectors("skill.billing >= 60 relax after 30s").selectors;
  q.routable_presences |= routing::presence_bit(routing::presence::busy);
  q.offer_timeout = 12s;
  q.max_wait = 4min;
  q.overflow_queue = "overflow";
  auto key = record_key("contoso", 'Q', "billing");
  auto back = decode_queue(encode(q, "contoso"), key);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "billing");
  EXPECT_EQ(back->mode, routing::distribution_mode::round_robin);
  EXPECT_EQ(back->selectors, q.selectors);
  EXPECT_EQ(back->routable_presences, q.routable_presences);
  EXPECT_EQ(back->offer_timeout, 12s);
  EXPECT_EQ(back->max_wait, 4min);
  EXPECT_EQ(back->overflow_queue, "overflow");
}

TEST(records, a_finished_call_keeps_its_caller_and_outcome) {
  routing::live_call c;
  c.data.id = "c-7";
  c.data.from = "+14255550100";
  c.data.queue_id = "support";
  c.data.state = routing::call_state::completed;
  c.agent_id = "ann";
  c.created_at = routing::timestamp{std::chrono::seconds{1'700'000'000}};
  c.ended_at = c.created_at + 90s;
  c.transfer_number = "+14255550123";
  c.disposition_code = "Resolved";
  c.note = "Credit of 20 EUR promised.\nCall back on Monday.";
  auto key = history_key("contoso", c);
  auto back = decode_call(encode_history(c, "contoso"), key);
  ASSERT_TRUE(back) << to_string(back.error());
  EXPECT_EQ(back->data.from, "+14255550100");
  EXPECT_EQ(back->transfer_number, "+14255550123");
  EXPECT_EQ(back->disposition_code, "Resolved");
  EXPECT_EQ(back->note, c.note);
}

TEST(records, an_agent_comes_back_with_its_state) {
  routing::agent a;
  a.id = "alice";
  a.attrs.skills["billing"] = 80;
  a.queues = {"billing"};
  a.pres = routing::presence::busy;
  a.ready = false;
  a.not_ready_reason = "not responding";
  a.in_wrap_up = true;
  a.load[static_cast<size_t>(routing::channel::chat)] = 2;
  a.idle_since = routing::from_micros(1'767'225'600'123'456);
  auto key = record_key("contoso", 'A', "alice");
  auto back = decode_agent(encode_agent_config(a, "contoso"),
                           encode_agent_state(a, 0), key);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->attrs.skills, a.attrs.skills);
  EXPECT_EQ(back->queues, a.queues);
  EXPECT_EQ(back->pres, routing::presence::busy);
  EXPECT_FALSE(back->ready);
  EXPECT_EQ(back->not_ready_reason, "not responding");
  EXPECT_TRUE(back->in_wrap_up);
  EXPECT_EQ(back->load, a.load);
  EXPECT_EQ(back->idle_since, a.idle_since);
}

TEST(records, an_agent_never_seen_is_offline_and_not_ready) {
  routing::agent a;
  a.id = "bob";
  auto back = decode_agent(encode_agent_config(a, "t"), "",
                           record_key("t", 'A', "bob"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pres, routing::presence::offline);
  EXPECT_FALSE(back->ready);
}

TEST(records, a_tenant_comes_back_as_stored) {
  routing::tenant t;
  t.id = "contoso";
  t.microsoft_tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  t.sip_trunk_fqdns = {"contoso.customers.example.net"};
  t.dialled_numbers = {"+14255550100"};
  auto back = decode_tenant(encode(t), record_key("contoso", 'T', ""));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->microsoft_tenant_id, t.microsoft_tenant_id);
  EXPECT_EQ(back->sip_trunk_fqdns, t.sip_trunk_fqdns);
  EXPECT_EQ(back->dialled_numbers, t.dialled_numbers);
}

TEST(records, bad_bytes_are_a_bad_record_naming_the_key) {
  auto key = record_key("contoso", 'Q', "billing");
  auto back = decode_queue(std::string("\xff\xff\xff\xff", 4), key);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code(), static_cast<uint8_t>(ec::bad_record));
  auto text = caf::to_string(back.error());
  EXPECT_NE(text.find("contoso"), std::string::npos) << text;
  EXPECT_NE(text.find("billing"), std::string::npos) << text;
  EXPECT_NE(text.find("switchboard.v1.Queue"), std::string::npos) << text;
}

TEST(records, a_record_that_parses_but_breaks_a_rule_is_bad_too) {
  routing::queue q;
  q.id = "billing";
  q.overflow_queue = "billing"; // overflow to itself
  auto key = record_key("contoso", 'Q', "billing");
  auto back = decode_queue(encode(q, "contoso"), key);
  ASSERT_FALSE(back);
  EXPECT_NE(caf::to_string(back.error()).find("queue.overflow_queue_id"),
            std::string::npos);
}
