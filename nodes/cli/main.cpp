// switchboard: the command line of a Switchboard node.
//
//   switchboard apply -f contact-center.yaml
//   switchboard get queues|agents|calls --tenant contoso
//   switchboard stats queue sales --tenant contoso
//   switchboard watch --tenant contoso [--from 0]

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
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>

using namespace switchboard;

namespace {

/// A problem in the file being applied, with where it is.
struct apply_error {
  std::string text;
};

[[noreturn]] void bad(const YAML::Node& at, const std::string& path,
                      const std::string& what) {
  throw apply_error{"line " + std::to_string(at.Mark().line + 1) + ": " + path
                    + ": " + what};
}

std::string text(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar())
    bad(n, path, "expected text");
  return n.as<std::string>();
}

uint32_t number(const YAML::Node& n, const std::string& path) {
  try {
    auto v = n.as<int64_t>();
    if (v < 0 || v > 4'000'000'000)
      bad(n, path, "expected a whole number from 0");
    return static_cast<uint32_t>(v);
  } catch (const YAML::Exception&) {
    bad(n, path,
        "expected a whole number, found '" + n.as<std::string>("") + "'");
  }
}

/// "500ms", "20s", "5m", "1h", "90d".
void duration(const YAML::Node& n, const std::string& path,
              google::protobuf::Duration& out) {
  auto s = text(n, path);
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i;
  auto unit = s.substr(i);
  if (i == 0 || i > 9
      || (unit != "ms" && unit != "s" && unit != "m" && unit != "h"
          && unit != "d"))
    bad(n, path,
        "expected a duration such as 500ms, 20s, 5m, 1h or 90d, found '" + s
          + "'");
  int64_t v = std::stoll(s.substr(0, i));
  int64_t ms = unit == "ms"  ? v
               : unit == "s" ? v * 1000
               : unit == "m" ? v * 60'000
               : unit == "h" ? v * 3'600'000
                             : v * 86'400'000;
  out.set_seconds(ms / 1000);
  out.set_nanos(static_cast<int32_t>((ms % 1000) * 1'000'000));
}

void selectors(const YAML::Node& n, const std::string& path,
               google::protobuf::RepeatedPtrField<v1::Selector>& out) {
  auto parsed = routing::parse_selectors(text(n, path));
  if (!parsed)
    bad(n, path, parsed.error->to_string());
  for (auto& s : parsed.selectors)
    api::to_proto(s, *out.Add());
}

/// The queues a queue overflows to, by any of its settings.
std::vector<std::string> overflow_targets(const v1::Queue& q) {
  std::vector<std::string> result;
  if (!q.overflow_queue_id().empty())
    result.push_back(q.overflow_queue_id());
  for (auto* a : {&q.when_full(), &q.when_max_wait(), &q.when_no_agents(),
                  &q.when_closed()})
    if (a->kind() == v1::LimitAction::KIND_OVERFLOW)
      result.push_back(a->queue_id());
  return result;
}

/// `queues` ordered so that each comes after the queues of the same file
/// it overflows to. Queues in a cycle keep their file order: the server
/// then names the queue that does not exist yet.
std::vector<const v1::Queue*>
in_dependency_order(const std::vector<v1::Queue>& queues) {
  std::vector<const v1::Queue*> result;
  std::set<std::string> done;
  std::set<std::string> in_file;
  for (auto& q : queues)
    in_file.insert(q.queue_id());
  while (result.size() < queues.size()) {
    auto before = result.size();
    for (auto& q : queues) {
      if (done.count(q.queue_id()) > 0)
        continue;
      bool ready = true;
      for (auto& t : overflow_targets(q))
        ready = ready
                && (done.count(t) > 0 || in_file.count(t) == 0
                    || t == q.queue_id());
      if (ready) {
        result.push_back(&q);
        done.insert(q.queue_id());
      }
    }
    if (result.size() == before) {
      for (auto& q : queues)
        if (done.insert(q.queue_id()).second)
          result.push_back(&q);
    }
  }
  return result;
}

/// Rejects keys the schema does not know: a typo must not pass silently.
void known_keys(const YAML::Node& n, const std::string& path,
                std::initializer_list<const char*> keys) {
  if (!n.IsMap())
    bad(n, path, "expected a mapping");
  for (auto kv : n) {
    auto key = kv.first.as<std::string>();
    bool ok = false;
    for (auto* k : keys)
      ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (auto* k : keys)
        list += (list.empty() ? "" : ", ") + std::string{k};
      bad(kv.first, path + "." + key, "unknown key; expected one of " + list);
    }
  }
}

