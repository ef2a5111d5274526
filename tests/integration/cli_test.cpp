// The switchboard command line against a real node: the example contact
// center applied, read back, and a bad file refused with its line; lists
// of thousands read to their end; agents' load and figures.

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

using namespace switchboard;
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

std::unique_ptr<grpc::ClientContext> ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + 30s);
  return c;
}

/// Runs `make(i)` for i in [0, n) on a few threads; false if one failed.
bool in_parallel(size_t n, const std::function<grpc::Status(size_t)>& make) {
  std::atomic<size_t> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (size_t i; ok && (i = next++) < n;) {
        auto st = make(i);
        if (!st.ok()) {
          ADD_FAILURE() << i << ": " << st.error_message();
          ok = false;
        }
      }
    });
  for (auto& t : threads)
    t.join();
  return ok;
}

/// The rows of a listing: its lines but the header.
std::vector<std::string> rows(const std::vector<std::string>& lines) {
  return {lines.begin() + (lines.empty() ? 0 : 1), lines.end()};
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
    auto channel
      = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
    admin = v1::AdminService::NewStub(channel);
    routing = v1::RoutingService::NewStub(channel);
  }

  temp_dir dir;
  std::unique_ptr<process> node;
  std::string server;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::RoutingService::Stub> routing;
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

  auto [rcode, rules] = cli(server, {"get", "rules", "-t", "contoso"});
  ASSERT_EQ(rcode, 0) << joined(rules);
  ASSERT_EQ(rules.size(), 5u) << joined(rules); // header, three, default
  EXPECT_TRUE(has_line(rules, "spanish-speakers     spanish          0        "
                              "attribute.language equals es"))
    << joined(rules);
  EXPECT_TRUE(has_line(rules, "attribute.ivr_choice in 1,sales"))
    << joined(rules);
  EXPECT_TRUE(has_line(rules, "default queue: support")) << joined(rules);

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

TEST_F(cli_test, lists_of_thousands_are_read_to_their_end) {
  // More than two pages of the node's largest (1,000), of agents and of
  // waiting calls: no agent is signed in, so every call waits.
  constexpr size_t agents = 2'500;
  constexpr size_t calls = 2'200;
  v1::UpsertTenantRequest tr;
  tr.mutable_tenant()->set_tenant_id("big");
  v1::Tenant tout;
  ASSERT_TRUE(admin->UpsertTenant(ctx().get(), tr, &tout).ok());
  v1::UpsertQueueRequest qr;
  qr.mutable_queue()->set_tenant_id("big");
  qr.mutable_queue()->set_queue_id("line");
  v1::Queue qout;
  ASSERT_TRUE(admin->UpsertQueue(ctx().get(), qr, &qout).ok());
  ASSERT_TRUE(in_parallel(agents, [&](size_t i) {
    v1::UpsertAgentRequest req;
    req.mutable_agent()->set_tenant_id("big");
    req.mutable_agent()->set_agent_id("agent-" + std::to_string(i));
    req.mutable_agent()->add_queue_ids("line");
    v1::AgentView out;
    return admin->UpsertAgent(ctx().get(), req, &out);
  }));
  ASSERT_TRUE(in_parallel(calls, [&](size_t i) {
    v1::SubmitCallRequest req;
    req.mutable_call()->set_tenant_id("big");
    req.mutable_call()->set_call_id("call-" + std::to_string(i));
    req.mutable_call()->set_queue_id("line");
    v1::SubmitCallResponse out;
    return routing->SubmitCall(ctx().get(), req, &out);
  }));

  auto [acode, listed_agents] = cli(server, {"get", "agents", "-t", "big"});
  ASSERT_EQ(acode, 0) << joined(listed_agents);
  std::set<std::string> agent_ids;
  for (auto& row : rows(listed_agents))
    agent_ids.insert(row.substr(0, row.find(' ')));
  EXPECT_EQ(rows(listed_agents).size(), agents);
  EXPECT_EQ(agent_ids.size(), agents);
  EXPECT_EQ(agent_ids.count("agent-0"), 1u);
  EXPECT_EQ(agent_ids.count("agent-2499"), 1u);

  auto [ccode, listed_calls] = cli(server, {"get", "calls", "-t", "big"});
  ASSERT_EQ(ccode, 0) << joined(listed_calls);
  std::set<std::string> call_ids;
  for (auto& row : rows(listed_calls))
    call_ids.insert(row.substr(0, row.find(' ')));
  EXPECT_EQ(rows(listed_calls).size(), calls);
  EXPECT_EQ(call_ids.size(), calls);

  // The queue's statistics agree with the listing.
  auto [scode, stats] = cli(server, {"stats", "queue", "line", "-t", "big"});
  ASSERT_EQ(scode, 0) << joined(stats);
  EXPECT_TRUE(has_line(stats, "waiting            2200 ")) << joined(stats);

  // A limit lists that many and says how many more there are.
  auto [lcode, limited]
    = cli(server, {"get", "agents", "-t", "big", "--limit", "10"});
  ASSERT_EQ(lcode, 0) << joined(limited);
  ASSERT_EQ(limited.size(), 12u) << joined(limited); // header, 10, the rest
  EXPECT_EQ(limited.back(),
            "... and 2490 more agents (2500 in all; --limit 0 lists every "
            "one)");
  auto [kcode, few_calls]
    = cli(server, {"get", "calls", "-t", "big", "--limit", "2200"});
  ASSERT_EQ(kcode, 0);
  EXPECT_EQ(few_calls.size(), calls + 1) << "no 'more' line at the limit";
}

