#include "proto/convert.hpp"

#include <gtest/gtest.h>

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
            "queue.offer_timeout: must be longer than zero");
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
  in.add_sip_trunk_fqdns("sip:10.0.0.1");
  EXPECT_EQ((error_of<v1::Tenant, routing::tenant>(in)),
            "tenant.sip_trunk_fqdns[1]: expected a host name such as "
            "tenant1.customers.example.net, found 'sip:10.0.0.1'");
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
