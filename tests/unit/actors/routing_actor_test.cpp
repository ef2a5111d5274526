// The tenant actor routing calls, with time driven by the test scheduler.

#include "actors/tenant.hpp"
#include "storage/error.hpp"
#include "storage/rocksdb_store.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/events.pb.h"

#include <caf/event_based_actor.hpp>

using namespace switchboard;
using namespace std::chrono_literals;
using switchboard::testing::actor_fixture;
using switchboard::testing::temp_dir;

namespace {

/// Who the tests' configuration changes are made by.
const std::string by = "admin@contoso (test)";

using events_seen = std::vector<v1::Event>;

/// Collects the events a tenant publishes.
caf::behavior collector(caf::event_based_actor*,
                        std::shared_ptr<events_seen> seen) {
  return {
    [seen](atom::event, const event_batch& batch) {
      EXPECT_EQ(batch.types.size(), batch.events.size());
      for (size_t i = 0; i < batch.events.size(); ++i) {
        v1::Event e;
        e.ParseFromString(batch.events[i]);
        EXPECT_EQ(e.sequence(), batch.first_sequence + i);
        EXPECT_EQ(static_cast<int32_t>(e.type()), batch.types[i]);
        seen->push_back(std::move(e));
      }
    },
  };
}

class routing_actor_test : public actor_fixture {
 protected:
  void SetUp() override {
    store = open();
    t = spawn();
    routing::queue q;
    q.id = "sales";
    q.offer_timeout = 10s;
    q.wrap_up = 5s;
    q.max_missed_offers = 2;
    ASSERT_TRUE(ask<routing::queue>(t, atom::upsert_v, q, by));
    routing::agent a;
    a.id = "alice";
    a.queues = {"sales"};
    ASSERT_TRUE(ask<routing::agent_view>(t, atom::upsert_v, a, by));
  }

  std::unique_ptr<storage::rocksdb_store> open() {
    storage::store_options options;
    options.path = dir.path();
    auto s = storage::rocksdb_store::open(options);
    EXPECT_TRUE(s);
    return s ? std::move(*s) : nullptr;
  }

  tenant_actor spawn() {
    auto x = spawn_tenant(sys, *store, "contoso");
    EXPECT_TRUE(x) << sys.render(x.error());
    run();
    return x ? *x : tenant_actor{};
  }

  void restart() {
    self->send_exit(t, caf::exit_reason::user_shutdown);
    sched.clock().cancel_all();
    run();
    t = tenant_actor{};
    store.reset();
    store = open();
    t = spawn();
  }

  void available(const std::string& id) {
    ASSERT_TRUE(ask<routing::agent_view>(
      t, atom::presence_v, id, routing::presence::available, std::string{}));
    ASSERT_TRUE(ask<routing::agent_view>(t, atom::ready_v, id, true,
                                         std::string{}, std::string{}));
  }

  caf::expected<call_reply> submit(const std::string& id,
                                   const std::string& event_id = {}) {
    routing::call c;
    c.id = id;
    c.queue_id = "sales";
    return ask<call_reply>(t, atom::submit_v, c, event_id);
  }

  caf::expected<call_reply> get(const std::string& id) {
    return ask<call_reply>(t, atom::get_v, atom::call_v, id);
  }

  std::shared_ptr<events_seen> subscribe() {
    auto seen = std::make_shared<events_seen>();
    auto sink = sys.spawn(collector, seen);
    auto after = ask<uint64_t>(t, atom::subscribe_v, sink);
    EXPECT_TRUE(after);
    return seen;
  }

  temp_dir dir;
  std::unique_ptr<storage::rocksdb_store> store;
  tenant_actor t;
};

} // namespace

TEST_F(routing_actor_test, an_offer_expires_on_the_actor_clock) {
  available("alice");
  auto seen = subscribe();
  auto c = submit("c1");
  ASSERT_TRUE(c) << sys.render(c.error());
  EXPECT_EQ(c->call.data.state, routing::call_state::offered);
  EXPECT_EQ(c->call.offer_id, "c1#1");
  advance_time(9s);
  EXPECT_EQ(get("c1")->call.offer_id, "c1#1");
  advance_time(1s);
  auto after = get("c1");
  EXPECT_EQ(after->call.offers[0].outcome, "expired");
  EXPECT_EQ(after->call.offer_id, "c1#2");
  // A second miss in a row: not ready, "not responding".
  advance_time(10s);
  auto alice = ask<routing::agent_view>(t, atom::get_v, atom::agent_v,
                                        std::string{"alice"});
  EXPECT_FALSE(alice->data.ready);
  EXPECT_EQ(alice->data.not_ready_reason, "not responding");
  EXPECT_EQ(get("c1")->call.data.state, routing::call_state::queued);
  std::vector<v1::EventType> types;
  for (auto& e : *seen)
    types.push_back(e.type());
  EXPECT_EQ(types, (std::vector<v1::EventType>{
                     v1::EVENT_TYPE_CALL_QUEUED,
                     v1::EVENT_TYPE_CALL_OFFERED,
                     v1::EVENT_TYPE_OFFER_EXPIRED, // back in line
                     v1::EVENT_TYPE_CALL_OFFERED,
                     v1::EVENT_TYPE_OFFER_EXPIRED,
                     v1::EVENT_TYPE_AGENT_STATE_CHANGED,
                   }));
  for (size_t i = 1; i < seen->size(); ++i)
    EXPECT_EQ((*seen)[i].sequence(), (*seen)[i - 1].sequence() + 1);
}