TEST_F(cli_test, agents_show_their_load_against_capacity_and_todays_figures) {
  ASSERT_EQ(cli(server, {"apply", "-f", example}).first, 0);
  // Kim takes a voice call: all of her capacity (voice costs 100 of 100).
  v1::SetAgentPresenceRequest p;
  p.set_tenant_id("fabrikam");
  p.set_agent_id("kim");
  p.set_presence(v1::PRESENCE_AVAILABLE);
  v1::AgentView view;
  ASSERT_TRUE(routing->SetAgentPresence(ctx().get(), p, &view).ok());
  v1::SetAgentReadyRequest r;
  r.set_tenant_id("fabrikam");
  r.set_agent_id("kim");
  r.set_ready(true);
  ASSERT_TRUE(routing->SetAgentReady(ctx().get(), r, &view).ok());
  v1::SubmitCallRequest s;
  s.mutable_call()->set_tenant_id("fabrikam");
  s.mutable_call()->set_call_id("c1");
  s.mutable_call()->set_queue_id("helpdesk");
  v1::SubmitCallResponse submitted;
  ASSERT_TRUE(routing->SubmitCall(ctx().get(), s, &submitted).ok());
  ASSERT_EQ(submitted.call().state(), v1::CALL_STATE_OFFERED);
  v1::AcceptOfferRequest a;
  a.set_tenant_id("fabrikam");
  a.set_call_id("c1");
  a.set_agent_id("kim");
  a.set_offer_id(submitted.call().offer().offer_id());
  v1::CallView call;
  ASSERT_TRUE(routing->AcceptOffer(ctx().get(), a, &call).ok());

  auto [code, agents] = cli(server, {"get", "agents", "-t", "fabrikam"});
  ASSERT_EQ(code, 0) << joined(agents);
  ASSERT_EQ(agents.size(), 5u) << joined(agents);
  EXPECT_NE(agents[0].find("LOAD"), std::string::npos) << agents[0];
  std::string kim, leo;
  for (auto& l : agents) {
    if (l.rfind("kim ", 0) == 0)
      kim = l;
    if (l.rfind("leo ", 0) == 0)
      leo = l;
  }
  EXPECT_NE(kim.find(" 100/100 "), std::string::npos) << kim;
  EXPECT_NE(kim.find("voice 1/1 chat 0/3 email 0/1 message 0/3"),
            std::string::npos)
    << kim;
  EXPECT_NE(leo.find(" 0/100 "), std::string::npos) << leo;
  EXPECT_NE(leo.find("voice 0/1"), std::string::npos) << leo;

  auto [scode, stats]
    = cli(server, {"stats", "agent", "kim", "-t", "fabrikam"});
  ASSERT_EQ(scode, 0) << joined(stats);
  EXPECT_TRUE(has_line(stats, "agent fabrikam/kim, today (")) << joined(stats);
  EXPECT_TRUE(has_line(stats, "now                Available, ready, BUSY"))
    << joined(stats);
  EXPECT_TRUE(has_line(stats, "load               100/100 units (voice 1/1"))
    << joined(stats);
  EXPECT_TRUE(has_line(stats, "handled            0")) << joined(stats);
  EXPECT_TRUE(has_line(stats, "occupancy")) << joined(stats);

  auto [ucode, unknown]
    = cli(server, {"stats", "agent", "nobody", "-t", "fabrikam"});
  EXPECT_EQ(ucode, 1);
  EXPECT_TRUE(has_line(unknown, "NOT_FOUND")) << joined(unknown);
}

