#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/rocksdb_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace switchboard;
using namespace switchboard::storage;
using switchboard::testing::temp_dir;

namespace {

std::unique_ptr<rocksdb_store> open_store(const std::string& path,
                                          bool sync = false) {
  store_options options;
  options.path = path;
  options.sync_writes = sync;
  auto result = rocksdb_store::open(options);
  EXPECT_TRUE(result) << caf::to_string(result.error());
  return result ? std::move(*result) : nullptr;
}

std::optional<std::string> get(store& s, family f, const std::string& key) {
  auto result = s.get(f, key);
  EXPECT_TRUE(result);
  return result ? *result : std::nullopt;
}

std::vector<std::string> scan_keys(store& s, family f,
                                   const std::string& prefix) {
  std::vector<std::string> keys;
  auto err = s.scan(f, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  EXPECT_FALSE(err);
  return keys;
}

} // namespace

TEST(rocksdb_store, keeps_what_it_acknowledged_across_reopening) {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    batch b;
    b.put(family::config, record_key("t1", 'Q', "sales"), "queue record");
    b.put(family::live, record_key("t1", 'C', "call-1"), "call record");
    b.put(family::events, event_key("t1", 1), "event 1");
    b.put(family::idempotency, record_key("t1", 'I', "evt-1"), "ok");
    ASSERT_FALSE(s->write(b));
  }
  auto s = open_store(dir.path());
  EXPECT_EQ(get(*s, family::config, record_key("t1", 'Q', "sales")),
            "queue record");
  EXPECT_EQ(get(*s, family::live, record_key("t1", 'C', "call-1")),
            "call record");
  EXPECT_EQ(get(*s, family::events, event_key("t1", 1)), "event 1");
  EXPECT_EQ(get(*s, family::idempotency, record_key("t1", 'I', "evt-1")), "ok");
}

TEST(rocksdb_store, families_are_separate) {
  temp_dir dir;
  auto s = open_store(dir.path());
  batch b;
  b.put(family::config, "k", "config value");
  ASSERT_FALSE(s->write(b));
  EXPECT_EQ(get(*s, family::config, "k"), "config value");
  EXPECT_EQ(get(*s, family::live, "k"), std::nullopt);
  EXPECT_EQ(get(*s, family::history, "k"), std::nullopt);
}

TEST(rocksdb_store, a_batch_applies_puts_and_erases_together) {
  temp_dir dir;
  auto s = open_store(dir.path());
  batch first;
  first.put(family::live, "call", "queued");
  first.put(family::live, "offer", "open");
  ASSERT_FALSE(s->write(first));
  batch second;
  second.erase(family::live, "offer");
  second.put(family::live, "call", "assigned");
  second.put(family::events, event_key("t", 2), "assigned");
  ASSERT_FALSE(s->write(second));
  EXPECT_EQ(get(*s, family::live, "offer"), std::nullopt);
  EXPECT_EQ(get(*s, family::live, "call"), "assigned");
  EXPECT_EQ(get(*s, family::events, event_key("t", 2)), "assigned");
}

TEST(rocksdb_store, scans_stay_within_one_tenant_in_key_order) {
  temp_dir dir;
  auto s = open_store(dir.path());
  batch b;
  for (auto* tenant : {"a", "ab", "b"})
    for (uint64_t seq : {3, 1, 2})
      b.put(family::events, event_key(tenant, seq), tenant);
  ASSERT_FALSE(s->write(b));
  auto keys = scan_keys(*s, family::events, kind_prefix("a", 'E'));
  ASSERT_EQ(keys.size(), 3u);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(key_tenant(keys[i]), "a");
    EXPECT_EQ(event_sequence(keys[i]), i + 1);
  }
}

TEST(rocksdb_store, a_scan_stops_when_the_visitor_says_so) {
  temp_dir dir;
  auto s = open_store(dir.path());
  batch b;
  for (uint64_t seq = 1; seq <= 10; ++seq)
    b.put(family::events, event_key("t", seq), "e");
  ASSERT_FALSE(s->write(b));
  int seen = 0;
  auto err = s->scan(family::events, kind_prefix("t", 'E'),
                     [&](std::string_view, std::string_view) {
                       return ++seen < 4;
                     });
  EXPECT_FALSE(err);
  EXPECT_EQ(seen, 4);
}

TEST(rocksdb_store, sync_writes_are_readable_and_durable_across_reopening) {
  temp_dir dir;
  {
    auto s = open_store(dir.path(), true);
    ASSERT_TRUE(s->options().sync_writes);
    batch b;
    b.put(family::live, "k", "v");
    ASSERT_FALSE(s->write(b));
  }
  auto s = open_store(dir.path(), true);
  EXPECT_EQ(get(*s, family::live, "k"), "v");
}

TEST(rocksdb_store, a_second_opener_is_told_the_folder_is_busy) {
  temp_dir dir;
  auto first = open_store(dir.path());
  store_options options;
  options.path = dir.path();
  auto second = rocksdb_store::open(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), static_cast<uint8_t>(ec::storage_busy));
  auto text = caf::to_string(second.error());
  EXPECT_NE(text.find(dir.path()), std::string::npos) << text;
  EXPECT_NE(text.find("another node"), std::string::npos) << text;
}

TEST(rocksdb_store, an_unusable_folder_is_named_in_the_error) {
  temp_dir dir;
  auto file = dir / "not-a-folder";
  std::ofstream{file} << "x";
  store_options options;
  options.path = file;
  auto result = rocksdb_store::open(options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), static_cast<uint8_t>(ec::storage_io));
  EXPECT_NE(caf::to_string(result.error()).find(file), std::string::npos);
}

// A writer process is killed with SIGKILL while writing. Every write it
// acknowledged (reported on a pipe after write() returned) must be there
// when the store is opened again; the default (no sync) survives a process
// crash because RocksDB's write-ahead log is in the kernel's page cache.
TEST(rocksdb_store, acknowledged_writes_survive_kill_9) {
  temp_dir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    store_options options;
    options.path = dir.path();
    auto s = rocksdb_store::open(options);
    if (!s)
      _exit(2);
    for (uint64_t seq = 1;; ++seq) {
      batch b;
      b.put(family::events, event_key("t", seq), std::string(100, 'e'));
      b.put(family::live, record_key("t", 'C', "last"), std::to_string(seq));
      if ((*s)->write(b))
        _exit(3);
      if (write(fds[1], &seq, sizeof seq) != sizeof seq)
        _exit(4);
    }
  }
  close(fds[1]);
  uint64_t acknowledged = 0;
  uint64_t seq = 0;
  while (acknowledged < 2000 && read(fds[0], &seq, sizeof seq) == sizeof seq)
    acknowledged = seq;
  kill(child, SIGKILL);
  // Acknowledgements already in the pipe count too.
  while (read(fds[0], &seq, sizeof seq) == sizeof seq)
    acknowledged = seq;
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself";
  ASSERT_GE(acknowledged, 2000u);

  auto s = open_store(dir.path());
  auto keys = scan_keys(*s, family::events, kind_prefix("t", 'E'));
  ASSERT_GE(keys.size(), acknowledged);
  for (uint64_t i = 0; i < acknowledged; ++i)
    ASSERT_EQ(event_sequence(keys[i]), i + 1) << "event " << i + 1 << " lost";
  auto last = get(*s, family::live, record_key("t", 'C', "last"));
  ASSERT_TRUE(last);
  EXPECT_GE(std::stoull(*last), acknowledged);
}
