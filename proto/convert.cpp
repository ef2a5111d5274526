#include "proto/convert.hpp"

#include <algorithm>
#include <ctime>
#include <limits>
#include <set>

namespace switchboard::api {

namespace {

using routing::duration;

constexpr size_t max_id_length = 256;

std::string at(const std::string& field, const char* member) {
  return field + "." + member;
}

std::string at(const std::string& field, const char* member, int index) {
  return field + "." + member + "[" + std::to_string(index) + "]";
}

field_error error(std::string field, std::string message) {
  return {std::move(field), std::move(message)};
}

/// A free text or address field: at most `max` bytes.
maybe_error check_length(const std::string& text, size_t max,
                         const std::string& field) {
  if (text.size() > max)
    return error(field, "must be at most " + std::to_string(max)
                          + " bytes, has " + std::to_string(text.size()));
  return std::nullopt;
}

/// A repeated field or map: at most `max` entries.
maybe_error check_count(int count, size_t max, const std::string& field) {
  if (static_cast<size_t>(count) > max)
    return error(field, "must have at most " + std::to_string(max)
                          + " entries, has " + std::to_string(count));
  return std::nullopt;
}

/// A whole message: at most `max` bytes encoded.
maybe_error check_encoded(const google::protobuf::Message& in, size_t max,
                          const std::string& field) {
  auto size = in.ByteSizeLong();
  if (size > max)
    return error(field, "must be at most " + std::to_string(max)
                          + " bytes encoded, has " + std::to_string(size));
  return std::nullopt;
}

/// A priority the routing core can add aging boosts to without overflow.
maybe_error check_priority(int32_t priority, const std::string& field) {
  if (priority < routing::min_priority || priority > routing::max_priority)
    return error(field, "must be between "
                          + std::to_string(routing::min_priority) + " and "
                          + std::to_string(routing::max_priority) + ", found "
                          + std::to_string(priority));
  return std::nullopt;
}

/// Reads a Duration: whole microseconds, not negative.
maybe_error read_duration(const google::protobuf::Duration& in, duration& out,
                          const std::string& field) {
  if (in.seconds() < 0 || in.nanos() < 0)
    return error(field, "must not be negative");
  if (in.nanos() > 999'999'999)
    return error(field, "nanos must be at most 999999999");
  if (in.seconds() > 10LL * 365 * 24 * 3600)
    return error(field, "must be at most ten years");
  out = std::chrono::seconds{in.seconds()}
        + std::chrono::duration_cast<duration>(
          std::chrono::nanoseconds{in.nanos()});
  return std::nullopt;
}

void write_duration_impl(duration in, google::protobuf::Duration& out) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(in);
  out.set_seconds(secs.count());
  out.set_nanos(static_cast<int32_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(in - secs).count()));
}

void write_timestamp_impl(routing::timestamp in,
                          google::protobuf::Timestamp& out) {
  auto us = routing::to_micros(in);
  auto secs = us / 1'000'000;
  auto rest = us % 1'000'000;
  if (rest < 0) {
    secs -= 1;
    rest += 1'000'000;
  }
  out.set_seconds(secs);
  out.set_nanos(static_cast<int32_t>(rest * 1000));
}

/// Optional ids (references to other objects) may be empty.
maybe_error check_optional_id(const std::string& id, const std::string& field) {
  return id.empty() ? std::nullopt : check_id(id, field);
}

maybe_error
read_selectors(const google::protobuf::RepeatedPtrField<v1::Selector>& in,
               std::vector<routing::selector>& out, const std::string& field) {
  out.clear();
  if (auto e
      = check_count(in.size(), limits::selectors, at(field, "selectors")))
    return e;
  for (int i = 0; i < in.size(); ++i) {
    routing::selector x;
    if (auto e = from_proto(in[i], x, at(field, "selectors", i)))
      return e;
    out.push_back(std::move(x));
  }
  return std::nullopt;
}

} // namespace

void write_duration(duration in, google::protobuf::Duration& out) {
  write_duration_impl(in, out);
}

void write_timestamp(routing::timestamp in, google::protobuf::Timestamp& out) {
  write_timestamp_impl(in, out);
}

routing::timestamp read_timestamp(const google::protobuf::Timestamp& in) {
  // Clamped to Timestamp's valid range, so no stored or sent value
  // overflows the conversion.
  auto secs = std::clamp(in.seconds(), limits::min_timestamp_seconds,
                         limits::max_timestamp_seconds);
  auto nanos = std::clamp(in.nanos(), 0, 999'999'999);
  return routing::from_micros(secs * 1'000'000 + nanos / 1000);
}

maybe_error read_timestamp(const google::protobuf::Timestamp& in,
                           routing::timestamp& out, const std::string& field) {
  if (in.seconds() < limits::min_timestamp_seconds
      || in.seconds() > limits::max_timestamp_seconds)
    return error(
      at(field, "seconds"),
      "must be between " + std::to_string(limits::min_timestamp_seconds)
        + " (0001-01-01) and " + std::to_string(limits::max_timestamp_seconds)
        + " (9999-12-31), found " + std::to_string(in.seconds()));
  if (in.nanos() < 0 || in.nanos() > 999'999'999)
    return error(at(field, "nanos"), "must be between 0 and 999999999");
  out = read_timestamp(in);
  return std::nullopt;
}

std::string field_error::to_string() const { return field + ": " + message; }

maybe_error check_id(const std::string& id, const std::string& field) {
  if (id.empty())
    return error(field, "is required");
  if (id.size() > max_id_length)
    return error(field, "must be at most 256 characters, has "
                          + std::to_string(id.size()));
  for (size_t i = 0; i < id.size(); ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    if (c < 0x21 || c > 0x7E)
      return error(field, "must be printable ASCII without spaces; "
                          "character "
                            + std::to_string(i + 1) + " is not");
  }
  return std::nullopt;
}

// -- enums
// ---------------------------------------------------------------------

std::optional<routing::channel> from_proto(v1::Channel x) {
  if (x < v1::CHANNEL_VOICE || x > v1::CHANNEL_MESSAGE)
    return std::nullopt;
  return static_cast<routing::channel>(x - v1::CHANNEL_VOICE);
}

std::optional<routing::presence> from_proto(v1::Presence x) {
  if (x < v1::PRESENCE_AVAILABLE || x > v1::PRESENCE_UNKNOWN)
    return std::nullopt;
  return static_cast<routing::presence>(x - v1::PRESENCE_AVAILABLE);
}

v1::Channel to_proto(routing::channel x) {
  return static_cast<v1::Channel>(static_cast<int>(x) + v1::CHANNEL_VOICE);
}

v1::Presence to_proto(routing::presence x) {
  return static_cast<v1::Presence>(static_cast<int>(x)
                                   + v1::PRESENCE_AVAILABLE);
}

v1::CallState to_proto(routing::call_state x) {
  return static_cast<v1::CallState>(static_cast<int>(x)
                                    + v1::CALL_STATE_CREATED);
}

// -- selectors
// -----------------------------------------------------------------

