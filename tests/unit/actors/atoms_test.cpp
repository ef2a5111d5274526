// The routing core's types travel in actor messages and, in a cluster,
// between nodes: each must survive CAF's serialization unchanged.

#include "actors/atoms.hpp"
#include "storage/error.hpp"
#include "tests/support/actor_fixture.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

using namespace switchboard;
using namespace switchboard::routing;
using namespace std::chrono_literals;
using switchboard::testing::actor_fixture;

namespace {

class atoms_test : public actor_fixture {
 protected:
  template<class T>
  T round_trip(const T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto copy = x;
    EXPECT_FALSE(sink(copy));
    T result;
    caf::binary_deserializer source{sys, buf};
    EXPECT_FALSE(source(result));
    return result;
  }
};

agent sample_agent() {
  agent a;
  a.id = "alice@contoso.com";
  a.display_name = "Alice";
  a.teams_user_id = "6e7b768e-07e2-4810-8459-485f84f8f204";
  a.sip_uri = "sip:alice@contoso.com";
  a.attrs.skills["billing"] = 80;
  a.attrs.labels["language"] = "es";
  a.cap.channels[static_cast<size_t>(channel::voice)].cost = 0;
  a.queues = {"billing", "sales"};
  a.pres = presence::be_right_back;
  a.ready = true;
  a.not_ready_reason = "";
  a.in_wrap_up = true;
  a.load = {1, 2, 0, 0};
  a.idle_since = from_micros(1'767'225'600'123'456);
  return a;
}

} // namespace

TEST_F(atoms_test, an_agent_survives_serialization) {
  auto a = sample_agent();
  auto b = round_trip(a);
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.teams_user_id, a.teams_user_id);
  EXPECT_EQ(b.attrs.skills, a.attrs.skills);
  EXPECT_EQ(b.attrs.labels, a.attrs.labels);
  EXPECT_EQ(b.cap.total, a.cap.total);
  EXPECT_EQ(b.cap.channels[0].cost, 0);
  EXPECT_EQ(b.cap.channels[1].max_concurrent, 3);
  EXPECT_EQ(b.queues, a.queues);
  EXPECT_EQ(b.pres, presence::be_right_back);
  EXPECT_TRUE(b.ready);
  EXPECT_TRUE(b.in_wrap_up);
  EXPECT_EQ(b.load, a.load);
  EXPECT_EQ(b.idle_since, a.idle_since);
}

TEST_F(atoms_test, a_queue_and_its_selectors_survive_serialization) {
  queue q;
  q.id = "billing";
  q.mode = distribution_mode::best_skill;
  q.selectors = parse_selectors("skill.billing >= 60 relax after 30s and "
                                "label.language in (es, pt)")
                  .selectors;
  q.routable_presences |= presence_bit(presence::busy);
  q.offer_timeout = 15s;
  q.max_wait = 5min;
  q.overflow_queue = "overflow";
  q.sla = {20s, 90};
  auto r = round_trip(q);
  EXPECT_EQ(r.id, q.id);
  EXPECT_EQ(r.mode, q.mode);
  EXPECT_EQ(r.selectors, q.selectors); // relax_after included
  EXPECT_EQ(r.selectors[0].relax_after, 30s);
  EXPECT_EQ(r.selectors[1].relax_after, std::nullopt);
  EXPECT_EQ(r.routable_presences, q.routable_presences);
  EXPECT_EQ(r.offer_timeout, 15s);
  EXPECT_EQ(r.max_wait, 5min);
  EXPECT_EQ(r.overflow_queue, "overflow");
  EXPECT_EQ(r.sla.threshold, 20s);
  EXPECT_EQ(r.sla.target_percent, 90);
}

TEST_F(atoms_test, a_call_survives_serialization) {
  call c;
  c.id = "a84b4c76e66710@pc33.atlanta.example.com";
  c.channel = channel::chat;
  c.attributes["intent"] = "billing";
  c.priority = -3;
  c.preferred_agent = "alice";
  c.enqueued_at = from_micros(42);
  c.state = call_state::offered;
  auto d = round_trip(c);
  EXPECT_EQ(d.id, c.id);
  EXPECT_EQ(d.channel, channel::chat);
  EXPECT_EQ(d.attributes, c.attributes);
  EXPECT_EQ(d.priority, -3);
  EXPECT_EQ(d.preferred_agent, "alice");
  EXPECT_EQ(d.enqueued_at, c.enqueued_at);
  EXPECT_EQ(d.state, call_state::offered);
}

TEST_F(atoms_test, errors_print_as_words) {
  auto err = caf::make_error(ec::storage_busy, std::string{"folder ./data"});
  auto text = sys.render(err);
  EXPECT_NE(text.find("storage_busy"), std::string::npos) << text;
  EXPECT_NE(text.find("folder ./data"), std::string::npos) << text;
}

TEST_F(atoms_test, timers_fire_only_when_the_test_moves_time) {
  // An actor that reports a tick 20 s after it starts: the shape of every
  // timer in Switchboard (offer expiry, wrap-up, relaxation).
  // The client goes in as a spawn argument, not a capture: CAF 0.17.6
  // dereferences a null tuple when a function-based actor is spawned with
  // no arguments (init_fun_factory.hpp), which UBSan rightly reports.
  auto timer = sys.spawn(
    [](caf::event_based_actor* a, caf::actor client) -> caf::behavior {
      a->delayed_send(a, std::chrono::seconds{20}, atom::tick_v);
      return {[=](atom::tick) {
        a->send(client, atom::tick_v);
      }};
    },
    caf::actor{self});
  run();
  bool ticked = false;
  auto check = [&] {
    ticked = false;
    self->receive(
      [&](atom::tick) {
        ticked = true;
      },
      caf::after(std::chrono::seconds{0}) >> [] {});
  };
  advance_time(std::chrono::seconds{19});
  check();
  EXPECT_FALSE(ticked) << "the timer fired early";
  advance_time(std::chrono::seconds{1});
  check();
  EXPECT_TRUE(ticked) << "the timer did not fire at 20 s";
  self->send_exit(timer, caf::exit_reason::user_shutdown);
  run();
}
