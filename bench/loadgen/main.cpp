// switchboard-loadgen: drives contact-center traffic through a node's gRPC
// API, as gateways and agent desktops would, and reports what callers and
// agents experienced.
//
// Callers arrive as a Poisson process (open loop: on schedule whatever the
// node answers), wait with an exponential patience and hang up if no agent
// answered by then. Agents log in (Available, ready), accept offers after
// a ring time (or decline them, or let them ring until they expire), talk
// for an exponential talk time, complete (the node runs wrap-up), and now
// and then take a short break (Away). Every call and agent moves through
// the real API: SubmitCall, AcceptOffer, DeclineOffer, CompleteCall,
// CancelCall, SetAgentPresence; offers reach agents through Subscribe, as
// they would reach a desktop.
//
// At the end the node is left as it was found: calls of the run still
// waiting or ringing are cancelled, those still talking are completed,
// wrap-ups they left are ended, and every agent gets back the presence and
// readiness it had. If the node stops answering, the run stops at once and
// says so.

#include "bench/loadgen/ingest_link.hpp"
#include "bench/loadgen/node_metrics.hpp"
#include "bench/loadgen/scheduler.hpp"
#include "nodes/version/version.hpp"

#include "proto/status_names.hpp"
#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace switchboard;
using namespace switchboard::loadgen;
using std::chrono::duration_cast;

namespace {

struct options {
  std::string server = "127.0.0.1:7400";
  std::string metrics = "127.0.0.1:9464";
  std::vector<std::string> tenants;
  double duration_s = 60;
  double rate = 2.0; // calls per second, all tenants
  double talk_s = 10;
  /// Every call takes talk_s exactly, instead of an exponential time with
  /// that mean.
  bool fixed_talk = false;
  /// Relative share of calls per queue of a tenant, in queue-id order;
  /// empty: equal shares.
  std::vector<double> mix;
  /// An answered offer rings this long (uniform), contact-center seconds.
  double ring_min_s = 0.5;
  double ring_max_s = 2.5;
  double patience_s = 40;
  /// Shares of offers declined after the ring time, and left to ring until
  /// the queue's offer timeout expires them; the rest are accepted.
  double decline_share = 0.03;
  double expire_share = 0;
  double break_per_hour = 2; // short Away breaks per agent and hour
  double break_s = 15;
  /// After the last arrival, how long calls in progress may end by
  /// themselves (contact-center seconds); what is left is then ended.
  double drain_s = 40;
  /// Real seconds without a connection to the node before the run stops.
  double give_up_s = 3;
  double sl_threshold_s = 20;
  /// Client threads for timed tasks; 0: 1 with --ingest (its sends never
  /// block, and one thread wakes less on a shared machine), else 4 (unary
  /// calls block for their round trip).
  int workers = 0;
  uint64_t seed = 1;
  std::string json_out;
  /// Contact-center time runs this many times faster than real time.
  double time_scale = 1;
  /// Generated contact center: this many agents (0: drive --tenant as
  /// configured), over `generated_tenants` tenants of `queues` queues.
  size_t generate_agents = 0;
  int generated_tenants = 1;
  int queues = 4;
  double wrap_up_s = 5;
  double offer_timeout_s = 20;
  /// Commands over EventService.Ingest streams (one per tenant), as a
  /// gateway sends them, instead of unary calls.
  bool ingest = false;
};

/// Contact-center seconds per real second (options::time_scale).
double g_scale = 1;

/// Requests sent, unary or over Ingest.
std::atomic<uint64_t> g_requests{0};

struct call_info {
  std::string tenant;
  /// When the arrival was scheduled: latencies count from here, so a slow
  /// node cannot hide its delay by slowing the load (no coordinated
  /// omission).
  clock_type::time_point scheduled;
  /// The node took the call (a submit it refused is no call at all).
  bool submitted = false;
  /// Offered at least once.
  bool offered = false;
  /// An offer is open: the call rings, it does not wait.
  bool ringing = false;
  /// Server time of the last offer, seconds.
  double offered_at = 0;
  bool answered = false;
  /// Completed by its agent; the node runs the queue's wrap-up.
  bool hung_up = false;
  bool ended = false;
};

struct run_state {
  options opt;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::RoutingService::Stub> routing;
  scheduler* sched = nullptr;
  std::mutex mtx;
  std::mt19937_64 rng;
  std::unordered_map<std::string, call_info> calls;
  /// With --ingest: the call of each submit not acknowledged yet.
  std::unordered_map<std::string, std::string> submits;
  std::map<std::string, uint64_t> errors; // by status code name
  std::atomic<uint64_t> offered{0}, answered{0}, abandoned{0}, declined{0},
    expired{0}, overflowed{0}, completed{0}, within_sl{0}, timed_out{0},
    submit_failed{0};
  /// Arrival to answer (waiting and ringing, as the node's speed of
  /// answer), and of it the ringing of the accepted offer; contact-center
  /// seconds, summed over answered calls.
  double total_answer_wait_s = 0;
  double total_ring_s = 0;
  samples submit_rtt;
  /// Scheduled arrival -> first offer event received, microseconds.
  samples routing_latency;
  /// Calls offered in the command that queued them: they never waited.
  std::atomic<uint64_t> requests{0}, offered_at_once{0};
  std::mutex talk_mtx;
  double talk_total_s = 0; // contact-center seconds agents spent talking
  std::atomic<int> busy_agents{0};
  std::atomic<bool> arrivals_done{false};
  /// Prefix of this run's call ids, unique across runs on one store.
  std::string run_id;
  /// With --ingest: a stream per tenant.
  std::map<std::string, std::unique_ptr<ingest_link>> links;
  std::atomic<uint64_t> next_event{0};

  /// Sends a command over the tenant's Ingest stream; `kind` is a letter:
  /// s submit, a accept, d decline, c complete, x cancel.
  void ingest(const std::string& tenant, char kind, v1::IngestRequest& req) {
    req.set_event_id(std::string(1, kind) + "-" + run_id + "-"
                     + std::to_string(next_event++));
    if (kind == 's') {
      std::lock_guard guard{mtx};
      submits[req.event_id()] = req.submit_call().call().call_id();
    }
    g_requests++;
    links.at(tenant)->send(req);
  }

  /// The node took the call, or refused it: a refused call is an error and
  /// no longer tracked (it neither waits nor ends).
  void submitted(const std::string& call_id, const grpc::Status& st) {
    std::lock_guard guard{mtx};
    if (st.ok()) {
      if (auto i = calls.find(call_id); i != calls.end())
        i->second.submitted = true;
      return;
    }
    errors[api::status_code_name(st.error_code())]++;
    submit_failed++;
    calls.erase(call_id);
  }

