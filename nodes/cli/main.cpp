// switchboard: the command line of a Switchboard node.
//
//   switchboard apply -f contact-center.yaml
//   switchboard get queues|agents|calls|rules --tenant contoso [--limit N]
//   switchboard stats queue sales --tenant contoso
//   switchboard stats agent alice --tenant contoso
//   switchboard watch --tenant contoso [--from 0]

#include "nodes/cli/config_file.hpp"
#include "nodes/cli/sign_in.hpp"
#include "nodes/tls/grpc_credentials.hpp"
#include "nodes/version/version.hpp"
#include "routing/selector.hpp"

#include "proto/convert.hpp"
#include "proto/status_names.hpp"
#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/cluster.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"
#include "switchboard/v1/stats.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>

using namespace switchboard;

namespace {

struct client {
  client(const std::string& server,
         const std::shared_ptr<grpc::ChannelCredentials>& credentials)
    : channel(grpc::CreateChannel(server, credentials)),
      admin(v1::AdminService::NewStub(channel)),
      routing(v1::RoutingService::NewStub(channel)),
      events(v1::EventService::NewStub(channel)),
      stats(v1::StatsService::NewStub(channel)),
      cluster(v1::ClusterService::NewStub(channel)) {}

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::RoutingService::Stub> routing;
  std::unique_ptr<v1::EventService::Stub> events;
  std::unique_ptr<v1::StatsService::Stub> stats;
  std::unique_ptr<v1::ClusterService::Stub> cluster;
};

/// Exits with a message if `st` failed.
void check(const grpc::Status& st, const std::string& what,
           const std::string& server) {
  if (st.ok())
    return;
  std::cerr << "switchboard: " << what << ": "
            << api::status_code_name(st.error_code()) << ": "
            << st.error_message();
  // The node's own UNAVAILABLE answers name a tenant; gRPC's, when no node
  // answers at all, do not.
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE
      && st.error_message().rfind("tenant '", 0) != 0)
    std::cerr << " (is a node serving on " << server << "?)";
  std::cerr << "\n";
  std::exit(1);
}

/// The bearer token sent with every request, if any (from --token-file,
/// SWITCHBOARD_TOKEN or the cache of switchboard login; never from a
/// flag's value).
std::string bearer;

/// Adds the bearer token to a request.
void sign_in(grpc::ClientContext& ctx) {
  if (!bearer.empty())
    ctx.AddMetadata("authorization", "Bearer " + bearer);
}

std::unique_ptr<grpc::ClientContext> deadline(int seconds = 10) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  sign_in(*ctx);
  ctx->set_deadline(std::chrono::system_clock::now()
                    + std::chrono::seconds{seconds});
  return ctx;
}

int apply(client& c, const std::string& server, const std::string& file) {
  std::string error;
  auto tenants = cli::read_config_file(file, error);
  if (!tenants) {
    std::cerr << "switchboard: " << file << ": " << error << "\n";
    return 2;
  }
  for (auto& tc : *tenants) {
    auto id = tc.tenant.tenant_id();
    v1::UpsertTenantRequest req;
    *req.mutable_tenant() = tc.tenant;
    v1::Tenant out;
    check(c.admin->UpsertTenant(deadline().get(), req, &out), "tenant " + id,
          server);
    // A queue after the queues it overflows to, so that they exist.
    for (auto* q : cli::in_dependency_order(tc.queues)) {
      v1::UpsertQueueRequest qr;
      *qr.mutable_queue() = *q;
      v1::Queue qo;
      check(c.admin->UpsertQueue(deadline().get(), qr, &qo),
            "queue " + id + "/" + q->queue_id(), server);
    }
    for (auto& a : tc.agents) {
      v1::UpsertAgentRequest ar;
      *ar.mutable_agent() = a;
      v1::AgentView ao;
      check(c.admin->UpsertAgent(deadline().get(), ar, &ao),
            "agent " + id + "/" + a.agent_id(), server);
    }
    if (tc.rules) {
      v1::ClassificationRules ro;
      check(
        c.admin->UpsertClassificationRules(deadline().get(), *tc.rules, &ro),
        "classification rules of " + id, server);
    }
    std::cout << "tenant " << id << ": " << tc.queues.size() << " queues, "
              << tc.agents.size() << " agents"
              << (tc.rules ? ", " + std::to_string(tc.rules->rules_size())
                               + " classification rules"
                           : std::string{})
              << " applied\n";
  }
  return 0;
}

/// Seconds to the millisecond: "1.523s". People compare these figures
/// with others (the load generator's, a wallboard's), so no rounding that
/// hides a difference.
std::string seconds_text(const google::protobuf::Duration& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs",
                static_cast<double>(
                  google::protobuf::util::TimeUtil::DurationToMilliseconds(d))
                  / 1000);
  return buf;
}

