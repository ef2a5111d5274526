#pragma once

#include "nodes/http/message.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace switchboard::http {

/// An outgoing request.
struct outgoing {
  std::string method = "GET";
  std::string url;
  header_list headers;
  std::string body;
  /// The whole exchange, connecting included.
  std::chrono::milliseconds timeout{10'000};
};

/// What came back: a response, or why none did (`error` set, status 0).
struct reply {
  response value;
  std::string error;
  std::chrono::microseconds elapsed{0};

  bool ok() const noexcept { return error.empty(); }
};

/// An HTTP client on libcurl's multi interface: one thread runs every
/// transfer, connections are reused, HTTP/2 where the server offers it,
/// peers and host names always verified. Completions are called on that
/// thread and must not block.
/// For an object whose requests may be answered after it is gone (the
/// client answers what is still in flight when it stops): its answers
/// run under `m`, and only while `alive`; its destructor clears `alive`
/// under `m`.
struct lifeline {
  std::mutex m;
  bool alive = true;
};

class client {
 public:
  struct options {
    /// PEM bundle of the authorities to trust; "" for the system's.
    std::string ca_file;
    /// A client certificate and key (PEM files), for mutual TLS.
    std::string certificate_file;
    std::string key_file;
    /// Responses above this size fail, not grow without bound.
    std::size_t max_response_bytes = 4 << 20;
    long max_connections = 64;
  };

  explicit client(options opts);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Queues `req`; `done` is called once, with a response or an error.
  void send(outgoing req, std::function<void(reply)> done);

  /// Transfers queued or running.
  std::size_t in_flight() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::http
