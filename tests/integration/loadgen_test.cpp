// switchboard-loadgen against a real node: it leaves the node as it found
// it, counts a refused submit as an error and not as a waiting call, and
// stops at once with an error when the node dies.

#include "tests/support/router_fixture.hpp"

#include <cctype>

using namespace switchboard;
using namespace switchboard::testing;

namespace {

const std::string loadgen_binary = SWITCHBOARD_LOADGEN_PATH;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& l : lines)
    out += l + "\n";
  return out;
}

/// Every whole number in `text`, in order.
std::vector<long long> numbers(const std::string& text) {
  std::vector<long long> out;
  for (size_t i = 0; i < text.size();) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
      ++i;
      continue;
    }
    size_t end = text.find_first_not_of("0123456789", i);
    if (end == std::string::npos)
      end = text.size();
    out.push_back(std::stoll(text.substr(i, end - i)));
    i = end;
  }
  return out;
}

/// The number right after `label` and spaces, wherever it first appears;
/// -1 if none.
long long figure(const std::vector<std::string>& lines,
                 const std::string& label) {
  for (auto& l : lines) {
    auto at = l.find(label);
    if (at == std::string::npos)
      continue;
    auto rest = l.substr(at + label.size());
    auto start = rest.find_first_not_of(' ');
    if (start == std::string::npos
        || std::isdigit(static_cast<unsigned char>(rest[start])) == 0)
      continue;
    return numbers(rest.substr(start)).front();
  }
  return -1;
}

/// The numbers after each `label` in `line`.
std::vector<long long> figures(const std::string& line,
                               const std::string& label) {
  std::vector<long long> out;
  for (auto at = line.find(label); at != std::string::npos;
       at = line.find(label, at + 1)) {
    auto rest = line.substr(at + label.size());
    auto start = rest.find_first_not_of(' ');
    if (start != std::string::npos
        && std::isdigit(static_cast<unsigned char>(rest[start])) != 0)
      out.push_back(numbers(rest.substr(start)).front());
  }
  return out;
}

bool has(const std::vector<std::string>& lines, const std::string& text) {
  for (auto& l : lines)
    if (l.find(text) != std::string::npos)
      return true;
  return false;
}

class loadgen_test : public ::testing::Test {
 protected:
  void SetUp() override {
    n = std::make_unique<node>(dir);
    process apply{
      cli_binary,
      {"--server", n->address, "apply", "-f", SWITCHBOARD_EXAMPLE_PATH},
      true};
    ASSERT_EQ(apply.wait(), 0) << joined(apply.lines());
  }

  /// Starts the load generator against the node with `args`.
  std::unique_ptr<process> loadgen(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", n->address, "--metrics",
                               "127.0.0.1:" + std::to_string(n->metrics_port)});
    return std::make_unique<process>(loadgen_binary, args, true);
  }

  std::vector<v1::CallView> calls(const std::string& tenant) {
    v1::ListCallsRequest req;
    req.set_tenant_id(tenant);
    req.set_page_size(1000);
    v1::ListCallsResponse resp;
    auto st = n->routing->ListCalls(ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.calls().begin(), resp.calls().end()};
  }

  std::vector<v1::AgentView> agents(const std::string& tenant) {
    v1::ListAgentsRequest req;
    req.set_tenant_id(tenant);
    req.set_page_size(1000);
    v1::ListAgentsResponse resp;
    auto st = n->admin->ListAgents(ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.agents().begin(), resp.agents().end()};
  }

  temp_dir dir;
  std::unique_ptr<node> n;
};

} // namespace

