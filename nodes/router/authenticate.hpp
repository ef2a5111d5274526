#pragma once

// Who sent a gRPC request: the bearer token of its `authorization`
// metadata, checked against Entra ID's keys, or else the client
// certificate of its TLS connection.

#include "nodes/router/access.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace grpc {
class ServerContextBase;
class Status;
} // namespace grpc

namespace switchboard::identity {
class token_checker;
struct token_verdict;
} // namespace switchboard::identity

namespace switchboard::router {

class authenticator {
 public:
  struct options {
    /// Checks bearer tokens; none: tokens are refused.
    identity::token_checker* tokens = nullptr;
    /// The provider's Microsoft tenant: only its tokens carry the
    /// platform role.
    std::string platform_tenant;
    /// Client certificates are verified (mutual TLS): their URI names
    /// grant roles.
    bool certificates = false;
    /// Runs an answer that came on another thread (the keys' HTTP client,
    /// after a refresh) somewhere requests may run; none: where it came.
    std::function<void(std::function<void()>)> defer;
  };

  /// The caller, or the status that refuses the request
  /// (UNAUTHENTICATED with the reason, or PERMISSION_DENIED for a
  /// certificate that grants no role).
  using outcome = std::function<void(const grpc::Status&, access::principal)>;

  explicit authenticator(options opts);
  ~authenticator();

  /// Whether requests are checked at all; if not, everyone is
  /// unrestricted (a developer's loopback node).
  bool enabled() const noexcept {
    return opts_.tokens != nullptr || opts_.certificates;
  }

  /// Finds the caller of the request of `ctx`; `done` runs on this thread
  /// or, when keys had to be fetched first, on another, but always while
  /// the request is still open.
  void authenticate(const grpc::ServerContextBase& ctx, outcome done);

 private:
  void check_token(std::string token, outcome done);
  /// Caches an accepted token and answers `done`.
  void accepted(std::string key, const identity::token_verdict& verdict,
                const outcome& done);

  options opts_;
  struct cached {
    access::principal who;
    std::int64_t expires_at = 0;
  };
  /// Tokens verified already, until they expire: a client sends the same
  /// token with every request, and an RS256 check costs tens of µs.
  std::mutex mtx_;
  std::unordered_map<std::string, cached> verified_;
};

} // namespace switchboard::router
