// switchboard-loadgen: drives contact-center traffic through a node's gRPC
// API, as gateways and agent desktops would, and reports what callers and
// agents experienced.
//
// Callers arrive as a Poisson process (open loop: on schedule whatever the
// node answers), wait with an exponential patience and hang up if no agent
// answered by then. Agents log in (Available, ready), accept offers after
// a ring delay (or sometimes decline), talk for an exponential handle time,
// complete (the node runs wrap-up), and now and then take a short break
// (Away). Every call and agent moves through the real API: SubmitCall,
// AcceptOffer, DeclineOffer, CompleteCall, CancelCall, SetAgentPresence;
// offers reach agents through Subscribe, as they would reach a desktop.

#include "proto/status_names.hpp"
#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

using namespace switchboard;
using clock_type = std::chrono::steady_clock;
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
  double ring_min_s = 0.5;
  double ring_max_s = 2.5;
  double patience_s = 40;
  double decline_share = 0.03;
  double break_per_hour = 2; // short Away breaks per agent and hour
  double break_s = 15;
  double drain_s = 40;
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

/// Timed tasks run by a few worker threads.
class scheduler {
 public:
  explicit scheduler(int workers) {
    for (int i = 0; i < workers; ++i)
      threads_.emplace_back([this] {
        work();
      });
  }

  ~scheduler() { stop(); }

  void at(clock_type::time_point t, std::function<void()> f) {
    {
      std::lock_guard guard{mtx_};
      tasks_.push({t, seq_++, std::move(f)});
    }
    cv_.notify_one();
  }