maybe_error from_proto(const v1::Selector& in, routing::selector& out,
                       const std::string& field) {
  const auto& key = in.key();
  if (auto e = check_length(key, limits::name, at(field, "key")))
    return e;
  if (auto e = check_count(in.values_size(), limits::selector_values,
                           at(field, "values")))
    return e;
  for (int i = 0; i < in.values_size(); ++i)
    if (auto e
        = check_length(in.values(i), limits::name, at(field, "values", i)))
      return e;
  auto dot = key.find('.');
  auto prefix = key.substr(0, dot);
  if (dot == std::string::npos || (prefix != "skill" && prefix != "label"))
    return error(at(field, "key"),
                 "expected skill.NAME or label.NAME, found '" + key + "'");
  out = routing::selector{};
  out.kind = prefix == "skill" ? routing::selector_kind::skill
                               : routing::selector_kind::label;
  out.name = key.substr(dot + 1);
  if (in.op() < v1::SELECTOR_OP_EQ || in.op() > v1::SELECTOR_OP_IN)
    return error(at(field, "op"), "is required (EQ, NE, GT, GE, LT, LE, "
                                  "EXISTS or IN)");
  out.op = static_cast<routing::selector_op>(in.op() - v1::SELECTOR_OP_EQ);
  out.values.assign(in.values().begin(), in.values().end());
  if (in.has_relax_after()) {
    duration d{0};
    if (auto e = read_duration(in.relax_after(), d, at(field, "relax_after")))
      return e;
    out.relax_after = d;
  }
  if (auto problem = routing::validate(out)) {
    // Point at the value when a value is what is wrong.
    for (int i = 0; i < in.values_size(); ++i)
      if (problem->find("'" + in.values(i) + "'") != std::string::npos)
        return error(at(field, "values", i), *problem);
    auto member
      = problem->find("value") != std::string::npos ? "values" : "key";
    return error(at(field, member), *problem);
  }
  return std::nullopt;
}

void to_proto(const routing::selector& in, v1::Selector& out) {
  out.set_key(
    std::string{in.kind == routing::selector_kind::skill ? "skill." : "label."}
    + in.name);
  out.set_op(
    static_cast<v1::SelectorOp>(static_cast<int>(in.op) + v1::SELECTOR_OP_EQ));
  for (auto& v : in.values)
    out.add_values(v);
  if (in.relax_after)
    write_duration(*in.relax_after, *out.mutable_relax_after());
}

// -- tenant
// --------------------------------------------------------------------

maybe_error from_proto(const v1::Tenant& in, routing::tenant& out,
                       const std::string& field) {
  if (auto e = check_id(in.tenant_id(), at(field, "tenant_id")))
    return e;
  if (auto e = check_encoded(in, limits::tenant_bytes, field))
    return e;
  if (auto e = check_length(in.display_name(), limits::name,
                            at(field, "display_name")))
    return e;
  if (auto e = check_length(in.microsoft_tenant_id(), limits::name,
                            at(field, "microsoft_tenant_id")))
    return e;
  if (auto e = check_count(in.sip_trunk_fqdns_size(), limits::trunks,
                           at(field, "sip_trunk_fqdns")))
    return e;
  if (auto e = check_count(in.dialled_numbers_size(), limits::numbers,
                           at(field, "dialled_numbers")))
    return e;
  out = routing::tenant{};
  out.id = in.tenant_id();
  out.name = in.display_name();
  out.microsoft_tenant_id = in.microsoft_tenant_id();
  for (int i = 0; i < in.sip_trunk_fqdns_size(); ++i) {
    auto& fqdn = in.sip_trunk_fqdns(i);
    if (fqdn.empty() || fqdn.size() > 253
        || fqdn.find_first_of(" /:@") != std::string::npos)
      return error(at(field, "sip_trunk_fqdns", i),
                   "expected a host name such as "
                   "tenant1.customers.example.net, found '"
                     + fqdn + "'");
    out.sip_trunk_fqdns.push_back(fqdn);
  }
  for (int i = 0; i < in.dialled_numbers_size(); ++i) {
    auto& number = in.dialled_numbers(i);
    bool e164 = number.size() >= 3 && number.size() <= 16 && number[0] == '+'
                && std::all_of(number.begin() + 1, number.end(), [](char c) {
                     return c >= '0' && c <= '9';
                   });
    if (!e164)
      return error(at(field, "dialled_numbers", i),
                   "expected an E.164 number such as +14255550100, found '"
                     + number + "'");
    out.dialled_numbers.push_back(number);
  }
  if (auto e = read_duration(in.history_retention(), out.history_retention,
                             at(field, "history_retention")))
    return e;
  return std::nullopt;
}

void to_proto(const routing::tenant& in, v1::Tenant& out) {
  out.set_tenant_id(in.id);
  out.set_display_name(in.name);
  out.set_microsoft_tenant_id(in.microsoft_tenant_id);
  for (auto& x : in.sip_trunk_fqdns)
    out.add_sip_trunk_fqdns(x);
  for (auto& x : in.dialled_numbers)
    out.add_dialled_numbers(x);
  if (in.history_retention.count() > 0)
    write_duration(in.history_retention, *out.mutable_history_retention());
}

// -- queue
// ---------------------------------------------------------------------

namespace {

maybe_error read_action(const v1::LimitAction& in, routing::limit_action& out,
                        const std::string& field) {
  using kind = routing::limit_action::kind;
  switch (in.kind()) {
    case v1::LimitAction::KIND_UNSPECIFIED: out.what = kind::none; break;
    case v1::LimitAction::KIND_OVERFLOW: out.what = kind::overflow; break;
    case v1::LimitAction::KIND_DISCONNECT: out.what = kind::disconnect; break;
    case v1::LimitAction::KIND_CALLBACK: out.what = kind::callback; break;
    default:
      return error(at(field, "kind"),
                   "is not a limit action (OVERFLOW, DISCONNECT or CALLBACK)");
  }
  if (out.what == kind::overflow) {
    if (auto e = check_id(in.queue_id(), at(field, "queue_id")))
      return error(at(field, "queue_id"),
                   "an OVERFLOW action needs the queue to move calls to");
  } else if (!in.queue_id().empty()) {
    return error(at(field, "queue_id"),
                 "only an OVERFLOW action names a queue");
  }
  out.queue_id = in.queue_id();
  if (in.announcement().size() > 256)
    return error(at(field, "announcement"), "must be at most 256 characters");
  out.announcement = in.announcement();
  return std::nullopt;
}

maybe_error
read_steps(const google::protobuf::RepeatedPtrField<v1::SelectorStep>& in,
           std::vector<routing::selector_step>& out, const std::string& field) {
  out.clear();
  if (auto e = check_count(in.size(), limits::steps, at(field, "steps")))
    return e;
  for (int i = 0; i < in.size(); ++i) {
    auto where = at(field, "steps", i);
    routing::selector_step step;
    if (auto e = read_selectors(in[i].selectors(), step.selectors, where))
      return e;
    for (size_t j = 0; j < step.selectors.size(); ++j)
      if (step.selectors[j].relax_after || step.selectors[j].apply_after)
        return error(
          at(at(where, "selectors", static_cast<int>(j)), "relax_after"),
          "a step's timeout sets when its selectors stop "
          "applying; leave relax_after unset");
    if (auto e
        = read_duration(in[i].timeout(), step.timeout, at(where, "timeout")))
      return e;
    if (i + 1 < in.size() && step.timeout.count() <= 0)
      return error(at(where, "timeout"),
                   "must be longer than zero: the step before the last "
                   "needs a time after which the next one applies");
    out.push_back(std::move(step));
  }
  return std::nullopt;
}

void write_steps(const std::vector<routing::selector_step>& in,
                 google::protobuf::RepeatedPtrField<v1::SelectorStep>& out) {
  for (auto& step : in) {
    auto& x = *out.Add();
    for (auto& s : step.selectors)
      to_proto(s, *x.add_selectors());
    if (step.timeout.count() > 0)
      write_duration(step.timeout, *x.mutable_timeout());
  }
}

maybe_error read_hours(const v1::BusinessHours& in,
                       routing::business_hours& out, const std::string& field) {
  out = routing::business_hours{};
  if (auto problem = routing::check_time_zone(in.time_zone()))
    return error(at(field, "time_zone"), *problem);
  out.time_zone = in.time_zone();
  if (auto e
      = check_count(in.open_size(), limits::opening_hours, at(field, "open")))
    return e;
  if (auto e = check_count(in.holidays_size(), limits::holidays,
                           at(field, "holidays")))
    return e;
  for (int i = 0; i < in.open_size(); ++i) {
    auto& x = in.open(i);
    auto where = at(field, "open", i);
    routing::open_hours h;
    if (x.days_size() == 0)
      return error(at(where, "days"), "name at least one day (mon .. sun)");
    for (int j = 0; j < x.days_size(); ++j) {
      auto day = routing::parse_weekday(x.days(j));
      if (!day)
        return error(at(where, "days", j),
                     "expected mon, tue, wed, thu, fri, sat or sun, found '"
                       + x.days(j) + "'");
      h.days |= static_cast<uint8_t>(1u << *day);
    }
    auto from = routing::parse_clock(x.from());
    if (!from)
      return error(at(where, "from"),
                   "expected a local time HH:MM, found '" + x.from() + "'");
    auto to = routing::parse_clock(x.to());
    if (!to)
      return error(at(where, "to"), "expected a local time HH:MM (up to "
                                    "24:00), found '"
                                      + x.to() + "'");
    if (*to <= *from)
      return error(at(where, "to"),
                   "must be after from (" + x.from()
                     + "); for hours past "
                       "midnight, add the next day from 00:00");
    h.from = *from;
    h.to = *to;
    out.open.push_back(h);
  }
  for (int i = 0; i < in.holidays_size(); ++i) {
    if (!routing::is_date(in.holidays(i)))
      return error(at(field, "holidays", i),
                   "expected a date YYYY-MM-DD, found '" + in.holidays(i)
                     + "'");
    out.holidays.push_back(in.holidays(i));
  }
  return std::nullopt;
}

void write_hours(const routing::business_hours& in, v1::BusinessHours& out) {
  out.set_time_zone(in.time_zone);
  for (auto& h : in.open) {
    auto& x = *out.add_open();
    for (int day = 0; day < 7; ++day)
      if ((h.days & (1u << day)) != 0)
        x.add_days(std::string{routing::weekday_name(day)});
    x.set_from(routing::format_clock(h.from));
    x.set_to(routing::format_clock(h.to));
  }
  for (auto& d : in.holidays)
    out.add_holidays(d);
}

void write_action(const routing::limit_action& in, v1::LimitAction& out) {
  out.set_kind(static_cast<v1::LimitAction::Kind>(static_cast<int>(in.what)));
  out.set_queue_id(in.queue_id);
  out.set_announcement(in.announcement);
}

} // namespace

