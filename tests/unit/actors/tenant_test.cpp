#include "actors/tenant.hpp"
#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"
#include "storage/rocksdb_store.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/events.pb.h"

#include <caf/send.hpp>

using namespace switchboard;
using namespace std::chrono_literals;
using switchboard::testing::actor_fixture;
using switchboard::testing::temp_dir;

namespace {

/// Who the tests' configuration changes are made by.
const std::string by = "admin@contoso (test)";

class tenant_test : public actor_fixture {
 protected:
  void SetUp() override { store = open(); }

  std::unique_ptr<storage::rocksdb_store> open() {
    storage::store_options options;
    options.path = dir.path();
    auto s = storage::rocksdb_store::open(options);
    EXPECT_TRUE(s);
    return s ? std::move(*s) : nullptr;
  }

  tenant_actor spawn(const std::string& id) {
    auto t = spawn_tenant(sys, *store, id);
    EXPECT_TRUE(t) << sys.render(t.error());
    run();
    return t ? *t : tenant_actor{};
  }

  /// Stops the actors and the store, then opens both again: a restart.
  tenant_actor restart(tenant_actor& t, const std::string& id) {
    self->send_exit(t, caf::exit_reason::user_shutdown);
    run();
    store.reset();
    store = open();
    return spawn(id);
  }

  static routing::queue queue_named(const std::string& id) {
    routing::queue q;
    q.id = id;
    q.name = "Queue " + id;
    q.mode = routing::distribution_mode::round_robin;
    q.selectors = routing::parse_selectors("skill.billing >= 60").selectors;
    q.offer_timeout = 12s;
    return q;
  }

  static routing::agent agent_named(const std::string& id) {
    routing::agent a;
    a.id = id;
    a.display_name = "Agent " + id;
    a.attrs.skills["billing"] = 70;
    a.queues = {"billing"};
    return a;
  }

  /// The configuration changes of a tenant's store, oldest first, `size` a
  /// page, following the pages to the end.
  std::vector<v1::ConfigurationChange> changes_of(tenant_actor& t,
                                                  uint32_t size) {
    std::vector<v1::ConfigurationChange> out;
    std::string after;
    for (int page = 0; page < 100; ++page) {
      auto got = ask<history_page>(t, atom::history_v, atom::change_v,
                                   int64_t{0}, INT64_MAX, after, size);
      EXPECT_TRUE(got) << sys.render(got.error());
      if (!got)
        break;
      EXPECT_LE(got->records.size(), size);
      for (auto& bytes : got->records) {
        v1::Event e;
        EXPECT_TRUE(e.ParseFromString(bytes));
        EXPECT_EQ(e.type(), v1::EVENT_TYPE_CONFIGURATION_CHANGED);
        out.push_back(e.change());
      }
      if (got->next_after.empty())
        break;
      after = got->next_after;
    }
    return out;
  }

  /// The events stored of a tenant up to sequence `last`.
  std::vector<v1::Event> stored_events(tenant_actor& t, uint64_t last) {
    auto handle
      = self->request(t, caf::infinite, atom::event_v, uint64_t{0}, last);
    run();
    std::vector<v1::Event> out;
    handle.receive(
      [&](uint64_t, event_batch& batch) {
        for (auto& bytes : batch.events)
          EXPECT_TRUE(out.emplace_back().ParseFromString(bytes));
      },
      [&](caf::error& err) {
        ADD_FAILURE() << sys.render(err);
      });
    return out;
  }

  temp_dir dir;
  std::unique_ptr<storage::rocksdb_store> store;
};

} // namespace

TEST_F(tenant_test, a_queue_is_stored_and_listed) {
  auto t = spawn("contoso");
  auto stored
    = ask<routing::queue>(t, atom::upsert_v, queue_named("billing"), by);
  ASSERT_TRUE(stored) << sys.render(stored.error());
  EXPECT_EQ(stored->id, "billing");
  ASSERT_TRUE(ask<routing::queue>(t, atom::upsert_v, queue_named("alpha"), by));
  auto got = ask<routing::queue>(t, atom::get_v, atom::queue_v,
                                 std::string{"billing"});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->offer_timeout, 12s);
  auto all = ask<std::vector<routing::queue>>(t, atom::list_v, atom::queue_v);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "alpha"); // ordered by id
  EXPECT_EQ((*all)[1].id, "billing");
}

