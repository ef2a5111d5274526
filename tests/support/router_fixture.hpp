#pragma once

// A real switchboard-router started for a test, with stubs for its
// services, an event reader, and a fixture with one tenant "contoso" and
// one queue "sales" (offer timeout 1 s, wrap-up 800 ms, two missed offers
// make an agent not ready). Tests wait for events, never for fixed times.
//
// Needs SWITCHBOARD_ROUTER_PATH and SWITCHBOARD_CLI_PATH defined.

#include "tests/support/http.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"
#include "switchboard/v1/stats.grpc.pb.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

namespace switchboard::testing {

using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;

inline const std::string router_binary = SWITCHBOARD_ROUTER_PATH;
inline const std::string cli_binary = SWITCHBOARD_CLI_PATH;

/// A running node and stubs for its services.
class node {
 public:
  explicit node(const temp_dir& dir, std::vector<std::string> extra = {}) {
    start(dir, std::move(extra));
  }

  void start(const temp_dir& dir, std::vector<std::string> extra) {
    std::vector<std::string> args{"--data-dir",       dir / "data",
                                  "--grpc-listen",    "127.0.0.1:0",
                                  "--metrics-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<process>(router_binary, args);
    auto line = proc_->wait_for_line("\"msg\":\"serving\"", 30s);
    EXPECT_TRUE(line) << "the node did not start";
    if (!line)
      for (auto& said : proc_->lines())
        std::cerr << "router: " << said << "\n";
    serving = line ? *line : "";
    address = line ? json_field(*line, "grpc") : "";
    metrics_port = line ? port_of(json_field(*line, "metrics")) : 0;
    auto channel
      = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    admin = v1::AdminService::NewStub(channel);
    routing = v1::RoutingService::NewStub(channel);
    events = v1::EventService::NewStub(channel);
    stats = v1::StatsService::NewStub(channel);
  }

  /// kill -9, as a crash.
  void kill() {
    proc_->stop(SIGKILL);
    proc_.reset();
  }

  /// SIGTERM, as Kubernetes stops a pod; returns the exit status (128 +
  /// the signal if one ended it).
  int terminate() {
    auto status = proc_->stop(SIGTERM);
    proc_.reset();
    return status;
  }

  /// The node's "serving" log line, and what it names.
  std::string serving;
  std::string address;
  uint16_t metrics_port = 0;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::RoutingService::Stub> routing;
  std::unique_ptr<v1::EventService::Stub> events;
  std::unique_ptr<v1::StatsService::Stub> stats;

 private:
  std::unique_ptr<process> proc_;
};

inline std::unique_ptr<grpc::ClientContext> ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + 10s);
  return c;
}

/// Reads a tenant's events in the background.
class event_reader {
 public:
  event_reader(v1::EventService::Stub& stub, const std::string& tenant,
               uint64_t from = 0) {
    v1::SubscribeRequest req;
    req.set_tenant_id(tenant);
    req.set_from_sequence(from);
    stream_ = stub.Subscribe(&ctx_, req);
    thread_ = std::thread([this] {
      v1::Event e;
      while (stream_->Read(&e)) {
        std::lock_guard guard{mtx_};
        seen_.push_back(e);
        cv_.notify_all();
      }
    });
  }

  ~event_reader() {
    ctx_.TryCancel();
    thread_.join();
  }

  /// Waits for an event of `type` about `call_id` (or any call if empty);
  /// returns it, or nothing after 10 s.
  std::optional<v1::Event> wait_for(v1::EventType type,
                                    const std::string& call_id = {}) {
    std::unique_lock guard{mtx_};
    std::optional<v1::Event> found;
    cv_.wait_for(guard, 10s, [&] {
      for (auto& e : seen_)
        if (e.type() == type
            && (call_id.empty() || e.call().call().call_id() == call_id)) {
          found = e;
          return true;
        }
      return false;
    });
    return found;
  }

  /// Waits for an event for which `pred` holds; returns it, or nothing
  /// after 10 s.
  std::optional<v1::Event>
  wait_until(const std::function<bool(const v1::Event&)>& pred) {
    std::unique_lock guard{mtx_};
    std::optional<v1::Event> found;
    cv_.wait_for(guard, 10s, [&] {
      for (auto& e : seen_)
        if (pred(e)) {
          found = e;
          return true;
        }
      return false;
    });
    return found;
  }