maybe_error from_proto(const v1::Queue& in, routing::queue& out,
                       const std::string& field) {
  if (auto e = check_id(in.tenant_id(), at(field, "tenant_id")))
    return e;
  if (auto e = check_id(in.queue_id(), at(field, "queue_id")))
    return e;
  if (auto e = check_encoded(in, limits::queue_bytes, field))
    return e;
  if (auto e = check_length(in.display_name(), limits::name,
                            at(field, "display_name")))
    return e;
  out = routing::queue{};
  out.id = in.queue_id();
  out.name = in.display_name();
  switch (in.mode()) {
    case v1::DISTRIBUTION_MODE_UNSPECIFIED:
    case v1::DISTRIBUTION_MODE_LONGEST_IDLE:
      out.mode = routing::distribution_mode::longest_idle;
      break;
    case v1::DISTRIBUTION_MODE_ROUND_ROBIN:
      out.mode = routing::distribution_mode::round_robin;
      break;
    case v1::DISTRIBUTION_MODE_BEST_SKILL:
      out.mode = routing::distribution_mode::best_skill;
      break;
    default: return error(at(field, "mode"), "is not a distribution mode");
  }
  if (auto e = read_selectors(in.selectors(), out.selectors, field))
    return e;
  if (auto e = read_steps(in.steps(), out.steps, field))
    return e;
  if (in.routable_presences_size() > 0) {
    out.routable_presences = 0;
    for (int i = 0; i < in.routable_presences_size(); ++i) {
      auto p = from_proto(in.routable_presences(i));
      if (!p)
        return error(at(field, "routable_presences", i),
                     "is not a Teams presence");
      out.routable_presences |= routing::presence_bit(*p);
    }
  }
  struct {
    bool present;
    const google::protobuf::Duration& value;
    duration& target;
    const char* name;
  } durations[] = {
    {in.has_offer_timeout(), in.offer_timeout(), out.offer_timeout,
     "offer_timeout"},
    {in.has_wrap_up(), in.wrap_up(), out.wrap_up, "wrap_up"},
    {in.has_max_wait(), in.max_wait(), out.max_wait, "max_wait"},
    {in.has_preferred_wait(), in.preferred_wait(), out.preferred_wait,
     "preferred_wait"},
    {in.has_last_agent_window(), in.last_agent_window(), out.last_agent_window,
     "last_agent_window"},
    {in.has_service_level_threshold(), in.service_level_threshold(),
     out.sla.threshold, "service_level_threshold"},
  };
  for (auto& d : durations)
    if (d.present)
      if (auto e = read_duration(d.value, d.target, at(field, d.name)))
        return e;
  if (in.has_offer_timeout()
      && (out.offer_timeout < limits::min_offer_timeout
          || out.offer_timeout > limits::max_offer_timeout))
    return error(at(field, "offer_timeout"),
                 "must be between 1s and 1h (unset: 20s)");
  if (out.wrap_up > limits::max_wrap_up)
    return error(at(field, "wrap_up"), "must be at most 24h (unset: 10s)");
  if (in.max_length() > limits::max_queue_length)
    return error(at(field, "max_length"),
                 "must be at most " + std::to_string(limits::max_queue_length)
                   + " (0: no limit)");
  if (in.max_missed_offers() > 1000)
    return error(at(field, "max_missed_offers"), "must be at most 1000");
  out.max_missed_offers = static_cast<uint16_t>(in.max_missed_offers());
  out.max_length = in.max_length();
  if (auto e = check_optional_id(in.overflow_queue_id(),
                                 at(field, "overflow_queue_id")))
    return e;
  if (in.overflow_queue_id() == in.queue_id())
    return error(at(field, "overflow_queue_id"),
                 "must name another queue, not the queue itself");
  out.overflow_queue = in.overflow_queue_id();
  if (in.service_level_target_percent() > 100)
    return error(at(field, "service_level_target_percent"),
                 "must be at most 100");
  if (in.service_level_target_percent() > 0)
    out.sla.target_percent
      = static_cast<uint8_t>(in.service_level_target_percent());
  struct {
    bool present;
    const v1::LimitAction& in;
    routing::limit_action& out;
    const char* name;
  } actions[] = {
    {in.has_when_full(), in.when_full(), out.when_full, "when_full"},
    {in.has_when_max_wait(), in.when_max_wait(), out.when_max_wait,
     "when_max_wait"},
    {in.has_when_no_agents(), in.when_no_agents(), out.when_no_agents,
     "when_no_agents"},
    {in.has_when_closed(), in.when_closed(), out.when_closed, "when_closed"},
  };
  for (auto& a : actions) {
    if (!a.present)
      continue;
    if (auto e = read_action(a.in, a.out, at(field, a.name)))
      return e;
    if (a.out.what == routing::limit_action::kind::overflow
        && a.out.queue_id == in.queue_id())
      return error(at(at(field, a.name), "queue_id"),
                   "must name another queue, not the queue itself");
  }
  if (out.when_full.what != routing::limit_action::kind::none
      && out.max_length == 0)
    return error(at(field, "when_full"),
                 "needs max_length: without it the queue is never full");
  if (out.when_max_wait.what != routing::limit_action::kind::none
      && out.max_wait.count() == 0)
    return error(at(field, "when_max_wait"),
                 "needs max_wait: without it no call waits too long");
  if (in.has_hours())
    if (auto e = read_hours(in.hours(), out.hours, at(field, "hours")))
      return e;
  if (out.when_closed.what != routing::limit_action::kind::none
      && !out.hours.enabled())
    return error(at(field, "when_closed"),
                 "needs hours: without them the queue is never closed");
  if (in.has_priority_aging()) {
    auto& pa = in.priority_aging();
    auto where = at(field, "priority_aging");
    if (auto e
        = read_duration(pa.interval(), out.aging.every, at(where, "interval")))
      return e;
    if (out.aging.every < std::chrono::seconds{1})
      return error(at(where, "interval"), "must be at least 1s");
    if (pa.step() < 0 || pa.step() > 1000)
      return error(at(where, "step"), "must be between 1 and 1000 (0: 1)");
    out.aging.step = pa.step() == 0 ? 1 : pa.step();
    if (pa.max_boost() < 1 || pa.max_boost() > 1000000)
      return error(at(where, "max_boost"),
                   "must be between 1 and 1000000: aging needs a ceiling");
    out.aging.max_boost = pa.max_boost();
  }
  return std::nullopt;
}

