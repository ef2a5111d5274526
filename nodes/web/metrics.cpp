#include "nodes/web/metrics.hpp"

#include <prometheus/metric_family.h>

#include <string>

namespace switchboard::web {

metrics::metrics(const http::server::response_counts& responses,
                 std::function<std::size_t()> open_streams)
  : responses_(responses), open_streams_(std::move(open_streams)) {}

std::vector<prometheus::MetricFamily> metrics::Collect() const {
  prometheus::MetricFamily responses;
  responses.name = "switchboard_web_http_responses_total";
  responses.help = "HTTP responses the web edge wrote (the app's files, its "
                   "API and /healthz), by status class";
  responses.type = prometheus::MetricType::Counter;
  for (int c = 1; c <= 5; ++c) {
    prometheus::ClientMetric m;
    m.label.push_back({"class", std::to_string(c) + "xx"});
    m.counter.value = static_cast<double>(
      responses_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed));
    responses.metric.push_back(std::move(m));
  }
  prometheus::MetricFamily streams;
  streams.name = "switchboard_web_event_streams";
  streams.help = "Event WebSockets open now (one per signed-in app)";
  streams.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric open;
  open.gauge.value = static_cast<double>(open_streams_ ? open_streams_() : 0);
  streams.metric.push_back(std::move(open));
  return {std::move(responses), std::move(streams)};
}

} // namespace switchboard::web
