#pragma once

// What the web edge serves: the built app (static files, read once at
// start), the API's unary methods bridged to the router, the event
// WebSocket, and what the app needs to sign in. Every API request carries
// the user's bearer token, checked here as the router checks it before it
// goes on; no token, no data.

#include "nodes/http/server.hpp"
#include "nodes/web/bridge.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::identity {
class token_checker;
} // namespace switchboard::identity

namespace switchboard::router {
class logger;
} // namespace switchboard::router

namespace switchboard::web {

class site {
 public:
  struct options {
    std::string app_dir;
    /// Checks users' tokens; null: nobody can sign in (401 to every API
    /// request, naming the setting).
    identity::token_checker* tokens = nullptr;
    /// A laptop's demo: POST /api/v1/demo/sign-in gives anyone a session
    /// as whoever they name, and the router is called without a token.
    bool demo_sign_in = false;
    /// What /api/v1/config tells the app.
    std::string client_id;
    std::string authority;
    std::string api_scope;
  };

  site(options opts, bridge& api, router::logger& log);

  /// Reads the app's files; "" or why the app cannot be served (it is
  /// then answered with 503 naming the directory).
  std::string load_app();
  std::size_t app_files() const { return files_.size(); }

  void handle(http::request req, http::responder out);
  http::websocket_callbacks events(const http::request& req,
                                   http::websocket ws);

  /// WebSocket connections open now.
  std::size_t open_streams() const { return open_streams_.load(); }

 private:
  /// Who a request comes from, once their token is checked.
  struct user {
    std::string name;
    std::string object_id;
    std::string microsoft_tenant_id;
    std::vector<std::string> roles;
    std::int64_t expires_at = 0;
    /// What goes to the router: the user's own token; none in a demo.
    std::string token;
  };
  /// `done` gets the user, or (name empty) why the token is refused.
  void identify(const std::string& token,
                std::function<void(user, std::string)> done);
  void demo_sign_in(const http::request& req, const http::responder& out);

  struct file {
    std::string content_type;
    std::string body;
  };

  void serve_file(const http::request& req, const http::responder& out) const;
  void api(http::request req, http::responder out);

  options opts_;
  bridge& api_;
  router::logger& log_;
  std::map<std::string, file> files_;
  std::string load_error_;
  std::atomic<std::size_t> open_streams_{0};
  std::mutex demo_mutex_;
  std::map<std::string, user> demo_sessions_;
};

} // namespace switchboard::web
