#include "storage/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using namespace switchboard::storage;

TEST(keys, no_tenant_prefix_is_a_prefix_of_another) {
  std::vector<std::string> tenants{"a",
                                   "ab",
                                   "abc",
                                   "b",
                                   "",
                                   "a/b",
                                   "a\0b",
                                   std::string(300, 'x'),
                                   std::string(301, 'x')};
  std::mt19937_64 rng{1};
  for (int i = 0; i < 200; ++i) {
    std::string t;
    auto n = rng() % 6;
    for (size_t j = 0; j < n; ++j)
      t += static_cast<char>(rng() % 4); // small alphabet: many near-misses
    tenants.push_back(t);
  }
  for (auto& x : tenants)
    for (auto& y : tenants) {
      if (x == y)
        continue;
      auto px = tenant_prefix(x);
      auto py = tenant_prefix(y);
      EXPECT_NE(py.rfind(px, 0), 0u)
        << "prefix of '" << x << "' starts '" << y << "''s prefix";
      // ... and so no record of y falls in a scan of x.
      auto key = record_key(y, 'Q', x);
      EXPECT_NE(key.rfind(px, 0), 0u);
    }
}

TEST(keys, records_carry_their_tenant) {
  auto key = record_key("contoso", 'A', "agent-7");
  EXPECT_EQ(key_tenant(key), "contoso");
  EXPECT_EQ(key.rfind(kind_prefix("contoso", 'A'), 0), 0u);
  EXPECT_NE(key.rfind(kind_prefix("contoso", 'Q'), 0), 0u);
  EXPECT_EQ(key_tenant("\x00"), std::nullopt);
  EXPECT_EQ(key_tenant(std::string("\x00\x09"
                                   "short",
                                   7)),
            std::nullopt);
}

TEST(keys, events_sort_by_sequence) {
  std::vector<uint64_t> sequences{0,     1,     2,          255,  256,
                                  65535, 65536, 1ull << 40, ~0ull};
  std::vector<std::string> keys;
  for (auto s : sequences)
    keys.push_back(event_key("t", s));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  for (auto s : sequences)
    EXPECT_EQ(event_sequence(event_key("t", s)), s);
  EXPECT_EQ(event_sequence(record_key("t", 'Q', "12345678")), std::nullopt);
}
