#include "routing/model.hpp"

#include "routing/values.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace switchboard::routing {

namespace {

template<class Enum, size_t N>
std::optional<Enum> parse_enum(std::string_view text,
                               const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i)
    if (iequals(text, names[i]))
      return static_cast<Enum>(i);
  return std::nullopt;
}

constexpr std::array<std::string_view, channel_count> channel_names{
  "voice", "chat", "email", "message"};

constexpr std::array<std::string_view, presence_count> presence_names{
  "Available", "AvailableIdle", "Away",    "BeRightBack",    "Busy",
  "BusyIdle",  "DoNotDisturb",  "Offline", "PresenceUnknown"};

constexpr std::array<std::string_view, 3> mode_names{
  "longest_idle", "round_robin", "best_skill"};

} // namespace

std::string_view to_string(channel x) {
  return channel_names[static_cast<size_t>(x)];
}

std::optional<channel> parse_channel(std::string_view text) {
  return parse_enum<channel>(text, channel_names);
}

std::string_view to_string(presence x) {
  return presence_names[static_cast<size_t>(x)];
}

std::optional<presence> parse_presence(std::string_view text) {
  return parse_enum<presence>(text, presence_names);
}

std::string_view to_string(activity x) {
  switch (x) {
    case activity::idle: return "idle";
    case activity::offered: return "offered";
    case activity::busy: return "busy";
    case activity::wrap_up: return "wrap_up";
  }
  return "?";
}

capacity capacity::standard() {
  capacity result;
  result.total = 100;
  result.channels[static_cast<size_t>(channel::voice)] = {1, 100};
  result.channels[static_cast<size_t>(channel::chat)] = {3, 33};
  result.channels[static_cast<size_t>(channel::email)] = {1, 50};
  result.channels[static_cast<size_t>(channel::message)] = {3, 33};
  return result;
}

uint32_t used_units(const capacity& cap, const channel_load& load) {
  uint32_t result = 0;
  for (size_t i = 0; i < channel_count; ++i)
    result += uint32_t{load[i]} * cap.channels[i].cost;
  return result;
}

bool has_room(const capacity& cap, const channel_load& load, channel ch) {
  auto i = static_cast<size_t>(ch);
  auto& per_channel = cap.channels[i];
  return load[i] < per_channel.max_concurrent
         && used_units(cap, load) + per_channel.cost <= cap.total;
}

uint32_t load_ppm(const capacity& cap, const channel_load& load) {
  if (cap.total == 0)
    return 1'000'000;
  auto used = uint64_t{used_units(cap, load)};
  return static_cast<uint32_t>(
    std::min<uint64_t>(used * 1'000'000 / cap.total, 1'000'000));
}

activity activity_of(const agent& a, uint16_t offers_pending) {
  if (a.in_wrap_up)
    return activity::wrap_up;
  uint32_t items = 0;
  for (auto n : a.load)
    items += n;
  if (items > offers_pending)
    return activity::busy;
  if (offers_pending > 0)
    return activity::offered;
  return activity::idle;
}

std::string_view to_string(distribution_mode x) {
  return mode_names[static_cast<size_t>(x)];
}

std::optional<distribution_mode>
parse_distribution_mode(std::string_view text) {
  std::string normalized{text};
  std::replace(normalized.begin(), normalized.end(), '-', '_');
  return parse_enum<distribution_mode>(normalized, mode_names);
}

std::string_view to_string(call_state x) {
  switch (x) {
    case call_state::created: return "created";
    case call_state::queued: return "queued";
    case call_state::offered: return "offered";
    case call_state::assigned: return "assigned";
    case call_state::wrap_up: return "wrap_up";
    case call_state::completed: return "completed";
    case call_state::abandoned: return "abandoned";
    case call_state::cancelled: return "cancelled";
    case call_state::overflowed: return "overflowed";
    case call_state::timed_out: return "timed_out";
    case call_state::transferred: return "transferred";
    case call_state::disconnected: return "disconnected";
  }
  return "?";
}

bool is_final(call_state x) {
  switch (x) {
    case call_state::completed:
    case call_state::abandoned:
    case call_state::cancelled:
    case call_state::overflowed:
    case call_state::timed_out:
    case call_state::transferred:
    case call_state::disconnected: return true;
    default: return false;
  }
}

bool is_valid_transition(call_state from, call_state to) {
  using s = call_state;
  if (is_final(from))
    return false;
  // Every live call may be cancelled; a caller may hang up until answered.
  if (to == s::cancelled)
    return true;
  switch (from) {
    case s::created:
      return to == s::queued || to == s::offered || to == s::abandoned
             || to == s::disconnected;
    case s::queued:
      return to == s::offered || to == s::abandoned || to == s::overflowed
             || to == s::timed_out || to == s::transferred
             || to == s::disconnected;
    case s::offered:
      // Decline or expiry puts the call back in its queue.
      return to == s::assigned || to == s::queued || to == s::abandoned
             || to == s::overflowed || to == s::timed_out;
    case s::assigned:
      return to == s::wrap_up || to == s::completed || to == s::transferred;
    case s::wrap_up: return to == s::completed;
    default: return false;
  }
}

namespace {

constexpr std::array<std::string_view, 4> limit_action_names
  = {"none", "overflow", "disconnect", "callback"};

} // namespace

std::string_view to_string(limit_action::kind x) {
  return limit_action_names[static_cast<size_t>(x)];
}

std::optional<limit_action::kind> parse_limit_action(std::string_view text) {
  return parse_enum<limit_action::kind>(text, limit_action_names);
}

int32_t priority_aging::boost(duration waited) const {
  if (!enabled() || waited.count() <= 0 || step <= 0)
    return 0;
  auto steps = static_cast<int64_t>(waited / every);
  // steps * step, saturating at max_boost without overflowing.
  if (steps >= max_boost / step + 1)
    return max_boost;
  return static_cast<int32_t>(std::min<int64_t>(steps * step, max_boost));
}

int32_t add_priority(int32_t priority, int32_t boost) {
  constexpr int64_t limit = std::numeric_limits<int32_t>::max();
  auto sum = int64_t{priority} + int64_t{boost};
  return static_cast<int32_t>(std::clamp(sum, -limit, limit));
}

std::optional<std::string> field_of(const call& c, const std::string& field) {
  if (field == "to")
    return c.to;
  if (field == "from")
    return c.from;
  if (field == "channel")
    return std::string{to_string(c.channel)};
  constexpr std::string_view attribute = "attribute.";
  if (field.compare(0, attribute.size(), attribute) == 0) {
    auto i = c.attributes.find(field.substr(attribute.size()));
    if (i != c.attributes.end())
      return i->second;
  }
  return std::nullopt;
}

bool matches(const classification_rule& r, const call& c) {
  for (auto& cond : r.conditions) {
    auto value = field_of(c, cond.field);
    if (!value)
      return false;
    bool hit = false;
    for (auto& v : cond.values) {
      if (cond.match == condition::match_kind::prefix
            ? value->compare(0, v.size(), v) == 0
            : *value == v) {
        hit = true;
        break;
      }
    }
    if (!hit)
      return false;
  }
  return true;
}

} // namespace switchboard::routing
