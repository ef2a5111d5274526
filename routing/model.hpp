#pragma once

#include "routing/hours.hpp"
#include "routing/selector.hpp"
#include "routing/time.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

// -- channels -----------------------------------------------------------------

/// The media of an interaction. Each has its own capacity on an agent.
enum class channel : uint8_t { voice, chat, email, message };

inline constexpr size_t channel_count = 4;

std::string_view to_string(channel x);
std::optional<channel> parse_channel(std::string_view text);

// -- agent state --------------------------------------------------------------

/// Teams presence availability, as Microsoft Graph publishes it.
enum class presence : uint8_t {
  available,
  available_idle,
  away,
  be_right_back,
  busy,
  busy_idle,
  do_not_disturb,
  offline,
  presence_unknown,
};

inline constexpr size_t presence_count = 9;

/// Graph spelling ("Available", "BeRightBack", ...).
std::string_view to_string(presence x);

/// Accepts the Graph spelling in any letter case.
std::optional<presence> parse_presence(std::string_view text);

/// A set of presence values, one bit each.
using presence_set = uint16_t;

inline constexpr presence_set presence_bit(presence x) {
  return static_cast<presence_set>(1u << static_cast<unsigned>(x));
}

/// The presences in which an agent receives work unless a queue says
/// otherwise: Available and AvailableIdle.
inline constexpr presence_set default_routable_presences
  = presence_bit(presence::available) | presence_bit(presence::available_idle);

/// What an agent is doing, derived from the work it holds.
enum class activity : uint8_t { idle, offered, busy, wrap_up };

std::string_view to_string(activity x);

/// Per-channel capacity: at most `max_concurrent` items at once, each
/// costing `cost` units of the agent's total capacity.
struct channel_capacity {
  uint16_t max_concurrent = 0;
  uint16_t cost = 0;
};

/// Capacity of an agent across channels. A voice cost equal to the total
/// makes a voice call block every chat; a smaller one lets them mix.
struct capacity {
  uint16_t total = 100;
  std::array<channel_capacity, channel_count> channels{};

  /// Voice 1 (cost 100), chat 3 (cost 33), email 1 (cost 50),
  /// message 3 (cost 33), against a total of 100.
  static capacity standard();
};

/// Work an agent holds (offers and assignments), counted per channel.
using channel_load = std::array<uint16_t, channel_count>;

/// Units of capacity used by `load`.
uint32_t used_units(const capacity& cap, const channel_load& load);

/// True if one more item of `ch` fits within `cap` given `load`.
bool has_room(const capacity& cap, const channel_load& load, channel ch);

/// Share of total capacity in use, in parts per million. The sort key of
/// longest-idle distribution: lower load first.
uint32_t load_ppm(const capacity& cap, const channel_load& load);

// -- domain objects -----------------------------------------------------------

/// A customer organisation: the isolation boundary.
struct tenant {
  std::string id;
  std::string name;
  std::string microsoft_tenant_id;
  std::vector<std::string> sip_trunk_fqdns;
  std::vector<std::string> dialled_numbers;
  /// How long finished calls are kept; zero: the node's default.
  duration history_retention{0};
};

/// An agent (worker) and its routing state.
struct agent {
  std::string id;
  std::string display_name;
  std::string teams_user_id;
  std::string sip_uri;
  attributes attrs; // skills (0..100) and labels
  capacity cap = capacity::standard();
  std::vector<std::string> queues;
  // State: presence x readiness x activity.
  presence pres = presence::offline;
  bool ready = false;
  std::string not_ready_reason;
  bool in_wrap_up = false;
  channel_load load{};
  timestamp idle_since{};
};

/// Derives the activity shown to supervisors from an agent's work.
activity activity_of(const agent& a, uint16_t offers_pending);

/// How a queue picks among eligible agents.
enum class distribution_mode : uint8_t {
  /// Lowest load ratio first, then longest idle.
  longest_idle,
  /// The agent least recently given work by this queue first.
  round_robin,
  /// Highest proficiency in the skills the call asks for first, then as
  /// longest-idle.
  best_skill,
};

std::string_view to_string(distribution_mode x);
std::optional<distribution_mode> parse_distribution_mode(std::string_view);

/// A service-level goal: `target_percent` of calls answered within
/// `threshold` (e.g. 80 % in 20 s).
struct service_level {
  duration threshold = std::chrono::seconds{20};
  uint8_t target_percent = 80;
};

/// What a queue does with a call it cannot keep in its line: the line is
/// full, the call waited its longest, or no member agent is signed in.
struct limit_action {
  enum class kind : uint8_t {
    /// Nothing configured: a full queue refuses new calls, a call past its
    /// max wait overflows to `queue::overflow_queue` or times out, and a
    /// queue without agents keeps calls waiting.
    none,
    /// The call moves to `queue_id`, keeping its original place in line.
    overflow,
    /// The call ends (DISCONNECTED, or TIMED_OUT after the max wait); the
    /// gateway plays `announcement` and hangs up.
    disconnect,
    /// The caller is called back: the call leaves the voice line but keeps
    /// its place, and is offered to an agent as a callback task.
    callback,
  };
  kind what = kind::none;
  std::string queue_id;
  /// What the gateway plays or sends before it acts (a prompt id); the
  /// engine only passes it on.
  std::string announcement;

  friend bool operator==(const limit_action& x, const limit_action& y) {
    return x.what == y.what && x.queue_id == y.queue_id
           && x.announcement == y.announcement;
  }
};

