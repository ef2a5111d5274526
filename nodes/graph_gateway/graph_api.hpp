#pragma once

#include "nodes/http/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::router {
class logger;
}

namespace switchboard::graph {

class token_store;

/// Microsoft Graph as the bot's app: each request carries an app-only
/// token of the Microsoft tenant it acts in (OAuth 2.0 client credentials
/// from the identity platform), fetched when first needed, kept until a
/// few minutes before it expires, and fetched again once when Graph
/// answers 401. One token request per tenant at a time; the requests that
/// need it wait for it.
///
/// What only a delegated token may do (presence subscriptions) goes
/// `as_user`: the token comes from the service account's refresh token
/// (token_store), and the new refresh token each answer brings replaces
/// the old one at rest.
class graph_api {
 public:
  struct options {
    std::string graph_url; ///< e.g. https://graph.microsoft.com/v1.0
    std::string authority; ///< e.g. https://login.microsoftonline.com
    std::string client_id; ///< the bot's app id
    std::string client_secret;
    /// A token is replaced this long before it expires.
    std::chrono::seconds renew_before{300};
    /// The service account's refresh tokens; null: no delegated requests.
    const token_store* user_tokens = nullptr;
  };

  enum class acting : std::uint8_t { as_app, as_user };

  graph_api(options opts, http::client& client, router::logger& log);

  /// `method` `path` (below graph_url, starting with '/') with a JSON
  /// `body`, as the app in Microsoft tenant `tenant`; `done` gets Graph's
  /// reply, or an error (no token, no connection).
  void send(const std::string& tenant, std::string method, std::string path,
            std::string body, std::function<void(http::reply)> done,
            acting who = acting::as_app);

  /// Delegated scopes asked for with the service account's token: what
  /// presence subscriptions need, and a refresh token.
  static std::string user_scope_of(const std::string& graph_url);

  /// The scope of app-only tokens for graph_url: its origin + "/.default".
  static std::string scope_of(const std::string& graph_url);

  /// True for a tenant id that may go into a URL: letters, digits, '.',
  /// '-', at most 100 characters.
  static bool plausible_tenant(const std::string& tenant);

 private:
  using token_waiter
    = std::function<void(std::string token, std::string error)>;
  struct token_state {
    std::string token;
    std::chrono::steady_clock::time_point expires{};
    bool fetching = false;
    std::vector<token_waiter> waiting;
  };

  void with_token(const std::string& tenant, acting who, bool fresh,
                  token_waiter done);
  void fetch_token(const std::string& tenant, acting who);
  void finish_token(const std::string& tenant, acting who,
                    const std::string& token, std::int64_t expires_in,
                    const std::string& refresh, std::string error);
  void attempt(const std::string& tenant, acting who, std::string method,
               std::string path, std::string body, bool retried,
               std::function<void(http::reply)> done);

  options opts_;
  http::client& client_;
  router::logger& log_;
  std::mutex mutex_;
  std::map<std::pair<std::string, acting>, token_state> tokens_;
};

} // namespace switchboard::graph