  void stop() {
    {
      std::lock_guard guard{mtx_};
      if (stopped_)
        return;
      stopped_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

 private:
  struct task {
    clock_type::time_point t;
    uint64_t seq;
    std::function<void()> f;
    bool operator>(const task& o) const {
      return t != o.t ? t > o.t : seq > o.seq;
    }
  };

  void work() {
    std::unique_lock guard{mtx_};
    while (!stopped_) {
      if (tasks_.empty()) {
        cv_.wait(guard);
        continue;
      }
      auto t = tasks_.top().t;
      if (t > clock_type::now()) {
        cv_.wait_until(guard, t);
        continue;
      }
      auto f = std::move(const_cast<task&>(tasks_.top()).f);
      tasks_.pop();
      guard.unlock();
      f();
      guard.lock();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::priority_queue<task, std::vector<task>, std::greater<>> tasks_;
  uint64_t seq_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

/// Latency samples in microseconds.
struct samples {
  std::mutex mtx;
  std::vector<double> us;

  void add(double x) {
    std::lock_guard guard{mtx};
    us.push_back(x);
  }

  double quantile(double q) {
    std::lock_guard guard{mtx};
    if (us.empty())
      return 0;
    std::sort(us.begin(), us.end());
    auto i = static_cast<size_t>(q * static_cast<double>(us.size() - 1));
    return us[i];
  }
};

struct call_info {
  std::string tenant;
  /// When the arrival was scheduled: latencies count from here, so a slow
  /// node cannot hide its delay by slowing the load (no coordinated
  /// omission).
  clock_type::time_point scheduled;
  bool offered = false;
  bool answered = false;
  bool ended = false;
};

/// One Ingest stream: commands written in order by a writer thread, answers
/// read by another. The writer sends what queued up meanwhile in one go
/// (buffer hints), so that a busy stream costs a socket write per batch,
/// not per command.
/// The event id's first letter says what the command was, so that the
/// refusals a race makes normal (accepting an offer the caller abandoned)
/// are not counted as errors.
class ingest_link {
 public:
  using on_answer
    = std::function<void(char kind, const v1::IngestResponse&, double rtt_us)>;

  ingest_link(v1::EventService::Stub& stub, on_answer answer)
    : answer_(std::move(answer)) {
    stream_ = stub.Ingest(&ctx_);
    reader_ = std::thread([this] {
      v1::IngestResponse r;
      while (stream_->Read(&r)) {
        clock_type::time_point sent;
        {
          std::lock_guard guard{mtx_};
          auto i = sent_.find(r.event_id());
          if (i == sent_.end())
            continue;
          sent = i->second;
          sent_.erase(i);
        }
        answer_(
          r.event_id()[0], r,
          std::chrono::duration<double, std::micro>(clock_type::now() - sent)
            .count());
      }
    });
    writer_ = std::thread([this] {
      write_loop();
    });
  }

  ~ingest_link() {
    {
      std::lock_guard guard{mtx_};
      closing_ = true;
    }
    cv_.notify_one();
    writer_.join();
    reader_.join();
    stream_->Finish();
  }

  void send(v1::IngestRequest& req) {
    std::lock_guard guard{mtx_};
    sent_[req.event_id()] = clock_type::now();
    queue_.push_back(std::move(req));
    if (queue_.size() == 1)
      cv_.notify_one();
  }

 private:
  on_answer answer_;
  grpc::ClientContext ctx_;
  std::unique_ptr<
    grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>>
    stream_;
  void write_loop() {
    std::vector<v1::IngestRequest> batch;
    std::unique_lock guard{mtx_};
    for (;;) {
      cv_.wait(guard, [this] {
        return !queue_.empty() || closing_;
      });
      if (queue_.empty())
        break;
      batch.swap(queue_);
      guard.unlock();
      for (size_t i = 0; i < batch.size(); ++i) {
        grpc::WriteOptions wo;
        if (i + 1 < batch.size())
          wo.set_buffer_hint();
        stream_->Write(batch[i], wo);
      }
      batch.clear();
      guard.lock();
    }
    guard.unlock();
    stream_->WritesDone();
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<v1::IngestRequest> queue_;
  bool closing_ = false;
  std::unordered_map<std::string, clock_type::time_point> sent_;
  std::thread reader_;
  std::thread writer_;
};

struct run_state {
  options opt;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::RoutingService::Stub> routing;
  scheduler* sched = nullptr;
  std::mutex mtx;
  std::mt19937_64 rng;
  std::unordered_map<std::string, call_info> calls;
  std::map<std::string, uint64_t> errors; // by status code name
  std::atomic<uint64_t> offered{0}, answered{0}, abandoned{0}, declined{0},
    expired{0}, overflowed{0}, completed{0}, within_sl{0}, timed_out{0};
  double total_answer_wait_s = 0;
  samples submit_rtt;
  /// Scheduled arrival -> first offer event received, microseconds.
  samples routing_latency;
  std::atomic<uint64_t> requests{0}, waited{0};
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
    g_requests++;
    links.at(tenant)->send(req);
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
        if (!info.offered) {
          info.offered = true;
          // Offered in the command that queued it, or later: it waited.
          if (e.at().seconds() != view.enqueued_at().seconds()
              || e.at().nanos() != view.enqueued_at().nanos())
            rs.waited++;
          rs.routing_latency.add(
            std::chrono::duration<double, std::micro>(received - info.scheduled)
              .count());
        }
      }
      auto offer = e.offer();
      bool decline = rs.uniform(0, 1) < rs.opt.decline_share;
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
      // Server time, in contact-center seconds.
      double wait
        = (seconds_of(e.at()) - seconds_of(view.enqueued_at())) * g_scale;
      {
        std::lock_guard guard{rs.mtx};
        rs.calls[call_id].answered = true;
        rs.total_answer_wait_s += wait;
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
        if (rs.opt.ingest) {
          v1::IngestRequest cmd;
          cmd.mutable_complete_call()->set_tenant_id(tenant);
          cmd.mutable_complete_call()->set_call_id(call_id);
          rs.busy_agents--;
          rs.ingest(tenant, 'c', cmd);
          return;
        }
        v1::CompleteCallRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(call_id);
        v1::CallView out;
        auto st
          = rs.routing->CompleteCall(ctx_with_deadline().get(), req, &out);
        rs.busy_agents--;
        if (!st.ok())
          rs.error(st);
      });
      return;
    }
    case v1::EVENT_TYPE_CALL_COMPLETED: rs.completed++; break;
    case v1::EVENT_TYPE_CALL_ABANDONED: rs.abandoned++; break;
    case v1::EVENT_TYPE_CALL_TIMED_OUT: rs.timed_out++; break;
    case v1::EVENT_TYPE_OFFER_DECLINED: rs.declined++; return;
    case v1::EVENT_TYPE_OFFER_EXPIRED: rs.expired++; return;
    case v1::EVENT_TYPE_CALL_OVERFLOWED: rs.overflowed++; return;
    default: return;
  }
  std::lock_guard guard{rs.mtx};
  rs.calls[call_id].ended = true;
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
    if (!st.ok()) {
      rs.error(st);
      return;
    }
    rs.offered++;
  }
  // The caller's patience.
  rs.sched->at(
    after(rs.exponential(rs.opt.patience_s)), [&rs, tenant, id = call_id] {
      {
        std::lock_guard guard{rs.mtx};
        auto& info = rs.calls[id];
        if (info.answered || info.ended)
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

/// Cumulative buckets of a Prometheus histogram: (le, count), +Inf last.
using histogram = std::vector<std::pair<double, double>>;

/// The node's routing latency histogram, from /metrics; empty if it cannot
/// be read.
histogram node_latency(const std::string& address) {
  auto colon = address.rfind(':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port
    = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return {};
  }
  std::string req = "GET /metrics HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string body;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    body.append(buf, static_cast<size_t>(n));
  close(fd);
  histogram buckets;
  std::istringstream in{body};
  std::string line;
  const std::string prefix = "switchboard_routing_latency_seconds_bucket{le=\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0)
      continue;
    auto end = line.find('"', prefix.size());
    auto le_text = line.substr(prefix.size(), end - prefix.size());
    double le = le_text == "+Inf" ? 1e9 : std::stod(le_text);
    double count = std::stod(line.substr(line.rfind(' ') + 1));
    buckets.emplace_back(le, count);
  }
  return buckets;
}

/// Quantile q of what the node observed between two readings of its
/// histogram, as Prometheus' histogram_quantile computes it.
std::optional<double> quantile_between(const histogram& before,
                                       histogram buckets, double q) {
  if (before.size() == buckets.size())
    for (size_t i = 0; i < buckets.size(); ++i)
      buckets[i].second -= before[i].second;
  if (buckets.empty() || buckets.back().second <= 0)
    return std::nullopt;
  double total = buckets.back().second;
  double target = q * total;
  double prev_le = 0, prev_count = 0;
  for (auto& [le, count] : buckets) {
    if (count >= target) {
      if (le >= 1e9)
        return prev_le;
      // Linear within the bucket, as Prometheus' histogram_quantile does.
      double share = count == prev_count
                       ? 1.0
                       : (target - prev_count) / (count - prev_count);
      return prev_le + (le - prev_le) * share;
    }
    prev_le = le;
    prev_count = count;
  }
  return std::nullopt;
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

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"switchboard-loadgen: contact-center traffic through a "
               "Switchboard node's gRPC API"};
  app.add_option("--server", opt.server, "gRPC address of the node")
    ->capture_default_str();
  app
    .add_option("--metrics", opt.metrics,
                "the node's /metrics address, for its routing latency")
    ->capture_default_str();
  app.add_option("--tenant", opt.tenants,
                 "tenants to drive (their queues "
                 "and agents are read from the node)");
  app.add_option("--duration", opt.duration_s, "seconds of arrivals")
    ->capture_default_str();
  app.add_option("--rate", opt.rate, "calls per second, all tenants")
    ->capture_default_str();
  app.add_option("--talk", opt.talk_s, "mean handle time, seconds")
    ->capture_default_str();
  app.add_flag("--fixed-talk", opt.fixed_talk,
               "every call takes --talk exactly (default: exponential)");
  app
    .add_option("--mix", opt.mix,
                "skill demand: relative share of calls per queue of a "
                "tenant, in queue-id order, e.g. --mix 5,3,1,1 (default: "
                "equal)")
    ->delimiter(',');
  app
    .add_option("--patience", opt.patience_s,
                "mean time a caller waits before hanging up, seconds")
    ->capture_default_str();
  app
    .add_option("--decline-share", opt.decline_share,
                "share of offers agents decline")
    ->capture_default_str();
  app
    .add_option("--breaks-per-hour", opt.break_per_hour,
                "short Away breaks per agent and hour")
    ->capture_default_str();
  app
    .add_option("--sl-threshold", opt.sl_threshold_s,
                "service-level threshold, seconds")
    ->capture_default_str();
  app.add_option("--seed", opt.seed, "random seed")->capture_default_str();
  app.add_option("--json", opt.json_out, "also write the results here");
  app
    .add_option("--time-scale", opt.time_scale,
                "contact-center time runs this many times faster than real "
                "time: 60 runs an hour in a minute (durations and rates "
                "above are in contact-center time)")
    ->capture_default_str();
  app.add_option("--generate", opt.generate_agents,
                 "create a contact center of this many agents instead of "
                 "driving --tenant (tenants lg-0, lg-1, ...)");
  app
    .add_option("--tenants", opt.generated_tenants,
                "tenants of the generated contact center")
    ->capture_default_str();
  app.add_option("--queues", opt.queues, "queues per generated tenant")
    ->capture_default_str();
  app
    .add_option("--wrap-up", opt.wrap_up_s,
                "wrap-up of the generated queues, seconds")
    ->capture_default_str();
  app.add_option("--workers", opt.workers,
                 "threads for agents' and callers' timed actions (default: "
                 "1 with --ingest, else 4)");
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

  // What to drive: every queue and agent of the tenants.
  std::vector<std::pair<std::string, v1::Queue>> queues;
  std::vector<std::pair<std::string, std::string>> agents;
  for (auto& t : opt.tenants) {
    v1::ListQueuesRequest lq;
    lq.set_tenant_id(t);
    lq.set_page_size(1000);
    v1::ListQueuesResponse qs;
    auto st = admin->ListQueues(ctx_with_deadline().get(), lq, &qs);
    if (!st.ok()) {
      std::cerr << "switchboard-loadgen: tenant " << t << ": "
                << st.error_message() << " (is a node serving on " << opt.server
                << "?)\n";
      return 1;
    }
    for (auto& q : qs.queues())
      queues.emplace_back(t, q);
    v1::ListAgentsRequest la;
    la.set_tenant_id(t);
    la.set_page_size(1000);
    do {
      v1::ListAgentsResponse as;
      st = admin->ListAgents(ctx_with_deadline().get(), la, &as);
      if (!st.ok()) {
        std::cerr << "switchboard-loadgen: agents of " << t << ": "
                  << st.error_message() << "\n";
        return 1;
      }
      for (auto& a : as.agents())
        agents.emplace_back(t, a.agent().agent_id());
      la.set_page_token(as.next_page_token());
    } while (!la.page_token().empty());
  }
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

  scheduler sched{opt.workers > 0 ? opt.workers : opt.ingest ? 1 : 4};
  rs.sched = &sched;
  if (opt.ingest) {
    for (auto& t : opt.tenants)
      rs.links[t] = std::make_unique<ingest_link>(
        *events, [&rs](char kind, const v1::IngestResponse& r, double rtt) {
          if (kind == 's')
            rs.submit_rtt.add(rtt);
          if (r.code() == 0) {
            if (kind == 's' && !r.duplicate())
              rs.offered++;
            return;
          }
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

  for (auto& [t, a] : agents) {
    set_presence(rs, t, a, v1::PRESENCE_AVAILABLE);
    v1::SetAgentReadyRequest req;
    req.set_tenant_id(t);
    req.set_agent_id(a);
    req.set_ready(true);
    v1::AgentView out;
    auto st = rs.routing->SetAgentReady(ctx_with_deadline().get(), req, &out);
    if (!st.ok())
      rs.error(st);
    schedule_break(rs, t, a);
  }

  std::cout << "driving " << agents.size() << " agents and " << queues.size()
            << " queues of " << opt.tenants.size() << " tenants: " << opt.rate
            << " calls/s for " << opt.duration_s << " s (handle time "
            << opt.talk_s << " s, patience " << opt.patience_s << " s)\n";

  // Open-loop arrivals on a precomputed Poisson schedule.
  auto node_before = node_latency(opt.metrics);
  auto start = clock_type::now();
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
        std::this_thread::sleep_until(when);
        submit_one(rs, tenant, q, n, when);
      } else {
        // A unary SubmitCall blocks for its round trip: handed to the
        // workers shortly before it is due (and not earlier, so that a
        // long run does not hold its whole schedule in memory).
        std::this_thread::sleep_until(when - std::chrono::milliseconds{100});
        sched.at(when, [&rs, tenant = tenant, q = q, n, when] {
          submit_one(rs, tenant, q, n, when);
        });
      }
      ++n;
    }
  });

  auto progress = [&](double elapsed) {
    size_t waiting = 0;
    {
      std::lock_guard guard{rs.mtx};
      for (auto& [id, c] : rs.calls)
        if (!c.answered && !c.ended)
          ++waiting;
    }
    std::printf("\r  %5.0fs  offered %5llu  answered %5llu  abandoned %4llu  "
                "waiting %4zu  agents talking %3d/%zu   ",
                elapsed, static_cast<unsigned long long>(rs.offered.load()),
                static_cast<unsigned long long>(rs.answered.load()),
                static_cast<unsigned long long>(rs.abandoned.load()), waiting,
                rs.busy_agents.load(), agents.size());
    std::fflush(stdout);
    return waiting;
  };
  double elapsed = 0;
  while (
    (elapsed = std::chrono::duration<double>(clock_type::now() - start).count())
    < opt.duration_s / g_scale) {
    progress(elapsed);
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
  }
  arrivals.join();
  rs.arrivals_done = true;
  // Drain: let waiting callers be answered or give up.
  auto drain_until = clock_type::now()
                     + duration_cast<clock_type::duration>(
                       std::chrono::duration<double>(opt.drain_s / g_scale));
  while (clock_type::now() < drain_until) {
    elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    bool busy = progress(elapsed) > 0 || rs.busy_agents.load() > 0;
    if (!busy)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
  }
  std::printf("\n");
  sched.stop();
  rs.links.clear(); // waits for every answer
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
  double sl = answered + abandoned == 0
                ? 100.0
                : 100.0 * rs.within_sl.load() / (answered + abandoned);
  // This run's share of the node's histogram.
  auto node_hist = node_latency(opt.metrics);
  auto p50 = quantile_between(node_before, node_hist, 0.50);
  auto p99 = quantile_between(node_before, node_hist, 0.99);
  auto p999 = quantile_between(node_before, node_hist, 0.999);
  auto window_s = opt.duration_s / g_scale; // real seconds of arrivals
  auto run_s = std::chrono::duration<double>(clock_type::now() - start).count();
  double calls_per_s = static_cast<double>(rs.completed.load()) / run_s;
  double requests_per_s = static_cast<double>(g_requests.load()) / run_s;
  auto& lat = rs.routing_latency;
  double waited_pct = offered == 0 ? 0.0 : 100.0 * rs.waited.load() / offered;
  double occupancy_pct
    = agents.empty()
        ? 0.0
        : 100.0 * rs.talk_total_s
            / (static_cast<double>(agents.size()) * opt.duration_s);

  std::printf("\n  calls offered            %llu\n",
              static_cast<unsigned long long>(offered));
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
  std::printf("  average speed of answer  %.1f s\n", asa);
  std::printf("  service level            %.1f %% answered within %.0f s\n", sl,
              opt.sl_threshold_s);
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
  std::printf("  calls that waited        %.1f %%\n", waited_pct);
  std::printf("  agent occupancy          %.1f %%\n", occupancy_pct);
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

  if (!opt.json_out.empty()) {
    std::ofstream out{opt.json_out};
    out << "{\n  \"arrival_rate_per_s\": " << opt.rate * g_scale
        << ",\n  \"arrival_window_s\": " << window_s
        << ",\n  \"offered\": " << offered << ",\n  \"answered\": " << answered
        << ",\n  \"abandoned\": " << abandoned
        << ",\n  \"completed\": " << rs.completed.load()
        << ",\n  \"timed_out\": " << rs.timed_out.load()
        << ",\n  \"offers_declined\": " << rs.declined.load()
        << ",\n  \"offers_expired\": " << rs.expired.load()
        << ",\n  \"run_s\": " << run_s
        << ",\n  \"average_speed_of_answer_s\": " << asa
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
  return rs.errors.empty() ? 0 : 3;
}
