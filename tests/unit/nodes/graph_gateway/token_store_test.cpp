// The service account's refresh tokens at rest, and the subscription
// times Graph reads and writes.

#include "nodes/graph_gateway/presence_watch.hpp"
#include "nodes/graph_gateway/token_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace switchboard;
using switchboard::testing::temp_dir;

namespace {

constexpr const char* tenant = "632899f8-2ea1-4604-8413-27bd2892079f";
constexpr const char* other = "11111111-2222-3333-4444-555555555555";

std::string read(const std::string& path) {
  std::ifstream in{path};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(token_store, a_sealed_token_opens_with_its_key_and_is_not_kept_clear) {
  temp_dir dir;
  graph::token_store store{dir / "tokens", "a key of enough length"};
  ASSERT_EQ(store.problem(), "");
  std::string error;
  EXPECT_FALSE(store.load(tenant, error));
  EXPECT_EQ(error, "") << "never signed in is not an error";

  ASSERT_EQ(store.save(tenant, "refresh-token-secret-1"), "");
  EXPECT_EQ(read(store.path_of(tenant)).find("refresh-token-secret"),
            std::string::npos);
  auto opened = store.load(tenant, error);
  ASSERT_TRUE(opened) << error;
  EXPECT_EQ(*opened, "refresh-token-secret-1");

  // Rotation replaces it.
  ASSERT_EQ(store.save(tenant, "refresh-token-secret-2"), "");
  EXPECT_EQ(store.load(tenant, error).value_or(""), "refresh-token-secret-2");
  EXPECT_EQ(std::filesystem::status(store.path_of(tenant)).permissions()
              & std::filesystem::perms::all,
            std::filesystem::perms::owner_read
              | std::filesystem::perms::owner_write);
}

TEST(token_store, another_key_another_tenant_or_a_changed_file_does_not_open) {
  temp_dir dir;
  graph::token_store store{dir / "tokens", "a key of enough length"};
  ASSERT_EQ(store.save(tenant, "refresh-token"), "");
  std::string error;

  graph::token_store wrong_key{dir / "tokens", "another key, same length"};
  EXPECT_FALSE(wrong_key.load(tenant, error));
  EXPECT_NE(error.find("does not open with this token key"), std::string::npos)
    << error;

  // Copied to another tenant's name: bound to its tenant, it does not open.
  std::filesystem::copy_file(store.path_of(tenant), store.path_of(other));
  EXPECT_FALSE(store.load(other, error));
  EXPECT_NE(error.find("does not open"), std::string::npos) << error;

  // One character of the sealed text changed.
  auto text = read(store.path_of(tenant));
  auto at = text.find('\n') + 5;
  text[at] = text[at] == 'A' ? 'B' : 'A';
  std::ofstream{store.path_of(tenant)} << text;
  EXPECT_FALSE(store.load(tenant, error));
  EXPECT_NE(error, "");
}

TEST(token_store, a_missing_or_short_key_and_a_bad_tenant_are_named) {
  temp_dir dir;
  EXPECT_NE(graph::token_store(dir / "t", "").problem().find("no key"),
            std::string::npos);
  EXPECT_NE(graph::token_store(dir / "t", "short").problem().find("shorter"),
            std::string::npos);
  graph::token_store store{dir / "tokens", "a key of enough length"};
  EXPECT_NE(store.save("../escape", "x").find("not a Microsoft tenant id"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "escape.token"));
}

TEST(subscription_time, is_written_as_graph_writes_it_and_read_back) {
  using clock = std::chrono::system_clock;
  auto t = clock::from_time_t(1'700'000'000);
  EXPECT_EQ(graph::presence_watch::iso_time(t), "2023-11-14T22:13:20.0000000Z");
  EXPECT_EQ(
    graph::presence_watch::parse_iso_time("2023-11-14T22:13:20.0000000Z"), t);
  EXPECT_EQ(graph::presence_watch::parse_iso_time("2023-11-14T22:13:20+00:00"),
            t);
  // The published samples' spellings.
  EXPECT_TRUE(
    graph::presence_watch::parse_iso_time("2016-11-22T18:23:45.9356913Z"));
  EXPECT_TRUE(
    graph::presence_watch::parse_iso_time("2019-09-18T00:52:45.9696658+00:00"));
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20+02:00",
                          "2023-13-14T22:13:20Z", "tomorrow at noon....."})
    EXPECT_FALSE(graph::presence_watch::parse_iso_time(bad)) << bad;
}

} // namespace