void to_proto(const routing::queue& in, const std::string& tenant_id,
              v1::Queue& out) {
  out.set_tenant_id(tenant_id);
  out.set_queue_id(in.id);
  out.set_display_name(in.name);
  out.set_mode(
    static_cast<v1::DistributionMode>(static_cast<int>(in.mode) + 1));
  for (auto& x : in.selectors)
    to_proto(x, *out.add_selectors());
  write_steps(in.steps, *out.mutable_steps());
  for (size_t i = 0; i < routing::presence_count; ++i) {
    auto p = static_cast<routing::presence>(i);
    if (in.routable_presences & routing::presence_bit(p))
      out.add_routable_presences(to_proto(p));
  }
  write_duration(in.offer_timeout, *out.mutable_offer_timeout());
  write_duration(in.wrap_up, *out.mutable_wrap_up());
  out.set_max_missed_offers(in.max_missed_offers);
  out.set_max_length(in.max_length);
  if (in.max_wait.count() > 0)
    write_duration(in.max_wait, *out.mutable_max_wait());
  out.set_overflow_queue_id(in.overflow_queue);
  write_duration(in.sla.threshold, *out.mutable_service_level_threshold());
  out.set_service_level_target_percent(in.sla.target_percent);
  using kind = routing::limit_action::kind;
  if (in.when_full.what != kind::none)
    write_action(in.when_full, *out.mutable_when_full());
  if (in.when_max_wait.what != kind::none)
    write_action(in.when_max_wait, *out.mutable_when_max_wait());
  if (in.when_no_agents.what != kind::none)
    write_action(in.when_no_agents, *out.mutable_when_no_agents());
  if (in.when_closed.what != kind::none)
    write_action(in.when_closed, *out.mutable_when_closed());
  if (in.hours.enabled())
    write_hours(in.hours, *out.mutable_hours());
  if (in.preferred_wait.count() > 0)
    write_duration(in.preferred_wait, *out.mutable_preferred_wait());
  if (in.last_agent_window.count() > 0)
    write_duration(in.last_agent_window, *out.mutable_last_agent_window());
  if (in.aging.enabled()) {
    auto& pa = *out.mutable_priority_aging();
    write_duration(in.aging.every, *pa.mutable_interval());
    pa.set_step(in.aging.step);
    pa.set_max_boost(in.aging.max_boost);
  }
}

// -- agent
// ---------------------------------------------------------------------

maybe_error from_proto(const v1::Agent& in, routing::agent& out,
                       const std::string& field) {
  if (auto e = check_id(in.tenant_id(), at(field, "tenant_id")))
    return e;
  if (auto e = check_id(in.agent_id(), at(field, "agent_id")))
    return e;
  if (auto e = check_encoded(in, limits::agent_bytes, field))
    return e;
  struct {
    const std::string& value;
    size_t max;
    const char* name;
  } texts[] = {
    {in.display_name(), limits::name, "display_name"},
    {in.teams_user_id(), limits::name, "teams_user_id"},
    {in.sip_uri(), limits::address, "sip_uri"},
  };
  for (auto& t : texts)
    if (auto e = check_length(t.value, t.max, at(field, t.name)))
      return e;
  if (auto e
      = check_count(in.skills_size(), limits::skills, at(field, "skills")))
    return e;
  if (auto e
      = check_count(in.labels_size(), limits::labels, at(field, "labels")))
    return e;
  if (auto e = check_count(in.queue_ids_size(), limits::agent_queues,
                           at(field, "queue_ids")))
    return e;
  out.id = in.agent_id();
  out.display_name = in.display_name();
  out.teams_user_id = in.teams_user_id();
  out.sip_uri = in.sip_uri();
  out.attrs = routing::attributes{};
  // Sorted, so that errors name the same field every time.
  std::map<std::string, uint32_t> skills(in.skills().begin(),
                                         in.skills().end());
  for (auto& [name, level] : skills) {
    auto where = field + ".skills[" + name + "]";
    if (name.empty())
      return error(field + ".skills", "skill names must not be empty");
    if (auto e = check_length(name, limits::name, where))
      return e;
    if (level > 100)
      return error(where,
                   "a proficiency is 0..100, found " + std::to_string(level));
    out.attrs.skills[name] = static_cast<uint8_t>(level);
  }
  for (auto& [name, value] : in.labels()) {
    if (name.empty())
      return error(field + ".labels", "label names must not be empty");
    if (auto e = check_length(name, limits::name, field + ".labels"))
      return e;
    if (auto e
        = check_length(value, limits::name, field + ".labels[" + name + "]"))
      return e;
    out.attrs.labels[name] = value;
  }
  out.cap = routing::capacity::standard();
  if (in.total_capacity() > 0) {
    if (in.total_capacity() > 10000)
      return error(at(field, "total_capacity"), "must be at most 10000");
    out.cap.total = static_cast<uint16_t>(in.total_capacity());
  }
  if (in.capacity_size() > 0) {
    out.cap.channels = {};
    std::set<int> seen;
    for (int i = 0; i < in.capacity_size(); ++i) {
      auto& c = in.capacity(i);
      auto where = at(field, "capacity", i);
      auto ch = from_proto(c.channel());
      if (!ch)
        return error(where + ".channel", "is required (VOICE, CHAT, EMAIL or "
                                         "MESSAGE)");
      if (!seen.insert(c.channel()).second)
        return error(where + ".channel", "is listed twice");
      if (c.max_concurrent() > 100)
        return error(where + ".max_concurrent", "must be at most 100");
      if (c.cost() > out.cap.total)
        return error(where + ".cost", "must not exceed total_capacity ("
                                        + std::to_string(out.cap.total) + ")");
      out.cap.channels[static_cast<size_t>(*ch)]
        = {static_cast<uint16_t>(c.max_concurrent()),
           static_cast<uint16_t>(c.cost())};
    }
  }
  out.queues.clear();
  for (int i = 0; i < in.queue_ids_size(); ++i) {
    if (auto e = check_id(in.queue_ids(i), at(field, "queue_ids", i)))
      return e;
    if (std::find(out.queues.begin(), out.queues.end(), in.queue_ids(i))
        != out.queues.end())
      return error(at(field, "queue_ids", i),
                   "lists '" + in.queue_ids(i) + "' twice");
    out.queues.push_back(in.queue_ids(i));
  }
  return std::nullopt;
}

