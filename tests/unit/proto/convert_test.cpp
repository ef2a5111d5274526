#include "proto/convert.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace switchboard;
using namespace switchboard::api;
using namespace std::chrono_literals;

namespace {

v1::Queue good_queue() {
  v1::Queue q;
  q.set_tenant_id("contoso");
  q.set_queue_id("billing");
  q.set_display_name("Billing");
  q.set_mode(v1::DISTRIBUTION_MODE_BEST_SKILL);
  auto* s = q.add_selectors();
  s->set_key("skill.billing");
  s->set_op(v1::SELECTOR_OP_GE);
  s->add_values("60");
  s->mutable_relax_after()->set_seconds(30);
  q.add_routable_presences(v1::PRESENCE_AVAILABLE);
  q.add_routable_presences(v1::PRESENCE_BUSY);
  q.mutable_offer_timeout()->set_seconds(15);
  q.mutable_wrap_up()->set_seconds(20);
  q.set_max_missed_offers(2);
  q.set_max_length(50);
  q.mutable_max_wait()->set_seconds(300);
  q.set_overflow_queue_id("billing-overflow");
  q.mutable_service_level_threshold()->set_seconds(20);
  q.set_service_level_target_percent(80);
  return q;
}

v1::Agent good_agent() {
  v1::Agent a;
  a.set_tenant_id("contoso");
  a.set_agent_id("alice@contoso.com");
  a.set_display_name("Alice");
  a.set_teams_user_id("6e7b768e-07e2-4810-8459-485f84f8f204");
  a.set_sip_uri("sip:alice@contoso.com");
  (*a.mutable_skills())["billing"] = 80;
  (*a.mutable_labels())["language"] = "es";
  a.set_total_capacity(100);
  auto* voice = a.add_capacity();
  voice->set_channel(v1::CHANNEL_VOICE);
  voice->set_max_concurrent(1);
  voice->set_cost(0);
  auto* chat = a.add_capacity();
  chat->set_channel(v1::CHANNEL_CHAT);
  chat->set_max_concurrent(2);
  chat->set_cost(50);
  a.add_queue_ids("billing");
  return a;
}

template<class Proto, class Domain>
std::string error_of(const Proto& in) {
  Domain out;
  auto e = from_proto(in, out);
  return e ? e->to_string() : "no error";
}

} // namespace

TEST(convert, a_queue_reads_every_field_and_writes_them_back) {
  routing::queue q;
  ASSERT_EQ(from_proto(good_queue(), q), std::nullopt);
  EXPECT_EQ(q.id, "billing");
  EXPECT_EQ(q.mode, routing::distribution_mode::best_skill);
  ASSERT_EQ(q.selectors.size(), 1u);
  EXPECT_EQ(routing::to_string(q.selectors),
            "skill.billing >= 60 relax after 30s");
  EXPECT_EQ(q.routable_presences,
            routing::presence_bit(routing::presence::available)
              | routing::presence_bit(routing::presence::busy));
  EXPECT_EQ(q.offer_timeout, 15s);
  EXPECT_EQ(q.wrap_up, 20s);
  EXPECT_EQ(q.max_missed_offers, 2);
  EXPECT_EQ(q.max_length, 50u);
  EXPECT_EQ(q.max_wait, 300s);
  EXPECT_EQ(q.overflow_queue, "billing-overflow");
  EXPECT_EQ(q.sla.threshold, 20s);
  EXPECT_EQ(q.sla.target_percent, 80);
  v1::Queue back;
  to_proto(q, "contoso", back);
  EXPECT_EQ(back.SerializeAsString(), good_queue().SerializeAsString());
}

TEST(convert, queue_defaults_fill_what_is_not_given) {
  v1::Queue in;
  in.set_tenant_id("t");
  in.set_queue_id("q");
  routing::queue q;
  ASSERT_EQ(from_proto(in, q), std::nullopt);
  EXPECT_EQ(q.mode, routing::distribution_mode::longest_idle);
  EXPECT_EQ(q.routable_presences, routing::default_routable_presences);
  EXPECT_EQ(q.offer_timeout, routing::queue{}.offer_timeout);
  EXPECT_EQ(q.sla.target_percent, 80);
}

