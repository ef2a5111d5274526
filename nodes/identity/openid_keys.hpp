#pragma once

#include "nodes/http/client.hpp"
#include "nodes/identity/key_set.hpp"
#include "nodes/identity/token.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::router {
class logger;
}

namespace switchboard::identity {

/// Checks bearer tokens without blocking: the answer may come later, when
/// keys had to be fetched first. Tests give a fixed key set.
class token_checker {
 public:
  virtual ~token_checker() = default;
  virtual void check(std::string token, std::function<void(token_verdict)> done)
    = 0;
};

/// The signing keys of an OpenID configuration (the calling platform's,
/// or Entra ID's), fetched over HTTPS at start, refreshed every
/// `refresh_every`, and once more when a token names a key not among them
/// (at most once a minute), since keys rotate without notice.
class openid_keys final : public token_checker {
 public:
  struct options {
    std::string configuration_url;
    token_rules rules;
    std::chrono::seconds refresh_every{std::chrono::hours{24}};
    std::chrono::seconds min_refresh_gap{60};
  };

  openid_keys(options opts, http::client& client, router::logger& log);
  ~openid_keys() override;

  /// Fetches the keys now and then every refresh_every.
  void start();

  void check(std::string token,
             std::function<void(token_verdict)> done) override;

  /// The keys held now.
  std::shared_ptr<const key_set> keys() const;

 private:
  void refresh();
  void fetched(std::shared_ptr<const key_set> keys, std::string error);

  options opts_;
  http::client& client_;
  router::logger& log_;
  mutable std::mutex mutex_;
  std::shared_ptr<const key_set> keys_;
  bool refreshing_ = false;
  /// The last refresh an unknown kid asked for.
  std::chrono::steady_clock::time_point last_demand_{};
  bool demanded_ = false;
  /// Checks waiting for the refresh in flight.
  std::vector<std::pair<std::string, std::function<void(token_verdict)>>>
    waiting_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread timer_;
  /// A refresh may be answered after the keys are gone (the client
  /// answers what is in flight when it stops).
  std::shared_ptr<http::lifeline> life_ = std::make_shared<http::lifeline>();
};

/// A fixed key set, for tests and for keys given as files.
class fixed_keys final : public token_checker {
 public:
  fixed_keys(key_set keys, token_rules rules)
    : keys_(std::move(keys)), rules_(std::move(rules)) {}
  void check(std::string token,
             std::function<void(token_verdict)> done) override;

 private:
  key_set keys_;
  token_rules rules_;
};

} // namespace switchboard::identity
