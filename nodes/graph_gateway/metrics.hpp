#pragma once

// The gateway's Prometheus metrics, read at each scrape from the counts
// the webhooks, the presence watch and the bot keep: nothing on the
// notification path but the atomic increments already there.

#include "nodes/graph_gateway/presence_watch.hpp"
#include "nodes/graph_gateway/webhook.hpp"

#include <prometheus/collectable.h>

#include <functional>

namespace switchboard::graph {

class metrics final : public prometheus::Collectable {
 public:
  metrics(const webhook_counts& hooks, const presence_watch& watch,
          std::function<std::size_t()> live_calls);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const webhook_counts& hooks_;
  const presence_watch& watch_;
  std::function<std::size_t()> live_calls_;
};

} // namespace switchboard::graph