/// `{action: overflow|disconnect|callback, queue: ID, announcement: ID}`.
void read_action(const YAML::Node& n, const std::string& path,
                 v1::LimitAction& out) {
  known_keys(n, path, {"action", "queue", "announcement"});
  auto what = text(n["action"], path + ".action");
  auto kind = routing::parse_limit_action(what);
  if (!kind || *kind == routing::limit_action::kind::none)
    bad(n["action"], path + ".action",
        "expected overflow, disconnect or callback, found '" + what + "'");
  out.set_kind(static_cast<v1::LimitAction::Kind>(static_cast<int>(*kind)));
  if (n["queue"])
    out.set_queue_id(text(n["queue"], path + ".queue"));
  if (n["announcement"])
    out.set_announcement(text(n["announcement"], path + ".announcement"));
}

v1::Queue read_queue(const YAML::Node& n, const std::string& path,
                     const std::string& tenant) {
  known_keys(n, path,
             {"id",
              "name",
              "mode",
              "selectors",
              "routable_presences",
              "offer_timeout",
              "wrap_up",
              "max_missed_offers",
              "max_length",
              "max_wait",
              "overflow",
              "service_level",
              "when_full",
              "when_max_wait",
              "when_no_agents",
              "priority_aging",
              "steps",
              "hours",
              "when_closed",
              "preferred_wait",
              "last_agent_window"});
  v1::Queue q;
  q.set_tenant_id(tenant);
  q.set_queue_id(text(n["id"], path + ".id"));
  if (n["name"])
    q.set_display_name(text(n["name"], path + ".name"));
  if (auto m = n["mode"]) {
    auto mode = routing::parse_distribution_mode(text(m, path + ".mode"));
    if (!mode)
      bad(m, path + ".mode",
          "expected longest_idle, round_robin or best_skill, found '"
            + m.as<std::string>() + "'");
    q.set_mode(static_cast<v1::DistributionMode>(static_cast<int>(*mode) + 1));
  }
  if (n["selectors"])
    selectors(n["selectors"], path + ".selectors", *q.mutable_selectors());
  if (auto steps = n["steps"]) {
    if (!steps.IsSequence())
      bad(steps, path + ".steps", "expected a list of steps");
    for (size_t i = 0; i < steps.size(); ++i) {
      auto where = path + ".steps[" + std::to_string(i) + "]";
      known_keys(steps[i], where, {"selectors", "timeout"});
      auto& step = *q.add_steps();
      if (steps[i]["selectors"])
        selectors(steps[i]["selectors"], where + ".selectors",
                  *step.mutable_selectors());
      if (steps[i]["timeout"])
        duration(steps[i]["timeout"], where + ".timeout",
                 *step.mutable_timeout());
    }
  }
  if (auto ps = n["routable_presences"]) {
    for (size_t i = 0; i < ps.size(); ++i) {
      auto where = path + ".routable_presences[" + std::to_string(i) + "]";
      auto p = routing::parse_presence(text(ps[i], where));
      if (!p)
        bad(ps[i], where, "expected a Teams presence such as Available");
      q.add_routable_presences(api::to_proto(*p));
    }
  }
  if (n["offer_timeout"])
    duration(n["offer_timeout"], path + ".offer_timeout",
             *q.mutable_offer_timeout());
  if (n["wrap_up"])
    duration(n["wrap_up"], path + ".wrap_up", *q.mutable_wrap_up());
  if (n["max_missed_offers"])
    q.set_max_missed_offers(
      number(n["max_missed_offers"], path + ".max_missed_offers"));
  if (n["max_length"])
    q.set_max_length(number(n["max_length"], path + ".max_length"));
  if (n["max_wait"])
    duration(n["max_wait"], path + ".max_wait", *q.mutable_max_wait());
  if (n["overflow"])
    q.set_overflow_queue_id(text(n["overflow"], path + ".overflow"));
  if (n["when_full"])
    read_action(n["when_full"], path + ".when_full", *q.mutable_when_full());
  if (n["when_max_wait"])
    read_action(n["when_max_wait"], path + ".when_max_wait",
                *q.mutable_when_max_wait());
  if (n["when_no_agents"])
    read_action(n["when_no_agents"], path + ".when_no_agents",
                *q.mutable_when_no_agents());
  if (n["preferred_wait"])
    duration(n["preferred_wait"], path + ".preferred_wait",
             *q.mutable_preferred_wait());
  if (n["last_agent_window"])
    duration(n["last_agent_window"], path + ".last_agent_window",
             *q.mutable_last_agent_window());
  if (n["when_closed"])
    read_action(n["when_closed"], path + ".when_closed",
                *q.mutable_when_closed());
  if (auto h = n["hours"]) {
    auto where = path + ".hours";
    known_keys(h, where, {"time_zone", "open", "holidays"});
    auto& out = *q.mutable_hours();
    out.set_time_zone(text(h["time_zone"], where + ".time_zone"));
    if (auto open = h["open"]) {
      for (size_t i = 0; i < open.size(); ++i) {
        auto at = where + ".open[" + std::to_string(i) + "]";
        known_keys(open[i], at, {"days", "from", "to"});
        auto& x = *out.add_open();
        auto days = open[i]["days"];
        if (!days.IsSequence())
          bad(days, at + ".days", "expected a list of days such as [mon, tue]");
        for (size_t j = 0; j < days.size(); ++j)
          x.add_days(text(days[j], at + ".days[" + std::to_string(j) + "]"));
        x.set_from(text(open[i]["from"], at + ".from"));
        x.set_to(text(open[i]["to"], at + ".to"));
      }
    }
    if (auto hs = h["holidays"])
      for (size_t i = 0; i < hs.size(); ++i)
        out.add_holidays(
          text(hs[i], where + ".holidays[" + std::to_string(i) + "]"));
  }
  if (auto pa = n["priority_aging"]) {
    auto where = path + ".priority_aging";
    known_keys(pa, where, {"every", "step", "max"});
    auto& out = *q.mutable_priority_aging();
    duration(pa["every"], where + ".every", *out.mutable_interval());
    if (pa["step"])
      out.set_step(static_cast<int32_t>(number(pa["step"], where + ".step")));
    out.set_max_boost(static_cast<int32_t>(number(pa["max"], where + ".max")));
  }
  if (auto sl = n["service_level"]) {
    known_keys(sl, path + ".service_level", {"threshold", "target_percent"});
    if (sl["threshold"])
      duration(sl["threshold"], path + ".service_level.threshold",
               *q.mutable_service_level_threshold());
    if (sl["target_percent"])
      q.set_service_level_target_percent(
        number(sl["target_percent"], path + ".service_level.target_percent"));
  }
  return q;
}

