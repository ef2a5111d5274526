#pragma once

#include "nodes/http/message.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace switchboard::http {

/// Sends the response to one request, from any thread, once. A responder
/// dropped without sending answers 500, so a request never hangs.
class responder {
 public:
  struct state;

  explicit responder(std::shared_ptr<state> s) : state_(std::move(s)) {}

  void send(response r) const;

 private:
  std::shared_ptr<state> state_;
};

/// Called on a server thread for each request; must not block: answer at
/// once or hand the responder to whoever will.
using handler = std::function<void(request, responder)>;

/// One WebSocket connection as its handler sees it. send() and close() may
/// be called from any thread; messages leave in the order sent. A
/// connection whose client does not read (more than max_queued_bytes
/// waiting) is closed rather than let its queue grow.
class websocket {
 public:
  struct state;

  explicit websocket(std::shared_ptr<state> s) : state_(std::move(s)) {}

  /// Sends one text message; false once the connection is closed.
  bool send(std::string text) const;
  /// Closes with a normal close frame carrying `reason` (at most 120
  /// bytes are sent).
  void close(std::string reason = {}) const;

 private:
  std::shared_ptr<state> state_;
};

/// What a WebSocket handler does with its connection's traffic: both
/// called on a server thread, never at the same time for one connection.
struct websocket_callbacks {
  /// Each text message received.
  std::function<void(std::string)> on_message;
  /// Once, when the connection ends (either side, or an error).
  std::function<void()> on_close;
};

/// Called for a request asking to upgrade to a WebSocket on one of the
/// paths given to accept_websockets(): returns the callbacks of the
/// accepted connection. Must not block.
using websocket_handler
  = std::function<websocket_callbacks(const request&, websocket)>;

/// An HTTP/1.1 server on Boost.Beast, with TLS when a certificate is
/// given: one session object per connection, requests read one at a time,
/// bounded in size and time. The Graph gateway and the web edge both
/// serve through it.
class server {
 public:
  struct options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: any free port (see port())
    /// PEM files; both empty: plain HTTP.
    std::string certificate_file;
    std::string key_file;
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    /// A connection idle this long, or a request not fully read within
    /// it, is closed.
    std::chrono::seconds idle_timeout{60};
    unsigned threads = 1;
    /// The largest WebSocket message read; above it the connection is
    /// closed (1009, message too big).
    std::size_t max_websocket_message_bytes = 64 << 10;
    /// Bytes a WebSocket may have waiting to be written before it is
    /// closed as too slow.
    std::size_t max_queued_bytes = 8 << 20;
  };

  server(options opts, handler h);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Upgrades requests for `path` to WebSockets handled by `h` (before
  /// start()); other requests for it go to the request handler.
  void accept_websockets(std::string path, websocket_handler h);

  /// Binds and starts serving; "" on success, otherwise why not (the
  /// address, the port, the certificate).
  std::string start();

  /// Reads the certificate and key again (after a rotation on disk); new
  /// connections use them. "" on success; on failure the old ones stay.
  std::string reload_certificates();

  /// The bound port, after start().
  std::uint16_t port() const noexcept;

  /// HTTP responses written since the server was made, by status class:
  /// [1] 1xx ... [5] 5xx ([0] unused). WebSocket messages are not counted.
  using response_counts = std::array<std::atomic<std::uint64_t>, 6>;
  const response_counts& responses() const noexcept;

  bool tls() const noexcept;

  /// Stops accepting, closes connections and joins the threads.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::http
