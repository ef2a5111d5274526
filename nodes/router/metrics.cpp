#include "nodes/router/metrics.hpp"

#include "nodes/router/log.hpp"
#include "routing/engine.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <mutex>

namespace switchboard::router {

namespace {

prometheus::Histogram::BucketBoundaries latency_buckets() {
  // 25 µs .. 2.5 s.
  return {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
          0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5};
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

} // namespace

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry
    = std::make_shared<prometheus::Registry>();
  prometheus::Histogram& routing_latency
    = prometheus::BuildHistogram()
        .Name("switchboard_routing_latency_seconds")
        .Help("From the command that made a call routable (submit, agent "
              "ready, offer declined, ...) to its offer written and "
              "published")
        .Register(*registry)
        .Add({}, latency_buckets());
  prometheus::Histogram& store_latency
    = prometheus::BuildHistogram()
        .Name("switchboard_store_write_seconds")
        .Help("RocksDB write of one group commit")
        .Register(*registry)
        .Add({}, latency_buckets());
  prometheus::Counter& store_records
    = prometheus::BuildCounter()
        .Name("switchboard_store_records_written_total")
        .Help("Records written to RocksDB")
        .Register(*registry)
        .Add({});
  prometheus::Counter& audits
    = prometheus::BuildCounter()
        .Name("switchboard_agent_audits_total")
        .Help("Audits of a tenant's agents against the work they hold")
        .Register(*registry)
        .Add({});
  prometheus::Counter& inconsistent_agents
    = prometheus::BuildCounter()
        .Name("switchboard_agent_inconsistencies_total")
        .Help("Agents an audit found in a state that disagrees with their "
              "work (a phantom state); each is logged with what disagrees")
        .Register(*registry)
        .Add({});
  prometheus::Counter& set_aside
    = prometheus::BuildCounter()
        .Name("switchboard_recovery_records_set_aside_total")
        .Help("Stored records a tenant could not apply when it started; each "
              "is kept under the tenant's set-aside keys and logged with its "
              "key and the reason")
        .Register(*registry)
        .Add({});
  std::atomic<logger*> log{nullptr};
  prometheus::Family<prometheus::Counter>& offers
    = prometheus::BuildCounter()
        .Name("switchboard_offers_total")
        .Help("Offers that ended, by outcome (accepted, declined, expired, "
              "withdrawn)")
        .Register(*registry);
  prometheus::Family<prometheus::Counter>& grpc
    = prometheus::BuildCounter()
        .Name("switchboard_grpc_requests_total")
        .Help("gRPC requests by method and status code")
        .Register(*registry);
  prometheus::Family<prometheus::Gauge>& peers
    = prometheus::BuildGauge()
        .Name("switchboard_cluster_peer_up")
        .Help("1 while this node is connected to the peer and its "
              "heartbeats answer, else 0")
        .Register(*registry);
  prometheus::Counter& moves
    = prometheus::BuildCounter()
        .Name("switchboard_tenant_moves_total")
        .Help("Tenants this node handed to another node after the member "
              "list changed")
        .Register(*registry)
        .Add({});
  prometheus::Histogram& move_pause
    = prometheus::BuildHistogram()
        .Name("switchboard_tenant_move_pause_seconds")
        .Help("How long a moving tenant answered nothing: from stopping it "
              "here to its start on the new node")
        .Register(*registry)
        .Add({}, prometheus::Histogram::BucketBoundaries{
                   0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  prometheus::Family<prometheus::Gauge>& waiting
    = prometheus::BuildGauge()
        .Name("switchboard_queue_waiting_calls")
        .Help("Calls waiting in a queue")
        .Register(*registry);
  prometheus::Family<prometheus::Gauge>& longest
    = prometheus::BuildGauge()
        .Name("switchboard_queue_longest_wait_seconds")
        .Help("How long the longest-waiting call of a queue has waited")
        .Register(*registry);
  prometheus::Family<prometheus::Gauge>& service_level
    = prometheus::BuildGauge()
        .Name("switchboard_queue_service_level_ratio")
        .Help("Calls answered within the queue's threshold / (answered + "
              "abandoned), since the node started")
        .Register(*registry);
  prometheus::Family<prometheus::Gauge>& agents
    = prometheus::BuildGauge()
        .Name("switchboard_queue_agents")
        .Help("Member agents of a queue by activity and readiness")
        .Register(*registry);

  std::mutex mtx;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*>
    grpc_cache;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
  // Nothing else.
}

metrics::~metrics() = default;

std::shared_ptr<prometheus::Registry> metrics::registry() const {
  return impl_->registry;
}

void metrics::store_write(std::chrono::nanoseconds took, size_t records) {
  impl_->store_latency.Observe(seconds(took));
  impl_->store_records.Increment(static_cast<double>(records));
}

void metrics::routed(std::chrono::nanoseconds latency) {
  impl_->routing_latency.Observe(seconds(latency));
}

void metrics::offer_ended(std::string_view outcome) {
  impl_->offers.Add({{"outcome", std::string{outcome}}}).Increment();
}

void metrics::audited(std::string_view, size_t inconsistent) {
  impl_->audits.Increment();
  impl_->inconsistent_agents.Increment(static_cast<double>(inconsistent));
}

void metrics::set_aside(std::string_view tenant, std::string_view key,
                        std::string_view reason) {
  impl_->set_aside.Increment();
  if (auto* log = impl_->log.load())
    log->write(log_level::error,
               "stored record set aside: the tenant started without it; it "
               "is kept under the set-aside key for inspection",
               {{"tenant", std::string{tenant}},
                {"key", std::string{key}},
                {"reason", std::string{reason}}});
}

void metrics::inconsistency(std::string_view tenant, std::string_view agent,
                            std::string_view what) {
  if (auto* log = impl_->log.load())
    log->write(log_level::warn,
               "agent state disagrees with the work it holds; routing for "
               "this agent may be wrong until it is fixed",
               {{"tenant", std::string{tenant}},
                {"agent", std::string{agent}},
                {"found", std::string{what}}});
}

void metrics::set_logger(logger* log) { impl_->log = log; }

void metrics::grpc_request(std::string_view method, std::string_view code) {
  std::pair<std::string, std::string> key{method, code};
  prometheus::Counter* c = nullptr;
  {
    std::lock_guard guard{impl_->mtx};
    auto& slot = impl_->grpc_cache[key];
    if (slot == nullptr)
      slot = &impl_->grpc.Add({{"method", key.first}, {"code", key.second}});
    c = slot;
  }
  c->Increment();
}

void metrics::tenant_moved(std::chrono::milliseconds paused) {
  impl_->moves.Increment();
  impl_->move_pause.Observe(std::chrono::duration<double>(paused).count());
}

void metrics::peer_up(const std::string& peer, bool up) {
  std::lock_guard guard{impl_->mtx};
  impl_->peers.Add({{"peer", peer}}).Set(up ? 1 : 0);
}

void metrics::queue_figures(const std::string& tenant, const routing::queue& q,
                            const routing::queue_stats& s) {
  std::map<std::string, std::string> labels{{"tenant", tenant},
                                            {"queue", q.id}};
  impl_->waiting.Add(labels).Set(s.waiting);
  impl_->longest.Add(labels).Set(
    std::chrono::duration<double>(s.longest_wait).count());
  auto ended = s.answered + s.abandoned;
  impl_->service_level.Add(labels).Set(
    ended == 0 ? 1.0
               : static_cast<double>(s.answered_in_threshold)
                   / static_cast<double>(ended));
  // Every combination is set, so a count that drops to zero shows zero.
  std::map<std::pair<std::string, std::string>, double> counts;
  for (auto a : {routing::activity::idle, routing::activity::offered,
                 routing::activity::busy, routing::activity::wrap_up})
    for (auto r : {"true", "false"})
      counts[{std::string{routing::to_string(a)}, r}] = 0;
  for (auto& n : s.agents)
    counts[{std::string{routing::to_string(n.activity)},
            n.ready ? "true" : "false"}]
      += n.agents;
  for (auto& [key, n] : counts) {
    auto l = labels;
    l["activity"] = key.first;
    l["ready"] = key.second;
    impl_->agents.Add(l).Set(n);
  }
}

} // namespace switchboard::router