  /// Every call of the run the node took and that has not ended: waiting
  /// for an agent, ringing, or talking.
  struct in_progress {
    size_t waiting = 0;
    size_t ringing = 0;
    size_t talking = 0;
    size_t wrapping_up = 0;
    /// Calls that still need a caller or an agent to act.
    size_t active() const { return waiting + ringing + talking; }
    size_t total() const { return active() + wrapping_up; }
  };
  in_progress progress() {
    std::lock_guard guard{mtx};
    in_progress p;
    for (auto& [id, c] : calls) {
      if (!c.submitted || c.ended)
        continue;
      if (c.hung_up)
        p.wrapping_up++;
      else if (c.answered)
        p.talking++;
      else if (c.ringing)
        p.ringing++;
      else
        p.waiting++;
    }
    return p;
  }

  double uniform(double a, double b) {
    std::lock_guard guard{mtx};
    return std::uniform_real_distribution<double>{a, b}(rng);
  }

  double exponential(double mean) {
    std::lock_guard guard{mtx};
    return std::exponential_distribution<double>{1.0 / mean}(rng);
  }

  void error(const grpc::Status& st) {
    std::lock_guard guard{mtx};
    errors[api::status_code_name(st.error_code())]++;
  }
};

/// `seconds` of contact-center time from now, in real time.
clock_type::time_point after(double seconds) {
  return clock_type::now()
         + duration_cast<clock_type::duration>(
           std::chrono::duration<double>(seconds / g_scale));
}

std::unique_ptr<grpc::ClientContext> ctx_with_deadline() {
  g_requests++;
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now()
                    + std::chrono::seconds{10});
  return ctx;
}

double seconds_of(const google::protobuf::Timestamp& t) {
  return static_cast<double>(t.seconds()) + t.nanos() / 1e9;
}

void set_presence(run_state& rs, const std::string& tenant,
                  const std::string& agent, v1::Presence p) {
  v1::SetAgentPresenceRequest req;
  req.set_tenant_id(tenant);
  req.set_agent_id(agent);
  req.set_presence(p);
  v1::AgentView out;
  auto st = rs.routing->SetAgentPresence(ctx_with_deadline().get(), req, &out);
  if (!st.ok())
    rs.error(st);
}

/// An agent's occasional short break, then back to Available.
void schedule_break(run_state& rs, const std::string& tenant,
                    const std::string& agent) {
  if (rs.opt.break_per_hour <= 0)
    return;
  auto wait = rs.exponential(3600.0 / rs.opt.break_per_hour);
  rs.sched->at(after(wait), [&rs, tenant, agent] {
    if (rs.arrivals_done)
      return;
    set_presence(rs, tenant, agent, v1::PRESENCE_AWAY);
    rs.sched->at(after(rs.opt.break_s), [&rs, tenant, agent] {
      set_presence(rs, tenant, agent, v1::PRESENCE_AVAILABLE);
      schedule_break(rs, tenant, agent);
    });
  });
}

/// An event from the tenant's stream, read at `received`.
void on_event(run_state& rs, const v1::Event& e,
              clock_type::time_point received) {
  auto& view = e.call();
  auto call_id = view.call().call_id();
  auto tenant = e.tenant_id();
  switch (e.type()) {
    case v1::EVENT_TYPE_CALL_OFFERED: {
      {
        std::lock_guard guard{rs.mtx};
        auto& info = rs.calls[call_id];
        info.ringing = true;
        info.offered_at = seconds_of(e.at());
        if (!info.offered) {
          info.offered = true;
          // Offered in the command that queued it: it did not wait. Every
          // other call waited, offered later or never.
          if (e.at().seconds() == view.enqueued_at().seconds()
              && e.at().nanos() == view.enqueued_at().nanos())
            rs.offered_at_once++;
          rs.routing_latency.add(
            std::chrono::duration<double, std::micro>(received - info.scheduled)
              .count());
        }
      }
      auto offer = e.offer();
      auto choice = rs.uniform(0, 1);
      bool decline = choice < rs.opt.decline_share;
      // The agent lets it ring: the node's offer timeout ends it.
      if (!decline && choice < rs.opt.decline_share + rs.opt.expire_share)
        return;
      auto ring = rs.uniform(rs.opt.ring_min_s, rs.opt.ring_max_s);
      rs.sched->at(after(ring), [&rs, tenant, offer, decline] {
        if (rs.opt.ingest) {
          v1::IngestRequest cmd;
          auto* x = decline ? cmd.mutable_decline_offer() : nullptr;
          if (x != nullptr) {
            x->set_tenant_id(tenant);
            x->set_call_id(offer.call_id());
            x->set_agent_id(offer.agent_id());
            x->set_offer_id(offer.offer_id());
          } else {
            auto* y = cmd.mutable_accept_offer();
            y->set_tenant_id(tenant);
            y->set_call_id(offer.call_id());
            y->set_agent_id(offer.agent_id());
            y->set_offer_id(offer.offer_id());
          }
          rs.ingest(tenant, decline ? 'd' : 'a', cmd);
          return;
        }
        v1::CallView out;
        grpc::Status st;
        if (decline) {
          v1::DeclineOfferRequest req;
          req.set_tenant_id(tenant);
          req.set_call_id(offer.call_id());
          req.set_agent_id(offer.agent_id());
          req.set_offer_id(offer.offer_id());
          st = rs.routing->DeclineOffer(ctx_with_deadline().get(), req, &out);
        } else {
          v1::AcceptOfferRequest req;
          req.set_tenant_id(tenant);
          req.set_call_id(offer.call_id());
          req.set_agent_id(offer.agent_id());
          req.set_offer_id(offer.offer_id());
          st = rs.routing->AcceptOffer(ctx_with_deadline().get(), req, &out);
        }
        // A caller who hung up while it rang ended the call and withdrew
        // the offer (NOT_FOUND, or FAILED_PRECONDITION if it expired
        // first): the agent's desktop just drops the toast.
        if (!st.ok() && st.error_code() != grpc::StatusCode::FAILED_PRECONDITION
            && st.error_code() != grpc::StatusCode::NOT_FOUND)
          rs.error(st);
      });
      return;
    }
    case v1::EVENT_TYPE_CALL_ASSIGNED: {
      rs.answered++;
      rs.busy_agents++;
      // Server time, in contact-center seconds: arrival to answer, as the
      // node's speed of answer counts it, and of it the ringing.
      double wait
        = (seconds_of(e.at()) - seconds_of(view.enqueued_at())) * g_scale;
      {
        std::lock_guard guard{rs.mtx};
        auto& info = rs.calls[call_id];
        info.answered = true;
        info.ringing = false;
        rs.total_answer_wait_s += wait;
        if (info.offered_at > 0)
          rs.total_ring_s += (seconds_of(e.at()) - info.offered_at) * g_scale;
      }
      if (wait <= rs.opt.sl_threshold_s)
        rs.within_sl++;
      auto talk
        = rs.opt.fixed_talk ? rs.opt.talk_s : rs.exponential(rs.opt.talk_s);
      {
        std::lock_guard guard{rs.talk_mtx};
        rs.talk_total_s += talk;
      }
      rs.sched->at(after(talk), [&rs, tenant, call_id] {
        auto hung_up = [&] {
          rs.busy_agents--;
          std::lock_guard guard{rs.mtx};
          if (auto i = rs.calls.find(call_id); i != rs.calls.end())
            i->second.hung_up = true;
        };
        if (rs.opt.ingest) {
          v1::IngestRequest cmd;
          cmd.mutable_complete_call()->set_tenant_id(tenant);
          cmd.mutable_complete_call()->set_call_id(call_id);
          hung_up();
          rs.ingest(tenant, 'c', cmd);
          return;
        }
        v1::CompleteCallRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(call_id);
        v1::CallView out;
        auto st
          = rs.routing->CompleteCall(ctx_with_deadline().get(), req, &out);
        if (st.ok())
          hung_up();
        else
          rs.error(st);
      });
      return;
    }
    case v1::EVENT_TYPE_CALL_COMPLETED: rs.completed++; break;
    case v1::EVENT_TYPE_CALL_ABANDONED: rs.abandoned++; break;
    case v1::EVENT_TYPE_CALL_TIMED_OUT: rs.timed_out++; break;
    case v1::EVENT_TYPE_CALL_CANCELLED: break;
    case v1::EVENT_TYPE_OFFER_DECLINED:
    case v1::EVENT_TYPE_OFFER_EXPIRED: {
      (e.type() == v1::EVENT_TYPE_OFFER_DECLINED ? rs.declined : rs.expired)++;
      std::lock_guard guard{rs.mtx};
      // Back in line, in its place: it waits again.
      if (auto i = rs.calls.find(call_id); i != rs.calls.end())
        i->second.ringing = false;
      return;
    }
    case v1::EVENT_TYPE_CALL_OVERFLOWED: rs.overflowed++; return;
    default: return;
  }
  std::lock_guard guard{rs.mtx};
  if (auto i = rs.calls.find(call_id); i != rs.calls.end()) {
    i->second.ended = true;
    i->second.ringing = false;
  }
}

