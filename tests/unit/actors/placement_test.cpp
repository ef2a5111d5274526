#include "actors/placement.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace switchboard;

namespace {

std::vector<std::string> tenants(size_t n) {
  std::vector<std::string> result;
  for (size_t i = 0; i < n; ++i)
    result.push_back("tenant-" + std::to_string(i));
  return result;
}

} // namespace

TEST(placement, every_node_computes_the_same_owner_whatever_the_order) {
  std::vector<std::string> a{"router-0", "router-1", "router-2"};
  std::vector<std::string> b{"router-2", "router-0", "router-1"};
  for (auto& t : tenants(200))
    EXPECT_EQ(owner_of(t, a), owner_of(t, b)) << t;
  EXPECT_EQ(owner_of("contoso", {}), "");
  EXPECT_EQ(owner_of("contoso", {"solo"}), "solo");
}

TEST(placement, the_weights_do_not_change_between_builds) {
  // Stored tenants are found by recomputing their owner: a change of the
  // hash would move every tenant on an upgrade. The value is FNV-1a of
  // "router-0\0contoso" through splitmix64's finalizer.
  EXPECT_EQ(placement_weight("router-0", "contoso"),
            placement_weight("router-0", "contoso"));
  EXPECT_NE(placement_weight("router-0", "contoso"),
            placement_weight("router-1", "contoso"));
  EXPECT_NE(placement_weight("router-0", "contoso"),
            placement_weight("router-0contoso", ""));
  EXPECT_EQ(placement_weight("router-0", "contoso"), 0xd4ed1ba4fe2e050eULL);
}

TEST(placement, tenants_spread_evenly_over_three_nodes) {
  std::vector<std::string> members{"router-0", "router-1", "router-2"};
  std::map<std::string, size_t> per_node;
  for (auto& t : tenants(3000))
    per_node[owner_of(t, members)]++;
  ASSERT_EQ(per_node.size(), 3u);
  for (auto& [node, n] : per_node) {
    EXPECT_GT(n, 900u) << node;
    EXPECT_LT(n, 1100u) << node;
  }
}

TEST(placement, a_fourth_node_takes_only_its_own_share) {
  std::vector<std::string> three{"router-0", "router-1", "router-2"};
  auto four = three;
  four.push_back("router-3");
  size_t moved = 0;
  for (auto& t : tenants(4000)) {
    auto before = owner_of(t, three);
    auto after = owner_of(t, four);
    if (before != after) {
      // A tenant that moves goes to the new node, never between old ones.
      EXPECT_EQ(after, "router-3") << t;
      ++moved;
    }
  }
  EXPECT_GT(moved, 850u);
  EXPECT_LT(moved, 1150u);
}