void to_proto(const routing::agent& in, const std::string& tenant_id,
              v1::Agent& out) {
  out.set_tenant_id(tenant_id);
  out.set_agent_id(in.id);
  out.set_display_name(in.display_name);
  out.set_teams_user_id(in.teams_user_id);
  out.set_sip_uri(in.sip_uri);
  for (auto& [name, level] : in.attrs.skills)
    (*out.mutable_skills())[name] = level;
  for (auto& [name, value] : in.attrs.labels)
    (*out.mutable_labels())[name] = value;
  out.set_total_capacity(in.cap.total);
  for (size_t i = 0; i < routing::channel_count; ++i) {
    auto& c = in.cap.channels[i];
    if (c.max_concurrent == 0)
      continue;
    auto* x = out.add_capacity();
    x->set_channel(to_proto(static_cast<routing::channel>(i)));
    x->set_max_concurrent(c.max_concurrent);
    x->set_cost(c.cost);
  }
  for (auto& q : in.queues)
    out.add_queue_ids(q);
}

void to_proto(const routing::agent& in, uint16_t offers_pending,
              v1::AgentState& out) {
  out.set_presence(to_proto(in.pres));
  out.set_ready(in.ready);
  out.set_not_ready_reason(in.not_ready_reason);
  out.set_activity(static_cast<v1::AgentActivity>(
    static_cast<int>(routing::activity_of(in, offers_pending)) + 1));
  for (size_t i = 0; i < routing::channel_count; ++i) {
    if (in.load[i] == 0)
      continue;
    auto* x = out.add_load();
    x->set_channel(to_proto(static_cast<routing::channel>(i)));
    x->set_items(in.load[i]);
  }
  write_timestamp(in.idle_since, *out.mutable_idle_since());
}

maybe_error from_proto(const v1::AgentState& in, routing::agent& out,
                       const std::string& field) {
  auto p = from_proto(in.presence());
  if (!p)
    return error(at(field, "presence"), "is not a Teams presence");
  out.pres = *p;
  out.ready = in.ready();
  out.not_ready_reason = in.ready() ? std::string{} : in.not_ready_reason();
  out.in_wrap_up = in.activity() == v1::AGENT_ACTIVITY_WRAP_UP;
  out.load = {};
  for (int i = 0; i < in.load_size(); ++i) {
    auto ch = from_proto(in.load(i).channel());
    if (!ch)
      return error(at(field, "load", i) + ".channel", "is not a channel");
    if (in.load(i).items() > 1000)
      return error(at(field, "load", i) + ".items", "must be at most 1000");
    out.load[static_cast<size_t>(*ch)]
      = static_cast<uint16_t>(in.load(i).items());
  }
  auto& t = in.idle_since();
  out.idle_since = read_timestamp(t);
  return std::nullopt;
}

// -- call
// ----------------------------------------------------------------------

maybe_error from_proto(const v1::Call& in, routing::call& out,
                       const std::string& field) {
  if (auto e = check_id(in.tenant_id(), at(field, "tenant_id")))
    return e;
  if (auto e = check_id(in.call_id(), at(field, "call_id")))
    return e;
  if (auto e = check_encoded(in, limits::call_bytes, field))
    return e;
  out = routing::call{};
  out.id = in.call_id();
  if (in.channel() == v1::CHANNEL_UNSPECIFIED) {
    out.channel = routing::channel::voice;
  } else if (auto ch = from_proto(in.channel())) {
    out.channel = *ch;
  } else {
    return error(at(field, "channel"), "is not a channel");
  }
  if (auto e = check_length(in.from(), limits::address, at(field, "from")))
    return e;
  if (auto e = check_length(in.to(), limits::address, at(field, "to")))
    return e;
  out.from = in.from();
  out.to = in.to();
  if (auto e = check_count(in.attributes_size(), limits::attributes,
                           at(field, "attributes")))
    return e;
  size_t attribute_bytes = 0;
  for (auto& [key, value] : in.attributes()) {
    if (key.empty())
      return error(field + ".attributes", "attribute names must not be empty");
    if (auto e = check_length(key, limits::name, field + ".attributes"))
      return e;
    auto where = field + ".attributes[" + key + "]";
    if (auto e = check_length(value, limits::attribute_value, where))
      return e;
    attribute_bytes += key.size() + value.size();
    out.attributes[key] = value;
  }
  if (attribute_bytes > limits::attribute_bytes)
    return error(at(field, "attributes"),
                 "must hold at most " + std::to_string(limits::attribute_bytes)
                   + " bytes of names and values, holds "
                   + std::to_string(attribute_bytes));
  if (auto e = check_priority(in.priority(), at(field, "priority")))
    return e;
  out.priority = in.priority();
  if (auto e = check_optional_id(in.queue_id(), at(field, "queue_id")))
    return e;
  out.queue_id = in.queue_id();
  if (auto e = read_selectors(in.selectors(), out.selectors, field))
    return e;
  if (auto e = read_steps(in.steps(), out.steps, field))
    return e;
  if (auto e = check_optional_id(in.preferred_agent_id(),
                                 at(field, "preferred_agent_id")))
    return e;
  out.preferred_agent = in.preferred_agent_id();
  return std::nullopt;
}

// -- commands
// ------------------------------------------------------------------

namespace {

/// Runs checks in order; the first error wins.
template<class... Checks>
maybe_error first_of(Checks&&... checks) {
  maybe_error result;
  ((result = result ? result : checks()), ...);
  return result;
}

auto id_check(const std::string& id, std::string field) {
  return [&id, field = std::move(field)] {
    return check_id(id, field);
  };
}

/// A transfer's or consult's target: a queue or an agent.
template<class Request>
maybe_error check_target(const Request& in, const std::string& prefix) {
  if (in.target_case() == Request::TARGET_NOT_SET)
    return error(prefix + "target", "set queue_id or agent_id");
  if (in.target_case() == Request::kQueueId)
    return check_id(in.queue_id(), prefix + "queue_id");
  return check_id(in.agent_id(), prefix + "agent_id");
}

} // namespace

maybe_error check(const v1::GetQueueRequest& in, const std::string& prefix) {
  return check_id(in.queue_id(), prefix + "queue_id");
}

maybe_error check(const v1::DeleteQueueRequest& in, const std::string& prefix) {
  return check_id(in.queue_id(), prefix + "queue_id");
}

maybe_error check(const v1::GetAgentRequest& in, const std::string& prefix) {
  if (in.agent_id().empty() && !in.teams_user_id().empty())
    return check_id(in.teams_user_id(), prefix + "teams_user_id");
  return check_id(in.agent_id(), prefix + "agent_id");
}

maybe_error check(const v1::DeleteAgentRequest& in, const std::string& prefix) {
  return check_id(in.agent_id(), prefix + "agent_id");
}

maybe_error check(const v1::GetQueueStatsRequest& in,
                  const std::string& prefix) {
  return check_id(in.queue_id(), prefix + "queue_id");
}

maybe_error check(const v1::GetAgentStatsRequest& in,
                  const std::string& prefix) {
  return check_id(in.agent_id(), prefix + "agent_id");
}

maybe_error check(const v1::GetCallRequest& in, const std::string& prefix) {
  return check_id(in.call_id(), prefix + "call_id");
}

maybe_error check(const v1::CancelCallRequest& in, const std::string& prefix) {
  return first_of(id_check(in.call_id(), prefix + "call_id"), [&] {
    return v1::CancelCallRequest::Reason_IsValid(in.reason())
             ? std::nullopt
             : maybe_error{error(prefix + "reason",
                                 "is not a reason (REASON_CALLER_HUNG_UP, "
                                 "REASON_CANCELLED, ...)")};
  });
}