  /// Waits until at least `n` events arrived; returns them all.
  /// Every event read so far.
  std::vector<v1::Event> seen() {
    std::lock_guard guard{mtx_};
    return seen_;
  }

  std::vector<v1::Event> wait_for_count(size_t n) {
    std::unique_lock guard{mtx_};
    cv_.wait_for(guard, 10s, [&] {
      return seen_.size() >= n;
    });
    return seen_;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> stream_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<v1::Event> seen_;
  std::thread thread_;
};

/// A tenant as an SBC's trunk serves it: its trunk FQDN and E.164 number,
/// one queue (offers ring 10 s, wrap-up 0.5 s, one missed offer and the
/// agent is set not ready) that classification sends every call to.
inline void sip_tenant(node& n, const std::string& tenant,
                       const std::string& trunk, const std::string& number,
                       const std::string& queue_id) {
  v1::UpsertTenantRequest t;
  t.mutable_tenant()->set_tenant_id(tenant);
  t.mutable_tenant()->add_sip_trunk_fqdns(trunk);
  t.mutable_tenant()->add_dialled_numbers(number);
  v1::Tenant tenant_out;
  ASSERT_TRUE(n.admin->UpsertTenant(ctx().get(), t, &tenant_out).ok());
  v1::UpsertQueueRequest q;
  auto& queue = *q.mutable_queue();
  queue.set_tenant_id(tenant);
  queue.set_queue_id(queue_id);
  *queue.mutable_offer_timeout() = TimeUtil::SecondsToDuration(10);
  *queue.mutable_wrap_up() = TimeUtil::MillisecondsToDuration(500);
  queue.set_max_missed_offers(1);
  v1::Queue queue_out;
  ASSERT_TRUE(n.admin->UpsertQueue(ctx().get(), q, &queue_out).ok());
  v1::UpsertClassificationRulesRequest rules;
  rules.set_tenant_id(tenant);
  rules.set_default_queue_id(queue_id);
  v1::ClassificationRules rules_out;
  ASSERT_TRUE(
    n.admin->UpsertClassificationRules(ctx().get(), rules, &rules_out).ok());
}

class routing_test : public ::testing::Test {
 protected:
  void SetUp() override {
    n = std::make_unique<node>(dir);
    tenant("contoso");
    queue("sales");
  }

  void tenant(const std::string& id) {
    v1::UpsertTenantRequest req;
    req.mutable_tenant()->set_tenant_id(id);
    v1::Tenant out;
    ASSERT_TRUE(n->admin->UpsertTenant(ctx().get(), req, &out).ok());
  }

