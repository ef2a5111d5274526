#include "nodes/sbc_gateway/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace switchboard::sbc {

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry
    = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& invites
    = prometheus::BuildCounter()
        .Name("switchboard_sbc_invites_total")
        .Help("Final responses to callers' INVITEs, by code and trunk")
        .Register(*registry);
  prometheus::Family<prometheus::Counter>& refusals
    = prometheus::BuildCounter()
        .Name("switchboard_sbc_calls_refused_total")
        .Help("New INVITEs refused before reaching the engine, by reason")
        .Register(*registry);
  prometheus::Family<prometheus::Gauge>& dialogs
    = prometheus::BuildGauge()
        .Name("switchboard_sbc_dialogs")
        .Help("Calls in the gateway by state")
        .Register(*registry);
  prometheus::Family<prometheus::Gauge>& sbcs
    = prometheus::BuildGauge()
        .Name("switchboard_sbc_peer_up")
        .Help("1 while an SBC answers the gateway's OPTIONS pings with 2xx")
        .Register(*registry);
  prometheus::Family<prometheus::Histogram>& rings
    = prometheus::BuildHistogram()
        .Name("switchboard_sbc_offer_ring_seconds")
        .Help("How long agents' legs rang, by what stopped the ringing")
        .Register(*registry);
  prometheus::Gauge& router
    = prometheus::BuildGauge()
        .Name("switchboard_sbc_router_up")
        .Help("1 while the Ingest stream to a router is connected")
        .Register(*registry)
        .Add({});
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}

metrics::~metrics() = default;

std::shared_ptr<prometheus::Registry> metrics::registry() const {
  return impl_->registry;
}

void metrics::invite_final(int status, std::string_view trunk) {
  impl_->invites
    .Add({{"code", std::to_string(status)}, {"trunk", std::string{trunk}}})
    .Increment();
}

void metrics::refused(std::string_view why) {
  impl_->refusals.Add({{"reason", std::string{why}}}).Increment();
}

void metrics::dialog_state(std::string_view from, std::string_view to) {
  if (!from.empty())
    impl_->dialogs.Add({{"state", std::string{from}}}).Decrement();
  if (!to.empty() && to != "ended")
    impl_->dialogs.Add({{"state", std::string{to}}}).Increment();
}

void metrics::sbc_up(std::string_view sbc, bool up) {
  impl_->sbcs.Add({{"sbc", std::string{sbc}}}).Set(up ? 1 : 0);
}

void metrics::router_up(bool up) { impl_->router.Set(up ? 1 : 0); }

void metrics::offer_rang(double seconds, std::string_view outcome) {
  static const prometheus::Histogram::BucketBoundaries buckets{
    0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60};
  impl_->rings.Add({{"outcome", std::string{outcome}}}, buckets)
    .Observe(seconds);
}

} // namespace switchboard::sbc