v1::Agent read_agent(const YAML::Node& n, const std::string& path,
                     const std::string& tenant) {
  known_keys(n, path,
             {"id", "name", "teams_user_id", "sip_uri", "skills", "labels",
              "queues", "capacity", "total_capacity"});
  v1::Agent a;
  a.set_tenant_id(tenant);
  a.set_agent_id(text(n["id"], path + ".id"));
  if (n["name"])
    a.set_display_name(text(n["name"], path + ".name"));
  if (n["teams_user_id"])
    a.set_teams_user_id(text(n["teams_user_id"], path + ".teams_user_id"));
  if (n["sip_uri"])
    a.set_sip_uri(text(n["sip_uri"], path + ".sip_uri"));
  for (auto kv : n["skills"])
    (*a.mutable_skills())[kv.first.as<std::string>()]
      = number(kv.second, path + ".skills." + kv.first.as<std::string>());
  for (auto kv : n["labels"])
    (*a.mutable_labels())[kv.first.as<std::string>()]
      = text(kv.second, path + ".labels." + kv.first.as<std::string>());
  for (auto q : n["queues"])
    a.add_queue_ids(text(q, path + ".queues"));
  if (n["total_capacity"])
    a.set_total_capacity(number(n["total_capacity"], path + ".total_capacity"));
  for (auto kv : n["capacity"]) {
    auto where = path + ".capacity." + kv.first.as<std::string>();
    auto ch = routing::parse_channel(kv.first.as<std::string>());
    if (!ch)
      bad(kv.first, where, "expected voice, chat, email or message");
    auto* c = a.add_capacity();
    c->set_channel(api::to_proto(*ch));
    if (kv.second.IsMap()) {
      // {max: 1, cost: 0}: how many at once, and the units each uses.
      known_keys(kv.second, where, {"max", "cost"});
      c->set_max_concurrent(number(kv.second["max"], where + ".max"));
      c->set_cost(kv.second["cost"] ? number(kv.second["cost"], where + ".cost")
                                    : routing::capacity::standard()
                                        .channels[static_cast<size_t>(*ch)]
                                        .cost);
    } else {
      // A number: how many at once, at the channel's standard cost.
      c->set_max_concurrent(number(kv.second, where));
      c->set_cost(
        routing::capacity::standard().channels[static_cast<size_t>(*ch)].cost);
    }
  }
  return a;
}