TEST_F(tenant_test, unknown_ids_are_not_found_and_named) {
  auto t = spawn("contoso");
  auto got
    = ask<routing::queue>(t, atom::get_v, atom::queue_v, std::string{"nope"});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), static_cast<uint8_t>(ec::not_found));
  EXPECT_EQ(sys.render(got.error()),
            "not_found: queue 'nope' does not exist in tenant 'contoso'");
  auto erased
    = ask<atom::ok>(t, atom::erase_v, atom::agent_v, std::string{"ghost"}, by);
  ASSERT_FALSE(erased);
  EXPECT_EQ(sys.render(erased.error()),
            "not_found: agent 'ghost' does not exist in tenant 'contoso'");
}

TEST_F(tenant_test, a_new_agent_is_offline_and_not_ready) {
  auto t = spawn("contoso");
  auto a = agent_named("alice");
  a.pres = routing::presence::available; // ignored: state is not config
  a.ready = true;
  ASSERT_TRUE(
    ask<routing::queue>(t, atom::upsert_v, queue_named("billing"), by));
  auto stored = ask<routing::agent_view>(t, atom::upsert_v, a, by);
  ASSERT_TRUE(stored) << sys.render(stored.error());
  EXPECT_EQ(stored->data.pres, routing::presence::offline);
  EXPECT_FALSE(stored->data.ready);
  EXPECT_EQ(stored->data.attrs.skills.at("billing"), 70);
}

TEST_F(tenant_test, configuration_and_state_survive_a_restart) {
  auto t = spawn("contoso");
  ASSERT_TRUE(
    ask<routing::queue>(t, atom::upsert_v, queue_named("billing"), by));
  auto alice
    = ask<routing::agent_view>(t, atom::upsert_v, agent_named("alice"), by);
  ASSERT_TRUE(alice) << sys.render(alice.error());
  ASSERT_TRUE(
    ask<routing::agent_view>(t, atom::presence_v, std::string{"alice"},
                             routing::presence::available, std::string{}));
  ASSERT_TRUE(ask<routing::agent_view>(t, atom::ready_v, std::string{"alice"},
                                       true, std::string{}, std::string{}));
  routing::call c;
  c.id = "call-1";
  c.queue_id = "billing";
  auto offered = ask<call_reply>(t, atom::submit_v, c, std::string{});
  ASSERT_TRUE(offered);
  ASSERT_EQ(offered->call.agent_id, "alice");

  t = restart(t, "contoso");
  auto q = ask<routing::queue>(t, atom::get_v, atom::queue_v,
                               std::string{"billing"});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->mode, routing::distribution_mode::round_robin);
  EXPECT_EQ(routing::to_string(q->selectors), "skill.billing >= 60");
  auto a = ask<routing::agent_view>(t, atom::get_v, atom::agent_v,
                                    std::string{"alice"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data.pres, routing::presence::available);
  EXPECT_TRUE(a->data.ready);
  EXPECT_EQ(a->data.load[0], 1); // the open offer, rebuilt
  EXPECT_EQ(a->offers_pending, 1u);

  // Reconfiguring keeps that state; an agent holding work is not deleted.
  auto changed = agent_named("alice");
  changed.attrs.skills["billing"] = 95;
  auto updated = ask<routing::agent_view>(t, atom::upsert_v, changed, by);
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->data.attrs.skills.at("billing"), 95);
  EXPECT_EQ(updated->data.pres, routing::presence::available);
  auto erased
    = ask<atom::ok>(t, atom::erase_v, atom::agent_v, std::string{"alice"}, by);
  ASSERT_FALSE(erased);
  EXPECT_EQ(erased.error().code(),
            static_cast<uint8_t>(ec::failed_precondition));
}

