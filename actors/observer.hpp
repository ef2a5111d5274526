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

  /// The periodic audit of a tenant's agents ran; `inconsistent` of them
  /// disagreed with their work, each reported before by `inconsistency`.
  virtual void audited(std::string_view tenant, size_t inconsistent) = 0;

  /// Recovery found a stored record it cannot apply and set it aside
  /// (kept under the tenant's set-aside keys, not deleted) so that the
  /// tenant starts with everything else.
  virtual void set_aside(std::string_view tenant, std::string_view key,
                         std::string_view reason)
    = 0;

  /// An agent's state disagrees with the work it holds (a defect).
  virtual void inconsistency(std::string_view tenant, std::string_view agent,
                             std::string_view what)
    = 0;
};

} // namespace switchboard
