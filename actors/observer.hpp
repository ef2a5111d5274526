#pragma once

#include <chrono>
#include <string_view>

namespace switchboard {

/// What the actors report for metrics. The node implements it (Prometheus);
/// actors/ knows nothing of how it is exported. Called from actor threads.
class observer {
 public:
  virtual ~observer() = default;

  /// One store write of `records` records took `took`.
  virtual void store_write(std::chrono::nanoseconds took, size_t records) = 0;

  /// A call was offered `latency` after the command that made it routable
  /// arrived (the offer written and published).
  virtual void routed(std::chrono::nanoseconds latency) = 0;

  /// An offer ended: "accepted", "declined", "expired" or "withdrawn".
  virtual void offer_ended(std::string_view outcome) = 0;
};

} // namespace switchboard