TEST_F(tenant_test, deletions_survive_a_restart) {
  auto t = spawn("contoso");
  ASSERT_TRUE(
    ask<routing::queue>(t, atom::upsert_v, queue_named("billing"), by));
  ASSERT_TRUE(
    ask<routing::agent_view>(t, atom::upsert_v, agent_named("bob"), by));
  ASSERT_TRUE(
    ask<atom::ok>(t, atom::erase_v, atom::agent_v, std::string{"bob"}, by));
  ASSERT_TRUE(
    ask<atom::ok>(t, atom::erase_v, atom::queue_v, std::string{"billing"}, by));
  t = restart(t, "contoso");
  auto queues
    = ask<std::vector<routing::queue>>(t, atom::list_v, atom::queue_v);
  ASSERT_TRUE(queues);
  EXPECT_TRUE(queues->empty());
  auto agents
    = ask<std::vector<routing::agent_view>>(t, atom::list_v, atom::agent_v);
  ASSERT_TRUE(agents);
  EXPECT_TRUE(agents->empty());
}

TEST_F(tenant_test, configuration_changes_are_kept_with_who_made_them) {
  auto t = spawn("contoso");
  ASSERT_TRUE(ask<routing::queue>(t, atom::upsert_v, queue_named("billing"),
                                  std::string{"Ann Lee (oid a1)"}));
  ASSERT_TRUE(ask<routing::agent_view>(t, atom::upsert_v, agent_named("bob"),
                                       std::string{"Ben Ode (oid b2)"}));
  // A refused change changes nothing and is not recorded.
  ASSERT_FALSE(
    ask<atom::ok>(t, atom::erase_v, atom::agent_v, std::string{"ghost"}, by));
  ASSERT_TRUE(
    ask<atom::ok>(t, atom::erase_v, atom::agent_v, std::string{"bob"}, by));
  routing::classification rules;
  rules.default_queue = "billing";
  ASSERT_TRUE(ask<routing::classification>(t, atom::upsert_v, rules, by));
  // Kept across a restart, in the order made, a page at a time.
  t = restart(t, "contoso");
  auto changes = changes_of(t, 3);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].method(), "UpsertQueue");
  EXPECT_EQ(changes[0].object_type(), "queue");
  EXPECT_EQ(changes[0].object_id(), "billing");
  EXPECT_EQ(changes[0].changed_by(), "Ann Lee (oid a1)");
  EXPECT_EQ(changes[1].method(), "UpsertAgent");
  EXPECT_EQ(changes[1].object_id(), "bob");
  EXPECT_EQ(changes[1].changed_by(), "Ben Ode (oid b2)");
  EXPECT_EQ(changes[2].method(), "DeleteAgent");
  EXPECT_EQ(changes[3].method(), "UpsertClassificationRules");
  EXPECT_EQ(changes[3].object_type(), "classification_rules");
  EXPECT_EQ(changes[3].object_id(), "contoso");
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_GT(changes[i].sequence(), changes[i - 1].sequence());
    EXPECT_GE(changes[i].at().seconds(), changes[i - 1].at().seconds());
  }
  // The same changes are events of the tenant's stream.
  size_t published = 0;
  for (auto& e : stored_events(t, changes.back().sequence())) {
    if (e.type() == v1::EVENT_TYPE_CONFIGURATION_CHANGED) {
      EXPECT_EQ(e.change().changed_by(), changes[published].changed_by());
      EXPECT_EQ(e.sequence(), changes[published].sequence());
      ++published;
    }
  }
  EXPECT_EQ(published, 4u);
  // Another tenant's list is its own.
  auto other = spawn("contoso-eu");
  EXPECT_TRUE(changes_of(other, 10).empty());
}

