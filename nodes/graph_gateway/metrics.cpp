#include "nodes/graph_gateway/metrics.hpp"

#include <prometheus/metric_family.h>

namespace switchboard::graph {

namespace {

using family = prometheus::MetricFamily;

family one(std::string name, std::string help, prometheus::MetricType type,
           double value) {
  family f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

// A counter family with one label and a value per label value.
family labelled(std::string name, std::string help, const std::string& label,
                std::vector<std::pair<std::string, double>> values) {
  family f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Counter;
  for (auto& [v, count] : values) {
    prometheus::ClientMetric m;
    m.label.push_back({label, v});
    m.counter.value = count;
    f.metric.push_back(std::move(m));
  }
  return f;
}

double d(const std::atomic<std::uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

} // namespace

metrics::metrics(const webhook_counts& hooks, const presence_watch& watch,
                 std::function<std::size_t()> live_calls)
  : hooks_(hooks), watch_(watch), live_calls_(std::move(live_calls)) {}

std::vector<prometheus::MetricFamily> metrics::Collect() const {
  using prometheus::MetricType;
  auto w = watch_.current();
  std::vector<family> out;
  out.push_back(one("switchboard_graph_call_notification_posts_total",
                    "Call notification POSTs accepted (202) from Graph",
                    MetricType::Counter, d(hooks_.call_posts)));
  out.push_back(labelled("switchboard_graph_notifications_refused_total",
                         "Notification POSTs refused, by reason", "reason",
                         {{"unauthorized", d(hooks_.unauthorized)},
                          {"malformed", d(hooks_.malformed)}}));
  out.push_back(one("switchboard_graph_calls",
                    "Calls the gateway holds now (answered, waiting, talking)",
                    MetricType::Gauge,
                    static_cast<double>(live_calls_ ? live_calls_() : 0)));
  out.push_back(one("switchboard_graph_presence_changes_total",
                    "Presence changes decrypted from subscriptions",
                    MetricType::Counter, d(hooks_.presence_changes)));
  out.push_back(
    labelled("switchboard_graph_presence_notifications_ignored_total",
             "Presence notifications dropped, by reason", "reason",
             {{"wrong_client_state", d(hooks_.wrong_client_state)},
              {"undecryptable", d(hooks_.undecryptable)}}));
  out.push_back(one("switchboard_graph_subscription_validations_total",
                    "Subscription validation requests answered",
                    MetricType::Counter, d(hooks_.validations)));
  out.push_back(one("switchboard_graph_lifecycle_notifications_total",
                    "Subscription lifecycle notifications received",
                    MetricType::Counter, d(hooks_.lifecycle)));
  out.push_back(one("switchboard_graph_presence_subscriptions",
                    "Presence subscriptions active now", MetricType::Gauge,
                    static_cast<double>(w.subscriptions)));
  out.push_back(one("switchboard_graph_presence_users",
                    "Teams users whose presence is watched", MetricType::Gauge,
                    static_cast<double>(w.users)));
  out.push_back(labelled(
    "switchboard_graph_presence_subscription_operations_total",
    "Presence subscription requests that succeeded, by operation", "operation",
    {{"created", static_cast<double>(w.created)},
     {"renewed", static_cast<double>(w.renewed)},
     {"reauthorized", static_cast<double>(w.reauthorized)},
     {"remade", static_cast<double>(w.removed)}}));
  out.push_back(one("switchboard_graph_presence_reconciles_total",
                    "getPresencesByUserId reads answered", MetricType::Counter,
                    static_cast<double>(w.reconciles)));
  out.push_back(one("switchboard_graph_presence_failures_total",
                    "Presence subscription and reconcile requests that failed",
                    MetricType::Counter, static_cast<double>(w.failures)));
  return out;
}

} // namespace switchboard::graph
