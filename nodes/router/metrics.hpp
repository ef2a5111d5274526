#pragma once

// The node's Prometheus metrics (DESIGN "Operations"): routing latency,
// queue depth, longest wait and service level per queue, agents by state,
// offers by outcome, gRPC requests by method and code, store write
// latency.

#include "actors/observer.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace switchboard::routing {
struct queue;
struct queue_stats;
} // namespace switchboard::routing

namespace switchboard::router {

class logger;

class metrics final : public observer {
 public:
  metrics();
  ~metrics() override;

  std::shared_ptr<prometheus::Registry> registry() const;

  void store_write(std::chrono::nanoseconds took, size_t records) override;
  void routed(std::chrono::nanoseconds latency) override;
  void offer_ended(std::string_view outcome) override;
  void audited(std::string_view tenant, size_t inconsistent) override;
  void set_aside(std::string_view tenant, std::string_view key,
                 std::string_view reason) override;
  void inconsistency(std::string_view tenant, std::string_view agent,
                     std::string_view what) override;

  /// Where inconsistencies are logged (none: only counted).
  void set_logger(logger* log);

  /// One finished gRPC request; `code` is its status code name.
  void grpc_request(std::string_view method, std::string_view code);

  /// A cluster peer went up or down.
  void peer_up(const std::string& peer, bool up);

  /// A tenant moved to another node; it was paused this long.
  void tenant_moved(std::chrono::milliseconds paused);

  /// The live figures of one queue.
  void queue_figures(const std::string& tenant, const routing::queue& q,
                     const routing::queue_stats& s);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::router
