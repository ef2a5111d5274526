#pragma once

// What the web edge serves: the built app (static files, read once at
// start), the API's unary methods bridged to the router, the event
// WebSocket, and what the app needs to sign in. Every API request carries
// the user's bearer token, checked here as the router checks it before it
// goes on; no token, no data.

#include "nodes/http/server.hpp"
#include "nodes/web/bridge.hpp"

#include <atomic>
#include <map>
#include <string>

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
};

} // namespace switchboard::web
