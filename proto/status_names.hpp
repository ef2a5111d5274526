#pragma once

// gRPC status codes by name, as logs, metrics and the command line print
// them.

#include <grpcpp/support/status.h>

#include <array>
#include <cstddef>

namespace switchboard::api {

/// "OK", "INVALID_ARGUMENT", "NOT_FOUND", ...
inline const char* status_code_name(grpc::StatusCode code) {
  static constexpr std::array<const char*, 17> names{"OK",
                                                     "CANCELLED",
                                                     "UNKNOWN",
                                                     "INVALID_ARGUMENT",
                                                     "DEADLINE_EXCEEDED",
                                                     "NOT_FOUND",
                                                     "ALREADY_EXISTS",
                                                     "PERMISSION_DENIED",
                                                     "RESOURCE_EXHAUSTED",
                                                     "FAILED_PRECONDITION",
                                                     "ABORTED",
                                                     "OUT_OF_RANGE",
                                                     "UNIMPLEMENTED",
                                                     "INTERNAL",
                                                     "UNAVAILABLE",
                                                     "DATA_LOSS",
                                                     "UNAUTHENTICATED"};
  auto i = static_cast<size_t>(code);
  return i < names.size() ? names[i] : "UNKNOWN";
}

} // namespace switchboard::api
