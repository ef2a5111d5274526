// switchboard-bench-graph: the Graph gateway under load, on this machine.
//
// A real switchboard-router and switchboard-graph-gateway, and the stand-in
// Graph and identity service of the tests (tests/support/graph_standin.hpp)
// over HTTPS on 127.0.0.1, measure:
//
//   memory      the gateway's RSS with --waiting calls answered and waiting
//               in queue (no agent), minus its RSS before them, per call;
//   latency     --calls incoming calls at --rate a second, each to a ready
//               agent: from the stand-in posting the incoming-call
//               notification to the stand-in receiving the gateway's
//               participants/invite for that call (p50, p99, max);
//   throughput  --notifications presence change notifications (encrypted,
//               clientState checked, decrypted, SetAgentPresence) and as
//               many call notifications (bearer token checked, roster read
//               by the call's actor) posted with --window in flight.
//
// Beside each, in the same run, its baseline: the same client posting the
// same bodies to a bare HTTPS server on the same certificate that answers
// 202 at once (the transport's limit on this machine), and that server's
// round trip for the latency.

#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/graph_standin.hpp"
#include "tests/support/http.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_keys.hpp"

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"
#include "switchboard/v1/stats.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace switchboard;
using namespace switchboard::testing;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr const char* busy_tenant = "632899f8-2ea1-4604-8413-27bd2892079f";
constexpr const char* quiet_tenant = "9d1e6f55-2c4b-4a0e-9bb7-7a1e7c5d2f10";

std::string field(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\":\"");
  if (at == std::string::npos)
    return {};
  at += key.size() + 4;
  return line.substr(at, line.find('"', at) - at);
}