TEST(convert, queue_errors_name_the_field) {
  auto q = good_queue();
  q.set_queue_id("");
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.queue_id: is required");
  q = good_queue();
  q.set_tenant_id("has space");
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.tenant_id: must be printable ASCII without spaces; "
            "character 4 is not");
  q = good_queue();
  q.mutable_selectors(0)->set_key("skills.billing");
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.selectors[0].key: expected skill.NAME or label.NAME, "
            "found 'skills.billing'");
  q = good_queue();
  q.mutable_selectors(0)->set_values(0, "200");
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.selectors[0].values[0]: selector 'skill.billing': a skill "
            "proficiency is an integer 0..100, found '200'");
  q = good_queue();
  q.mutable_selectors(0)->clear_values();
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.selectors[0].values: selector 'skill.billing >=' needs "
            "exactly one value");
  q = good_queue();
  q.mutable_selectors(0)->set_op(v1::SELECTOR_OP_UNSPECIFIED);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.selectors[0].op: is required (EQ, NE, GT, GE, LT, LE, "
            "EXISTS or IN)");
  q = good_queue();
  q.mutable_selectors(0)->mutable_relax_after()->set_seconds(-1);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.selectors[0].relax_after: must not be negative");
  q = good_queue();
  q.set_routable_presences(1, v1::PRESENCE_UNSPECIFIED);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.routable_presences[1]: is not a Teams presence");
  q = good_queue();
  q.mutable_offer_timeout()->set_seconds(0);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.offer_timeout: must be between 1s and 1h (unset: 20s)");
  q = good_queue();
  q.mutable_offer_timeout()->set_seconds(0);
  q.mutable_offer_timeout()->set_nanos(1000); // 1 µs: an offer loop
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.offer_timeout: must be between 1s and 1h (unset: 20s)");
  q = good_queue();
  q.mutable_wrap_up()->set_seconds(25 * 3600);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.wrap_up: must be at most 24h (unset: 10s)");
  q = good_queue();
  q.mutable_max_wait()->set_nanos(1'000'000'000);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.max_wait: nanos must be at most 999999999");
  q = good_queue();
  q.set_max_length(4'000'000'000u);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.max_length: must be at most 1000000 (0: no limit)");
  q = good_queue();
  for (int i = 0; i < 33; ++i) {
    auto* sel = q.add_selectors();
    sel->set_key("skill.s" + std::to_string(i));
    sel->set_op(v1::SELECTOR_OP_EXISTS);
  }
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.selectors: must have at most 32 entries, has 34");
  q = good_queue();
  q.set_display_name(std::string(257, 'x'));
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.display_name: must be at most 256 bytes, has 257");
  q = good_queue();
  q.mutable_wrap_up()->set_nanos(-5);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.wrap_up: must not be negative");
  q = good_queue();
  q.set_overflow_queue_id("billing");
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.overflow_queue_id: must name another queue, not the queue "
            "itself");
  q = good_queue();
  q.set_service_level_target_percent(101);
  EXPECT_EQ((error_of<v1::Queue, routing::queue>(q)),
            "queue.service_level_target_percent: must be at most 100");
}

TEST(convert, an_agent_reads_every_field_and_writes_them_back) {
  routing::agent a;
  ASSERT_EQ(from_proto(good_agent(), a), std::nullopt);
  EXPECT_EQ(a.id, "alice@contoso.com");
  EXPECT_EQ(a.attrs.skills.at("billing"), 80);
  EXPECT_EQ(a.attrs.labels.at("language"), "es");
  auto voice = a.cap.channels[static_cast<size_t>(routing::channel::voice)];
  EXPECT_EQ(voice.max_concurrent, 1);
  EXPECT_EQ(voice.cost, 0);
  auto email = a.cap.channels[static_cast<size_t>(routing::channel::email)];
  EXPECT_EQ(email.max_concurrent, 0); // only the listed channels
  EXPECT_EQ(a.queues, std::vector<std::string>{"billing"});
  v1::Agent back;
  to_proto(a, "contoso", back);
  EXPECT_EQ(back.SerializeAsString(), good_agent().SerializeAsString());
}

