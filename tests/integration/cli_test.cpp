// The switchboard command line against a real node: the example contact
// center applied, read back, and a bad file refused with its line.

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace switchboard::testing;
using namespace std::chrono_literals;

namespace {

const std::string router_binary = SWITCHBOARD_ROUTER_PATH;
const std::string cli_binary = SWITCHBOARD_CLI_PATH;
const std::string example = SWITCHBOARD_EXAMPLE_PATH;

/// Runs the CLI to its end; returns its exit status and output lines.
std::pair<int, std::vector<std::string>> cli(const std::string& server,
                                             std::vector<std::string> args) {
  args.insert(args.begin(), {"--server", server});
  process p{cli_binary, args, true};
  auto code = p.wait();
  return {code, p.lines()};
}

bool has_line(const std::vector<std::string>& lines, const std::string& text) {
  for (auto& l : lines)
    if (l.find(text) != std::string::npos)
      return true;
  return false;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& l : lines)
    out += l + "\n";
  return out;
}

class cli_test : public ::testing::Test {
 protected:
  void SetUp() override {
    node = std::make_unique<process>(
      router_binary, std::vector<std::string>{
                       "--data-dir", dir / "data", "--grpc-listen",
                       "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"});
    auto line = node->wait_for_line("\"msg\":\"serving\"", 30s);
    ASSERT_TRUE(line);
    server = json_field(*line, "grpc");
  }

  temp_dir dir;
  std::unique_ptr<process> node;
  std::string server;
};

} // namespace

TEST_F(cli_test, applies_the_example_and_reads_it_back) {
  auto [code, out] = cli(server, {"apply", "-f", example});
  ASSERT_EQ(code, 0) << joined(out);
  EXPECT_TRUE(
    has_line(out, "tenant contoso: 4 queues, 10 agents, 3 classification rules "
                  "applied"));
  EXPECT_TRUE(has_line(out, "tenant fabrikam: 1 queues, 4 agents applied"));

  auto [qcode, queues] = cli(server, {"get", "queues", "-t", "contoso"});
  ASSERT_EQ(qcode, 0) << joined(queues);
  EXPECT_TRUE(has_line(queues, "skill.spanish >= 60 relax after 30s"))
    << joined(queues);
  EXPECT_TRUE(has_line(queues, "support")) << joined(queues);

  auto [acode, agents] = cli(server, {"get", "agents", "-t", "fabrikam"});
  ASSERT_EQ(acode, 0);
  ASSERT_EQ(agents.size(), 5u) << joined(agents); // header and four agents
  EXPECT_TRUE(has_line(agents, "Offline")) << joined(agents);

  auto [scode, stats]
    = cli(server, {"stats", "queue", "sales", "-t", "contoso"});
  ASSERT_EQ(scode, 0);
  EXPECT_TRUE(has_line(stats, "waiting            0")) << joined(stats);

  // Applying again changes nothing and succeeds (idempotent).
  EXPECT_EQ(cli(server, {"apply", "-f", example}).first, 0);
}

TEST_F(cli_test, a_bad_file_is_refused_with_its_line_before_anything_is_sent) {
  auto file = dir / "bad.yaml";
  std::ofstream{file} << "tenants:\n"
                         "  - id: acme\n"
                         "    queues:\n"
                         "      - id: sales\n"
                         "        mod: best_skill\n";
  auto [code, out] = cli(server, {"apply", "-f", file});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has_line(out, "line 5: tenants[0].queues[0].mod: unknown key"))
    << joined(out);
  // Nothing was sent: the tenant does not exist.
  auto [gcode, got] = cli(server, {"get", "queues", "-t", "acme"});
  EXPECT_EQ(gcode, 1);
  EXPECT_TRUE(has_line(got, "NOT_FOUND: tenant 'acme' does not exist"))
    << joined(got);
}

TEST_F(cli_test, names_the_node_it_cannot_reach) {
  node->stop();
  auto [code, out] = cli(server, {"get", "queues", "-t", "contoso"});
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(has_line(out, "UNAVAILABLE")) << joined(out);
  EXPECT_TRUE(has_line(out, "(is a node serving on " + server + "?)"))
    << joined(out);
}

TEST_F(cli_test, every_yaml_example_in_the_routing_guide_applies) {
  // docs/routing.md explains each feature with a complete file; each one
  // must be accepted as written.
  std::ifstream in{SWITCHBOARD_ROUTING_GUIDE_PATH};
  ASSERT_TRUE(in) << SWITCHBOARD_ROUTING_GUIDE_PATH;
  std::vector<std::string> examples;
  std::string line;
  std::string current;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      current.clear();
    } else if (inside && line == "```") {
      inside = false;
      examples.push_back(current);
    } else if (inside) {
      current += line + "\n";
    }
  }
  ASSERT_GE(examples.size(), 12u);
  for (size_t i = 0; i < examples.size(); ++i) {
    auto file = dir / ("example-" + std::to_string(i) + ".yaml");
    std::ofstream{file} << examples[i];
    auto [code, out] = cli(server, {"apply", "-f", file});
    EXPECT_EQ(code, 0) << "example " << i + 1 << " of docs/routing.md:\n"
                       << examples[i] << joined(out);
  }
}