void submit_one(run_state& rs, const std::string& tenant, const v1::Queue& q,
                uint64_t n, clock_type::time_point scheduled) {
  v1::SubmitCallRequest req;
  auto& c = *req.mutable_call();
  c.set_tenant_id(tenant);
  auto call_id = rs.run_id + "-" + std::to_string(n);
  c.set_call_id(call_id);
  c.set_channel(v1::CHANNEL_VOICE);
  c.set_from("+1425555" + std::to_string(1000 + n % 9000));
  c.set_queue_id(q.queue_id());
  if (q.queue_id() == "vip")
    c.set_priority(5);
  {
    std::lock_guard guard{rs.mtx};
    auto& info = rs.calls[call_id];
    info.tenant = tenant;
    info.scheduled = scheduled;
  }
  if (rs.opt.ingest) {
    v1::IngestRequest cmd;
    *cmd.mutable_submit_call() = std::move(req);
    rs.ingest(tenant, 's', cmd);
  } else {
    v1::SubmitCallResponse out;
    auto t0 = clock_type::now();
    auto st = rs.routing->SubmitCall(ctx_with_deadline().get(), req, &out);
    rs.submit_rtt.add(
      duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0).count()
      / 1000.0);
    rs.submitted(call_id, st);
    if (!st.ok())
      return;
    rs.offered++;
  }
  // The caller's patience.
  rs.sched->at(
    after(rs.exponential(rs.opt.patience_s)), [&rs, tenant, id = call_id] {
      {
        std::lock_guard guard{rs.mtx};
        auto i = rs.calls.find(id);
        // Refused, answered or ended meanwhile: nobody is left to hang up.
        if (i == rs.calls.end() || i->second.answered || i->second.ended)
          return;
      }
      v1::CancelCallRequest cancel;
      cancel.set_tenant_id(tenant);
      cancel.set_call_id(id);
      cancel.set_reason(v1::CancelCallRequest::REASON_CALLER_HUNG_UP);
      if (rs.opt.ingest) {
        v1::IngestRequest cmd;
        *cmd.mutable_cancel_call() = cancel;
        rs.ingest(tenant, 'x', cmd);
        return;
      }
      v1::CallView view;
      auto result
        = rs.routing->CancelCall(ctx_with_deadline().get(), cancel, &view);
      // Answered in the meantime: the caller stays.
      if (!result.ok()
          && result.error_code() != grpc::StatusCode::FAILED_PRECONDITION
          && result.error_code() != grpc::StatusCode::NOT_FOUND)
        rs.error(result);
    });
}

/// Creates the generated contact center: tenants lg-0.., each with
/// `queues` queues (q0 asks skill.s0 >= 30, ...) and its share of the
/// agents, each in two neighbouring queues with both skills. Fills
/// opt.tenants.
bool generate(options& opt, v1::AdminService::Stub& admin) {
  auto failed = [](const grpc::Status& st, const std::string& what) {
    if (st.ok())
      return false;
    std::cerr << "switchboard-loadgen: " << what << ": "
              << api::status_code_name(st.error_code()) << ": "
              << st.error_message() << "\n";
    return true;
  };
  auto duration_of = [](double cc_seconds, google::protobuf::Duration& d) {
    auto us = static_cast<int64_t>(cc_seconds / g_scale * 1e6);
    d.set_seconds(us / 1'000'000);
    d.set_nanos(static_cast<int32_t>(us % 1'000'000) * 1000);
  };
  auto per_tenant = std::max<size_t>(
    1, opt.generate_agents / static_cast<size_t>(opt.generated_tenants));
  for (int t = 0; t < opt.generated_tenants; ++t) {
    auto tenant = "lg-" + std::to_string(t);
    opt.tenants.push_back(tenant);
    v1::UpsertTenantRequest tr;
    tr.mutable_tenant()->set_tenant_id(tenant);
    v1::Tenant tout;
    if (failed(admin.UpsertTenant(ctx_with_deadline().get(), tr, &tout),
               tenant))
      return false;
    for (int q = 0; q < opt.queues; ++q) {
      v1::UpsertQueueRequest qr;
      auto& qu = *qr.mutable_queue();
      qu.set_tenant_id(tenant);
      qu.set_queue_id("q" + std::to_string(q));
      auto* sel = qu.add_selectors();
      sel->set_key("skill.s" + std::to_string(q));
      sel->set_op(v1::SELECTOR_OP_GE);
      sel->add_values("30");
      duration_of(opt.offer_timeout_s, *qu.mutable_offer_timeout());
      duration_of(opt.wrap_up_s, *qu.mutable_wrap_up());
      duration_of(opt.sl_threshold_s, *qu.mutable_service_level_threshold());
      v1::Queue qout;
      if (failed(admin.UpsertQueue(ctx_with_deadline().get(), qr, &qout),
                 tenant + "/" + qu.queue_id()))
        return false;
    }
    // Agents in parallel: a large center takes a while one by one.
    std::atomic<bool> ok{true};
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 8; ++w)
      threads.emplace_back([&] {
        for (size_t i; ok && (i = next++) < per_tenant;) {
          v1::UpsertAgentRequest ar;
          auto& a = *ar.mutable_agent();
          a.set_tenant_id(tenant);
          a.set_agent_id("a" + std::to_string(i));
          auto q1 = static_cast<int>(i % static_cast<size_t>(opt.queues));
          auto q2 = (q1 + 1) % opt.queues;
          (*a.mutable_skills())["s" + std::to_string(q1)]
            = 50 + static_cast<uint32_t>(i % 51);
          (*a.mutable_skills())["s" + std::to_string(q2)]
            = 30 + static_cast<uint32_t>(i % 71);
          a.add_queue_ids("q" + std::to_string(q1));
          if (q2 != q1)
            a.add_queue_ids("q" + std::to_string(q2));
          v1::AgentView aout;
          if (failed(admin.UpsertAgent(ctx_with_deadline().get(), ar, &aout),
                     tenant + "/" + a.agent_id()))
            ok = false;
        }
      });
    for (auto& th : threads)
      th.join();
    if (!ok)
      return false;
  }
  std::cout << "generated " << opt.generated_tenants << " tenants with "
            << opt.queues << " queues and " << per_tenant << " agents each\n";
  return true;
}