TEST(convert, an_agent_without_capacity_gets_the_standard_one) {
  auto in = good_agent();
  in.clear_capacity();
  in.set_total_capacity(0);
  routing::agent a;
  ASSERT_EQ(from_proto(in, a), std::nullopt);
  auto standard = routing::capacity::standard();
  EXPECT_EQ(a.cap.total, standard.total);
  for (size_t i = 0; i < routing::channel_count; ++i) {
    EXPECT_EQ(a.cap.channels[i].max_concurrent,
              standard.channels[i].max_concurrent);
    EXPECT_EQ(a.cap.channels[i].cost, standard.channels[i].cost);
  }
}

TEST(convert, reading_an_agent_keeps_its_state) {
  routing::agent a;
  a.pres = routing::presence::busy;
  a.ready = true;
  a.load[0] = 1;
  ASSERT_EQ(from_proto(good_agent(), a), std::nullopt);
  EXPECT_EQ(a.pres, routing::presence::busy);
  EXPECT_TRUE(a.ready);
  EXPECT_EQ(a.load[0], 1);
}

TEST(convert, agent_errors_name_the_field) {
  auto a = good_agent();
  (*a.mutable_skills())["sales"] = 101;
  EXPECT_EQ((error_of<v1::Agent, routing::agent>(a)),
            "agent.skills[sales]: a proficiency is 0..100, found 101");
  a = good_agent();
  a.mutable_capacity(1)->set_channel(v1::CHANNEL_VOICE);
  EXPECT_EQ((error_of<v1::Agent, routing::agent>(a)),
            "agent.capacity[1].channel: is listed twice");
  a = good_agent();
  a.mutable_capacity(0)->set_channel(v1::CHANNEL_UNSPECIFIED);
  EXPECT_EQ((error_of<v1::Agent, routing::agent>(a)),
            "agent.capacity[0].channel: is required (VOICE, CHAT, EMAIL or "
            "MESSAGE)");
  a = good_agent();
  a.mutable_capacity(1)->set_cost(150);
  EXPECT_EQ((error_of<v1::Agent, routing::agent>(a)),
            "agent.capacity[1].cost: must not exceed total_capacity (100)");
  a = good_agent();
  a.add_queue_ids("billing");
  EXPECT_EQ((error_of<v1::Agent, routing::agent>(a)),
            "agent.queue_ids[1]: lists 'billing' twice");
  a = good_agent();
  a.set_agent_id(std::string(300, 'x'));
  EXPECT_EQ((error_of<v1::Agent, routing::agent>(a)),
            "agent.agent_id: must be at most 256 characters, has 300");
}

TEST(convert, agent_state_shows_presence_activity_and_load) {
  routing::agent a;
  a.pres = routing::presence::available_idle;
  a.ready = false;
  a.not_ready_reason = "lunch";
  a.load[static_cast<size_t>(routing::channel::chat)] = 2;
  a.idle_since = routing::from_micros(1'500'000);
  v1::AgentState s;
  to_proto(a, 1, s);
  EXPECT_EQ(s.presence(), v1::PRESENCE_AVAILABLE_IDLE);
  EXPECT_FALSE(s.ready());
  EXPECT_EQ(s.not_ready_reason(), "lunch");
  EXPECT_EQ(s.activity(), v1::AGENT_ACTIVITY_BUSY); // 2 items, 1 an offer
  ASSERT_EQ(s.load_size(), 1);
  EXPECT_EQ(s.load(0).channel(), v1::CHANNEL_CHAT);
  EXPECT_EQ(s.load(0).items(), 2u);
  EXPECT_EQ(s.idle_since().seconds(), 1);
  EXPECT_EQ(s.idle_since().nanos(), 500'000'000);
}