std::string presence_text(v1::Presence p) {
  auto x = api::from_proto(p);
  return x ? std::string{routing::to_string(*x)} : "-";
}

std::string state_text(v1::CallState s) {
  auto name = v1::CallState_Name(s);
  return name.substr(std::string{"CALL_STATE_"}.size());
}

/// Reads a list to its end, page after page: `call(req, resp)` fetches one
/// page, `row(item)` takes each item in order. With `limit` above 0,
/// `row` sees that many items and the rest are only counted. Returns how
/// many items there were in all.
template<class Request, class Response, class Call, class Items, class Row>
uint64_t every_page(Request req, Call call, Items items, uint64_t limit,
                    Row row) {
  req.set_page_size(1000);
  req.clear_page_token();
  uint64_t seen = 0;
  do {
    Response resp;
    call(req, resp);
    for (auto& x : items(resp)) {
      if (limit == 0 || seen < limit)
        row(x);
      ++seen;
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return seen;
}

/// The line after a list cut at `limit`, if it was.
void more_line(uint64_t total, uint64_t limit, const char* what) {
  if (limit == 0 || total <= limit)
    return;
  std::printf("... and %llu more %s (%llu in all; --limit 0 lists every "
              "one)\n",
              static_cast<unsigned long long>(total - limit), what,
              static_cast<unsigned long long>(total));
}

/// An agent's load against its capacity: the units in use of its total,
/// and per channel it can take, the items it holds of how many at once:
/// {"33/100", "voice 0/1 chat 1/3 email 0/1 message 0/3"}.
std::pair<std::string, std::string> load_text(const v1::AgentView& v) {
  routing::agent a;
  (void)api::from_proto(v.agent(), a); // the node's own data: valid
  (void)api::from_proto(v.state(), a);
  auto units = std::to_string(routing::used_units(a.cap, a.load)) + "/"
               + std::to_string(a.cap.total);
  std::string channels;
  for (size_t i = 0; i < routing::channel_count; ++i) {
    auto& ch = a.cap.channels[i];
    if (ch.max_concurrent == 0)
      continue;
    channels
      += (channels.empty() ? "" : " ")
         + std::string{routing::to_string(static_cast<routing::channel>(i))}
         + " " + std::to_string(a.load[i]) + "/"
         + std::to_string(ch.max_concurrent);
  }
  return {units, channels};
}

std::string activity_text(v1::AgentActivity x) {
  return v1::AgentActivity_Name(x).substr(
    std::string{"AGENT_ACTIVITY_"}.size());
}

/// Lists queues, agents or calls: every page, or the first `limit` and
/// how many more there are.
int get(client& c, const std::string& server, const std::string& what,
        const std::string& tenant, uint64_t limit) {
  if (what == "queues") {
    v1::ListQueuesRequest req;
    req.set_tenant_id(tenant);
    std::printf("%-16s %-12s %-40s %s\n", "QUEUE", "MODE", "SELECTORS",
                "OVERFLOW");
    auto total = every_page<v1::ListQueuesRequest, v1::ListQueuesResponse>(
      req,
      [&](const v1::ListQueuesRequest& r, v1::ListQueuesResponse& out) {
        check(c.admin->ListQueues(deadline().get(), r, &out), "list queues",
              server);
      },
      [](const v1::ListQueuesResponse& r) -> auto& { return r.queues(); },
      limit,
      [](const v1::Queue& q) {
        routing::queue rq;
        (void)api::from_proto(q, rq); // the node's own data: valid
        std::printf("%-16s %-12s %-40s %s\n", q.queue_id().c_str(),
                    std::string{routing::to_string(rq.mode)}.c_str(),
                    routing::to_string(rq.selectors).c_str(),
                    q.overflow_queue_id().c_str());
      });
    more_line(total, limit, "queues");
    return 0;
  }
  if (what == "agents") {
    v1::ListAgentsRequest req;
    req.set_tenant_id(tenant);
    std::printf("%-12s %-14s %-6s %-10s %-8s %-42s %-7s %s\n", "AGENT",
                "PRESENCE", "READY", "ACTIVITY", "LOAD", "CHANNELS (HELD/MAX)",
                "MISSED", "QUEUES");
    auto total = every_page<v1::ListAgentsRequest, v1::ListAgentsResponse>(
      req,
      [&](const v1::ListAgentsRequest& r, v1::ListAgentsResponse& out) {
        check(c.admin->ListAgents(deadline().get(), r, &out), "list agents",
              server);
      },
      [](const v1::ListAgentsResponse& r) -> auto& { return r.agents(); },
      limit,
      [](const v1::AgentView& a) {
        std::string queues;
        for (auto& q : a.agent().queue_ids())
          queues += (queues.empty() ? "" : ",") + q;
        auto [units, channels] = load_text(a);
        std::printf("%-12s %-14s %-6s %-10s %-8s %-42s %-7u %s\n",
                    a.agent().agent_id().c_str(),
                    presence_text(a.state().presence()).c_str(),
                    a.state().ready() ? "yes" : "no",
                    activity_text(a.state().activity()).c_str(), units.c_str(),
                    channels.c_str(), a.state().missed_offers_in_a_row(),
                    queues.c_str());
      });
    more_line(total, limit, "agents");
    return 0;
  }
  if (what == "calls") {
    v1::ListCallsRequest req;
    req.set_tenant_id(tenant);
    auto now = std::chrono::duration<double>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    std::printf("%-24s %-12s %-10s %-6s %-11s %s\n", "CALL", "QUEUE", "STATE",
                "PLACE", "WAITED", "AGENT");
    auto total = every_page<v1::ListCallsRequest, v1::ListCallsResponse>(
      req,
      [&](const v1::ListCallsRequest& r, v1::ListCallsResponse& out) {
        check(c.routing->ListCalls(deadline().get(), r, &out), "list calls",
              server);
      },
      [](const v1::ListCallsResponse& r) -> auto& { return r.calls(); }, limit,
      [now](const v1::CallView& v) {
        auto enqueued = static_cast<double>(v.enqueued_at().seconds())
                        + v.enqueued_at().nanos() / 1e9;
        std::printf(
          "%-24s %-12s %-10s %-6u %-11s %s\n", v.call().call_id().c_str(),
          v.queue_id().c_str(), state_text(v.state()).c_str(), v.position(),
          seconds_text(google::protobuf::util::TimeUtil::MillisecondsToDuration(
                         static_cast<int64_t>((now - enqueued) * 1000)))
            .c_str(),
          v.agent_id().c_str());
      });
    more_line(total, limit, "calls");
    return 0;
  }
  if (what == "rules") {
    v1::GetClassificationRulesRequest req;
    req.set_tenant_id(tenant);
    v1::ClassificationRules rules;
    check(c.admin->GetClassificationRules(deadline().get(), req, &rules),
          "get classification rules", server);
    std::printf("%-4s %-20s %-16s %-8s %s\n", "#", "RULE", "QUEUE", "PRIORITY",
                "WHEN");
    int i = 0;
    for (auto& r : rules.rules()) {
      std::string when;
      for (auto& cond : r.conditions()) {
        std::string values;
        for (auto& v : cond.values())
          values += (values.empty() ? "" : ",") + v;
        auto match = v1::Condition::Match_Name(cond.match())
                       .substr(std::string{"MATCH_"}.size());
        for (auto& ch : match)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        when += (when.empty() ? "" : " and ") + cond.field() + " " + match + " "
                + values;
      }
      std::vector<routing::selector> selectors;
      for (auto& sel : r.selectors()) {
        routing::selector rs;
        (void)api::from_proto(sel, rs, "selectors"); // the node's own data
        selectors.push_back(std::move(rs));
      }
      if (!selectors.empty())
        when += " then " + routing::to_string(selectors);
      std::printf("%-4d %-20s %-16s %-8d %s\n", ++i, r.rule_id().c_str(),
                  r.queue_id().c_str(), r.priority(), when.c_str());
    }
    std::printf("default queue: %s\n",
                rules.default_queue_id().empty()
                  ? "none (calls that match no rule are refused)"
                  : rules.default_queue_id().c_str());
    return 0;
  }
  std::cerr << "switchboard: get: expected queues, agents, calls or rules\n";
  return 2;
}

/// The members as the node at `server` sees them, or where a tenant lives.
int members(client& c, const std::string& server, const std::string& tenant,
            const std::string& remove) {
  if (!remove.empty()) {
    v1::RemoveMemberRequest req;
    req.set_name(remove);
    v1::RemoveMemberResponse resp;
    check(c.cluster->RemoveMember(deadline().get(), req, &resp),
          "remove member " + remove, server);
    std::printf("member %s removed: its tenants are moving to the others; "
                "stop it once `switchboard cluster` shows it with 0 "
                "tenants\n",
                remove.c_str());
    return 0;
  }
  if (!tenant.empty()) {
    v1::LocateTenantRequest req;
    req.set_tenant_id(tenant);
    v1::TenantLocation where;
    check(c.cluster->LocateTenant(deadline().get(), req, &where),
          "locate tenant " + tenant, server);
    std::printf("tenant %s: node %s (%s)\n", tenant.c_str(),
                where.owner().c_str(), where.owner_up() ? "up" : "DOWN");
    return where.owner_up() ? 0 : 1;
  }
  v1::ListMembersResponse resp;
  check(
    c.cluster->ListMembers(deadline().get(), v1::ListMembersRequest{}, &resp),
    "cluster members", server);
  std::printf("%-20s %-28s %-6s %-8s %-21s %s\n", "MEMBER", "ADDRESS", "STATE",
              "TENANTS", "SINCE", "LAST ERROR");
  int down = 0;
  for (auto& m : resp.members()) {
    auto since
      = m.has_since()
          ? google::protobuf::util::TimeUtil::ToString(m.since()).substr(0, 19)
              + "Z"
          : std::string{"-"};
    std::printf("%-20s %-28s %-6s %-8u %-21s %s\n",
                (m.name() + (m.self() ? " (this)" : "")).c_str(),
                m.address().empty() ? "-" : m.address().c_str(),
                m.up() ? "up" : "DOWN", m.tenants(), since.c_str(),
                m.last_error().c_str());
    down += m.up() ? 0 : 1;
  }
  return down == 0 ? 0 : 1;
}

int stats(client& c, const std::string& server, const std::string& queue,
          const std::string& tenant) {
  v1::GetQueueStatsRequest req;
  req.set_tenant_id(tenant);
  req.set_queue_id(queue);
  v1::QueueStats s;
  check(c.stats->GetQueueStats(deadline().get(), req, &s), "queue stats",
        server);
  std::printf("queue %s/%s\n", tenant.c_str(), queue.c_str());
  std::printf("  waiting            %u (longest %s)\n", s.waiting(),
              seconds_text(s.longest_wait()).c_str());
  std::printf("  offered            %llu\n",
              static_cast<unsigned long long>(s.offered()));
  std::printf("  answered           %llu\n",
              static_cast<unsigned long long>(s.answered()));
  std::printf("  abandoned          %llu (%.1f %%)\n",
              static_cast<unsigned long long>(s.abandoned()),
              s.abandon_rate_percent());
  std::printf("  service level      %.1f %%\n", s.service_level_percent());
  std::printf("  speed of answer    %s average\n",
              seconds_text(s.average_speed_of_answer()).c_str());
  for (auto& a : s.agents())
    std::printf("  agents %-10s %-14s %-9s %u\n",
                v1::AgentActivity_Name(a.activity())
                  .substr(std::string{"AGENT_ACTIVITY_"}.size())
                  .c_str(),
                presence_text(a.presence()).c_str(),
                a.ready() ? "ready" : "not-ready", a.agents());
  return 0;
}

/// Sets an agent's presence and readiness, as Teams and the agent app do,
/// then prints the agent as the node holds it.
int set_agent(client& c, const std::string& server, const std::string& agent,
              const std::string& tenant, const std::string& presence,
              const std::string& ready, const std::string& reason) {
  if (presence.empty() && ready.empty()) {
    std::cerr << "switchboard: agent: give --presence, --ready or both\n";
    return 2;
  }
  v1::AgentView view;
  if (!presence.empty()) {
    auto p = routing::parse_presence(presence);
    if (!p) {
      std::cerr << "switchboard: agent: --presence: expected a Teams "
                   "presence such as Available, Busy, Away or Offline, "
                   "found '"
                << presence << "'\n";
      return 2;
    }
    v1::SetAgentPresenceRequest req;
    req.set_tenant_id(tenant);
    req.set_agent_id(agent);
    req.set_presence(api::to_proto(*p));
    check(c.routing->SetAgentPresence(deadline().get(), req, &view),
          "agent " + agent, server);
  }
  if (!ready.empty()) {
    if (ready != "yes" && ready != "no") {
      std::cerr << "switchboard: agent: --ready: expected yes or no, found '"
                << ready << "'\n";
      return 2;
    }
    v1::SetAgentReadyRequest req;
    req.set_tenant_id(tenant);
    req.set_agent_id(agent);
    req.set_ready(ready == "yes");
    req.set_reason(reason);
    check(c.routing->SetAgentReady(deadline().get(), req, &view),
          "agent " + agent, server);
  }
  auto& state = view.state();
  std::string readiness = state.ready() ? "ready" : "not ready";
  if (!state.ready() && !state.not_ready_reason().empty())
    readiness += " (" + state.not_ready_reason() + ")";
  std::printf("agent %s/%s: %s, %s\n", tenant.c_str(), agent.c_str(),
              presence_text(state.presence()).c_str(), readiness.c_str());
  return 0;
}

/// An agent's figures of today (UTC) up to now, and what it is doing.
int agent_stats(client& c, const std::string& server, const std::string& agent,
                const std::string& tenant) {
  v1::GetAgentRequest areq;
  areq.set_tenant_id(tenant);
  areq.set_agent_id(agent);
  v1::AgentView view;
  check(c.admin->GetAgent(deadline().get(), areq, &view), "agent " + agent,
        server);
  v1::GetAgentStatsRequest req;
  req.set_tenant_id(tenant);
  req.set_agent_id(agent);
  v1::AgentStats s;
  check(c.stats->GetAgentStats(deadline().get(), req, &s), "agent stats",
        server);
  auto [units, channels] = load_text(view);
  std::printf("agent %s/%s, today (%s UTC) up to now\n", tenant.c_str(),
              agent.c_str(), s.date().c_str());
  std::printf("  now                %s, %s, %s\n",
              presence_text(view.state().presence()).c_str(),
              view.state().ready()
                ? "ready"
                : ("not ready"
                   + (view.state().not_ready_reason().empty()
                        ? std::string{}
                        : " (" + view.state().not_ready_reason() + ")"))
                    .c_str(),
              activity_text(view.state().activity()).c_str());
  std::printf("  load               %s units (%s)\n", units.c_str(),
              channels.c_str());
  std::printf("  handled            %u\n", s.handled());
  std::printf("  handle time        %s average (answer to wrap-up end)\n",
              seconds_text(s.average_handle_time()).c_str());
  std::printf("  offers missed      %u (declined or left to expire)\n",
              s.missed());
  std::printf("  busy               %s (holding answered work or wrapping "
              "up)\n",
              seconds_text(s.busy()).c_str());
  std::printf("  available          %s (ready, Available, holding no "
              "answered work)\n",
              seconds_text(s.available()).c_str());
  std::printf("  occupancy          %.1f %% (busy / (busy + available))\n",
              s.occupancy_percent());
  return 0;
}

int watch(client& c, const std::string& server, const std::string& tenant,
          uint64_t from, bool json) {
  v1::SubscribeRequest req;
  req.set_tenant_id(tenant);
  req.set_from_sequence(from);
  grpc::ClientContext ctx;
  sign_in(ctx);
  auto stream = c.events->Subscribe(&ctx, req);
  v1::Event e;
  while (stream->Read(&e)) {
    if (json) {
      std::string out;
      google::protobuf::util::JsonPrintOptions opts;
      (void)google::protobuf::util::MessageToJsonString(e, &out, opts);
      std::cout << out << std::endl;
      continue;
    }
    auto type
      = v1::EventType_Name(e.type()).substr(std::string{"EVENT_TYPE_"}.size());
    std::cout << e.sequence() << " " << type;
    if (e.has_call())
      std::cout << " call=" << e.call().call().call_id()
                << " queue=" << e.call().queue_id()
                << " state=" << state_text(e.call().state());
    if (e.has_agent())
      std::cout << " agent=" << e.agent().agent().agent_id()
                << " presence=" << presence_text(e.agent().state().presence())
                << " ready=" << (e.agent().state().ready() ? "yes" : "no");
    if (e.has_offer())
      std::cout << " offer=" << e.offer().offer_id()
                << " to=" << e.offer().agent_id();
    if (e.has_change())
      std::cout << " " << e.change().method() << " " << e.change().object_type()
                << "=" << e.change().object_id() << " by=\""
                << e.change().changed_by() << "\"";
    std::cout << std::endl;
  }
  check(stream->Finish(), "watch", server);
  return 0;
}

/// A CSV field, quoted if it needs to be.
std::string csv(const std::string& x) {
  if (x.find_first_of(",\"\n") == std::string::npos)
    return x;
  std::string out = "\"";
  for (char ch : x) {
    if (ch == '"')
      out += '"';
    out += ch;
  }
  return out + "\"";
}

/// Sets a listing's [from, to) from RFC 3339 texts (empty: unbounded);
/// false, after saying what is wrong, if one is not a time.
template<class Request>
bool set_bounds(Request& req, const std::string& from, const std::string& to,
                const char* command) {
  using google::protobuf::util::TimeUtil;
  for (auto [text, field, out] :
       {std::tuple{&from, "--from", req.mutable_from()},
        std::tuple{&to, "--to", req.mutable_to()}}) {
    if (text->empty())
      continue;
    if (!TimeUtil::FromString(*text, out)) {
      std::cerr << "switchboard: " << command << ": " << field << " '" << *text
                << "' is not an RFC 3339 time such as "
                   "2026-11-24T08:00:00Z\n";
      return false;
    }
  }
  // Unset bounds are absent, not the epoch.
  if (from.empty())
    req.clear_from();
  if (to.empty())
    req.clear_to();
  return true;
}

struct history_query {
  std::string tenant;
  std::string from;
  std::string to;
  std::string queue;
  std::string agent;
  std::string format = "table";
};

/// Finished calls, every page, as a table, CSV or JSON lines.
int history(client& c, const std::string& server, const history_query& q) {
  using google::protobuf::util::TimeUtil;
  if (q.format != "table" && q.format != "csv" && q.format != "json") {
    std::cerr << "switchboard: history: --format must be table, csv or json\n";
    return 2;
  }
  v1::ListCallHistoryRequest req;
  req.set_tenant_id(q.tenant);
  if (!set_bounds(req, q.from, q.to, "history"))
    return 2;
  req.set_queue_id(q.queue);
  req.set_agent_id(q.agent);
  req.set_page_size(1000);
  auto when = [](const google::protobuf::Timestamp& t) {
    return t.seconds() == 0 && t.nanos() == 0 ? std::string{}
                                              : TimeUtil::ToString(t);
  };
  auto seconds = [](const google::protobuf::Timestamp& a,
                    const google::protobuf::Timestamp& b) {
    if (a.seconds() == 0 || b.seconds() == 0)
      return std::string{};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f",
                  static_cast<double>(TimeUtil::DurationToMilliseconds(b - a))
                    / 1000);
    return std::string{buf};
  };
  if (q.format == "csv")
    std::cout << "call_id,channel,outcome,queue_path,agent_id,arrived_at,"
                 "answered_at,ended_at,wait_s,talk_s,offers\n";
  else if (q.format == "table")
    std::printf("%-24s %-8s %-10s %-20s %-12s %-25s %9s %9s\n", "CALL",
                "CHANNEL", "OUTCOME", "QUEUES", "AGENT", "ENDED", "WAIT_S",
                "TALK_S");
  do {
    v1::ListCallHistoryResponse page;
    check(c.stats->ListCallHistory(deadline(60).get(), req, &page),
          "history of " + q.tenant, server);
    for (auto& r : page.records()) {
      std::string path;
      for (auto& x : r.queue_path())
        path += (path.empty() ? "" : ">") + x;
      auto channel
        = v1::Channel_Name(r.channel()).substr(std::string{"CHANNEL_"}.size());
      std::transform(channel.begin(), channel.end(), channel.begin(),
                     [](unsigned char ch) {
                       return static_cast<char>(std::tolower(ch));
                     });
      auto answered = r.answered_at().seconds() != 0;
      auto wait
        = seconds(r.arrived_at(), answered ? r.answered_at() : r.ended_at());
      auto talk = answered ? seconds(r.answered_at(), r.ended_at()) : "";
      if (q.format == "json") {
        std::string out;
        google::protobuf::util::JsonPrintOptions opts;
        (void)google::protobuf::util::MessageToJsonString(r, &out, opts);
        std::cout << out << "\n";
      } else if (q.format == "csv") {
        std::cout << csv(r.call_id()) << "," << channel << ","
                  << state_text(r.outcome()) << "," << csv(path) << ","
                  << csv(r.agent_id()) << "," << when(r.arrived_at()) << ","
                  << when(r.answered_at()) << "," << when(r.ended_at()) << ","
                  << wait << "," << talk << "," << r.offers_size() << "\n";
      } else {
        std::printf("%-24s %-8s %-10s %-20s %-12s %-25s %9s %9s\n",
                    r.call_id().c_str(), channel.c_str(),
                    state_text(r.outcome()).c_str(), path.c_str(),
                    r.agent_id().empty() ? "-" : r.agent_id().c_str(),
                    when(r.ended_at()).c_str(), wait.c_str(), talk.c_str());
      }
    }
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return 0;
}

/// A tenant's configuration changes and who made each, every page.
int changes(client& c, const std::string& server, const history_query& q) {
  using google::protobuf::util::TimeUtil;
  if (q.format != "table" && q.format != "csv" && q.format != "json") {
    std::cerr << "switchboard: changes: --format must be table, csv or json\n";
    return 2;
  }
  v1::ListConfigurationChangesRequest req;
  req.set_tenant_id(q.tenant);
  if (!set_bounds(req, q.from, q.to, "changes"))
    return 2;
  req.set_page_size(1000);
  if (q.format == "csv")
    std::cout << "at,sequence,method,object_type,object_id,changed_by\n";
  else if (q.format == "table")
    std::printf("%-28s %-26s %-30s %s\n", "AT", "METHOD", "OBJECT", "BY");
  do {
    v1::ListConfigurationChangesResponse page;
    check(c.admin->ListConfigurationChanges(deadline(60).get(), req, &page),
          "changes of " + q.tenant, server);
    for (auto& x : page.changes()) {
      auto at = TimeUtil::ToString(x.at());
      if (q.format == "json") {
        std::string out;
        google::protobuf::util::JsonPrintOptions opts;
        (void)google::protobuf::util::MessageToJsonString(x, &out, opts);
        std::cout << out << "\n";
      } else if (q.format == "csv") {
        std::cout << at << "," << x.sequence() << "," << x.method() << ","
                  << x.object_type() << "," << csv(x.object_id()) << ","
                  << csv(x.changed_by()) << "\n";
      } else {
        auto object = x.object_type() + " " + x.object_id();
        std::printf("%-28s %-26s %-30s %s\n", at.c_str(), x.method().c_str(),
                    object.c_str(), x.changed_by().c_str());
      }
    }
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchboard: configure and watch a Switchboard node"};
  app.require_subcommand(1);
  // --help shows every default; subcommands inherit this.
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", version_text("switchboard"),
                       "print the version, commit and build type, and exit");
  std::string server = "127.0.0.1:7400";
  app.add_option("--server", server, "gRPC address of a node")
    ->envname("SWITCHBOARD_SERVER")
    ->capture_default_str();
  tls::client_options tls_options;
  app
    .add_flag("--tls", tls_options.enabled,
              "connect over TLS, verifying the node with the system's "
              "authorities (implied by --tls-ca and --tls-certificate)")
    ->envname("SWITCHBOARD_TLS");
  app
    .add_option("--tls-ca", tls_options.f.ca_file,
                "PEM authorities the node's certificate must chain to")
    ->envname("SWITCHBOARD_TLS_CA");
  app
    .add_option("--tls-certificate", tls_options.f.certificate_file,
                "PEM client certificate, for a node that requires one")
    ->envname("SWITCHBOARD_TLS_CERTIFICATE");
  app
    .add_option("--tls-private-key", tls_options.f.private_key_file,
                "unencrypted PEM private key of --tls-certificate")
    ->envname("SWITCHBOARD_TLS_PRIVATE_KEY");
  std::string token_file;
  app
    .add_option("--token-file", token_file,
                "file holding an Entra ID access token for Switchboard's "
                "API, sent as a bearer token (SWITCHBOARD_TOKEN holds the "
                "token itself)")
    ->envname("SWITCHBOARD_TOKEN_FILE");
  std::string token_cache = cli::default_token_cache();
  app
    .add_option("--token-cache", token_cache,
                "where switchboard login keeps the signed-in user's tokens "
                "(used when neither --token-file nor SWITCHBOARD_TOKEN is)")
    ->envname("SWITCHBOARD_TOKEN_CACHE");

  cli::sign_in_settings sign_in_with;
  auto* login_cmd = app.add_subcommand(
    "login", "sign in with Microsoft Entra ID (device code: open the page "
             "shown, enter the code); later commands use the tokens");
  login_cmd
    ->add_option("--client-id", sign_in_with.client_id,
                 "the CLI's app registration (public client flows "
                 "allowed)")
    ->envname("SWITCHBOARD_LOGIN_CLIENT_ID")
    ->required();
  login_cmd
    ->add_option("--scope", sign_in_with.scope,
                 "Switchboard's API, such as api://switchboard/.default")
    ->envname("SWITCHBOARD_LOGIN_SCOPE")
    ->required();
  login_cmd
    ->add_option("--tenant-id", sign_in_with.tenant,
                 "your Microsoft tenant id, or organizations")
    ->envname("SWITCHBOARD_LOGIN_TENANT_ID")
    ->capture_default_str();
  login_cmd
    ->add_option("--authority", sign_in_with.authority, "the identity platform")
    ->envname("SWITCHBOARD_LOGIN_AUTHORITY")
    ->capture_default_str();
  login_cmd
    ->add_option("--authority-ca", sign_in_with.ca_file,
                 "PEM authorities of a private identity platform's "
                 "certificate (default: the system's)")
    ->envname("SWITCHBOARD_LOGIN_AUTHORITY_CA");
  auto* logout_cmd
    = app.add_subcommand("logout", "forget the tokens switchboard login kept");

  std::string file;
  auto* apply_cmd
    = app.add_subcommand("apply", "create or replace tenants, queues and "
                                  "agents from a YAML file");
  apply_cmd->add_option("-f,--file", file, "the YAML file")->required();

  std::string tenant;
  std::string what;
  uint64_t limit = 0;
  auto* get_cmd = app.add_subcommand(
    "get", "list queues, agents (with their load against capacity), "
           "calls (every one, page after page) or the classification rules "
           "in their order");
  get_cmd->add_option("what", what, "queues, agents, calls or rules")
    ->required();
  get_cmd->add_option("-t,--tenant", tenant, "tenant id")->required();
  get_cmd->add_option("--limit", limit,
                      "list at most this many, then say how many more there "
                      "are; 0 lists every one");

  std::string kind;
  std::string name;
  auto* stats_cmd = app.add_subcommand(
    "stats", "live statistics of a queue, or an agent's figures of today");
  stats_cmd->add_option("kind", kind, "queue or agent")->required();
  stats_cmd->add_option("name", name, "the queue's or agent's id")->required();
  stats_cmd->add_option("-t,--tenant", tenant, "tenant id")->required();

  std::string presence;
  std::string ready;
  std::string reason;
  auto* agent_cmd = app.add_subcommand(
    "agent", "set an agent's presence and readiness, as Teams and the agent "
             "app do");
  agent_cmd->add_option("name", name, "the agent's id")->required();
  agent_cmd->add_option("-t,--tenant", tenant, "tenant id")->required();
  agent_cmd->add_option("--presence", presence,
                        "Teams presence: Available, Busy, DoNotDisturb, Away, "
                        "BeRightBack, Offline, ...");
  agent_cmd->add_option("--ready", ready, "yes or no");
  agent_cmd->add_option("--reason", reason,
                        "why not ready (lunch, training, ...)");

  uint64_t from = 0;
  bool json = false;
  auto* watch_cmd
    = app.add_subcommand("watch", "print a tenant's events as they happen");
  watch_cmd->add_option("-t,--tenant", tenant, "tenant id")->required();
  watch_cmd->add_option("--from", from,
                        "resume after this sequence (0: from the first kept)");
  watch_cmd->add_flag("--json", json, "one JSON object per event");

  history_query hq;
  auto* history_cmd = app.add_subcommand(
    "history", "finished calls, oldest first (every page), as a table, CSV "
               "or JSON lines");
  history_cmd->add_option("-t,--tenant", hq.tenant, "tenant id")->required();
  history_cmd->add_option("--from", hq.from,
                          "calls that ended at or after this RFC 3339 time");
  history_cmd->add_option("--to", hq.to,
                          "calls that ended before this RFC 3339 time");
  history_cmd->add_option("--queue", hq.queue,
                          "calls that waited in this queue");
  history_cmd->add_option("--agent", hq.agent, "calls this agent answered");
  history_cmd->add_option("--format", hq.format, "table, csv or json")
    ->capture_default_str();

  history_query cq;
  auto* changes_cmd = app.add_subcommand(
    "changes", "who changed the tenant's queues, agents and classification "
               "rules, oldest first, as a table, CSV or JSON lines");
  changes_cmd->add_option("-t,--tenant", cq.tenant, "tenant id")->required();
  changes_cmd->add_option("--from", cq.from,
                          "changes made at or after this RFC 3339 time");
  changes_cmd->add_option("--to", cq.to,
                          "changes made before this RFC 3339 time");
  changes_cmd->add_option("--format", cq.format, "table, csv or json")
    ->capture_default_str();

  std::string located;
  auto* cluster_cmd = app.add_subcommand(
    "cluster", "the cluster's members as this node sees them (exit 1 if one "
               "is down), or where a tenant lives");
  cluster_cmd->add_option("-t,--tenant", located,
                          "show the node that owns this tenant");
  std::string removed;
  cluster_cmd->add_option("--remove", removed,
                          "take this member out: its tenants move to the "
                          "others (scaling down)");

  CLI11_PARSE(app, argc, argv);
  if (*login_cmd)
    return cli::login(sign_in_with, token_cache, std::cout, std::cerr);
  if (*logout_cmd)
    return cli::logout(token_cache, std::cout, std::cerr);
  std::string tls_error;
  auto credentials = tls::channel_credentials(
    tls_options, {"--tls-certificate", "--tls-private-key", "--tls-ca"},
    tls_error);
  if (!credentials) {
    std::cerr << "switchboard: " << tls_error << "\n";
    return 2;
  }
  if (!token_file.empty()) {
    std::ifstream in{token_file};
    if (!in || !std::getline(in, bearer) || bearer.empty()) {
      std::cerr << "switchboard: --token-file: cannot read a token from '"
                << token_file << "'\n";
      return 2;
    }
  } else if (const char* env = std::getenv("SWITCHBOARD_TOKEN")) {
    bearer = env;
  } else {
    std::string problem;
    bearer = cli::cached_token(token_cache, problem);
    if (!problem.empty()) {
      std::cerr << "switchboard: " << problem << "\n";
      return 2;
    }
  }
  while (!bearer.empty()
         && std::isspace(static_cast<unsigned char>(bearer.back())))
    bearer.pop_back();
  client c{server, credentials};
  if (*cluster_cmd)
    return members(c, server, located, removed);
  if (*history_cmd)
    return history(c, server, hq);
  if (*changes_cmd)
    return changes(c, server, cq);
  if (*apply_cmd)
    return apply(c, server, file);
  if (*get_cmd)
    return get(c, server, what, tenant, limit);
  if (*stats_cmd) {
    if (kind == "agent")
      return agent_stats(c, server, name, tenant);
    if (kind != "queue") {
      std::cerr << "switchboard: stats: expected 'queue NAME' or 'agent "
                   "NAME'\n";
      return 2;
    }
    return stats(c, server, name, tenant);
  }
  if (*watch_cmd)
    return watch(c, server, tenant, from, json);
  if (*agent_cmd)
    return set_agent(c, server, name, tenant, presence, ready, reason);
  return 2;
}