std::string ms(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", seconds * 1000);
  return buf;
}

/// Set by SIGINT or SIGTERM: the run ends early, and still leaves the node
/// as it found it.
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_stop_signal(int) { g_interrupted = 1; }

/// Whether the node still answers: its connection, watched once in a
/// while. No connection for `give_up` (real time) means it is gone.
class node_watch {
 public:
  node_watch(grpc::Channel& channel, double give_up_s)
    : channel_(channel), give_up_(duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(give_up_s))) {}

  /// True once the node has been unreachable for the give-up time.
  bool lost() {
    if (lost_)
      return true;
    if (channel_.GetState(true) == GRPC_CHANNEL_READY) {
      down_since_.reset();
      return false;
    }
    auto now = clock_type::now();
    if (!down_since_)
      down_since_ = now;
    lost_ = now - *down_since_ >= give_up_;
    return lost_;
  }

 private:
  grpc::Channel& channel_;
  clock_type::duration give_up_;
  std::optional<clock_type::time_point> down_since_;
  bool lost_ = false;
};

/// An agent as the run found it, to give it back at the end.
struct agent_before {
  std::string tenant;
  std::string id;
  v1::Presence presence = v1::PRESENCE_UNSPECIFIED;
  bool ready = false;
  std::string not_ready_reason;
};

/// What the end of a run did to leave the node as it found it.
struct cleanup_report {
  uint64_t cancelled = 0; // waiting or ringing
  uint64_t completed = 0; // talking
  uint64_t wrap_ups = 0;  // wrap-ups ended
  uint64_t restored = 0;  // agents given back their presence and readiness
  uint64_t left = 0;      // calls of the run the node still holds
};

/// Gives every agent back the presence and readiness it had, and ends
/// every call of the run the node still holds: cancels those waiting or
/// ringing, completes those answered, ends the wrap-ups they leave.
cleanup_report leave_as_found(run_state& rs,
                              const std::vector<agent_before>& agents) {
  cleanup_report report;
  auto prefix = rs.run_id + "-";
  auto tolerated = [&rs](const grpc::Status& st) {
    // The call moved on meanwhile (answered, ended): the next round sees
    // where it is now.
    if (!st.ok() && st.error_code() != grpc::StatusCode::FAILED_PRECONDITION
        && st.error_code() != grpc::StatusCode::NOT_FOUND)
      rs.error(st);
    return st.ok();
  };
  // Agents first, so that those signing out take no new offers while the
  // calls end. In parallel: a large center takes a while one by one.
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> restored{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w)
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < agents.size();) {
        auto& a = agents[i];
        v1::SetAgentPresenceRequest p;
        p.set_tenant_id(a.tenant);
        p.set_agent_id(a.id);
        p.set_presence(a.presence);
        v1::AgentView out;
        auto st
          = rs.routing->SetAgentPresence(ctx_with_deadline().get(), p, &out);
        v1::SetAgentReadyRequest r;
        r.set_tenant_id(a.tenant);
        r.set_agent_id(a.id);
        r.set_ready(a.ready);
        r.set_reason(a.not_ready_reason);
        auto st2
          = st.ok()
              ? rs.routing->SetAgentReady(ctx_with_deadline().get(), r, &out)
              : st;
        if (st2.ok())
          restored++;
        else
          rs.error(st2);
      }
    });
  for (auto& th : threads)
    th.join();
  report.restored = restored;
  for (int round = 0; round < 10; ++round) {
    uint64_t found = 0;
    for (auto& tenant : rs.opt.tenants) {
      v1::ListCallsRequest req;
      req.set_tenant_id(tenant);
      req.set_page_size(1000);
      std::vector<v1::CallView> mine;
      do {
        v1::ListCallsResponse page;
        auto st = rs.routing->ListCalls(ctx_with_deadline().get(), req, &page);
        if (!st.ok()) {
          rs.error(st);
          break;
        }
        for (auto& v : page.calls())
          if (v.call().call_id().rfind(prefix, 0) == 0)
            mine.push_back(v);
        req.set_page_token(page.next_page_token());
      } while (!req.page_token().empty());
      for (auto& v : mine) {
        v1::CallView out;
        switch (v.state()) {
          case v1::CALL_STATE_CREATED:
          case v1::CALL_STATE_QUEUED:
          case v1::CALL_STATE_OFFERED: {
            ++found;
            v1::CancelCallRequest cancel;
            cancel.set_tenant_id(tenant);
            cancel.set_call_id(v.call().call_id());
            cancel.set_reason(v1::CancelCallRequest::REASON_CANCELLED);
            if (tolerated(rs.routing->CancelCall(ctx_with_deadline().get(),
                                                 cancel, &out)))
              report.cancelled++;
            break;
          }
          case v1::CALL_STATE_ASSIGNED: {
            ++found;
            v1::CompleteCallRequest complete;
            complete.set_tenant_id(tenant);
            complete.set_call_id(v.call().call_id());
            if (tolerated(rs.routing->CompleteCall(ctx_with_deadline().get(),
                                                   complete, &out)))
              report.completed++;
            break;
          }
          case v1::CALL_STATE_WRAP_UP: {
            ++found;
            v1::EndWrapUpRequest end;
            end.set_tenant_id(tenant);
            end.set_agent_id(v.agent_id());
            v1::AgentView agent;
            if (tolerated(rs.routing->EndWrapUp(ctx_with_deadline().get(), end,
                                                &agent)))
              report.wrap_ups++;
            break;
          }
          default: break; // ended: nothing to do
        }
      }
    }
    report.left = found;
    if (found == 0)
      break;
  }
  return report;
}

