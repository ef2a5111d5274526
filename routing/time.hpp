#pragma once

#include <chrono>
#include <cstdint>

namespace switchboard::routing {

/// Durations in the routing core: microseconds, signed 64 bit.
using duration = std::chrono::microseconds;

/// A point in time in the routing core. The core never reads a clock: the
/// caller passes `now`, so the same code runs in real and simulated time.
/// Counted from the Unix epoch so persisted times survive restarts.
using timestamp = std::chrono::time_point<std::chrono::system_clock, duration>;

/// Microseconds since the epoch, for persisting and for sort keys.
inline int64_t to_micros(timestamp t) { return t.time_since_epoch().count(); }

inline timestamp from_micros(int64_t us) { return timestamp{duration{us}}; }

} // namespace switchboard::routing