maybe_error check(const v1::CompleteCallRequest& in,
                  const std::string& prefix) {
  return check_id(in.call_id(), prefix + "call_id");
}

maybe_error check(const v1::SetCallDispositionRequest& in,
                  const std::string& prefix) {
  if (auto e = check_id(in.call_id(), prefix + "call_id"))
    return e;
  const auto& code = in.disposition_code();
  if (code.size() > 64)
    return error(prefix + "disposition_code",
                 "must be at most 64 characters, has "
                   + std::to_string(code.size()));
  for (size_t i = 0; i < code.size(); ++i) {
    auto c = static_cast<unsigned char>(code[i]);
    if (c < 0x20 || c == 0x7F)
      return error(prefix + "disposition_code", "must be printable; character "
                                                  + std::to_string(i + 1)
                                                  + " is a control character");
  }
  if (in.note().size() > 4000)
    return error(prefix + "note", "must be at most 4000 bytes, has "
                                    + std::to_string(in.note().size()));
  return std::nullopt;
}

maybe_error check(const v1::TransferCallRequest& in,
                  const std::string& prefix) {
  return first_of(
    id_check(in.call_id(), prefix + "call_id"), [&]() -> maybe_error {
      using R = v1::TransferCallRequest;
      switch (in.target_case()) {
        case R::kDialledNumber:
          return check_id(in.dialled_number(), prefix + "dialled_number");
        case R::kTeamsUserId:
          return check_id(in.teams_user_id(), prefix + "teams_user_id");
        case R::kOutsideNumber: {
          const auto& n = in.outside_number();
          bool e164 = n.size() >= 3 && n.size() <= 16 && n[0] == '+'
                      && std::all_of(n.begin() + 1, n.end(), [](char c) {
                           return c >= '0' && c <= '9';
                         });
          if (!e164)
            return error(prefix + "outside_number",
                         "expected an E.164 number: '+' and 2 to 15 digits");
          return {};
        }
        case R::TARGET_NOT_SET:
          return error(prefix + "target",
                       "set queue_id, agent_id, dialled_number, teams_user_id "
                       "or outside_number");
        default: return check_target(in, prefix);
      }
    });
}

maybe_error check(const v1::AcceptOfferRequest& in, const std::string& prefix) {
  return first_of(id_check(in.call_id(), prefix + "call_id"),
                  id_check(in.agent_id(), prefix + "agent_id"),
                  id_check(in.offer_id(), prefix + "offer_id"));
}

maybe_error check(const v1::DeclineOfferRequest& in,
                  const std::string& prefix) {
  return first_of(id_check(in.call_id(), prefix + "call_id"),
                  id_check(in.agent_id(), prefix + "agent_id"),
                  id_check(in.offer_id(), prefix + "offer_id"));
}

maybe_error check(const v1::RequestCallbackRequest& in,
                  const std::string& prefix) {
  return first_of(id_check(in.call_id(), prefix + "call_id"), [&] {
    return check_length(in.number(), limits::number, prefix + "number");
  });
}

maybe_error check(const v1::SetAgentPresenceRequest& in,
                  const std::string& prefix) {
  return first_of(id_check(in.agent_id(), prefix + "agent_id"), [&] {
    return from_proto(in.presence())
             ? std::nullopt
             : maybe_error{
               error(prefix + "presence",
                     "expected a Teams presence such as "
                     "PRESENCE_AVAILABLE, found "
                       + std::to_string(static_cast<int>(in.presence())))};
  });
}

maybe_error check(const v1::SetAgentReadyRequest& in,
                  const std::string& prefix) {
  return first_of(id_check(in.agent_id(), prefix + "agent_id"), [&] {
    return check_length(in.reason(), limits::name, prefix + "reason");
  });
}

maybe_error check(const v1::ConsultCallRequest& in, const std::string& prefix) {
  return first_of(id_check(in.call_id(), prefix + "call_id"), [&] {
    return check_target(in, prefix);
  });
}

maybe_error check(const v1::ConsultActionRequest& in,
                  const std::string& prefix) {
  return check_id(in.call_id(), prefix + "call_id");
}

maybe_error check(const v1::EndWrapUpRequest& in, const std::string& prefix) {
  return check_id(in.agent_id(), prefix + "agent_id");
}

maybe_error check(const v1::ExtendWrapUpRequest& in,
                  const std::string& prefix) {
  routing::duration by{0};
  return first_of(id_check(in.agent_id(), prefix + "agent_id"), [&] {
    return read_extension(in.extend_by(), by, prefix + "extend_by");
  });
}

maybe_error read_extension(const google::protobuf::Duration& in,
                           routing::duration& out, const std::string& field) {
  if (in.seconds() < 0 || in.nanos() < 0 || in.nanos() > 999'999'999
      || in.seconds() > 3600)
    return error(field, "must be longer than zero and at most 1h");
  out = std::chrono::seconds{in.seconds()}
        + std::chrono::duration_cast<duration>(
          std::chrono::nanoseconds{in.nanos()});
  if (out.count() <= 0 || out > std::chrono::hours{1})
    return error(field, "must be longer than zero and at most 1h");
  return std::nullopt;
}

void to_proto(const routing::call& in, const std::string& tenant_id,
              v1::Call& out) {
  out.set_tenant_id(tenant_id);
  out.set_call_id(in.id);
  out.set_channel(to_proto(in.channel));
  out.set_from(in.from);
  out.set_to(in.to);
  for (auto& [key, value] : in.attributes)
    (*out.mutable_attributes())[key] = value;
  out.set_priority(in.priority);
  out.set_queue_id(in.queue_id);
  for (auto& x : in.selectors)
    to_proto(x, *out.add_selectors());
  write_steps(in.steps, *out.mutable_steps());
  out.set_preferred_agent_id(in.preferred_agent);
}

// -- engine views

namespace {

void write_offers(const std::vector<routing::offer_attempt>& in,
                  google::protobuf::RepeatedPtrField<v1::OfferAttempt>& out) {
  for (auto& o : in) {
    auto* x = out.Add();
    x->set_agent_id(o.agent_id);
    write_timestamp(o.offered_at, *x->mutable_offered_at());
    x->set_outcome(o.outcome);
  }
}

} // namespace
// ------------------------------------------------------------------

void to_proto(const routing::agent_view& in, const std::string& tenant_id,
              v1::AgentView& out) {
  to_proto(in.data, tenant_id, *out.mutable_agent());
  auto& st = *out.mutable_state();
  to_proto(in.data, in.offers_pending, st);
  st.set_missed_offers_in_a_row(in.missed_in_a_row);
  if (in.wrap_up_until != routing::timestamp{})
    write_timestamp(in.wrap_up_until, *st.mutable_wrap_up_until());
  if (in.today.day != 0) {
    auto& d = *st.mutable_today();
    d.set_day(in.today.day);
    d.set_handled(in.today.handled);
    write_duration(in.today.handle_time, *d.mutable_handle_time());
    d.set_missed(in.today.missed);
    write_duration(in.today.busy, *d.mutable_busy());
    write_duration(in.today.available, *d.mutable_available());
    if (in.today.since != routing::timestamp{})
      write_timestamp(in.today.since, *d.mutable_since());
    d.set_mode(in.today.mode);
  }
}