/// A tenant's classification rules:
///   classification:
///     default_queue: general
///     rules:
///       - id: spanish
///         when:
///           - {field: attribute.language, equals: es}
///           - {field: to, prefix: ["+1425", "+1206"]}
///         queue: support
///         priority: 2
///         selectors: "skill.spanish >= 50"
v1::UpsertClassificationRulesRequest
read_classification(const YAML::Node& n, const std::string& path,
                    const std::string& tenant) {
  known_keys(n, path, {"default_queue", "rules"});
  v1::UpsertClassificationRulesRequest req;
  req.set_tenant_id(tenant);
  if (n["default_queue"])
    req.set_default_queue_id(text(n["default_queue"], path + ".default_queue"));
  auto rules = n["rules"];
  for (size_t i = 0; i < rules.size(); ++i) {
    auto rp = path + ".rules[" + std::to_string(i) + "]";
    auto r = rules[i];
    known_keys(r, rp, {"id", "when", "queue", "priority", "selectors"});
    auto& out = *req.add_rules();
    out.set_rule_id(text(r["id"], rp + ".id"));
    out.set_queue_id(text(r["queue"], rp + ".queue"));
    if (r["priority"])
      out.set_priority(number(r["priority"], rp + ".priority"));
    if (r["selectors"])
      selectors(r["selectors"], rp + ".selectors", *out.mutable_selectors());
    auto when = r["when"];
    for (size_t j = 0; j < when.size(); ++j) {
      auto cp = rp + ".when[" + std::to_string(j) + "]";
      auto c = when[j];
      known_keys(c, cp, {"field", "equals", "prefix", "in"});
      auto& cond = *out.add_conditions();
      cond.set_field(text(c["field"], cp + ".field"));
      int kinds = 0;
      for (auto [key, match] :
           {std::pair{"equals", v1::Condition::MATCH_EQUALS},
            std::pair{"prefix", v1::Condition::MATCH_PREFIX},
            std::pair{"in", v1::Condition::MATCH_IN}}) {
        auto v = c[key];
        if (!v)
          continue;
        ++kinds;
        cond.set_match(match);
        if (v.IsSequence())
          for (auto x : v)
            cond.add_values(text(x, cp + "." + key));
        else
          cond.add_values(text(v, cp + "." + key));
      }
      if (kinds != 1)
        bad(c, cp, "expected exactly one of equals, prefix or in");
    }
  }
  return req;
}

struct client {
  explicit client(const std::string& server)
    : channel(grpc::CreateChannel(server, grpc::InsecureChannelCredentials())),
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

std::unique_ptr<grpc::ClientContext> deadline(int seconds = 10) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now()
                    + std::chrono::seconds{seconds});
  return ctx;
}