TEST_F(tenant_test, configuration_changes_leave_with_the_history_retention) {
  tenant_options options;
  options.history_retention = std::chrono::hours{2};
  options.audit_every = std::chrono::minutes{30};
  auto t = spawn_tenant(sys, *store, "contoso", nullptr, options);
  ASSERT_TRUE(t);
  run();
  ASSERT_TRUE(ask<routing::queue>(*t, atom::upsert_v, queue_named("old"), by));
  advance_time(std::chrono::minutes{90});
  ASSERT_TRUE(ask<routing::queue>(*t, atom::upsert_v, queue_named("new"), by));
  ASSERT_EQ(changes_of(*t, 10).size(), 2u);
  // Past the retention of the first change, not of the second.
  advance_time(std::chrono::minutes{60});
  auto left = changes_of(*t, 10);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].object_id(), "new");
}

TEST_F(tenant_test, tenants_never_see_each_other) {
  auto a = spawn("contoso");
  auto b = spawn("contoso-eu"); // shares a prefix of the name
  ASSERT_TRUE(ask<routing::queue>(a, atom::upsert_v, queue_named("sales"), by));
  ASSERT_TRUE(
    ask<routing::queue>(b, atom::upsert_v, queue_named("billing"), by));
  ASSERT_TRUE(
    ask<routing::agent_view>(b, atom::upsert_v, agent_named("carol"), by));
  auto b_queues
    = ask<std::vector<routing::queue>>(b, atom::list_v, atom::queue_v);
  ASSERT_TRUE(b_queues);
  ASSERT_EQ(b_queues->size(), 1u); // its own, not contoso's "sales"
  EXPECT_EQ(b_queues->front().id, "billing");
  EXPECT_FALSE(ask<routing::agent_view>(a, atom::get_v, atom::agent_v,
                                        std::string{"carol"}));
  // Also after a restart, when each is rebuilt from the shared store.
  a = restart(a, "contoso");
  auto a_agents
    = ask<std::vector<routing::agent_view>>(a, atom::list_v, atom::agent_v);
  ASSERT_TRUE(a_agents);
  EXPECT_TRUE(a_agents->empty());
  auto a_queues
    = ask<std::vector<routing::queue>>(a, atom::list_v, atom::queue_v);
  ASSERT_TRUE(a_queues);
  EXPECT_EQ(a_queues->size(), 1u);
}

TEST_F(tenant_test, a_record_that_does_not_decode_is_set_aside) {
  struct recorder final : observer {
    void store_write(std::chrono::nanoseconds, size_t) override {}
    void routed(std::chrono::nanoseconds) override {}
    void offer_ended(std::string_view) override {}
    void audited(std::string_view, size_t) override {}
    void inconsistency(std::string_view, std::string_view,
                       std::string_view) override {}
    void set_aside(std::string_view tenant, std::string_view key,
                   std::string_view reason) override {
      seen.push_back(std::string{tenant} + " " + std::string{key} + " "
                     + std::string{reason});
    }
    std::vector<std::string> seen;
  } obs;
  auto key = storage::record_key("contoso", 'Q', "bad");
  std::string bytes("\xff\xff\xff", 3);
  storage::batch b;
  b.put(storage::family::config, key, bytes);
  ASSERT_FALSE(store->write(b));
  auto t = spawn_tenant(sys, *store, "contoso", &obs);
  ASSERT_TRUE(t) << sys.render(t.error());
  // Started without it; the record is kept under the set-aside key.
  auto queues
    = ask<std::vector<routing::queue>>(*t, atom::list_v, atom::queue_v);
  ASSERT_TRUE(queues);
  EXPECT_TRUE(queues->empty());
  auto kept = store->get(
    storage::family::config,
    storage::set_aside_key("contoso", storage::family::config, key));
  ASSERT_TRUE(kept);
  ASSERT_TRUE(kept->has_value());
  EXPECT_EQ(**kept, bytes);
  auto gone = store->get(storage::family::config, key);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  ASSERT_EQ(obs.seen.size(), 1u);
  EXPECT_EQ(obs.seen[0].rfind("contoso ", 0), 0u);
  EXPECT_NE(obs.seen[0].find("Qbad"), std::string::npos) << obs.seen[0];
  EXPECT_NE(obs.seen[0].find("bad_record"), std::string::npos) << obs.seen[0];
}
