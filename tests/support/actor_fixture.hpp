#pragma once

// A GoogleTest fixture with CAF's deterministic scheduler: actors run only
// when the test calls run(), and time moves only when it calls
// advance_time(), so timers (delayed_send, offer expiry, wrap-up) are
// driven by the test, never by the wall clock.

#include "actors/atoms.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

namespace switchboard::testing {

class actor_fixture : public ::testing::Test {
 protected:
  actor_fixture()
    : sys(configure(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      self(sys, true) {}

  /// Drops the timers still pending (each holds its actor alive), so the
  /// actor system can shut down.
  ~actor_fixture() override {
    sched.clock().cancel_all();
    run();
  }

  /// Runs every actor until no message is left.
  size_t run() { return sched.run(); }

  /// Sends a request, runs the actors, and returns the reply or error.
  template<class Reply, class Handle, class... Ts>
  caf::expected<Reply> ask(const Handle& dest, Ts&&... xs) {
    auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    caf::expected<Reply> result{caf::make_error(caf::sec::request_timeout)};
    handle.receive(
      [&](Reply& reply) {
        result = std::move(reply);
      },
      [&](caf::error& err) {
        result = std::move(err);
      });
    return result;
  }

  /// Moves the clock forward, fires the timers due, and runs.
  void advance_time(caf::timespan d) {
    sched.advance_time(d);
    run();
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;

 private:
  static caf::actor_system_config& configure(caf::actor_system_config& c) {
    add_message_types(c);
    c.set("scheduler.policy", caf::atom("testing"));
    c.set("logger.file-verbosity", caf::atom("quiet"));
    c.set("logger.console-verbosity", caf::atom("quiet"));
    return c;
  }
};

} // namespace switchboard::testing