  /// A contoso agent of `queue_id` whose sip_uri is a SIP peer (a SIPp
  /// UAS) on 127.0.0.1:`port`; Available and ready unless `ready_now` is
  /// false (then presence() and ready() make it so later).
  void sip_agent(const std::string& id, uint16_t port,
                 const std::string& queue_id = "sales", bool ready_now = true) {
    v1::UpsertAgentRequest req;
    auto& a = *req.mutable_agent();
    a.set_tenant_id("contoso");
    a.set_agent_id(id);
    a.set_sip_uri("sip:" + id + "@127.0.0.1:" + std::to_string(port));
    a.add_queue_ids(queue_id);
    v1::AgentView out;
    auto st = n->admin->UpsertAgent(ctx().get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    if (!ready_now)
      return;
    presence(id, v1::PRESENCE_AVAILABLE);
    ready(id, true);
  }

  /// RequestCallback for contoso's call `id`, to `number` (empty: the
  /// caller's own).
  grpc::Status request_callback(const std::string& id,
                                const std::string& number, v1::CallView& out) {
    v1::RequestCallbackRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(id);
    req.set_number(number);
    return n->routing->RequestCallback(ctx().get(), req, &out);
  }

  /// A second contoso queue, "support", that calls to `number_` go to;
  /// the others go to "sales".
  void support_queue(const std::string& number_) {
    queue("support");
    v1::UpsertClassificationRulesRequest rules;
    rules.set_tenant_id("contoso");
    rules.set_default_queue_id("sales");
    auto& rule = *rules.add_rules();
    rule.set_rule_id("support-line");
    rule.set_queue_id("support");
    auto& when = *rule.add_conditions();
    when.set_field("to");
    when.set_match(v1::Condition::MATCH_EQUALS);
    when.add_values(number_);
    v1::ClassificationRules out;
    auto st = n->admin->UpsertClassificationRules(ctx().get(), rules, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  v1::Queue queue(const std::string& id,
                  const std::function<void(v1::Queue&)>& edit = {}) {
    v1::UpsertQueueRequest req;
    auto& q = *req.mutable_queue();
    q.set_tenant_id("contoso");
    q.set_queue_id(id);
    *q.mutable_offer_timeout() = TimeUtil::MillisecondsToDuration(1000);
    *q.mutable_wrap_up() = TimeUtil::MillisecondsToDuration(800);
    q.set_max_missed_offers(2);
    if (edit)
      edit(q);
    v1::Queue out;
    auto st = n->admin->UpsertQueue(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  void agent(const std::string& id, std::vector<std::string> queues = {"sales"},
             bool available = true) {
    v1::UpsertAgentRequest req;
    auto& a = *req.mutable_agent();
    a.set_tenant_id("contoso");
    a.set_agent_id(id);
    for (auto& q : queues)
      a.add_queue_ids(q);
    v1::AgentView out;
    auto st = n->admin->UpsertAgent(ctx().get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    if (available) {
      presence(id, v1::PRESENCE_AVAILABLE);
      ready(id, true);
    }
  }

  v1::AgentView presence(const std::string& id, v1::Presence p) {
    v1::SetAgentPresenceRequest req;
    req.set_tenant_id("contoso");
    req.set_agent_id(id);
    req.set_presence(p);
    v1::AgentView out;
    auto st = n->routing->SetAgentPresence(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  v1::AgentView ready(const std::string& id, bool r) {
    v1::SetAgentReadyRequest req;
    req.set_tenant_id("contoso");
    req.set_agent_id(id);
    req.set_ready(r);
    v1::AgentView out;
    auto st = n->routing->SetAgentReady(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  grpc::Status submit(const std::string& id, v1::SubmitCallResponse& out,
                      const std::string& queue_id = "sales") {
    v1::SubmitCallRequest req;
    auto& c = *req.mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id(id);
    c.set_queue_id(queue_id);
    return n->routing->SubmitCall(ctx().get(), req, &out);
  }

  v1::CallView submit(const std::string& id,
                      const std::string& queue_id = "sales") {
    v1::SubmitCallResponse out;
    auto st = submit(id, out, queue_id);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out.call();
  }

  grpc::Status accept(const v1::Offer& o, v1::CallView& out) {
    v1::AcceptOfferRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(o.call_id());
    req.set_agent_id(o.agent_id());
    req.set_offer_id(o.offer_id());
    return n->routing->AcceptOffer(ctx().get(), req, &out);
  }

  grpc::Status decline(const v1::Offer& o, v1::CallView& out) {
    v1::DeclineOfferRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(o.call_id());
    req.set_agent_id(o.agent_id());
    req.set_offer_id(o.offer_id());
    return n->routing->DeclineOffer(ctx().get(), req, &out);
  }

  grpc::Status complete(const std::string& call_id, v1::CallView& out) {
    v1::CompleteCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(call_id);
    return n->routing->CompleteCall(ctx().get(), req, &out);
  }

  /// CancelCall for contoso's call (or consult leg) `call_id`.
  grpc::Status cancel(const std::string& call_id, v1::CallView& out) {
    v1::CancelCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(call_id);
    return n->routing->CancelCall(ctx().get(), req, &out);
  }

  v1::CallView get_call(const std::string& id) {
    v1::GetCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(id);
    v1::CallView out;
    auto st = n->routing->GetCall(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  v1::AgentView get_agent(const std::string& id) {
    v1::GetAgentRequest req;
    req.set_tenant_id("contoso");
    req.set_agent_id(id);
    v1::AgentView out;
    auto st = n->admin->GetAgent(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  temp_dir dir;
  std::unique_ptr<node> n;
};

} // namespace switchboard::testing