TEST(convert, a_call_reads_and_writes_back) {
  v1::Call in;
  in.set_tenant_id("contoso");
  in.set_call_id("a84b4c76e66710@pc33.atlanta.example.com");
  in.set_channel(v1::CHANNEL_CHAT);
  in.set_from("+14255550100");
  in.set_to("+14255550199");
  (*in.mutable_attributes())["intent"] = "billing";
  in.set_priority(5);
  in.set_queue_id("billing");
  auto* s = in.add_selectors();
  s->set_key("label.language");
  s->set_op(v1::SELECTOR_OP_IN);
  s->add_values("es");
  s->add_values("pt");
  in.set_preferred_agent_id("alice@contoso.com");
  routing::call c;
  ASSERT_EQ(from_proto(in, c), std::nullopt);
  EXPECT_EQ(c.channel, routing::channel::chat);
  EXPECT_EQ(c.attributes.at("intent"), "billing");
  EXPECT_EQ(routing::to_string(c.selectors), "label.language in (es, pt)");
  v1::Call back;
  to_proto(c, "contoso", back);
  EXPECT_EQ(back.SerializeAsString(), in.SerializeAsString());
}

TEST(convert, a_call_without_channel_is_voice_and_errors_name_the_field) {
  v1::Call in;
  in.set_tenant_id("contoso");
  in.set_call_id("c1");
  routing::call c;
  ASSERT_EQ(from_proto(in, c), std::nullopt);
  EXPECT_EQ(c.channel, routing::channel::voice);
  in.set_channel(static_cast<v1::Channel>(42));
  EXPECT_EQ((error_of<v1::Call, routing::call>(in)),
            "call.channel: is not a channel");
  in.set_channel(v1::CHANNEL_VOICE);
  in.set_call_id("");
  EXPECT_EQ((error_of<v1::Call, routing::call>(in)),
            "call.call_id: is required");
  in.set_call_id("c1");
  in.set_preferred_agent_id("bad\nid");
  EXPECT_EQ((error_of<v1::Call, routing::call>(in)),
            "call.preferred_agent_id: must be printable ASCII without spaces; "
            "character 4 is not");
}

TEST(convert, tenants_check_trunks_and_numbers) {
  v1::Tenant in;
  in.set_tenant_id("contoso");
  in.set_microsoft_tenant_id("72f988bf-86f1-41af-91ab-2d7cd011db47");
  in.add_sip_trunk_fqdns("contoso.customers.example.net");
  in.add_dialled_numbers("+14255550100");
  routing::tenant t;
  ASSERT_EQ(from_proto(in, t), std::nullopt);
  v1::Tenant back;
  to_proto(t, back);
  EXPECT_EQ(back.SerializeAsString(), in.SerializeAsString());
  in.add_dialled_numbers("4255550100");
  EXPECT_EQ((error_of<v1::Tenant, routing::tenant>(in)),
            "tenant.dialled_numbers[1]: expected an E.164 number such as "
            "+14255550100, found '4255550100'");
  in.clear_dialled_numbers();
  in.add_sip_trunk_fqdns("sip:192.0.2.1");
  EXPECT_EQ((error_of<v1::Tenant, routing::tenant>(in)),
            "tenant.sip_trunk_fqdns[1]: expected a host name such as "
            "tenant1.customers.example.net, found 'sip:192.0.2.1'");
}