TEST_F(routing_actor_test, wrap_up_ends_on_the_actor_clock) {
  available("alice");
  ASSERT_TRUE(submit("c1"));
  ASSERT_TRUE(ask<call_reply>(t, atom::accept_v, std::string{"c1"},
                              std::string{"alice"}, std::string{"c1#1"},
                              std::string{}));
  auto done
    = ask<call_reply>(t, atom::complete_v, std::string{"c1"}, std::string{});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->call.data.state, routing::call_state::wrap_up);
  ASSERT_TRUE(submit("c2"));
  EXPECT_EQ(get("c2")->call.data.state, routing::call_state::queued);
  advance_time(5s);
  auto c1 = get("c1"); // from history now
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->call.data.state, routing::call_state::completed);
  EXPECT_EQ(get("c2")->call.data.state, routing::call_state::offered);
}

TEST_F(routing_actor_test, a_repeated_event_id_is_not_applied_twice) {
  available("alice");
  ASSERT_TRUE(submit("c1"));
  auto first
    = ask<call_reply>(t, atom::decline_v, std::string{"c1"},
                      std::string{"alice"}, std::string{}, std::string{"gw-7"});
  ASSERT_TRUE(first);
  auto again
    = ask<call_reply>(t, atom::decline_v, std::string{"c1"},
                      std::string{"alice"}, std::string{}, std::string{"gw-7"});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), static_cast<uint8_t>(ec::duplicate));
  auto alice = ask<routing::agent_view>(t, atom::get_v, atom::agent_v,
                                        std::string{"alice"});
  EXPECT_EQ(alice->missed_in_a_row, 1u);
  // A refused command's key records the refusal.
  auto bad = ask<call_reply>(t, atom::complete_v, std::string{"nope"},
                             std::string{"gw-8"});
  ASSERT_FALSE(bad);
  auto bad_again = ask<call_reply>(t, atom::complete_v, std::string{"nope"},
                                   std::string{"gw-8"});
  ASSERT_FALSE(bad_again);
  EXPECT_EQ(sys.render(bad_again.error()),
            "duplicate: 6|call 'nope' does not exist in tenant 'contoso'");
}

TEST_F(routing_actor_test, a_resubmitted_call_is_reported_as_it_is) {
  ASSERT_TRUE(submit("c1"));
  auto again = submit("c1");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_submitted);
  EXPECT_EQ(again->position, 1u);
  ASSERT_TRUE(
    ask<call_reply>(t, atom::cancel_v, std::string{"c1"}, true, std::string{}));
  auto ended = submit("c1");
  ASSERT_TRUE(ended);
  EXPECT_TRUE(ended->already_submitted);
  EXPECT_EQ(ended->call.data.state, routing::call_state::abandoned);
}

TEST_F(routing_actor_test, a_restart_keeps_places_and_offer_deadlines) {
  ASSERT_TRUE(submit("c1"));
  advance_time(3s);
  ASSERT_TRUE(submit("c2"));
  auto first_enqueued = get("c1")->call.data.enqueued_at;
  available("alice");
  ASSERT_EQ(get("c1")->call.data.state, routing::call_state::offered);
  auto expires = get("c1")->call.offer_expires_at;
  restart();
  auto c1 = get("c1");
  ASSERT_TRUE(c1) << sys.render(c1.error());
  EXPECT_EQ(c1->call.data.state, routing::call_state::offered);
  EXPECT_EQ(c1->call.data.enqueued_at, first_enqueued);
  EXPECT_EQ(c1->call.offer_id, "c1#1");
  EXPECT_EQ(c1->call.offer_expires_at, expires);
  auto c2 = get("c2");
  EXPECT_EQ(c2->call.data.state, routing::call_state::queued);
  EXPECT_EQ(c2->position, 1u);
  auto alice = ask<routing::agent_view>(t, atom::get_v, atom::agent_v,
                                        std::string{"alice"});
  EXPECT_EQ(alice->data.load[0], 1u);
  // The offer's deadline was persisted: it expires on the new clock (the
  // new actor's clock starts at the wall clock, 3 s before the test's).
  advance_time(13s);
  EXPECT_EQ(get("c1")->call.offers[0].outcome, "expired");
}

TEST_F(routing_actor_test, commands_arriving_together_share_one_write) {
  available("alice");
  // Three submits queued before the actor runs: one flush answers all.
  for (auto id : {"c1", "c2", "c3"}) {
    routing::call c;
    c.id = id;
    c.queue_id = "sales";
    self->send(t, atom::submit_v, c, std::string{});
  }
  run();
  size_t replies = 0;
  for (int i = 0; i < 3; ++i)
    self->receive(
      [&](call_reply&) {
        ++replies;
      },
      [&](caf::error&) {});
  EXPECT_EQ(replies, 3u);
  EXPECT_EQ(get("c1")->call.data.state, routing::call_state::offered);
  EXPECT_EQ(get("c3")->position, 2u);
}