TEST_F(loadgen_test, leaves_the_node_as_it_found_it) {
  // Callers who never hang up and agents who talk for hours: when the
  // arrivals end (no drain), calls wait and agents talk, and the load
  // generator must end them all and sign the agents out again.
  auto lg = loadgen({"--tenant",
                     "contoso",
                     "--tenant",
                     "fabrikam",
                     "--time-scale",
                     "60",
                     "--duration",
                     "120",
                     "--rate",
                     "1",
                     "--talk",
                     "36000",
                     "--fixed-talk",
                     "--patience",
                     "1000000",
                     "--ring-min",
                     "0",
                     "--ring-max",
                     "1",
                     "--decline-share",
                     "0",
                     "--breaks-per-hour",
                     "0",
                     "--drain",
                     "0"});
  auto code = lg->wait();
  auto& out = lg->lines();
  EXPECT_EQ(code, 0) << joined(out);
  EXPECT_TRUE(has(out, "ended at the end")) << joined(out);
  EXPECT_TRUE(has(out, "errors                   none")) << joined(out);
  bool reported = false;
  for (auto& l : out)
    if (l.find("ended at the end") != std::string::npos) {
      // "N cancelled (waiting or ringing), N completed (talking), N
      // wrap-ups ended; N agents given back their state"
      reported = true;
      auto got = numbers(l);
      ASSERT_EQ(got.size(), 4u) << l;
      EXPECT_EQ(got[3], 14) << l; // every agent of both tenants
    }
  EXPECT_TRUE(reported) << joined(out);

  // Nothing of the run is left: no call waits, rings, talks or wraps up.
  for (auto* tenant : {"contoso", "fabrikam"})
    for (auto& c : calls(tenant))
      ADD_FAILURE() << tenant << ": call " << c.call().call_id() << " left "
                    << v1::CallState_Name(c.state());
  // The agents are as the configuration left them: Offline, not ready.
  for (auto* tenant : {"contoso", "fabrikam"})
    for (auto& a : agents(tenant)) {
      EXPECT_EQ(a.state().presence(), v1::PRESENCE_OFFLINE)
        << a.agent().agent_id();
      EXPECT_FALSE(a.state().ready()) << a.agent().agent_id();
      EXPECT_EQ(a.state().activity(), v1::AGENT_ACTIVITY_IDLE)
        << a.agent().agent_id();
    }
}

TEST_F(loadgen_test, a_refused_submit_is_an_error_not_a_waiting_call) {
  // A queue of two places and nobody to answer: the third caller on is
  // refused (RESOURCE_EXHAUSTED) and must not count as waiting.
  v1::UpsertTenantRequest tr;
  tr.mutable_tenant()->set_tenant_id("small");
  v1::Tenant tout;
  ASSERT_TRUE(n->admin->UpsertTenant(ctx().get(), tr, &tout).ok());
  v1::UpsertQueueRequest qr;
  qr.mutable_queue()->set_tenant_id("small");
  qr.mutable_queue()->set_queue_id("line");
  qr.mutable_queue()->set_max_length(2);
  v1::Queue qout;
  ASSERT_TRUE(n->admin->UpsertQueue(ctx().get(), qr, &qout).ok());

  auto lg
    = loadgen({"--tenant", "small", "--time-scale", "60", "--duration", "120",
               "--rate", "1", "--patience", "1000000", "--drain", "0"});
  auto code = lg->wait();
  auto& out = lg->lines();
  EXPECT_EQ(code, 3) << joined(out); // errors
  auto offered = figure(out, "calls offered");
  auto refused = figure(out, "refused at submit");
  EXPECT_EQ(offered, 2) << joined(out);
  EXPECT_GT(refused, 0) << joined(out);
  EXPECT_TRUE(has(out, "RESOURCE_EXHAUSTED " + std::to_string(refused)))
    << joined(out);
  // The progress line never counts more waiting than the queue holds.
  for (auto& l : out)
    for (auto waiting : figures(l, "waiting "))
      EXPECT_LE(waiting, 2) << l;
  EXPECT_TRUE(has(out, "ended at the end         2 cancelled")) << joined(out);
  EXPECT_TRUE(calls("small").empty());
}

TEST_F(loadgen_test, stops_at_once_with_errors_when_the_node_dies) {
  auto lg = loadgen({"--tenant", "contoso", "--duration", "3600", "--rate",
                     "20", "--give-up", "1"});
  ASSERT_TRUE(lg->wait_for_line("driving ", 30s)) << joined(lg->lines());
  n->kill();
  // The run was to last an hour: it ends because the node is gone.
  auto code = lg->wait();
  auto& out = lg->lines();
  EXPECT_EQ(code, 4) << joined(out);
  EXPECT_TRUE(has(out, "stopped answering")) << joined(out);
  EXPECT_TRUE(has(out, "UNAVAILABLE")) << joined(out);
  EXPECT_GT(figure(out, "refused at submit"), 0) << joined(out);
}