std::string_view to_string(limit_action::kind x);
std::optional<limit_action::kind> parse_limit_action(std::string_view text);

/// Raises the priority of a waiting call with time waited, so that calls
/// of low priority are not starved: `step` more for each `every` waited
/// since the call first entered a queue, at most `max_boost` more.
struct priority_aging {
  duration every{0};
  int32_t step = 1;
  int32_t max_boost = 0;

  bool enabled() const { return every.count() > 0 && max_boost > 0; }

  /// The boost after waiting `waited`.
  int32_t boost(duration waited) const;

  friend bool operator==(const priority_aging& x, const priority_aging& y) {
    return x.every == y.every && x.step == y.step && x.max_boost == y.max_boost;
  }
};

/// A queue: a waiting line and how it is served.
struct queue {
  std::string id;
  std::string name;
  distribution_mode mode = distribution_mode::longest_idle;
  /// Selectors every call of this queue carries, on top of its own.
  std::vector<selector> selectors;
  /// Stepwise relaxation every call of this queue goes through.
  std::vector<selector_step> steps;
  presence_set routable_presences = default_routable_presences;
  duration offer_timeout = std::chrono::seconds{20};
  duration wrap_up = std::chrono::seconds{10};
  /// Missed offers in a row that make an agent not-ready; 0 = never.
  uint16_t max_missed_offers = 3;
  /// Waiting calls at most; 0 = unlimited.
  uint32_t max_length = 0;
  /// Longest wait before overflow; zero = unlimited.
  duration max_wait{0};
  std::string overflow_queue;
  service_level sla;
  /// A new call finds `max_length` callers waiting.
  limit_action when_full;
  /// A waiting call reaches `max_wait`.
  limit_action when_max_wait;
  /// A new call finds no member agent signed in (every member Offline).
  limit_action when_no_agents;
  priority_aging aging;
  /// When the queue takes new calls; calls already waiting at closing
  /// time are still served.
  business_hours hours;
  /// A new call arrives while closed. Without an action it is
  /// disconnected.
  limit_action when_closed;
  /// How long a call with a preferred agent waits for that agent alone
  /// before any agent of the queue may take it; zero: the preferred agent
  /// only goes first among those free.
  duration preferred_wait{0};
  /// A new call from a caller that an agent of this queue answered within
  /// this window prefers that agent (for `preferred_wait`); zero: off.
  duration last_agent_window{0};
};

/// Who last answered a caller, and when.
struct last_served {
  std::string agent_id;
  timestamp at{};
};

/// Lifecycle of a call (interaction).
enum class call_state : uint8_t {
  created,
  queued,
  offered,
  assigned,
  wrap_up,
  completed,
  abandoned,
  cancelled,
  overflowed,
  timed_out,
  transferred,
  /// Ended by a queue's limit action (full, or no agent signed in).
  disconnected,
};

std::string_view to_string(call_state x);

/// True for the states a call never leaves.
bool is_final(call_state x);

/// True if the lifecycle allows going from `from` to `to`.
bool is_valid_transition(call_state from, call_state to);

/// A call, chat, email or message to be routed.
/// The bounds of a call's priority as the API accepts it: far inside
/// int32_t, so that a priority plus any aging boost never overflows.
constexpr int32_t min_priority = -1'000'000;
constexpr int32_t max_priority = 1'000'000;

/// `priority + boost`, saturating inside (-INT32_MAX, INT32_MAX) so that
/// the sum and its negation are always representable, whatever a stored
/// record holds.
int32_t add_priority(int32_t priority, int32_t boost);

struct call {
  std::string id;
  routing::channel channel = channel::voice;
  std::string from;
  std::string to;
  std::map<std::string, std::string> attributes;
  /// Higher is more urgent.
  int32_t priority = 0;
  std::string queue_id;
  std::vector<selector> selectors;
  /// The call's own stepwise relaxation, on top of its queue's.
  std::vector<selector_step> steps;
  std::string preferred_agent;
  /// When the call first entered a queue. Survives offers, declines,
  /// transfers back to a queue, restarts and node moves; relaxation and
  /// ordering count from it.
  timestamp enqueued_at{};
  call_state state = call_state::created;
};

// -- classification -----------------------------------------------------------

/// One test on a new call: its `field` ("to", "from", "channel" or
/// "attribute.NAME") equals one of `values`, starts with one of them, or
/// is one of them (equals and in differ only in intent: one value or a
/// set).
struct condition {
  enum class match_kind : uint8_t { equals, prefix, in };
  std::string field;
  match_kind match = match_kind::equals;
  std::vector<std::string> values;
};

/// The first rule whose conditions all hold classifies a call submitted
/// without a queue: its queue, a priority (if the call brought none) and
/// selectors added to the call's own.
struct classification_rule {
  std::string id;
  std::vector<condition> conditions;
  std::string queue_id;
  int32_t priority = 0;
  std::vector<selector> selectors;
};

/// A tenant's ordered rules, and where calls that match none go (empty:
/// they are refused).
struct classification {
  std::vector<classification_rule> rules;
  std::string default_queue;
};

/// The value of a condition's field on a call; nullopt if the call has no
/// such attribute or the field is unknown.
std::optional<std::string> field_of(const call& c, const std::string& field);

/// All of the rule's conditions hold for the call.
bool matches(const classification_rule& r, const call& c);

/// A reservation of one call for one agent until `expires_at`.
struct offer {
  std::string call_id;
  std::string agent_id;
  routing::channel channel = channel::voice;
  timestamp offered_at{};
  timestamp expires_at{};
};

} // namespace switchboard::routing
