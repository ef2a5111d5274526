#pragma once

// A gateway's Prometheus /metrics endpoint, shared by the SBC and Graph
// gateways: its setting (metrics.listen, empty for none) and the listener.
// prometheus-cpp stays inside metrics_endpoint.cpp.

#include "nodes/router/config.hpp"
#include "nodes/settings/settings.hpp"

#include <memory>
#include <optional>
#include <string>

namespace prometheus {
class Collectable;
class Exposer;
} // namespace prometheus

namespace switchboard::gateway {

/// The metrics.listen setting of a gateway's `Config`, held in `member`,
/// read from environment variable `env`.
template<class Config>
settings::setting<Config>
metrics_setting(const char* env,
                std::optional<router::listen_address> Config::*member) {
  return {"metrics",
          "listen",
          env,
          "--metrics-listen",
          "host:port of the Prometheus /metrics endpoint; empty: none",
          [member](const Config& c) -> std::string {
            return (c.*member) ? (c.*member)->to_string() : std::string{"none"};
          },
          [member](Config& c, const std::string& v) -> std::string {
            if (v.empty()) {
              (c.*member).reset();
              return {};
            }
            auto parsed = router::parse_listen_address(v);
            if (!parsed)
              return "expected host:port (port 0-65535), found '" + v + "'";
            c.*member = *parsed;
            return {};
          }};
}

class metrics_endpoint {
 public:
  metrics_endpoint();
  ~metrics_endpoint();

  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  /// Serves `metrics` on `at` (none: nothing is served); "" or why it
  /// cannot listen.
  std::string start(const std::optional<router::listen_address>& at,
                    std::shared_ptr<prometheus::Collectable> metrics);

  /// Where it listens (the port bound when 0 was asked), or "none".
  const std::string& address() const noexcept { return address_; }

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_ = "none";
};

} // namespace switchboard::gateway
