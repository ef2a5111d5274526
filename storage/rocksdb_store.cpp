#include "storage/rocksdb_store.hpp"

#include "storage/error.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>

namespace switchboard::storage {

namespace {

constexpr std::array<const char*, family_count> family_names{
  "config", "live", "events", "history", "idempotency"};

/// Converts a RocksDB status into an error naming what was being done.
caf::error to_error(const rocksdb::Status& s, const std::string& what) {
  auto text = what + ": " + s.ToString();
  if (s.IsCorruption())
    return caf::make_error(ec::storage_corrupt, std::move(text));
  // RocksDB reports a held LOCK file as an IO error.
  if (s.IsBusy() || s.ToString().find("lock") != std::string::npos)
    return caf::make_error(ec::storage_busy,
                           std::move(text)
                             + " (is another node using this data folder?)");
  return caf::make_error(ec::storage_io, std::move(text));
}

} // namespace

const char* to_string(family f) { return family_names[static_cast<size_t>(f)]; }

store::~store() = default;

struct rocksdb_store::impl {
  std::unique_ptr<rocksdb::DB> db;
  /// Index = family; owned, destroyed before `db`.
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::ColumnFamilyHandle* default_family = nullptr;
  rocksdb::WriteOptions write_options;

  ~impl() {
    if (db) {
      for (auto* handle : families)
        // Ignored on purpose: closing a handle only fails for the default
        // family, which is not in this list.
        static_cast<void>(db->DestroyColumnFamilyHandle(handle));
      static_cast<void>(db->DestroyColumnFamilyHandle(default_family));
      // Close flushes nothing we need (the WAL has every write); its error
      // can only be reported, and the destructor has nobody to report to.
      static_cast<void>(db->Close());
    }
  }

  rocksdb::ColumnFamilyHandle* handle(family f) const {
    return families[static_cast<size_t>(f)];
  }
};

rocksdb_store::rocksdb_store(store_options options, std::unique_ptr<impl> state)
  : options_(std::move(options)), impl_(std::move(state)) {}

rocksdb_store::~rocksdb_store() = default;

caf::expected<std::unique_ptr<rocksdb_store>>
rocksdb_store::open(const store_options& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  rocksdb::ColumnFamilyOptions family_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, family_options);
  for (auto* name : family_names)
    descriptors.emplace_back(name, family_options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto status
    = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!status.ok())
    return to_error(status, "opening the store in " + options.path);
  auto state = std::make_unique<impl>();
  state->db.reset(raw);
  state->default_family = handles.front();
  state->families.assign(handles.begin() + 1, handles.end());
  state->write_options.sync = options.sync_writes;
  return std::unique_ptr<rocksdb_store>{
    new rocksdb_store(options, std::move(state))};
}

caf::error rocksdb_store::write(const batch& b) {
  rocksdb::WriteBatch wb;
  for (auto& e : b.entries()) {
    auto status = e.range
                    ? wb.DeleteRange(impl_->handle(e.family), e.key, e.value)
                  : e.erase ? wb.Delete(impl_->handle(e.family), e.key)
                            : wb.Put(impl_->handle(e.family), e.key, e.value);
    if (!status.ok())
      return to_error(status, std::string{"preparing a write to "}
                                + to_string(e.family) + " in " + options_.path);
  }
  auto status = impl_->db->Write(impl_->write_options, &wb);
  if (!status.ok())
    return to_error(status, "writing " + std::to_string(b.entries().size())
                              + " records to " + options_.path);
  return caf::none;
}

caf::expected<std::optional<std::string>>
rocksdb_store::get(family f, std::string_view key) {
  std::string value;
  auto status = impl_->db->Get(rocksdb::ReadOptions{}, impl_->handle(f),
                               rocksdb::Slice{key.data(), key.size()}, &value);
  if (status.IsNotFound())
    return std::optional<std::string>{};
  if (!status.ok())
    return to_error(status, std::string{"reading from "} + to_string(f) + " in "
                              + options_.path);
  return std::optional<std::string>{std::move(value)};
}

caf::error rocksdb_store::scan_from(family f, std::string_view prefix,
                                    std::string_view start,
                                    const visitor& visit) {
  rocksdb::ReadOptions read_options;
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(read_options, impl_->handle(f))};
  rocksdb::Slice within{prefix.data(), prefix.size()};
  auto from = std::max(prefix, start);
  for (it->Seek({from.data(), from.size()});
       it->Valid() && it->key().starts_with(within); it->Next()) {
    auto key = it->key();
    auto value = it->value();
    if (!visit({key.data(), key.size()}, {value.data(), value.size()}))
      break;
  }
  if (!it->status().ok())
    return to_error(it->status(), std::string{"scanning "} + to_string(f)
                                    + " in " + options_.path);
  return caf::none;
}

} // namespace switchboard::storage