void from_proto(const v1::AgentState& in, routing::agent_view& out) {
  out.missed_in_a_row = static_cast<uint16_t>(
    std::min<uint32_t>(in.missed_offers_in_a_row(), 65535));
  out.wrap_up_until = in.has_wrap_up_until()
                        ? read_timestamp(in.wrap_up_until())
                        : routing::timestamp{};
  if (in.has_today()) {
    auto& d = in.today();
    auto& t = out.today;
    t.day = d.day();
    t.handled = d.handled();
    read_duration(d.handle_time(), t.handle_time, "today.handle_time");
    t.missed = d.missed();
    read_duration(d.busy(), t.busy, "today.busy");
    read_duration(d.available(), t.available, "today.available");
    t.since = d.has_since() ? read_timestamp(d.since()) : routing::timestamp{};
    t.mode = static_cast<uint8_t>(std::min<uint32_t>(d.mode(), 2));
  }
}

void to_proto(const routing::live_call& in, const std::string& tenant_id,
              uint32_t position, v1::CallView& out) {
  to_proto(in.data, tenant_id, *out.mutable_call());
  out.set_state(to_proto(in.data.state));
  write_timestamp(in.created_at, *out.mutable_created_at());
  write_timestamp(in.data.enqueued_at, *out.mutable_enqueued_at());
  out.set_queue_id(in.data.queue_id);
  if (in.data.state == routing::call_state::offered) {
    auto& o = *out.mutable_offer();
    o.set_offer_id(in.offer_id);
    o.set_call_id(in.data.id);
    o.set_agent_id(in.agent_id);
    if (!in.offers.empty())
      write_timestamp(in.offers.back().offered_at, *o.mutable_offered_at());
    write_timestamp(in.offer_expires_at, *o.mutable_expires_at());
  }
  out.set_agent_id(in.agent_id);
  out.set_position(position);
  out.set_limit_reason(in.limit);
  out.set_announcement(in.announcement);
  if (in.is_callback()) {
    auto& cb = *out.mutable_callback();
    cb.set_number(in.callback_number);
    write_timestamp(in.callback_requested_at, *cb.mutable_requested_at());
  }
  out.set_effective_priority(in.effective_priority());
  if (in.exclusive_until != routing::timestamp{})
    write_timestamp(in.exclusive_until, *out.mutable_preferred_until());
  out.set_preferred_by_last_agent(in.last_agent);
  out.set_parent_call_id(in.parent_id);
  out.set_leg(in.leg);
  out.set_transfer_number(in.transfer_number);
  out.set_disposition_code(in.disposition_code);
  out.set_note(in.note);
}

void to_proto(const routing::live_call& in, v1::CallRecord& out) {
  out.set_call_id(in.data.id);
  out.set_channel(to_proto(in.data.channel));
  write_timestamp(in.created_at, *out.mutable_arrived_at());
  if (in.answered_at != routing::timestamp{})
    write_timestamp(in.answered_at, *out.mutable_answered_at());
  write_timestamp(in.ended_at, *out.mutable_ended_at());
  out.set_agent_id(in.agent_id);
  for (auto& q : in.queue_path)
    out.add_queue_path(q);
  write_offers(in.offers, *out.mutable_offers());
  out.set_outcome(to_proto(in.data.state));
  out.set_limit_reason(in.limit);
  out.set_callback_number(in.callback_number);
  out.set_from(in.data.from);
  out.set_disposition_code(in.disposition_code);
  out.set_note(in.note);
}

void to_proto(const routing::live_call& in, const std::string& tenant_id,
              v1::StoredCall& out) {
  to_proto(in, tenant_id, 0, *out.mutable_view());
  write_timestamp(in.queue_entered_at, *out.mutable_queue_entered_at());
  for (auto& q : in.queue_path)
    out.add_queue_path(q);
  write_offers(in.offers, *out.mutable_offers());
  if (in.answered_at != routing::timestamp{})
    write_timestamp(in.answered_at, *out.mutable_answered_at());
  if (in.ended_at != routing::timestamp{})
    write_timestamp(in.ended_at, *out.mutable_ended_at());
}

maybe_error from_proto(const v1::StoredCall& in, routing::live_call& out) {
  auto& view = in.view();
  out = routing::live_call{};
  if (auto e = from_proto(view.call(), out.data, "view.call"))
    return e;
  auto state = static_cast<int>(view.state());
  if (state < v1::CALL_STATE_CREATED || state > v1::CALL_STATE_DISCONNECTED)
    return error("view.state", "is not a call state");
  out.data.state = static_cast<routing::call_state>(state - 1);
  out.data.queue_id = view.queue_id();
  out.data.enqueued_at = read_timestamp(view.enqueued_at());
  out.created_at = read_timestamp(view.created_at());
  out.agent_id = view.agent_id();
  if (view.has_offer()) {
    out.offer_id = view.offer().offer_id();
    out.offer_expires_at = read_timestamp(view.offer().expires_at());
  }
  out.queue_entered_at = read_timestamp(in.queue_entered_at());
  out.queue_path.assign(in.queue_path().begin(), in.queue_path().end());
  for (auto& o : in.offers())
    out.offers.push_back(
      {o.agent_id(), read_timestamp(o.offered_at()), o.outcome()});
  if (in.has_answered_at())
    out.answered_at = read_timestamp(in.answered_at());
  if (in.has_ended_at())
    out.ended_at = read_timestamp(in.ended_at());
  out.limit = view.limit_reason();
  out.announcement = view.announcement();
  if (view.has_callback()) {
    out.callback_number = view.callback().number();
    out.callback_requested_at = read_timestamp(view.callback().requested_at());
  }
  out.priority_boost = static_cast<int32_t>(
    std::clamp<int64_t>(int64_t{view.effective_priority()} - out.data.priority,
                        0, std::numeric_limits<int32_t>::max()));
  if (view.has_preferred_until())
    out.exclusive_until = read_timestamp(view.preferred_until());
  out.last_agent = view.preferred_by_last_agent();
  out.parent_id = view.parent_call_id();
  out.leg = view.leg();
  out.transfer_number = view.transfer_number();
  out.disposition_code = view.disposition_code();
  out.note = view.note();
  return std::nullopt;
}

int32_t event_type_number(routing::event_type t) {
  // v1 numbers them in the same order after EVENT_TYPE_UNSPECIFIED.
  return static_cast<int32_t>(t) + 1;
}

void to_proto(const routing::event& in, const std::string& tenant_id,
              uint64_t sequence, v1::Event& out) {
  out.set_sequence(sequence);
  out.set_tenant_id(tenant_id);
  write_timestamp(in.at, *out.mutable_at());
  out.set_type(static_cast<v1::EventType>(event_type_number(in.type)));
  if (in.call) {
    to_proto(*in.call, tenant_id, 0, *out.mutable_call());
  } else if (in.agent) {
    to_proto(*in.agent, tenant_id, *out.mutable_agent());
  } else if (in.change) {
    auto& c = *out.mutable_change();
    c.set_method(in.change->method);
    c.set_object_type(in.change->object_type);
    c.set_object_id(in.change->object_id);
    c.set_changed_by(in.change->changed_by);
    write_timestamp(in.at, *c.mutable_at());
    c.set_sequence(sequence);
  }
  out.set_released_agent_id(in.released_agent_id);
  if (!in.offer_id.empty()) {
    auto& o = *out.mutable_offer();
    o.set_offer_id(in.offer_id);
    o.set_agent_id(in.offer_agent_id);
    if (in.call) {
      o.set_call_id(in.call->data.id);
      if (!in.call->offers.empty())
        write_timestamp(in.call->offers.back().offered_at,
                        *o.mutable_offered_at());
      if (in.call->offer_expires_at != routing::timestamp{})
        write_timestamp(in.call->offer_expires_at, *o.mutable_expires_at());
    }
  }
}

