#pragma once

#include "actors/actors.hpp"
#include "actors/observer.hpp"
#include "routing/engine.hpp"
#include "storage/store.hpp"

#include <caf/actor_clock.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace switchboard {

/// A page of call history holds at most this many bytes of records, so
/// that it fits in gRPC's default message size (4 MiB) with room to spare.
constexpr size_t history_page_bytes = 2 * 1024 * 1024;

/// A page of call history looks at most at this many finished calls, so
/// that a filter few calls match does not hold the tenant up.
constexpr size_t history_page_scan = 10'000;

/// A node's settings for every tenant it runs.
struct tenant_options {
  /// How often the agents are audited against their work, and old history
  /// and events deleted.
  caf::timespan audit_every = std::chrono::seconds{60};
  /// How long finished calls stay in the history unless the tenant says
  /// otherwise; zero: for ever.
  routing::duration history_retention{0};
  /// How long events stay for Subscribe to resume from; zero: for ever.
  routing::duration event_retention{0};
};

struct tenant_state {
  static constexpr const char* name = "tenant";

  explicit tenant_state(std::string id = {})
    : tenant_id(id), engine(std::move(id)) {}

  std::string tenant_id;
  /// Shared by every actor of the node; RocksDB is safe to use from
  /// several threads.
  storage::store* store = nullptr;
  observer* obs = nullptr;
  routing::engine engine;
  /// The sequence of the last event written.
  uint64_t sequence = 0;
  std::vector<caf::actor> sinks;

  // -- group commit: applied but not yet written --
  storage::batch batch;
  /// The group's events, encoded (v1::Event), in sequence order.
  event_batch events;
  std::vector<std::function<void()>> replies;
  std::vector<std::function<void(const caf::error&)>> failures;
  /// Idempotency keys in `batch` with the outcome each records
  /// ("CODE|message"), so a repeat within one group gets the first outcome.
  std::map<std::string, std::string> keys;
  /// When the commands in the group arrived, for the routing latency.
  std::vector<caf::actor_clock::time_point> offers_made;
  bool flush_scheduled = false;

  // -- time --
  /// The wall clock at spawn and the actor clock then: the engine's now is
  /// wall_base + (clock now - clock_base), so tests move it with the
  /// deterministic scheduler.
  routing::timestamp wall_base{};
  caf::actor_clock::time_point clock_base{};
  std::optional<routing::timestamp> tick_at;
  /// The engine time of the command or query being answered.
  routing::timestamp now{};
  tenant_options options;
  /// The tenant's own history retention, if it has one (else zero).
  routing::duration tenant_history_retention{0};
};

tenant_actor::behavior_type
tenant(tenant_actor::stateful_pointer<tenant_state> self,
       std::shared_ptr<tenant_state> init);

/// Rebuilds a tenant's routing domain from `store` (queues, agents with
/// state, live calls with their deadlines) and spawns its actor. Offers
/// whose deadline passed while the node was down expire at once. Fails if
/// a stored record does not decode.
caf::expected<tenant_actor> spawn_tenant(caf::actor_system& sys,
                                         storage::store& store,
                                         const std::string& tenant_id,
                                         observer* obs = nullptr,
                                         tenant_options options = {});

} // namespace switchboard