TEST_F(cli_test, figures_people_compare_are_to_the_millisecond) {
  ASSERT_EQ(cli(server, {"apply", "-f", example}).first, 0);
  auto [code, stats]
    = cli(server, {"stats", "queue", "sales", "-t", "contoso"});
  ASSERT_EQ(code, 0) << joined(stats);
  // "  speed of answer    0.000s average", "  waiting   0 (longest 0.000s)"
  EXPECT_TRUE(has_line(stats, "speed of answer    0.000s average"))
    << joined(stats);
  EXPECT_TRUE(has_line(stats, "(longest 0.000s)")) << joined(stats);

  // A call that waited and was cancelled: its wait in the history CSV to
  // the millisecond.
  v1::SubmitCallRequest s;
  s.mutable_call()->set_tenant_id("contoso");
  s.mutable_call()->set_call_id("c1");
  s.mutable_call()->set_queue_id("sales");
  v1::SubmitCallResponse submitted;
  ASSERT_TRUE(routing->SubmitCall(ctx().get(), s, &submitted).ok());
  v1::CancelCallRequest c;
  c.set_tenant_id("contoso");
  c.set_call_id("c1");
  v1::CallView view;
  ASSERT_TRUE(routing->CancelCall(ctx().get(), c, &view).ok());
  auto [hcode, csv]
    = cli(server, {"history", "-t", "contoso", "--format", "csv"});
  ASSERT_EQ(hcode, 0) << joined(csv);
  ASSERT_EQ(csv.size(), 2u) << joined(csv);
  // ...,wait_s,talk_s,offers: "0.004,,0"
  auto fields = csv[1].substr(csv[1].rfind(',', csv[1].size() - 4) + 1);
  EXPECT_EQ(fields.substr(fields.size() - 3), ",,0") << csv[1];
  auto wait = fields.substr(0, fields.size() - 3);
  ASSERT_GE(wait.size(), 5u) << csv[1];
  EXPECT_EQ(wait[wait.size() - 4], '.') << csv[1];
}

TEST_F(cli_test, sets_an_agents_presence_and_readiness) {
  ASSERT_EQ(cli(server, {"apply", "-f", example}).first, 0);
  auto [code, out] = cli(server, {"agent", "alice", "-t", "contoso",
                                  "--presence", "available", "--ready", "yes"});
  ASSERT_EQ(code, 0) << joined(out);
  EXPECT_TRUE(has_line(out, "agent contoso/alice: Available, ready"))
    << joined(out);
  v1::GetAgentRequest req;
  req.set_tenant_id("contoso");
  req.set_agent_id("alice");
  v1::AgentView view;
  grpc::ClientContext c;
  ASSERT_TRUE(admin->GetAgent(&c, req, &view).ok());
  EXPECT_EQ(view.state().presence(), v1::PRESENCE_AVAILABLE);
  EXPECT_TRUE(view.state().ready());

  auto [ncode, not_ready] = cli(server, {"agent", "alice", "-t", "contoso",
                                         "--ready", "no", "--reason", "lunch"});
  ASSERT_EQ(ncode, 0) << joined(not_ready);
  EXPECT_TRUE(has_line(not_ready, "agent contoso/alice: Available, not ready "
                                  "(lunch)"))
    << joined(not_ready);

  // Bad values are named; an unknown agent is the node's NOT_FOUND.
  auto [bcode, bad]
    = cli(server, {"agent", "alice", "-t", "contoso", "--presence", "sleepy"});
  EXPECT_EQ(bcode, 2);
  EXPECT_TRUE(has_line(bad, "--presence: expected a Teams presence"))
    << joined(bad);
  auto [ucode, unknown]
    = cli(server, {"agent", "nobody", "-t", "contoso", "--ready", "yes"});
  EXPECT_NE(ucode, 0);
  EXPECT_TRUE(has_line(unknown, "nobody")) << joined(unknown);
}
