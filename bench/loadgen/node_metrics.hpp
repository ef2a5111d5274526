#pragma once

// The node's own routing latency, read from its Prometheus /metrics.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::loadgen {

/// Cumulative buckets of a Prometheus histogram: (le, count), +Inf last.
using histogram = std::vector<std::pair<double, double>>;

/// The node's routing latency histogram, from /metrics at `address`
/// (host:port); empty if it cannot be read.
histogram node_latency(const std::string& address);

/// Quantile q of what the node observed between two readings of its
/// histogram, as Prometheus' histogram_quantile computes it.
std::optional<double> quantile_between(const histogram& before,
                                       histogram buckets, double q);

} // namespace switchboard::loadgen
