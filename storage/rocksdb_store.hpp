#pragma once

#include "storage/store.hpp"

#include <memory>
#include <string>

namespace switchboard::storage {

struct store_options {
  /// The database folder; created if missing.
  std::string path = "./data";
  /// Syncs the write-ahead log before acknowledging a write, so that an
  /// acknowledged write survives a power loss. RocksDB groups concurrent
  /// writers into one sync (group commit). Off: survives process crashes.
  bool sync_writes = false;
};

/// The store on RocksDB: one database per node, one column family per
/// `family`. RocksDB errors become `switchboard::ec` errors whose message
/// names the operation, the family and the folder.
class rocksdb_store final : public store {
 public:
  /// Opens (or creates) the database at `options.path`.
  static caf::expected<std::unique_ptr<rocksdb_store>>
  open(const store_options& options);

  ~rocksdb_store() override;

  caf::error write(const batch& b) override;

  caf::expected<std::optional<std::string>> get(family f,
                                                std::string_view key) override;

  caf::error scan_from(family f, std::string_view prefix,
                       std::string_view start, const visitor& visit) override;

  const store_options& options() const { return options_; }

 private:
  struct impl;

  rocksdb_store(store_options options, std::unique_ptr<impl> state);

  store_options options_;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::storage
