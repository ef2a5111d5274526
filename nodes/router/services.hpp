#pragma once

// The gRPC services of a router node: AdminService, RoutingService,
// EventService and StatsService of switchboard.v1. Handlers use gRPC's
// callback API and never block a thread waiting for an actor: each request
// is handed to the tenant's actor by a short-lived actor whose reply
// handler finishes the RPC.

#include <cstddef>
#include <memory>
#include <vector>

namespace caf {
class actor_system;
} // namespace caf

namespace grpc {
class Service;
} // namespace grpc

namespace switchboard {
class directory;
namespace storage {
class store;
} // namespace storage
} // namespace switchboard

namespace switchboard::router {

class authenticator;
class cluster;
class logger;
class metrics;

struct service_context {
  caf::actor_system* sys = nullptr;
  directory* dir = nullptr;
  storage::store* store = nullptr;
  router::metrics* metrics = nullptr;
  /// Where tenants live; none: every tenant is this node's.
  router::cluster* cluster = nullptr;
  /// Requests in progress at most; beyond, RESOURCE_EXHAUSTED.
  size_t max_in_flight = 50'000;
  /// Requests of one tenant in progress at most; beyond, that tenant's
  /// requests get RESOURCE_EXHAUSTED while the others' go on.
  size_t max_in_flight_per_tenant = 10'000;
  /// Who may call what; none, or one not enabled: everyone may call
  /// everything (a developer's loopback node).
  authenticator* auth = nullptr;
  /// Refused requests and configuration changes, with who made them.
  logger* log = nullptr;
};

std::vector<std::unique_ptr<grpc::Service>>
make_services(const service_context& ctx);

} // namespace switchboard::router
