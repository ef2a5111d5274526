#pragma once

// The web edge's Prometheus metrics, read when scraped: HTTP responses by
// status class (a rise of 4xx is users refused, of 5xx the router failing
// behind the edge) and the event streams open now.

#include "nodes/http/server.hpp"

#include <prometheus/collectable.h>

#include <functional>

namespace switchboard::web {

class metrics final : public prometheus::Collectable {
 public:
  metrics(const http::server::response_counts& responses,
          std::function<std::size_t()> open_streams);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const http::server::response_counts& responses_;
  std::function<std::size_t()> open_streams_;
};

} // namespace switchboard::web
