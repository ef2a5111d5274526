#include "nodes/cli/config_file.hpp"

#include "routing/selector.hpp"

#include "proto/convert.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

namespace switchboard::cli {

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

} // namespace

/// `queues` ordered so that each comes after the queues of the same file
/// it overflows to. Queues in a cycle keep their file order: the server
/// then names the queue that does not exist yet.
std::vector<const v1::Queue*>
in_dependency_order(const std::vector<v1::Queue>& queues) {
  std::vector<const v1::Queue*> result;
  // By place in the file, not by id: a file may list an id twice (the
  // server then takes the last), and each entry must come out once.
  std::vector<bool> placed(queues.size(), false);
  std::set<std::string> done;
  std::set<std::string> in_file;
  for (auto& q : queues)
    in_file.insert(q.queue_id());
  while (result.size() < queues.size()) {
    auto before = result.size();
    for (size_t i = 0; i < queues.size(); ++i) {
      auto& q = queues[i];
      if (placed[i])
        continue;
      bool ready = true;
      for (auto& t : overflow_targets(q))
        ready = ready
                && (done.count(t) > 0 || in_file.count(t) == 0
                    || t == q.queue_id());
      if (ready) {
        result.push_back(&q);
        placed[i] = true;
        done.insert(q.queue_id());
      }
    }
    if (result.size() == before) {
      // A cycle: the rest in file order.
      for (size_t i = 0; i < queues.size(); ++i)
        if (!placed[i]) {
          result.push_back(&queues[i]);
          placed[i] = true;
        }
    }
  }
  return result;
}

namespace {

std::optional<std::vector<tenant_config>> read_config(const YAML::Node& root,
                                                      std::string& error);

} // namespace

std::optional<std::vector<tenant_config>>
read_config_file(const std::string& file, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    error = e.what();
    return std::nullopt;
  }
  return read_config(root, error);
}

std::optional<std::vector<tenant_config>>
read_config_text(std::string_view text, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string{text});
  } catch (const YAML::Exception& e) {
    error = e.what();
    return std::nullopt;
  }
  return read_config(root, error);
}

namespace {

std::optional<std::vector<tenant_config>> read_config(const YAML::Node& root,
                                                      std::string& error) {
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
    error = e.text;
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    error = e.what();
    return std::nullopt;
  }
  return tenants;
}

} // namespace

} // namespace switchboard::cli
