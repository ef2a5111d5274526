// The YAML apply file read from text, and the order its queues are sent in.

#include "nodes/cli/config_file.hpp"

#include <gtest/gtest.h>

using namespace switchboard;

namespace {

std::vector<v1::Queue> queues(const std::string& yaml) {
  std::string error;
  auto tenants = cli::read_config_text(yaml, error);
  EXPECT_TRUE(tenants) << error;
  return tenants && !tenants->empty() ? tenants->front().queues
                                      : std::vector<v1::Queue>{};
}

TEST(cli_config, queues_come_after_the_queues_they_overflow_to) {
  auto qs = queues("tenants:\n  - id: contoso\n    queues:\n"
                   "      - {id: sales, max_wait: 45s, overflow: support}\n"
                   "      - {id: support}\n");
  auto order = cli::in_dependency_order(qs);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->queue_id(), "support");
  EXPECT_EQ(order[1]->queue_id(), "sales");
}

TEST(cli_config, a_queue_listed_twice_is_sent_twice_in_file_order) {
  // Found by the fuzzer: ordering such a file never ended.
  auto qs = queues("tenants:\n  - id: contoso\n    queues:\n"
                   "      - {id: support, name: first}\n"
                   "      - {id: sales, max_wait: 45s, overflow: support}\n"
                   "      - {id: support, name: second}\n");
  auto order = cli::in_dependency_order(qs);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0]->display_name(), "first");
  EXPECT_EQ(order[1]->queue_id(), "sales");
  EXPECT_EQ(order[2]->display_name(), "second");
}

TEST(cli_config, text_that_is_not_yaml_is_an_error) {
  std::string error;
  EXPECT_FALSE(cli::read_config_text("tenants: [", error));
  EXPECT_FALSE(error.empty());
}

} // namespace