long rss_kib(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

// Posts `bodies` to `url` with `window` in flight; the seconds it took,
// and how many were answered 2xx.
std::pair<double, std::size_t> blast(http::client& client,
                                     const std::string& url,
                                     const std::vector<std::string>& bodies,
                                     const std::string& authorization,
                                     std::size_t window) {
  std::mutex m;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  std::size_t ok = 0;
  auto start = steady::now();
  for (const auto& body : bodies) {
    {
      std::unique_lock<std::mutex> lock{m};
      cv.wait(lock, [&] {
        return in_flight < window;
      });
      ++in_flight;
    }
    http::outgoing req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}};
    if (!authorization.empty())
      req.headers.push_back({"Authorization", authorization});
    req.body = body;
    client.send(std::move(req), [&](http::reply r) {
      std::lock_guard<std::mutex> lock{m};
      --in_flight;
      ok += r.ok() && r.value.status / 100 == 2 ? 1 : 0;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock{m};
  cv.wait(lock, [&] {
    return in_flight == 0;
  });
  return {std::chrono::duration<double>(steady::now() - start).count(), ok};
}

struct settings {
  std::string build = "build/bench";
  int agents = 300;
  int calls = 300;
  double rate = 50;
  int notifications = 20000;
  int window = 64;
  int waiting = 2000;
  std::string json;
  bool smoke = false;
};

int run(const settings& s) {
  temp_dir dir;
  test_authority ca{dir.path(), "bench-ca"};
  if (!ca.ok() || !ca.sign("standin") || !ca.sign("gateway")
      || !ca.sign("presence-cert")) {
    std::cerr << "bench: cannot make the test certificates (openssl)\n";
    return 1;
  }
  std::ofstream{dir / "client-secret"} << "standin-client-secret\n";
  std::ofstream{dir / "client-state"} << "presence-state\n";

  process router{s.build + "/nodes/router/switchboard-router",
                 {"--data-dir", dir / "data", "--grpc-listen", "127.0.0.1:0",
                  "--metrics-listen", "127.0.0.1:0"}};
  auto serving = router.wait_for_line("\"msg\":\"serving\"", 60s);
  if (!serving) {
    std::cerr << "bench: the router did not start\n";
    return 1;
  }
  auto address = field(*serving, "grpc");
  // The nodes' output is read all along: a full pipe would stop them.
  std::atomic<bool> finished{false};
  std::thread router_drain{[&] {
    while (!finished)
      router.wait_for_line("\x01", 500ms);
  }};
  auto channel
    = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto admin = v1::AdminService::NewStub(channel);
  auto routing = v1::RoutingService::NewStub(channel);
  auto stats = v1::StatsService::NewStub(channel);
  auto ok = [](const grpc::Status& st, const char* what) {
    if (!st.ok())
      std::cerr << "bench: " << what << ": " << st.error_message() << "\n";
    return st.ok();
  };
  // busy: agents ready for the latency run; quiet: none, calls wait.
  for (auto [tenant, ms] :
       {std::pair{"busy", busy_tenant}, std::pair{"quiet", quiet_tenant}}) {
    grpc::ClientContext c1, c2, c3;
    v1::UpsertTenantRequest t;
    t.mutable_tenant()->set_tenant_id(tenant);
    t.mutable_tenant()->set_microsoft_tenant_id(ms);
    v1::Tenant tout;
    v1::UpsertQueueRequest q;
    q.mutable_queue()->set_tenant_id(tenant);
    q.mutable_queue()->set_queue_id("sales");
    v1::Queue qout;
    v1::UpsertClassificationRulesRequest r;
    r.set_tenant_id(tenant);
    r.set_default_queue_id("sales");
    v1::ClassificationRules rout;
    if (!ok(admin->UpsertTenant(&c1, t, &tout), "tenant")
        || !ok(admin->UpsertQueue(&c2, q, &qout), "queue")
        || !ok(admin->UpsertClassificationRules(&c3, r, &rout), "rules"))
      return 1;
  }
  for (int i = 0; i < s.agents; ++i) {
    auto id = "a" + std::to_string(i);
    grpc::ClientContext c1, c2, c3;
    v1::UpsertAgentRequest a;
    a.mutable_agent()->set_tenant_id("busy");
    a.mutable_agent()->set_agent_id(id);
    a.mutable_agent()->set_teams_user_id("agent-oid-" + std::to_string(i));
    a.mutable_agent()->add_queue_ids("sales");
    v1::AgentView out;
    v1::SetAgentPresenceRequest p;
    p.set_tenant_id("busy");
    p.set_agent_id(id);
    p.set_presence(v1::PRESENCE_AVAILABLE);
    v1::SetAgentReadyRequest rd;
    rd.set_tenant_id("busy");
    rd.set_agent_id(id);
    rd.set_ready(true);
    if (!ok(admin->UpsertAgent(&c1, a, &out), "agent")
        || !ok(routing->SetAgentPresence(&c2, p, &out), "presence")
        || !ok(routing->SetAgentReady(&c3, rd, &out), "ready"))
      return 1;
  }

  graph_standin standin{dir / "standin.pem", dir / "standin.key"};
  if (auto error = standin.start(); !error.empty()) {
    std::cerr << "bench: the stand-in Graph did not start: " << error << "\n";
    return 1;
  }
  standin.forget_requests();
  auto port = free_port();
  auto metrics_port = free_port();
  auto base = "https://127.0.0.1:" + std::to_string(port);
  standin.connect_bot(base + "/api/calls", ca.certificate(),
                      SWITCHBOARD_GRAPH_FIXTURES, busy_tenant);
  process gateway{s.build + "/nodes/graph_gateway/switchboard-graph-gateway",
                  {"--listen",
                   "127.0.0.1:" + std::to_string(port),
                   "--certificate",
                   dir / "gateway.pem",
                   "--private-key",
                   dir / "gateway.key",
                   "--app-id",
                   "bot-app-id",
                   "--openid-configuration",
                   standin.openid_configuration_url(),
                   "--graph-url",
                   standin.graph_url(),
                   "--authority",
                   standin.authority(),
                   "--ca-file",
                   ca.certificate(),
                   "--client-secret-file",
                   dir / "client-secret",
                   "--router",
                   address,
                   "--tenants",
                   "busy,quiet",
                   "--callback-url",
                   base + "/api/calls",
                   "--client-state-file",
                   dir / "client-state",
                   "--presence-private-key",
                   dir / "presence-cert.key",
                   "--presence-certificate-id",
                   "presence-cert",
                   "--metrics-listen",
                   "127.0.0.1:" + std::to_string(metrics_port),
                   "--log-level",
                   "warn"}};
  std::thread gateway_drain{[&] {
    while (!finished)
      gateway.wait_for_line("\x01", 500ms);
  }};
  // At warn, "serving" is not logged: wait for the endpoint instead.
  http::client::options copts;
  copts.ca_file = ca.certificate();
  copts.max_connections = s.window;
  http::client client{copts};
  auto healthy = [&] {
    http::outgoing req;
    req.url = base + "/healthz";
    std::promise<bool> done;
    auto f = done.get_future();
    client.send(std::move(req), [&done](http::reply r) {
      done.set_value(r.ok() && r.value.status == 200);
    });
    return f.get();
  };
  for (int i = 0; i < 300 && !healthy(); ++i)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(2s); // tenants read, keys fetched
  auto gateway_pid = gateway.pid();

  // ---- memory: calls waiting in queue -------------------------------------
  auto idle = rss_kib(gateway_pid);
  std::mutex m;
  std::condition_variable cv;
  std::map<std::string, steady::time_point> offered_at;
  std::vector<double> latencies;
  standin.observe([&](const http::request& req) {
    static const std::string calls = "/v1.0/communications/calls/";
    if (req.path.rfind(calls, 0) != 0)
      return;
    auto rest = req.path.substr(calls.size());
    auto slash = rest.find('/');
    auto id = rest.substr(0, slash);
    auto action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    std::lock_guard<std::mutex> lock{m};
    if (action == "participants/invite") {
      auto i = offered_at.find(id);
      if (i != offered_at.end()) {
        latencies.push_back(
          std::chrono::duration<double, std::milli>(steady::now() - i->second)
            .count());
        offered_at.erase(i);
        cv.notify_all();
      }
    }
  });
  auto waiting = s.smoke ? 20 : s.waiting;
  for (int i = 0; i < waiting; ++i) {
    standin.incoming_call("wait-" + std::to_string(i), quiet_tenant);
    if (i % 50 == 49)
      std::this_thread::sleep_for(50ms);
  }
  // Until every one is in the gateway and the engine has them all.
  auto calls_held = [&] {
    auto text = http_get(metrics_port, "/metrics");
    auto at = text.find("\nswitchboard_graph_calls ");
    return at == std::string::npos ? 0 : std::stol(text.substr(at + 25));
  };
  auto queued = [&] {
    grpc::ClientContext c;
    v1::GetQueueStatsRequest q;
    q.set_tenant_id("quiet");
    q.set_queue_id("sales");
    v1::QueueStats out;
    return stats->GetQueueStats(&c, q, &out).ok()
             ? static_cast<long>(out.waiting())
             : -1L;
  };
  for (int i = 0; i < 600 && (calls_held() < waiting || queued() < waiting);
       ++i)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(1s);
  auto loaded = rss_kib(gateway_pid);
  auto held = calls_held();
  double per_call_kib
    = held > 0 ? static_cast<double>(loaded - idle) / static_cast<double>(held)
               : 0;
  std::printf("memory: %ld calls waiting: RSS %ld KiB -> %ld KiB, %.1f KiB "
              "per waiting call (engine has %ld waiting)\n",
              held, idle, loaded, per_call_kib, queued());

  // ---- latency: incoming call -> invite -------------------------------------
  int calls = s.smoke ? 10 : std::min(s.calls, s.agents);
  auto gap = std::chrono::duration<double>(1.0 / s.rate);
  auto start = steady::now();
  for (int i = 0; i < calls; ++i) {
    std::this_thread::sleep_until(
      start + std::chrono::duration_cast<steady::duration>(gap * i));
    auto id = "lat-" + std::to_string(i);
    {
      std::lock_guard<std::mutex> lock{m};
      offered_at[id] = steady::now();
    }
    standin.incoming_call(id, busy_tenant);
  }
  {
    std::unique_lock<std::mutex> lock{m};
    cv.wait_for(lock, 30s, [&] {
      return offered_at.empty();
    });
  }
  std::vector<double> lat;
  {
    std::lock_guard<std::mutex> lock{m};
    lat = latencies;
  }

  // Baseline: the round trip of one notification-sized HTTPS POST to a
  // bare server, one at a time.
  http::server::options bare_opts;
  bare_opts.certificate_file = dir / "gateway.pem";
  bare_opts.key_file = dir / "gateway.key";
  http::server bare{bare_opts, [](http::request, http::responder res) {
                      res.send(
                        http::make_response(202, "application/json", ""));
                    }};
  bare.start();
  auto bare_url
    = "https://127.0.0.1:" + std::to_string(bare.port()) + "/api/calls";
  std::vector<double> bare_rtt;
  for (int i = 0; i < std::max(calls, 50); ++i) {
    http::outgoing req;
    req.method = "POST";
    req.url = bare_url;
    req.body = std::string(1800, 'x');
    std::promise<void> done;
    auto f = done.get_future();
    auto t0 = steady::now();
    client.send(std::move(req), [&done](http::reply) {
      done.set_value();
    });
    f.get();
    bare_rtt.push_back(
      std::chrono::duration<double, std::milli>(steady::now() - t0).count());
  }
  std::printf("latency: %zu of %d calls invited; incoming -> invite p50 %.2f "
              "ms, p99 %.2f ms, max %.2f ms (bare HTTPS round trip p50 %.2f "
              "ms, p99 %.2f ms)\n",
              lat.size(), calls, percentile(lat, 0.5), percentile(lat, 0.99),
              percentile(lat, 1.0), percentile(bare_rtt, 0.5),
              percentile(bare_rtt, 0.99));

  // ---- throughput: presence and call notifications --------------------------
  int n = s.smoke ? 200 : s.notifications;
  auto presence_key = [&] {
    std::ifstream in{dir / "presence-cert.pem"};
    std::stringstream text;
    text << in.rdbuf();
    return rsa_key::of_certificate(text.str());
  }();
  // One validation token for the lot, as Graph reuses them.
  auto validation = standin.validation_token(busy_tenant);
  std::vector<std::string> presence_bodies;
  for (int i = 0; i < n; ++i) {
    auto user = "agent-oid-" + std::to_string(i % std::max(1, s.agents));
    auto availability = (i / std::max(1, s.agents)) % 2 ? "Busy" : "Available";
    presence_bodies.push_back(
      "{\"value\":[{\"subscriptionId\":\"bench\",\"clientState\":"
      "\"presence-state\",\"changeType\":\"updated\",\"tenantId\":\""
      + std::string{busy_tenant} + "\",\"resource\":\"communications/presences/"
      + user + "\",\"resourceData\":{\"id\":\"" + user
      + "\"},\"encryptedContent\":"
      + presence_key->encrypt_like_graph(
        "{\"@odata.type\":\"#microsoft.graph.presence\",\"id\":\"" + user
          + "\",\"availability\":\"" + availability + "\",\"activity\":\""
          + availability + "\"}",
        "presence-cert")
      + "}],\"validationTokens\":[\"" + validation + "\"]}");
  }
  // Call notifications: roster updates of the waiting calls (the caller
  // and the bot still in), with one token for the lot, as Graph reuses
  // its tokens.
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto token = standin.sign(
    "standin-key-1",
    "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"bot-app-id\",\"tid\":\""
      + std::string{quiet_tenant} + "\",\"nbf\":" + std::to_string(now_s - 60)
      + ",\"exp\":" + std::to_string(now_s + 3600) + "}");
  std::vector<std::string> call_bodies;
  for (int i = 0; i < n; ++i)
    call_bodies.push_back(
      "{\"value\":[{\"@odata.type\":\"#microsoft.graph.commsNotification\","
      "\"changeType\":\"updated\",\"resourceUrl\":\"/communications/calls/wait-"
      + std::to_string(i % std::max(1, waiting))
      + "/participants\",\"resourceData\":[{\"@odata.type\":\"#microsoft."
        "graph.participant\",\"info\":{\"identity\":{\"user\":{\"id\":\""
      + std::string{graph_standin::caller_id}
      + "\"}}},\"id\":\"caller-participant\"},{\"@odata.type\":\"#microsoft."
        "graph.participant\",\"info\":{\"identity\":{\"application\":{\"id\":"
        "\"bot-app-id\"}}},\"id\":\"bot-participant\"}]}]}");

  auto [p_s, p_ok] = blast(client, base + "/api/presence", presence_bodies, "",
                           static_cast<std::size_t>(s.window));
  auto [c_s, c_ok]
    = blast(client, base + "/api/calls", call_bodies, "Bearer " + token,
            static_cast<std::size_t>(s.window));
  auto [bp_s, bp_ok] = blast(client, bare_url, presence_bodies, "",
                             static_cast<std::size_t>(s.window));
  auto [bc_s, bc_ok] = blast(client, bare_url, call_bodies, "Bearer " + token,
                             static_cast<std::size_t>(s.window));
  std::printf("throughput: presence %.0f notifications/s (%zu/%d taken), "
              "calls %.0f notifications/s (%zu/%d taken); bare HTTPS server "
              "%.0f and %.0f posts/s\n",
              n / p_s, p_ok, n, n / c_s, c_ok, n, n / bp_s, n / bc_s);
  (void)bp_ok;
  (void)bc_ok;

  if (!s.json.empty()) {
    std::ofstream out{s.json};
    out << "{\"memory\":{\"waiting_calls\":" << held
        << ",\"rss_idle_kib\":" << idle << ",\"rss_loaded_kib\":" << loaded
        << ",\"kib_per_waiting_call\":" << per_call_kib << "},"
        << "\"latency\":{\"calls\":" << calls << ",\"invited\":" << lat.size()
        << ",\"rate\":" << s.rate << ",\"p50_ms\":" << percentile(lat, 0.5)
        << ",\"p99_ms\":" << percentile(lat, 0.99)
        << ",\"max_ms\":" << percentile(lat, 1.0)
        << ",\"bare_rtt_p50_ms\":" << percentile(bare_rtt, 0.5)
        << ",\"bare_rtt_p99_ms\":" << percentile(bare_rtt, 0.99) << "},"
        << "\"throughput\":{\"notifications\":" << n
        << ",\"window\":" << s.window << ",\"presence_per_s\":" << n / p_s
        << ",\"presence_taken\":" << p_ok << ",\"calls_per_s\":" << n / c_s
        << ",\"calls_taken\":" << c_ok
        << ",\"bare_presence_per_s\":" << n / bp_s
        << ",\"bare_calls_per_s\":" << n / bc_s << "}}\n";
  }
  finished = true;
  gateway_drain.join();
  router_drain.join();
  gateway.stop();
  router.stop();
  bool complete = held >= waiting && static_cast<int>(lat.size()) == calls
                  && p_ok == static_cast<std::size_t>(n)
                  && c_ok == static_cast<std::size_t>(n);
  if (!complete)
    std::cerr << "bench: not every call or notification went through\n";
  return complete ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"switchboard-bench-graph: the Graph gateway's memory per "
               "waiting call, incoming-call-to-invite latency and "
               "notification throughput, each beside its baseline"};
  app.add_option("--build", s.build, "Build directory with the binaries")
    ->capture_default_str();
  app.add_option("--agents", s.agents, "Ready agents for the latency run")
    ->capture_default_str()
    ->check(CLI::Range(1, 100000));
  app.add_option("--calls", s.calls, "Calls of the latency run")
    ->capture_default_str()
    ->check(CLI::Range(1, 100000));
  app.add_option("--rate", s.rate, "Calls a second in the latency run")
    ->capture_default_str()
    ->check(CLI::Range(0.1, 10000.0));
  app
    .add_option("--notifications", s.notifications,
                "Notifications of each kind in the throughput run")
    ->capture_default_str()
    ->check(CLI::Range(1, 10000000));
  app.add_option("--window", s.window, "Notifications in flight")
    ->capture_default_str()
    ->check(CLI::Range(1, 1024));
  app.add_option("--waiting", s.waiting, "Waiting calls for the memory figure")
    ->capture_default_str()
    ->check(CLI::Range(1, 1000000));
  app.add_option("--json", s.json, "Write the figures here");
  app.add_flag("--smoke", s.smoke,
               "A few of each: checks that everything goes through");
  CLI11_PARSE(app, argc, argv);
  return run(s);
}
