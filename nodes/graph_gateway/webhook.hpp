#pragma once

#include "nodes/graph_gateway/notification_crypto.hpp"
#include "nodes/graph_gateway/notifications.hpp"
#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "nodes/identity/token.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::router {
class logger;
}

namespace switchboard::identity {
class token_checker;
}

namespace switchboard::graph {

using identity::token_checker;

/// What the webhooks hand on, each on the server's thread (a receiver
/// queues it to an actor and returns).
struct webhook_sinks {
  /// Call notifications of one POST, with the verified token's claims
  /// (its tenant is the Microsoft tenant the calls belong to).
  std::function<void(std::vector<call_notification>,
                     const identity::token_claims&)>
    calls;
  /// A presence change, decrypted, with the subscription's tenant.
  std::function<void(presence, const change_notification&)> presence;
  /// A lifecycle notification (reauthorizationRequired, subscriptionRemoved,
  /// missed) whose clientState matched.
  std::function<void(const change_notification&)> lifecycle;
};

/// Counts of what the webhooks did, for /metrics and tests.
struct webhook_counts {
  std::atomic<std::uint64_t> call_posts{0};
  std::atomic<std::uint64_t> unauthorized{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> validations{0};
  std::atomic<std::uint64_t> presence_changes{0};
  std::atomic<std::uint64_t> wrong_client_state{0};
  std::atomic<std::uint64_t> undecryptable{0};
  std::atomic<std::uint64_t> lifecycle{0};
  std::atomic<std::uint64_t> invalid_validation_tokens{0};
};

/// The gateway's HTTPS endpoints, without sockets (the server feeds it):
///
/// - POST `calls_path`: call notifications to the bot. The bearer token is
///   checked first (a bad or missing one: 401 with the reason, and nothing
///   goes on); a body that is not a notification: 400; otherwise 202 at
///   once and the notifications go to `sinks.calls`.
/// - POST `presence_path`: presence change and lifecycle notifications.
///   With `?validationToken=` it is Graph's validation of a new
///   subscription: 200, text/plain, the decoded token. Otherwise every
///   notification's clientState is compared (in constant time) with the
///   configured one; a wrong one is dropped without effect. A batch with
///   encrypted resource data is taken only when every one of its
///   `validationTokens` verifies (this app's audience, Graph change
///   tracking's app, the notifications' tenant); its data is decrypted.
///   202 at once.
/// - GET /healthz: 200.
class webhook {
 public:
  struct options {
    std::string calls_path = "/api/calls";
    std::string presence_path = "/api/presence";
    /// The clientState the gateway gives its subscriptions; a secret.
    std::string client_state;
    /// Checks rich notifications' `validationTokens` (issued by the
    /// identity platform to this app for Microsoft Graph change
    /// tracking); null: not checked.
    token_checker* validation = nullptr;
    /// The app the validation tokens are issued by (their `azp`).
    std::string change_tracking_app = "0bf30f3b-4a52-48df-9a82-234910c4a086";
  };

  webhook(options opts, token_checker& tokens, decryption_keys keys,
          webhook_sinks sinks, router::logger& log);
  /// Waits for a token check's answer being handled; the answers still
  /// to come find the webhook gone and do nothing.
  ~webhook();

  webhook(const webhook&) = delete;
  webhook& operator=(const webhook&) = delete;

  void handle(http::request req, http::responder res);

  const webhook_counts& counts() const noexcept { return counts_; }

 private:
  void calls(http::request req, http::responder res);
  void presence(http::request req, http::responder res);
  void changes(const change_notifications& batch, const std::string& from);

  options opts_;
  token_checker& tokens_;
  decryption_keys keys_;
  webhook_sinks sinks_;
  router::logger& log_;
  webhook_counts counts_;
  /// A token check may answer after the webhook is gone (a key refresh
  /// outlasting the shutdown).
  std::shared_ptr<http::lifeline> life_ = std::make_shared<http::lifeline>();
};

} // namespace switchboard::graph
