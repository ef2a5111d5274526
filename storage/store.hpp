#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::storage {

/// The kinds of data a node keeps, one column family each.
enum class family : uint8_t {
  /// Tenants, queues, agents, classification rules.
  config,
  /// Calls in progress, agent state, open offers.
  live,
  /// The event log, per tenant in sequence order.
  events,
  /// Finished calls.
  history,
  /// Idempotency keys of accepted commands and their outcomes.
  idempotency,
};

inline constexpr size_t family_count = 5;

const char* to_string(family f);

/// One atomic change across families: a state change, its event and its
/// idempotency key are written together or not at all.
class batch {
 public:
  struct entry {
    storage::family family;
    bool erase;
    std::string key;
    std::string value;
    /// With erase: every key from `key` (inclusive) to `value`
    /// (exclusive).
    bool range = false;
  };

  void put(family f, std::string key, std::string value) {
    entries_.push_back({f, false, std::move(key), std::move(value)});
  }

  void erase(family f, std::string key) {
    entries_.push_back({f, true, std::move(key), {}});
  }

  /// Erases every key in [begin, end).
  void erase_range(family f, std::string begin, std::string end) {
    entries_.push_back({f, true, std::move(begin), std::move(end), true});
  }

  const std::vector<entry>& entries() const { return entries_; }

  bool empty() const { return entries_.empty(); }

 private:
  std::vector<entry> entries_;
};

/// Called per record of a scan; returns false to stop.
using visitor
  = std::function<bool(std::string_view key, std::string_view value)>;

/// A node's durable store. The real one is `rocksdb_store`; this interface
/// lets tests put something else at the boundary.
class store {
 public:
  virtual ~store();

  /// Writes `b` atomically. Once this returns no error the change survives
  /// a process crash, and with sync writes a power loss.
  virtual caf::error write(const batch& b) = 0;

  /// The value of `key`, or nothing if absent.
  virtual caf::expected<std::optional<std::string>> get(family f,
                                                        std::string_view key)
    = 0;

  /// Visits every record whose key starts with `prefix`, in key order.
  caf::error scan(family f, std::string_view prefix, const visitor& visit) {
    return scan_from(f, prefix, prefix, visit);
  }

  /// Visits the records whose key starts with `prefix`, in key order, from
  /// the first key at or after `start`.
  virtual caf::error scan_from(family f, std::string_view prefix,
                               std::string_view start, const visitor& visit)
    = 0;
};

} // namespace switchboard::storage
