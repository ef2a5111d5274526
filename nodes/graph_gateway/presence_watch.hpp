#pragma once

#include "nodes/graph_gateway/graph_api.hpp"
#include "nodes/graph_gateway/notifications.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::router {
class logger;
}

namespace switchboard::graph {

/// Keeps Graph telling the gateway the Teams presence of every agent, per
/// Microsoft tenant:
///
/// - subscriptions to `/communications/presences?$filter=id in (...)`
///   (at most `ids_per_subscription` users each; rich, encrypted
///   notifications; created with the service account's delegated token,
///   which presence subscriptions require), renewed `renew_before` their
///   expiry, recreated when the watched users change, when Graph removes
///   one (`subscriptionRemoved`) or when renewing finds it gone, and
///   reauthorized on `reauthorizationRequired`;
/// - on start, the subscriptions an earlier run left to this notification
///   URL are deleted first (Graph allows one presence subscription per
///   user per app);
/// - a reconcile with `getPresencesByUserId` (app token) every
///   `reconcile_every`, after `missed`, and for users just added, because
///   subscriptions can stop delivering without a word.
///
/// Failed requests are retried after `retry_after`, doubling to 10 min.
/// One thread keeps time; Graph's answers arrive on the HTTP client's.
class presence_watch {
 public:
  struct options {
    std::string notification_url; ///< the gateway's presence webhook
    std::string client_state;     ///< a secret; never logged
    std::string certificate;      ///< base64 DER of the encryption cert
    std::string certificate_id;
    /// Subscriptions are created only with a certificate and a signed-in
    /// service account; the reconcile runs regardless.
    bool subscribe = true;
    std::chrono::seconds lifetime{3600}; ///< Graph's presence maximum
    std::chrono::seconds renew_before{900};
    std::chrono::seconds reconcile_every{300};
    std::chrono::seconds retry_after{30};
    std::size_t ids_per_subscription = 650;
  };

  /// A presence Graph reported, with the Microsoft tenant it came from.
  using sink = std::function<void(const presence&, const std::string& tenant)>;

  presence_watch(options opts, graph_api& graph, router::logger& log,
                 sink on_presence);
  ~presence_watch();
  presence_watch(const presence_watch&) = delete;
  presence_watch& operator=(const presence_watch&) = delete;

  /// The Teams users whose presence matters in Microsoft tenant `tenant`
  /// (the agents with a Teams user id); the subscriptions follow.
  void watch(const std::string& tenant, std::vector<std::string> users);

  /// A lifecycle notification whose clientState matched.
  void on_lifecycle(const change_notification& n);

  /// Starts keeping time.
  void start();
  /// Stops keeping time; when it returns, no presence reaches the sink.
  void stop();

  struct counts {
    std::size_t subscriptions = 0; ///< active now
    std::size_t users = 0;         ///< watched now
    std::uint64_t created = 0;
    std::uint64_t renewed = 0;
    std::uint64_t reauthorized = 0;
    std::uint64_t removed = 0; ///< recreated after Graph removed them
    std::uint64_t reconciles = 0;
    std::uint64_t failures = 0;
  };
  counts current() const;

  /// Graph's expirationDateTime for `t` (UTC, seven fraction digits).
  static std::string iso_time(std::chrono::system_clock::time_point t);
  /// Reads an ISO 8601 UTC date and time (`Z` or `+00:00`); nullopt if not.
  static std::optional<std::chrono::system_clock::time_point>
  parse_iso_time(const std::string& text);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace switchboard::graph