/// Reads a tenant's queues and agents (every page); false after printing
/// why not.
bool read_tenant(const options& opt, v1::AdminService::Stub& admin,
                 const std::string& t,
                 std::vector<std::pair<std::string, v1::Queue>>& queues,
                 std::vector<agent_before>& agents) {
  v1::ListQueuesRequest lq;
  lq.set_tenant_id(t);
  lq.set_page_size(1000);
  do {
    v1::ListQueuesResponse qs;
    auto st = admin.ListQueues(ctx_with_deadline().get(), lq, &qs);
    if (!st.ok()) {
      std::cerr << "switchboard-loadgen: tenant " << t << ": "
                << api::status_code_name(st.error_code()) << ": "
                << st.error_message() << " (is a node serving on " << opt.server
                << "?)\n";
      return false;
    }
    for (auto& q : qs.queues())
      queues.emplace_back(t, q);
    lq.set_page_token(qs.next_page_token());
  } while (!lq.page_token().empty());
  v1::ListAgentsRequest la;
  la.set_tenant_id(t);
  la.set_page_size(1000);
  do {
    v1::ListAgentsResponse as;
    auto st = admin.ListAgents(ctx_with_deadline().get(), la, &as);
    if (!st.ok()) {
      std::cerr << "switchboard-loadgen: agents of " << t << ": "
                << api::status_code_name(st.error_code()) << ": "
                << st.error_message() << "\n";
      return false;
    }
    for (auto& a : as.agents())
      agents.push_back({t, a.agent().agent_id(), a.state().presence(),
                        a.state().ready(), a.state().not_ready_reason()});
    la.set_page_token(as.next_page_token());
  } while (!la.page_token().empty());
  return true;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{
    "switchboard-loadgen: contact-center traffic through a Switchboard "
    "node's gRPC API. Durations and rates are in contact-center time (see "
    "--time-scale). At the end, calls of the run still in progress are "
    "cancelled or completed and agents get back the presence and readiness "
    "they had. Exit status: 0 clean, 3 errors (counted in the summary), 4 "
    "the node stopped answering (the run stops at once)."};
  // --help shows every default.
  app.option_defaults()->always_capture_default();
  // A repeated option: the last wins, so a wrapper's defaults (scripts/demo)
  // can be overridden by options appended after them.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", version_text("switchboard-loadgen"),
                       "print the version, commit and build type, and exit");
  app.add_option("--server", opt.server, "gRPC address of the node")
    ->envname("SWITCHBOARD_SERVER");
  app.add_option("--metrics", opt.metrics,
                 "the node's /metrics address, for its routing latency");
  app
    .add_option("--tenant", opt.tenants,
                "tenants to drive (their queues "
                "and agents are read from the node)")
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--duration", opt.duration_s, "seconds of arrivals");
  app.add_option("--rate", opt.rate, "calls per second, all tenants");
  app.add_option("--talk", opt.talk_s,
                 "mean talk time, seconds: answer to the agent's hang-up. "
                 "Ringing before it and the queue's wrap-up after it come "
                 "on top (handle time is talk plus wrap-up)");
  app.add_flag("--fixed-talk", opt.fixed_talk,
               "every call talks --talk exactly (default: exponential)");
  app
    .add_option("--mix", opt.mix,
                "skill demand: relative share of calls per queue of a "
                "tenant, in queue-id order, e.g. --mix 5,3,1,1 (default: "
                "equal)")
    ->delimiter(',')
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--patience", opt.patience_s,
                 "mean time a caller waits before hanging up, seconds "
                 "(ringing included)");
  app.add_option("--ring-min", opt.ring_min_s,
                 "shortest time an agent lets an offer ring before "
                 "answering or declining it, seconds");
  app.add_option("--ring-max", opt.ring_max_s,
                 "longest such time, seconds (uniform in between)");
  app.add_option("--decline-share", opt.decline_share,
                 "share of offers agents decline after the ring time");
  app.add_option("--expire-share", opt.expire_share,
                 "share of offers agents leave ringing until the queue's "
                 "offer timeout expires them (missed offers)");
  app.add_option("--breaks-per-hour", opt.break_per_hour,
                 "short Away breaks per agent and hour");
  app.add_option("--drain", opt.drain_s,
                 "after the last arrival, seconds during which calls in "
                 "progress may still be answered, talk or be abandoned; "
                 "ends sooner once none is left. Calls left after it are "
                 "cancelled (waiting, ringing) or completed (talking)");
  app.add_option("--give-up", opt.give_up_s,
                 "real seconds without a connection to the node before the "
                 "run stops (exit status 4)");
  app.add_option("--sl-threshold", opt.sl_threshold_s,
                 "service-level threshold, seconds");
  app.add_option("--seed", opt.seed, "random seed");
  app.add_option("--json", opt.json_out, "also write the results here");
  app.add_option("--time-scale", opt.time_scale,
                 "contact-center time runs this many times faster than real "
                 "time: 60 runs an hour in a minute (durations and rates "
                 "above are in contact-center time)");
  app.add_option("--generate", opt.generate_agents,
                 "create a contact center of this many agents instead of "
                 "driving --tenant (tenants lg-0, lg-1, ...)");
  app.add_option("--tenants", opt.generated_tenants,
                 "tenants of the generated contact center");
  app.add_option("--queues", opt.queues, "queues per generated tenant");
  app.add_option("--wrap-up", opt.wrap_up_s,
                 "wrap-up of the generated queues, seconds");
  app.add_option("--workers", opt.workers,
                 "threads for agents' and callers' timed actions (0: 1 with "
                 "--ingest, else 4)");
  app.add_flag("--ingest", opt.ingest,
               "send calls and offers' answers over Ingest streams, as a "
               "gateway does, instead of unary calls");
  CLI11_PARSE(app, argc, argv);
  if (opt.time_scale <= 0) {
    std::cerr << "switchboard-loadgen: --time-scale must be above 0\n";
    return 2;
  }
  g_scale = opt.time_scale;
  if (std::any_of(opt.mix.begin(), opt.mix.end(),
                  [](double w) {
                    return w < 0;
                  })
      || (!opt.mix.empty()
          && std::accumulate(opt.mix.begin(), opt.mix.end(), 0.0) <= 0)) {
    std::cerr << "switchboard-loadgen: --mix shares must be 0 or more, and "
                 "not all 0\n";
    return 2;
  }
  if (opt.ring_min_s < 0 || opt.ring_max_s < opt.ring_min_s) {
    std::cerr << "switchboard-loadgen: expected 0 <= --ring-min <= "
                 "--ring-max\n";
    return 2;
  }
  if (opt.decline_share < 0 || opt.expire_share < 0
      || opt.decline_share + opt.expire_share > 1) {
    std::cerr << "switchboard-loadgen: --decline-share and --expire-share "
                 "must be 0 or more, together at most 1\n";
    return 2;
  }
  if (opt.drain_s < 0 || opt.give_up_s <= 0) {
    std::cerr << "switchboard-loadgen: --drain must be 0 or more and "
                 "--give-up above 0\n";
    return 2;
  }
  if (opt.generate_agents == 0 && opt.tenants.empty()) {
    std::cerr << "switchboard-loadgen: name the tenants to drive (--tenant) "
                 "or --generate N agents\n";
    return 2;
  }

  run_state rs;
  rs.opt = opt;
  rs.rng.seed(opt.seed);
  rs.run_id
    = "lg" + std::to_string(opt.seed) + "-"
      + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  rs.channel
    = grpc::CreateChannel(opt.server, grpc::InsecureChannelCredentials());
  rs.routing = v1::RoutingService::NewStub(rs.channel);
  auto admin = v1::AdminService::NewStub(rs.channel);
  auto events = v1::EventService::NewStub(rs.channel);

  if (opt.generate_agents > 0 && !generate(opt, *admin))
    return 1;
  rs.opt.tenants = opt.tenants;

  // What to drive: every queue and agent of the tenants, and how each
  // agent was, to give it back.
  std::vector<std::pair<std::string, v1::Queue>> queues;
  std::vector<agent_before> agents;
  for (auto& t : opt.tenants)
    if (!read_tenant(opt, *admin, t, queues, agents))
      return 1;
  if (queues.empty()) {
    std::cerr << "switchboard-loadgen: the tenants have no queues; apply a "
                 "configuration first (switchboard apply -f ...)\n";
    return 1;
  }

  // Skill demand: each queue's share of the arrivals.
  std::vector<double> weights;
  {
    std::map<std::string, size_t> per_tenant;
    for (auto& [t, q] : queues)
      per_tenant[t]++;
    for (auto& [t, n] : per_tenant)
      if (!opt.mix.empty() && opt.mix.size() != n) {
        std::cerr << "switchboard-loadgen: --mix has " << opt.mix.size()
                  << " shares but tenant " << t << " has " << n << " queues\n";
        return 2;
      }
    std::map<std::string, size_t> seen;
    for (auto& [t, q] : queues)
      weights.push_back(opt.mix.empty() ? 1.0 : opt.mix.at(seen[t]++));
  }

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  scheduler sched{opt.workers > 0 ? opt.workers : opt.ingest ? 1 : 4};
  rs.sched = &sched;
  if (opt.ingest) {
    for (auto& t : opt.tenants)
      rs.links[t] = std::make_unique<ingest_link>(
        *events, [&rs](char kind, const v1::IngestResponse& r, double rtt) {
          if (kind == 's') {
            rs.submit_rtt.add(rtt);
            std::string call_id;
            {
              std::lock_guard guard{rs.mtx};
              auto i = rs.submits.find(r.event_id());
              if (i != rs.submits.end()) {
                call_id = i->second;
                rs.submits.erase(i);
              }
            }
            rs.submitted(call_id,
                         grpc::Status{static_cast<grpc::StatusCode>(r.code()),
                                      r.message()});
            if (r.code() == 0 && !r.duplicate())
              rs.offered++;
            return;
          }
          if (r.code() == 0)
            return;
          auto code = static_cast<grpc::StatusCode>(r.code());
          // Races a real desktop sees: the caller hung up while it rang,
          // or was answered just before hanging up.
          bool expected = (kind == 'a' || kind == 'd' || kind == 'x')
                          && (code == grpc::StatusCode::NOT_FOUND
                              || code == grpc::StatusCode::FAILED_PRECONDITION);
          if (!expected)
            rs.error(grpc::Status{code, r.message()});
        });
  }

  // Offers reach agents through the event stream, as on a desktop. A
  // stream that ends (its tenant's node went down, or the tenant moved)
  // resumes after the last event read, as a gateway does.
  struct stream_slot {
    std::mutex mtx;
    std::unique_ptr<grpc::ClientContext> ctx;
    bool stopped = false;
  };
  std::vector<std::unique_ptr<stream_slot>> streams;
  std::vector<std::thread> readers;
  for (auto& t : opt.tenants) {
    streams.push_back(std::make_unique<stream_slot>());
    auto* slot = streams.back().get();
    readers.emplace_back([&rs, &events, slot, t] {
      uint64_t last = 0;
      while (true) {
        grpc::ClientContext* ctx = nullptr;
        {
          std::lock_guard guard{slot->mtx};
          if (slot->stopped)
            return;
          slot->ctx = std::make_unique<grpc::ClientContext>();
          ctx = slot->ctx.get();
        }
        v1::SubscribeRequest req;
        req.set_tenant_id(t);
        // From the first event kept, then after the last one read: events
        // of calls this run did not submit are skipped below.
        req.set_from_sequence(last);
        // What a desktop acts on: its calls' events, not agents' changes.
        for (auto type :
             {v1::EVENT_TYPE_CALL_OFFERED, v1::EVENT_TYPE_CALL_ASSIGNED,
              v1::EVENT_TYPE_CALL_COMPLETED, v1::EVENT_TYPE_CALL_ABANDONED,
              v1::EVENT_TYPE_CALL_CANCELLED, v1::EVENT_TYPE_CALL_DISCONNECTED,
              v1::EVENT_TYPE_CALL_TIMED_OUT, v1::EVENT_TYPE_OFFER_DECLINED,
              v1::EVENT_TYPE_OFFER_EXPIRED, v1::EVENT_TYPE_CALL_OVERFLOWED})
          req.add_types(type);
        auto stream = events->Subscribe(ctx, req);
        v1::Event e;
        while (stream->Read(&e)) {
          last = e.sequence();
          auto received = clock_type::now();
          if (e.has_call()) {
            std::lock_guard guard{rs.mtx};
            if (rs.calls.count(e.call().call().call_id()) == 0)
              continue;
          }
          if (e.has_call())
            on_event(rs, e, received);
        }
        stream->Finish();
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      }
    });
  }

  for (auto& a : agents) {
    set_presence(rs, a.tenant, a.id, v1::PRESENCE_AVAILABLE);
    v1::SetAgentReadyRequest req;
    req.set_tenant_id(a.tenant);
    req.set_agent_id(a.id);
    req.set_ready(true);
    v1::AgentView out;
    auto st = rs.routing->SetAgentReady(ctx_with_deadline().get(), req, &out);
    if (!st.ok())
      rs.error(st);
    schedule_break(rs, a.tenant, a.id);
  }

  std::printf("driving %zu agents and %zu queues of %zu tenants: %g calls/s "
              "for %g s (talk %g s mean%s, ring %g-%g s, offers declined "
              "%g %%, left to expire %g %%, patience %g s mean)\n",
              agents.size(), queues.size(), opt.tenants.size(), opt.rate,
              opt.duration_s, opt.talk_s, opt.fixed_talk ? ", fixed" : "",
              opt.ring_min_s, opt.ring_max_s, 100 * opt.decline_share,
              100 * opt.expire_share, opt.patience_s);
  std::fflush(stdout);

  // Open-loop arrivals on a precomputed Poisson schedule.
  node_watch watch{*rs.channel, opt.give_up_s};
  std::atomic<bool> stop_arrivals{false};
  auto node_before = node_latency(opt.metrics);
  auto start = clock_type::now();
  // Sleeps until `t`, or less if the run stops; false if it stopped.
  auto sleep_until = [&](clock_type::time_point t) {
    while (!stop_arrivals && clock_type::now() < t)
      std::this_thread::sleep_for(std::min<clock_type::duration>(
        t - clock_type::now(), std::chrono::milliseconds{50}));
    return !stop_arrivals;
  };
  std::thread arrivals([&] {
    double t = 0;
    uint64_t n = 0;
    std::mt19937_64 arrival_rng{opt.seed * 7919};
    std::exponential_distribution<double> gap{opt.rate};
    std::discrete_distribution<size_t> pick{weights.begin(), weights.end()};
    while ((t += gap(arrival_rng)) < opt.duration_s) {
      auto when = start
                  + duration_cast<clock_type::duration>(
                    std::chrono::duration<double>(t / g_scale));
      auto& [tenant, q] = queues[pick(arrival_rng)];
      if (opt.ingest) {
        // Queuing a command on a stream does not block: sent from here on
        // time, with no hand-off to a worker in the measured path.
        if (!sleep_until(when))
          return;
        submit_one(rs, tenant, q, n, when);
      } else {
        // A unary SubmitCall blocks for its round trip: handed to the
        // workers shortly before it is due (and not earlier, so that a
        // long run does not hold its whole schedule in memory).
        if (!sleep_until(when - std::chrono::milliseconds{100}))
          return;
        sched.at(when, [&rs, tenant = tenant, q = q, n, when] {
          submit_one(rs, tenant, q, n, when);
        });
      }
      ++n;
    }
  });

  auto progress = [&] {
    auto elapsed
      = std::chrono::duration<double>(clock_type::now() - start).count();
    auto p = rs.progress();
    std::printf("\r  %5.0fs  offered %5llu  answered %5llu  abandoned %4llu  "
                "waiting %4zu  ringing %3zu  agents talking %3d/%zu  errors "
                "%llu   ",
                elapsed, static_cast<unsigned long long>(rs.offered.load()),
                static_cast<unsigned long long>(rs.answered.load()),
                static_cast<unsigned long long>(rs.abandoned.load()), p.waiting,
                p.ringing, rs.busy_agents.load(), agents.size(), [&] {
                  std::lock_guard guard{rs.mtx};
                  unsigned long long n = 0;
                  for (auto& [code, k] : rs.errors)
                    n += k;
                  return n;
                }());
    std::fflush(stdout);
    return p;
  };
  // Until the arrivals end, or the run stops: interrupted, or the node
  // gone (then at once: nothing it would answer is worth waiting for).
  bool lost = false;
  auto stopping = [&] {
    lost = lost || watch.lost();
    return lost || g_interrupted != 0;
  };
  while (std::chrono::duration<double>(clock_type::now() - start).count()
           < opt.duration_s / g_scale
         && !stopping()) {
    progress();
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
  }
  stop_arrivals = true;
  arrivals.join();
  rs.arrivals_done = true;
  // Drain: let calls in progress be answered, talk, or be abandoned.
  auto drain_until = clock_type::now()
                     + duration_cast<clock_type::duration>(
                       std::chrono::duration<double>(opt.drain_s / g_scale));
  while (!stopping() && clock_type::now() < drain_until
         && progress().active() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{std::min<int64_t>(
      500, 1 + static_cast<int64_t>(opt.drain_s / g_scale * 1000 / 10))});
  auto at_end = progress();
  std::printf("\n");
  sched.stop();
  rs.links.clear(); // waits for every answer
  auto run_s = std::chrono::duration<double>(clock_type::now() - start).count();
  auto completed = rs.completed.load();
  auto node_hist = node_latency(opt.metrics);

  cleanup_report cleanup;
  if (lost) {
    std::fprintf(stderr,
                 "switchboard-loadgen: the node at %s stopped answering (no "
                 "connection for %g s): run stopped, %zu calls of it were in "
                 "progress\n",
                 opt.server.c_str(), opt.give_up_s, at_end.total());
  } else {
    if (at_end.total() > 0)
      std::printf("  ending the %zu calls still in progress, and giving the "
                  "%zu agents back their presence and readiness\n",
                  at_end.total(), agents.size());
    cleanup = leave_as_found(rs, agents);
  }
  for (auto& slot : streams) {
    std::lock_guard guard{slot->mtx};
    slot->stopped = true;
    if (slot->ctx)
      slot->ctx->TryCancel();
  }
  for (auto& r : readers)
    r.join();

  auto offered = rs.offered.load();
  auto answered = rs.answered.load();
  auto abandoned = rs.abandoned.load();
  double asa = answered == 0 ? 0 : rs.total_answer_wait_s / answered;
  double ring = answered == 0 ? 0 : rs.total_ring_s / answered;
  double sl = answered + abandoned == 0
                ? 100.0
                : 100.0 * rs.within_sl.load() / (answered + abandoned);
  // This run's share of the node's histogram.
  auto p50 = quantile_between(node_before, node_hist, 0.50);
  auto p99 = quantile_between(node_before, node_hist, 0.99);
  auto p999 = quantile_between(node_before, node_hist, 0.999);
  auto window_s = opt.duration_s / g_scale; // real seconds of arrivals
  double calls_per_s = static_cast<double>(completed) / run_s;
  double requests_per_s = static_cast<double>(g_requests.load()) / run_s;
  auto& lat = rs.routing_latency;
  auto at_once = std::min<uint64_t>(rs.offered_at_once.load(), offered);
  double waited_pct = offered == 0
                        ? 0.0
                        : 100.0 * static_cast<double>(offered - at_once)
                            / static_cast<double>(offered);
  double occupancy_pct
    = agents.empty()
        ? 0.0
        : 100.0 * rs.talk_total_s
            / (static_cast<double>(agents.size()) * opt.duration_s);

  std::printf("\n  calls offered            %llu (taken by the node)\n",
              static_cast<unsigned long long>(offered));
  std::printf("  refused at submit        %llu (in errors below; not "
              "counted as offered or waiting)\n",
              static_cast<unsigned long long>(rs.submit_failed.load()));
  std::printf("  answered                 %llu\n",
              static_cast<unsigned long long>(answered));
  std::printf("  abandoned                %llu (%.1f %%)\n",
              static_cast<unsigned long long>(abandoned),
              offered == 0 ? 0.0 : 100.0 * abandoned / offered);
  std::printf("  timed out                %llu\n",
              static_cast<unsigned long long>(rs.timed_out.load()));
  std::printf("  offers declined/expired  %llu / %llu\n",
              static_cast<unsigned long long>(rs.declined.load()),
              static_cast<unsigned long long>(rs.expired.load()));
  std::printf("  overflowed               %llu\n",
              static_cast<unsigned long long>(rs.overflowed.load()));
  if (lost)
    std::printf("  left on the node         %zu calls in progress (the node "
                "stopped answering)\n",
                at_end.total());
  else
    std::printf("  ended at the end         %llu cancelled (waiting or "
                "ringing), %llu completed (talking), %llu wrap-ups ended; "
                "%llu agents given back their state\n",
                static_cast<unsigned long long>(cleanup.cancelled),
                static_cast<unsigned long long>(cleanup.completed),
                static_cast<unsigned long long>(cleanup.wrap_ups),
                static_cast<unsigned long long>(cleanup.restored));
  std::printf("  average speed of answer  %.3f s (arrival to answer, as the "
              "node's statistics count it: %.3f s waiting for an agent + "
              "%.3f s ringing)\n",
              asa, asa - ring, ring);
  std::printf("  service level            %.1f %% answered within %g s "
              "(ringing included; of answered and abandoned)\n",
              sl, opt.sl_threshold_s);
  if (p50 && p99 && p999)
    std::printf("  routing latency (node)   p50 %s, p99 %s, p99.9 %s\n",
                ms(*p50).c_str(), ms(*p99).c_str(), ms(*p999).c_str());
  else
    std::printf("  routing latency (node)   n/a (metrics at %s unreadable)\n",
                opt.metrics.c_str());
  std::printf(
    "  routing latency (client) p50 %s, p90 %s, p99 %s, p99.9 %s, "
    "max %s (scheduled arrival -> offer event received; a call that found no "
    "free agent adds its wait)\n",
    ms(lat.quantile(0.5) / 1e6).c_str(), ms(lat.quantile(0.9) / 1e6).c_str(),
    ms(lat.quantile(0.99) / 1e6).c_str(), ms(lat.quantile(0.999) / 1e6).c_str(),
    ms(lat.quantile(1.0) / 1e6).c_str());
  std::printf("  calls that waited        %.1f %% (found no free agent on "
              "arrival; ringing is not waiting here)\n",
              waited_pct);
  std::printf("  agent occupancy          %.1f %% (talk time over agents x "
              "arrival time; ringing and wrap-up not counted)\n",
              occupancy_pct);
  std::printf("  throughput               %.1f calls/s completed, %.0f "
              "requests/s (%.0f s run, %.0f s of arrivals)\n",
              calls_per_s, requests_per_s, run_s, window_s);
  std::printf(opt.ingest
                ? "  submit acknowledged      p50 %s, p99 %s (Ingest)\n"
                : "  SubmitCall round trip    p50 %s, p99 %s\n",
              ms(rs.submit_rtt.quantile(0.5) / 1e6).c_str(),
              ms(rs.submit_rtt.quantile(0.99) / 1e6).c_str());
  std::string errors;
  for (auto& [code, n] : rs.errors)
    errors += (errors.empty() ? "" : ", ") + code + " " + std::to_string(n);
  std::printf("  errors                   %s\n",
              errors.empty() ? "none" : errors.c_str());
  std::fflush(stdout);

  if (!opt.json_out.empty()) {
    std::ofstream out{opt.json_out};
    out << "{\n  \"arrival_rate_per_s\": " << opt.rate * g_scale
        << ",\n  \"arrival_window_s\": " << window_s
        << ",\n  \"offered\": " << offered
        << ",\n  \"submit_refused\": " << rs.submit_failed.load()
        << ",\n  \"answered\": " << answered
        << ",\n  \"abandoned\": " << abandoned
        << ",\n  \"completed\": " << completed
        << ",\n  \"timed_out\": " << rs.timed_out.load()
        << ",\n  \"offers_declined\": " << rs.declined.load()
        << ",\n  \"offers_expired\": " << rs.expired.load()
        << ",\n  \"node_lost\": " << (lost ? "true" : "false")
        << ",\n  \"ended_at_end\": {\"cancelled\": " << cleanup.cancelled
        << ", \"completed\": " << cleanup.completed
        << ", \"wrap_ups\": " << cleanup.wrap_ups
        << ", \"agents_restored\": " << cleanup.restored << "}"
        << ",\n  \"run_s\": " << run_s
        << ",\n  \"average_speed_of_answer_s\": " << asa
        << ",\n  \"average_ring_s\": " << ring
        << ",\n  \"service_level_percent\": " << sl
        << ",\n  \"routing_latency_p50_s\": " << p50.value_or(-1)
        << ",\n  \"routing_latency_p99_s\": " << p99.value_or(-1)
        << ",\n  \"routing_latency_p999_s\": " << p999.value_or(-1)
        << ",\n  \"routing_latency_client_us\": {\"p50\": " << lat.quantile(0.5)
        << ", \"p90\": " << lat.quantile(0.9)
        << ", \"p99\": " << lat.quantile(0.99)
        << ", \"p999\": " << lat.quantile(0.999)
        << ", \"max\": " << lat.quantile(1.0) << "}"
        << ",\n  \"calls_waited_percent\": " << waited_pct
        << ",\n  \"agent_occupancy_percent\": " << occupancy_pct
        << ",\n  \"calls_per_s\": " << calls_per_s
        << ",\n  \"requests_per_s\": " << requests_per_s
        << ",\n  \"submit_rtt_p50_us\": " << rs.submit_rtt.quantile(0.5)
        << ",\n  \"submit_rtt_p99_us\": " << rs.submit_rtt.quantile(0.99)
        << ",\n  \"errors\": {";
    bool first = true;
    for (auto& [code, n] : rs.errors) {
      out << (first ? "" : ", ") << "\"" << code << "\": " << n;
      first = false;
    }
    out << "}\n}\n";
  }
  if (lost)
    return 4;
  if (cleanup.left > 0) {
    std::fprintf(stderr,
                 "switchboard-loadgen: %llu calls of the run are still in "
                 "progress on the node\n",
                 static_cast<unsigned long long>(cleanup.left));
    return 3;
  }
  return rs.errors.empty() ? 0 : 3;
}