int apply(client& c, const std::string& server, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    std::cerr << "switchboard: " << file << ": " << e.what() << "\n";
    return 2;
  }
  struct tenant_config {
    v1::Tenant tenant;
    std::vector<v1::Queue> queues;
    std::vector<v1::Agent> agents;
    std::optional<v1::UpsertClassificationRulesRequest> rules;
  };
  std::vector<tenant_config> tenants;
  try {
    known_keys(root, "(top)", {"tenants"});
    auto ts = root["tenants"];
    for (size_t i = 0; i < ts.size(); ++i) {
      auto path = "tenants[" + std::to_string(i) + "]";
      auto n = ts[i];
      known_keys(n, path,
                 {"id", "name", "microsoft_tenant_id", "sip_trunk_fqdns",
                  "dialled_numbers", "history_retention", "queues", "agents",
                  "classification"});
      tenant_config tc;
      auto id = text(n["id"], path + ".id");
      tc.tenant.set_tenant_id(id);
      if (n["name"])
        tc.tenant.set_display_name(text(n["name"], path + ".name"));
      if (n["microsoft_tenant_id"])
        tc.tenant.set_microsoft_tenant_id(
          text(n["microsoft_tenant_id"], path + ".microsoft_tenant_id"));
      for (auto f : n["sip_trunk_fqdns"])
        tc.tenant.add_sip_trunk_fqdns(text(f, path + ".sip_trunk_fqdns"));
      for (auto d : n["dialled_numbers"])
        tc.tenant.add_dialled_numbers(text(d, path + ".dialled_numbers"));
      if (n["history_retention"])
        duration(n["history_retention"], path + ".history_retention",
                 *tc.tenant.mutable_history_retention());
      auto qs = n["queues"];
      for (size_t j = 0; j < qs.size(); ++j)
        tc.queues.push_back(
          read_queue(qs[j], path + ".queues[" + std::to_string(j) + "]", id));
      auto as = n["agents"];
      for (size_t j = 0; j < as.size(); ++j)
        tc.agents.push_back(
          read_agent(as[j], path + ".agents[" + std::to_string(j) + "]", id));
      if (n["classification"])
        tc.rules = read_classification(n["classification"],
                                       path + ".classification", id);
      tenants.push_back(std::move(tc));
    }
  } catch (const apply_error& e) {
    std::cerr << "switchboard: " << file << ": " << e.text << "\n";
    return 2;
  } catch (const YAML::Exception& e) {
    std::cerr << "switchboard: " << file << ": " << e.what() << "\n";
    return 2;
  }
  for (auto& tc : tenants) {
    auto id = tc.tenant.tenant_id();
    v1::UpsertTenantRequest req;
    *req.mutable_tenant() = tc.tenant;
    v1::Tenant out;
    check(c.admin->UpsertTenant(deadline().get(), req, &out), "tenant " + id,
          server);
    // A queue after the queues it overflows to, so that they exist.
    for (auto* q : in_dependency_order(tc.queues)) {
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

std::string seconds_text(const google::protobuf::Duration& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs",
                static_cast<double>(d.seconds()) + d.nanos() / 1e9);
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

int get(client& c, const std::string& server, const std::string& what,
        const std::string& tenant) {
  if (what == "queues") {
    v1::ListQueuesRequest req;
    req.set_tenant_id(tenant);
    req.set_page_size(1000);
    v1::ListQueuesResponse resp;
    check(c.admin->ListQueues(deadline().get(), req, &resp), "list queues",
          server);
    std::printf("%-16s %-12s %-40s %s\n", "QUEUE", "MODE", "SELECTORS",
                "OVERFLOW");
    for (auto& q : resp.queues()) {
      routing::queue rq;
      api::from_proto(q, rq);
      std::printf("%-16s %-12s %-40s %s\n", q.queue_id().c_str(),
                  std::string{routing::to_string(rq.mode)}.c_str(),
                  routing::to_string(rq.selectors).c_str(),
                  q.overflow_queue_id().c_str());
    }
    return 0;
  }
  if (what == "agents") {
    v1::ListAgentsRequest req;
    req.set_tenant_id(tenant);
    req.set_page_size(1000);
    v1::ListAgentsResponse resp;
    check(c.admin->ListAgents(deadline().get(), req, &resp), "list agents",
          server);
    std::printf("%-12s %-14s %-6s %-10s %-7s %s\n", "AGENT", "PRESENCE",
                "READY", "ACTIVITY", "MISSED", "QUEUES");
    for (auto& a : resp.agents()) {
      std::string queues;
      for (auto& q : a.agent().queue_ids())
        queues += (queues.empty() ? "" : ",") + q;
      auto activity = v1::AgentActivity_Name(a.state().activity());
      std::printf(
        "%-12s %-14s %-6s %-10s %-7u %s\n", a.agent().agent_id().c_str(),
        presence_text(a.state().presence()).c_str(),
        a.state().ready() ? "yes" : "no",
        activity.substr(std::string{"AGENT_ACTIVITY_"}.size()).c_str(),
        a.state().missed_offers_in_a_row(), queues.c_str());
    }
    return 0;
  }
  if (what == "calls") {
    v1::ListCallsRequest req;
    req.set_tenant_id(tenant);
    req.set_page_size(1000);
    v1::ListCallsResponse resp;
    check(c.routing->ListCalls(deadline().get(), req, &resp), "list calls",
          server);
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto now_s = std::chrono::duration<double>(now).count();
    std::printf("%-24s %-12s %-10s %-6s %-9s %s\n", "CALL", "QUEUE", "STATE",
                "PLACE", "WAITED", "AGENT");
    for (auto& v : resp.calls()) {
      auto waited = now_s - static_cast<double>(v.enqueued_at().seconds());
      std::printf("%-24s %-12s %-10s %-6u %-9.0f %s\n",
                  v.call().call_id().c_str(), v.queue_id().c_str(),
                  state_text(v.state()).c_str(), v.position(), waited,
                  v.agent_id().c_str());
    }
    return 0;
  }
  std::cerr << "switchboard: get: expected queues, agents or calls\n";
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

int watch(client& c, const std::string& server, const std::string& tenant,
          uint64_t from, bool json) {
  v1::SubscribeRequest req;
  req.set_tenant_id(tenant);
  req.set_from_sequence(from);
  grpc::ClientContext ctx;
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
  for (auto [text, field, out] :
       {std::tuple{&q.from, "--from", req.mutable_from()},
        std::tuple{&q.to, "--to", req.mutable_to()}}) {
    if (text->empty())
      continue;
    if (!TimeUtil::FromString(*text, out)) {
      std::cerr << "switchboard: history: " << field << " '" << *text
                << "' is not an RFC 3339 time such as "
                   "2026-11-24T08:00:00Z\n";
      return 2;
    }
  }
  // Unset bounds are absent, not the epoch.
  if (q.from.empty())
    req.clear_from();
  if (q.to.empty())
    req.clear_to();
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
    std::snprintf(buf, sizeof buf, "%.1f",
                  static_cast<double>(TimeUtil::DurationToMilliseconds(b - a))
                    / 1000);
    return std::string{buf};
  };
  if (q.format == "csv")
    std::cout << "call_id,channel,outcome,queue_path,agent_id,arrived_at,"
                 "answered_at,ended_at,wait_s,talk_s,offers\n";
  else if (q.format == "table")
    std::printf("%-24s %-8s %-10s %-20s %-12s %-25s %7s %7s\n", "CALL",
                "CHANNEL", "OUTCOME", "QUEUES", "AGENT", "ENDED", "WAIT",
                "TALK");
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
        std::printf("%-24s %-8s %-10s %-20s %-12s %-25s %7s %7s\n",
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

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchboard: configure and watch a Switchboard node"};
  app.require_subcommand(1);
  std::string server = "127.0.0.1:7400";
  app.add_option("--server", server, "gRPC address of a node")
    ->envname("SWITCHBOARD_SERVER")
    ->capture_default_str();

  std::string file;
  auto* apply_cmd
    = app.add_subcommand("apply", "create or replace tenants, queues and "
                                  "agents from a YAML file");
  apply_cmd->add_option("-f,--file", file, "the YAML file")->required();

  std::string tenant;
  std::string what;
  auto* get_cmd = app.add_subcommand("get", "list queues, agents or calls");
  get_cmd->add_option("what", what, "queues, agents or calls")->required();
  get_cmd->add_option("-t,--tenant", tenant, "tenant id")->required();

  std::string kind;
  std::string name;
  auto* stats_cmd = app.add_subcommand("stats", "live statistics of a queue");
  stats_cmd->add_option("kind", kind, "queue")->required();
  stats_cmd->add_option("name", name, "the queue's id")->required();
  stats_cmd->add_option("-t,--tenant", tenant, "tenant id")->required();

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
  client c{server};
  if (*cluster_cmd)
    return members(c, server, located, removed);
  if (*history_cmd)
    return history(c, server, hq);
  if (*apply_cmd)
    return apply(c, server, file);
  if (*get_cmd)
    return get(c, server, what, tenant);
  if (*stats_cmd) {
    if (kind != "queue") {
      std::cerr << "switchboard: stats: expected 'queue NAME'\n";
      return 2;
    }
    return stats(c, server, name, tenant);
  }
  if (*watch_cmd)
    return watch(c, server, tenant, from, json);
  return 2;
}
