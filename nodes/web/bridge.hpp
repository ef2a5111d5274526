#pragma once

// The app's API bridged to the router's gRPC API, as the signed-in user:
// each unary method as POST /api/v1/<Service>/<Method> with the request
// in JSON (protobuf's JSON mapping, field names as in the .proto), and
// the event stream of one tenant as a WebSocket. The user's own token goes
// with every call, so the router's roles decide what each person may do.
// gRPC and protobuf stay inside bridge.cpp.

#include "nodes/tls/grpc_credentials.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace switchboard::web {

/// The answer to one API call: an HTTP status and a JSON body (the
/// response, or `{"error": {"code", "message"}}`).
struct api_answer {
  unsigned status = 200;
  std::string body;
};

/// One open event stream; dropping it ends the stream.
class event_stream {
 public:
  virtual ~event_stream() = default;
};

class bridge {
 public:
  struct options {
    std::string router;
    tls::client_options router_tls;
    std::chrono::seconds deadline{10};
  };

  /// `error` names what is wrong with the router's TLS files; the bridge
  /// is then unusable.
  bridge(const options& opts, std::string& error);
  ~bridge();
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// Calls `service`.`method` (e.g. "RoutingService", "SetAgentReady")
  /// with `json` as `token`'s user; `done` runs once, on a gRPC thread.
  void call(const std::string& service, const std::string& method,
            const std::string& json, const std::string& token,
            std::function<void(api_answer)> done);

  /// Opens the events of `tenant_id` after `from_sequence` as `token`'s
  /// user: `on_event` gets each as JSON; `on_end` once, with the error
  /// when the router ended it (as JSON), and never after the stream was
  /// dropped.
  std::unique_ptr<event_stream>
  subscribe(const std::string& tenant_id, std::uint64_t from_sequence,
            const std::string& token, std::function<void(std::string)> on_event,
            std::function<void(std::string)> on_end);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::web