TEST(convert, enums_map_one_to_one) {
  for (size_t i = 0; i < routing::presence_count; ++i) {
    auto p = static_cast<routing::presence>(i);
    EXPECT_EQ(from_proto(to_proto(p)), p);
  }
  for (size_t i = 0; i < routing::channel_count; ++i) {
    auto ch = static_cast<routing::channel>(i);
    EXPECT_EQ(from_proto(to_proto(ch)), ch);
  }
  EXPECT_EQ(from_proto(v1::PRESENCE_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(from_proto(v1::CHANNEL_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(to_proto(routing::call_state::created), v1::CALL_STATE_CREATED);
  EXPECT_EQ(to_proto(routing::call_state::transferred),
            v1::CALL_STATE_TRANSFERRED);
}

TEST(convert, priorities_are_bounded_so_aging_cannot_overflow) {
  v1::Call c;
  c.set_tenant_id("contoso");
  c.set_call_id("c1");
  routing::call out;
  for (int32_t bad : {std::numeric_limits<int32_t>::min(), -1'000'001,
                      1'000'001, std::numeric_limits<int32_t>::max()}) {
    c.set_priority(bad);
    auto e = from_proto(c, out);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->to_string(), "call.priority: must be between -1000000 and "
                              "1000000, found "
                                + std::to_string(bad));
  }
  for (int32_t good : {-1'000'000, 0, 1'000'000}) {
    c.set_priority(good);
    EXPECT_FALSE(from_proto(c, out)) << good;
    EXPECT_EQ(out.priority, good);
  }
  // The largest priority plus the largest aging boost still fits, and
  // stored values beyond the bounds saturate instead of overflowing.
  EXPECT_EQ(routing::add_priority(routing::max_priority, 1'000'000), 2'000'000);
  EXPECT_EQ(
    routing::add_priority(std::numeric_limits<int32_t>::max(), 1'000'000),
    std::numeric_limits<int32_t>::max());
  EXPECT_EQ(routing::add_priority(std::numeric_limits<int32_t>::min(), 0),
            -std::numeric_limits<int32_t>::max());
  routing::priority_aging aging{1s, 1000, 1'000'000};
  EXPECT_EQ(aging.boost(std::chrono::hours{24 * 365 * 100}), 1'000'000);
  EXPECT_EQ(aging.boost(3s), 3000);

  v1::ClassificationRules rules;
  auto* r = rules.add_rules();
  r->set_rule_id("r1");
  r->set_queue_id("sales");
  r->set_priority(std::numeric_limits<int32_t>::min());
  routing::classification cls;
  auto e = from_proto(rules, cls);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "rules[0].priority");
}

TEST(convert, strings_maps_and_lists_of_a_call_are_bounded) {
  v1::Call c;
  c.set_tenant_id("contoso");
  c.set_call_id("c1");
  routing::call out;
  c.set_from(std::string(1025, '1'));
  ASSERT_TRUE(from_proto(c, out));
  EXPECT_EQ(from_proto(c, out)->to_string(),
            "call.from: must be at most 1024 bytes, has 1025");
  c.clear_from();
  (*c.mutable_attributes())["ivr"] = std::string(4097, 'x');
  EXPECT_EQ(from_proto(c, out)->field, "call.attributes[ivr]");
  c.clear_attributes();
  for (int i = 0; i < 65; ++i)
    (*c.mutable_attributes())["k" + std::to_string(i)] = "v";
  EXPECT_EQ(from_proto(c, out)->to_string(),
            "call.attributes: must have at most 64 entries, has 65");
  c.clear_attributes();
  for (int i = 0; i < 10; ++i)
    (*c.mutable_attributes())["k" + std::to_string(i)] = std::string(4000, 'x');
  EXPECT_EQ(from_proto(c, out)->field, "call.attributes");
  c.clear_attributes();
  // A call that fits every per-field bound but not the whole-call one.
  for (int step = 0; step < 16; ++step) {
    auto* st = c.add_steps();
    st->mutable_timeout()->set_seconds(10);
    for (int i = 0; i < 32; ++i) {
      auto* sel = st->add_selectors();
      sel->set_key("label.l" + std::to_string(i));
      sel->set_op(v1::SELECTOR_OP_IN);
      sel->add_values(std::string(200, 'v'));
    }
  }
  auto e = from_proto(c, out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "call");
  EXPECT_NE(e->message.find("bytes encoded"), std::string::npos);
}

TEST(convert, timestamps_from_requests_are_bounded) {
  google::protobuf::Timestamp t;
  routing::timestamp out;
  t.set_seconds(std::numeric_limits<int64_t>::max());
  auto e = read_timestamp(t, out, "from");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "from.seconds");
  t.set_seconds(std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(read_timestamp(t, out, "to"));
  t.set_seconds(0);
  t.set_nanos(-1);
  EXPECT_EQ(read_timestamp(t, out, "to")->field, "to.nanos");
  t.set_nanos(0);
  t.set_seconds(1'700'000'000);
  EXPECT_FALSE(read_timestamp(t, out, "to"));
  EXPECT_EQ(routing::to_micros(out), 1'700'000'000'000'000);
  // Stored values are clamped rather than overflowing.
  t.set_seconds(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(routing::to_micros(read_timestamp(t)),
            limits::max_timestamp_seconds * 1'000'000);
}

TEST(convert, commands_name_the_missing_or_bad_field) {
  v1::GetAgentRequest get_agent;
  get_agent.set_tenant_id("contoso");
  EXPECT_EQ(check(get_agent)->to_string(), "agent_id: is required");
  v1::DeleteQueueRequest delete_queue;
  EXPECT_EQ(check(delete_queue)->field, "queue_id");
  v1::GetQueueStatsRequest queue_stats;
  EXPECT_EQ(check(queue_stats)->field, "queue_id");
  v1::GetAgentStatsRequest agent_stats;
  EXPECT_EQ(check(agent_stats)->field, "agent_id");
  v1::AcceptOfferRequest accept;
  accept.set_call_id("c1");
  accept.set_agent_id("alice");
  EXPECT_EQ(check(accept)->to_string(), "offer_id: is required");
  EXPECT_EQ(check(accept, "accept_offer.")->field, "accept_offer.offer_id");
  accept.set_offer_id("c1#1");
  EXPECT_FALSE(check(accept));
  v1::DeclineOfferRequest decline;
  decline.set_call_id("c1");
  EXPECT_EQ(check(decline)->field, "agent_id");
  v1::TransferCallRequest transfer;
  transfer.set_call_id("c1");
  EXPECT_EQ(check(transfer)->to_string(),
            "target: set queue_id, agent_id, dialled_number, teams_user_id "
            "or outside_number");
  transfer.set_queue_id("");
  EXPECT_EQ(check(transfer)->field, "queue_id");
  transfer.set_dialled_number("+1 425");
  EXPECT_EQ(check(transfer)->field, "dialled_number");
  transfer.set_teams_user_id("");
  EXPECT_EQ(check(transfer)->field, "teams_user_id");
  v1::SetAgentPresenceRequest presence;
  presence.set_agent_id("alice");
  EXPECT_EQ(check(presence)->field, "presence");
  presence.set_presence(v1::PRESENCE_AVAILABLE);
  EXPECT_FALSE(check(presence));
  v1::SetAgentReadyRequest ready;
  ready.set_agent_id("alice");
  ready.set_reason(std::string(300, 'r'));
  EXPECT_EQ(check(ready)->field, "reason");
  v1::ExtendWrapUpRequest extend;
  extend.set_agent_id("alice");
  extend.mutable_extend_by()->set_seconds(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(check(extend)->to_string(),
            "extend_by: must be longer than zero and at most 1h");
  extend.mutable_extend_by()->set_seconds(60);
  EXPECT_FALSE(check(extend));
  v1::CancelCallRequest cancel;
  cancel.set_call_id("c1");
  cancel.set_reason(static_cast<v1::CancelCallRequest::Reason>(77));
  EXPECT_EQ(check(cancel)->field, "reason");
  v1::RequestCallbackRequest callback;
  callback.set_call_id("c1");
  callback.set_number(std::string(40, '1'));
  EXPECT_EQ(check(callback)->field, "number");
}
