#include "nodes/gateway/metrics_endpoint.hpp"

#include <prometheus/exposer.h>

namespace switchboard::gateway {

metrics_endpoint::metrics_endpoint() = default;

metrics_endpoint::~metrics_endpoint() = default;

std::string
metrics_endpoint::start(const std::optional<router::listen_address>& at,
                        std::shared_ptr<prometheus::Collectable> metrics) {
  if (!at)
    return {};
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(at->to_string());
  } catch (const std::exception& e) {
    return e.what();
  }
  exposer_->RegisterCollectable(metrics);
  auto bound = *at;
  if (auto ports = exposer_->GetListeningPorts(); !ports.empty())
    bound.port = static_cast<uint16_t>(ports.front());
  address_ = bound.to_string();
  return {};
}

} // namespace switchboard::gateway