namespace {

/// `part` of `whole` in percent; `none` when `whole` is zero.
template<class T>
double percent(T part, T whole, double none) {
  return whole == 0
           ? none
           : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

} // namespace

v1::AgentStats to_proto(const routing::agent_stats& in,
                        const std::string& tenant_id,
                        const std::string& agent_id) {
  v1::AgentStats out;
  out.set_tenant_id(tenant_id);
  out.set_agent_id(agent_id);
  auto day = routing::timestamp{std::chrono::hours{24 * in.day}};
  auto t = std::chrono::system_clock::to_time_t(
    std::chrono::time_point_cast<std::chrono::system_clock::duration>(day));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof(date), "%Y-%m-%d", &tm);
  out.set_date(date);
  out.set_handled(in.handled);
  out.set_missed(in.missed);
  if (in.handled > 0)
    write_duration(in.handle_time / static_cast<int64_t>(in.handled),
                   *out.mutable_average_handle_time());
  write_duration(in.busy, *out.mutable_busy());
  write_duration(in.available, *out.mutable_available());
  out.set_occupancy_percent(
    percent(in.busy.count(), (in.busy + in.available).count(), 0.0));
  return out;
}

v1::QueueStats to_proto(const routing::queue_stats& in,
                        const std::string& tenant_id,
                        const std::string& queue_id, routing::duration) {
  v1::QueueStats out;
  out.set_tenant_id(tenant_id);
  out.set_queue_id(queue_id);
  out.set_waiting(in.waiting);
  write_duration(in.longest_wait, *out.mutable_longest_wait());
  for (auto& n : in.agents) {
    auto* x = out.add_agents();
    x->set_activity(
      static_cast<v1::AgentActivity>(static_cast<int>(n.activity) + 1));
    x->set_presence(to_proto(n.pres));
    x->set_ready(n.ready);
    x->set_agents(n.agents);
  }
  out.set_offered(in.offered);
  out.set_answered(in.answered);
  out.set_abandoned(in.abandoned);
  auto ended = in.answered + in.abandoned;
  out.set_service_level_percent(
    percent(in.answered_in_threshold, ended, 100.0));
  if (in.answered > 0)
    write_duration(in.total_answer_wait / static_cast<int64_t>(in.answered),
                   *out.mutable_average_speed_of_answer());
  out.set_callbacks_waiting(in.callbacks_waiting);
  out.set_overflowed(in.overflowed);
  out.set_disconnected(in.disconnected);
  out.set_open(in.open);
  out.set_abandon_rate_percent(percent(in.abandoned, ended, 0.0));
  for (auto& w : in.windows) {
    auto& x = *out.add_windows();
    write_duration(w.window, *x.mutable_window());
    x.set_offered(w.offered);
    x.set_answered(w.answered);
    x.set_abandoned(w.abandoned);
    x.set_handled(w.handled);
    auto done = w.answered + w.abandoned;
    x.set_service_level_percent(percent(w.answered_in_threshold, done, 100.0));
    x.set_abandon_rate_percent(percent(w.abandoned, done, 0.0));
    if (w.answered > 0)
      write_duration(w.answer_wait / static_cast<int64_t>(w.answered),
                     *x.mutable_average_speed_of_answer());
    if (w.handled > 0)
      write_duration(w.handle_time / static_cast<int64_t>(w.handled),
                     *x.mutable_average_handle_time());
  }
  if (in.estimated_wait.count() >= 0)
    write_duration(in.estimated_wait, *out.mutable_estimated_wait());
  return out;
}

maybe_error from_proto(const v1::ClassificationRules& in,
                       routing::classification& out) {
  out = {};
  if (auto e = check_count(in.rules_size(), limits::rules, "rules"))
    return e;
  if (auto e = check_encoded(in, limits::rules_bytes, "rules"))
    return e;
  for (int i = 0; i < in.rules_size(); ++i) {
    auto& r = in.rules(i);
    auto field = "rules[" + std::to_string(i) + "]";
    routing::classification_rule x;
    if (auto e = check_id(r.rule_id(), at(field, "rule_id")))
      return e;
    for (auto& prev : out.rules)
      if (prev.id == r.rule_id())
        return error(at(field, "rule_id"),
                     "'" + r.rule_id() + "' names two rules");
    x.id = r.rule_id();
    if (auto e = check_count(r.conditions_size(), limits::conditions,
                             at(field, "conditions")))
      return e;
    for (int j = 0; j < r.conditions_size(); ++j) {
      auto& c = r.conditions(j);
      auto cf = at(field, "conditions", j);
      routing::condition y;
      if (auto e = check_length(c.field(), limits::name, at(cf, "field")))
        return e;
      y.field = c.field();
      bool attribute = y.field.rfind("attribute.", 0) == 0
                       && y.field.size() > std::string{"attribute."}.size();
      if (y.field != "to" && y.field != "from" && y.field != "channel"
          && !attribute)
        return error(at(cf, "field"),
                     "'" + y.field
                       + "' is not a field of a call; use to, from, channel "
                         "or attribute.NAME");
      switch (c.match()) {
        case v1::Condition::MATCH_EQUALS:
          y.match = routing::condition::match_kind::equals;
          break;
        case v1::Condition::MATCH_PREFIX:
          y.match = routing::condition::match_kind::prefix;
          break;
        case v1::Condition::MATCH_IN:
          y.match = routing::condition::match_kind::in;
          break;
        default:
          return error(at(cf, "match"), "required: EQUALS, PREFIX or IN");
      }
      if (c.values_size() == 0)
        return error(at(cf, "values"), "required: at least one value");
      if (auto e = check_count(c.values_size(), limits::condition_values,
                               at(cf, "values")))
        return e;
      for (int k = 0; k < c.values_size(); ++k) {
        if (y.field == "channel" && !routing::parse_channel(c.values(k)))
          return error(at(cf, "values", k),
                       "'" + c.values(k)
                         + "' is not a channel; use voice, chat, email or "
                           "message");
        if (auto e
            = check_length(c.values(k), limits::address, at(cf, "values", k)))
          return e;
        y.values.push_back(c.values(k));
      }
      x.conditions.push_back(std::move(y));
    }
    if (auto e = check_id(r.queue_id(), at(field, "queue_id")))
      return e;
    x.queue_id = r.queue_id();
    if (auto e = check_priority(r.priority(), at(field, "priority")))
      return e;
    x.priority = r.priority();
    if (auto e = read_selectors(r.selectors(), x.selectors, field))
      return e;
    out.rules.push_back(std::move(x));
  }
  if (auto e = check_optional_id(in.default_queue_id(), "default_queue_id"))
    return e;
  out.default_queue = in.default_queue_id();
  return std::nullopt;
}

void to_proto(const routing::classification& in, const std::string& tenant_id,
              v1::ClassificationRules& out) {
  out.Clear();
  out.set_tenant_id(tenant_id);
  for (auto& r : in.rules) {
    auto& x = *out.add_rules();
    x.set_rule_id(r.id);
    for (auto& c : r.conditions) {
      auto& y = *x.add_conditions();
      y.set_field(c.field);
      switch (c.match) {
        case routing::condition::match_kind::equals:
          y.set_match(v1::Condition::MATCH_EQUALS);
          break;
        case routing::condition::match_kind::prefix:
          y.set_match(v1::Condition::MATCH_PREFIX);
          break;
        case routing::condition::match_kind::in:
          y.set_match(v1::Condition::MATCH_IN);
          break;
      }
      for (auto& v : c.values)
        y.add_values(v);
    }
    x.set_queue_id(r.queue_id);
    x.set_priority(r.priority);
    for (auto& s : r.selectors)
      to_proto(s, *x.add_selectors());
  }
  out.set_default_queue_id(in.default_queue);
}

} // namespace switchboard::api
