#pragma once

#include "routing/matching_index.hpp"
#include "routing/model.hpp"

#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace switchboard::routing {

// -- outcomes -----------------------------------------------------------------

/// Why a command was refused. Maps one to one onto the API's status codes.
enum class errc : uint8_t {
  ok,
  invalid_argument,
  not_found,
  failed_precondition,
  resource_exhausted,
};

/// The outcome of a command: ok, or what was wrong in words that name the
/// object and the rule.
struct status {
  errc code = errc::ok;
  std::string message;

  explicit operator bool() const { return code == errc::ok; }

  static status ok() { return {}; }
};

// -- what a command changed ---------------------------------------------------

enum class event_type : uint8_t {
  call_queued,
  call_offered,
  call_assigned,
  call_wrap_up,
  call_completed,
  call_abandoned,
  call_cancelled,
  call_overflowed,
  call_timed_out,
  call_transferred,
  offer_declined,
  offer_expired,
  agent_state_changed,
  call_disconnected,
  call_callback_requested,
  call_conferenced,
  configuration_changed,
};

std::string_view to_string(event_type x);

/// Where a transfer goes. `kind` is "queue" or "agent" (`value` is its
/// id), "number" (a dialled number), "teams" (an Agent.teams_user_id) or
/// "outside" (a number outside the contact center: a blind transfer).
struct transfer_target {
  std::string kind;
  std::string value;
};

/// One offer made for a call, with how it ended.
struct offer_attempt {
  std::string agent_id;
  timestamp offered_at{};
  /// "open", "accepted", "declined", "expired" or "withdrawn".
  std::string outcome;
};

/// A call the engine owns, with its whole routing story.
struct live_call {
  routing::call data;
  timestamp created_at{};
  /// When it entered the queue it waits in now (max wait counts from it).
  timestamp queue_entered_at{};
  /// Every queue it waited in, in order.
  std::vector<std::string> queue_path;
  std::vector<offer_attempt> offers;
  /// The open offer while offered; the agent while assigned or wrapping up.
  std::string agent_id;
  std::string offer_id;
  timestamp offer_expires_at{};
  timestamp answered_at{};
  timestamp ended_at{};
  /// The last limit a queue applied to the call: "queue_full", "max_wait"
  /// or "no_agents"; for a call that ended by it, why it ended.
  std::string limit;
  /// What the gateway plays or sends for that limit's action.
  std::string announcement;
  /// Where to call the caller back; set once the call is a callback.
  std::string callback_number;
  timestamp callback_requested_at{};
  /// Added to the call's priority by its queue's priority aging, as of
  /// when it last entered the line.
  int32_t priority_boost = 0;
  /// Until then only the preferred agent may take the call.
  timestamp exclusive_until{};
  /// The preferred agent came from the caller's last answered call.
  bool last_agent = false;
  /// For a consult or conference leg: the call it belongs to, and
  /// "consult" (the first agent still on the call) or "conference" (both
  /// agents on the call).
  std::string parent_id;
  std::string leg;
  /// A blind transfer out of the contact center: the number the call's
  /// gateway transfers it to; the call stays with its agent meanwhile.
  std::string transfer_number;
  /// The outcome its agent gave it: a code of the contact center's own
  /// and a note, kept with it in the history.
  std::string disposition_code;
  std::string note;

  bool is_callback() const { return !callback_number.empty(); }
  int32_t effective_priority() const {
    return add_priority(data.priority, priority_boost);
  }
};

/// An agent's figures for one UTC day.
struct agent_stats {
  /// Days since the epoch (UTC) the figures are for.
  int64_t day = 0;
  /// Calls whose wrap-up ended, and their answer-to-wrap-up-end time.
  uint32_t handled = 0;
  duration handle_time{0};
  /// Offers declined or left to expire.
  uint32_t missed = 0;
  /// Time holding answered work or wrapping up; time ready, Available and
  /// holding nothing. Occupancy is busy / (busy + available).
  duration busy{0};
  duration available{0};
  /// Since when the agent is in `mode`: 0 neither, 1 available, 2 busy.
  timestamp since{};
  uint8_t mode = 0;
};

/// An agent with what the engine counts beside the routing state.
struct agent_view {
  routing::agent data;
  uint16_t offers_pending = 0;
  uint16_t missed_in_a_row = 0;
  /// When wrap-up ends, while in wrap-up.
  timestamp wrap_up_until{};
  /// The calls the agent wraps up; they complete when wrap-up ends.
  std::vector<std::string> wrap_up_calls;
  agent_stats today;
};

/// An agent whose routing state disagrees with the work it holds: what a
/// phantom state ("busy" without a call, "idle" on a call) would be.
struct inconsistency {
  std::string agent_id;
  /// What disagrees, in words: "index counts 0 voice items; holds 1".
  std::string what;
};

/// A change an admin made to the configuration, and who made it.
struct configuration_change {
  /// The API method: UpsertQueue, DeleteAgent, ...
  std::string method;
  /// "queue", "agent" or "classification_rules".
  std::string object_type;
  std::string object_id;
  /// The caller as the node's logs name them.
  std::string changed_by;
};

/// A fact to publish, with its subject (a call, an agent, or a
/// configuration change) as it was when it happened.
struct event {
  event_type type = event_type::call_queued;
  timestamp at{};
  std::optional<live_call> call;
  std::optional<agent_view> agent;
  /// The offer an offer_* or call_offered event is about.
  std::string offer_id;
  std::string offer_agent_id;
  /// call_transferred: the agent the call left, if one had it.
  std::string released_agent_id;
  std::optional<configuration_change> change;
};

/// Everything a sequence of commands changed, to be written and published
/// together: the calls and agents to store (by id), the calls that ended
/// (leaving the live set for history), and the events.
struct changes {
  std::set<std::string> calls;
  std::set<std::string> agents;
  /// Callers whose last agent changed (stored) or was forgotten (erased).
  std::set<std::string> callers;
  std::vector<live_call> finished;
  std::vector<event> events;

  bool empty() const {
    return calls.empty() && agents.empty() && callers.empty()
           && finished.empty() && events.empty();
  }
};

/// How many member agents of a queue are in one state.
struct agent_count {
  routing::activity activity = activity::idle;
  presence pres = presence::offline;
  bool ready = false;
  uint32_t agents = 0;
};

/// What one minute of a queue counted, for rolling windows.
struct minute_counts {
  /// Minutes since the epoch; -1 for a slot not used yet.
  int64_t minute = -1;
  uint32_t offered = 0;
  uint32_t answered = 0;
  uint32_t answered_in_threshold = 0;
  uint32_t abandoned = 0;
  /// Calls whose wrap-up ended (talk and wrap-up both over).
  uint32_t handled = 0;
  duration answer_wait{0};
  /// Answer to wrap-up end, of the handled calls.
  duration handle_time{0};
  /// Changed since last taken for storing (not stored itself).
  bool pending = false;
};

/// A queue's figures over the last `window`, whole minutes.
struct window_stats {
  duration window{0};
  uint64_t offered = 0;
  uint64_t answered = 0;
  uint64_t answered_in_threshold = 0;
  uint64_t abandoned = 0;
  uint64_t handled = 0;
  duration answer_wait{0};
  duration handle_time{0};
};

/// Live statistics of one queue since the engine started.
struct queue_stats {
  uint32_t waiting = 0;
  duration longest_wait{0};
  uint64_t offered = 0;
  uint64_t answered = 0;
  uint64_t abandoned = 0;
  uint64_t answered_in_threshold = 0;
  duration total_answer_wait{0};
  /// Of `waiting`, the callbacks (the caller is not on the line).
  uint32_t callbacks_waiting = 0;
  /// Calls that left for another queue by a limit, and calls a limit
  /// ended.
  uint64_t overflowed = 0;
  uint64_t disconnected = 0;
  /// Within its business hours now.
  bool open = true;
  /// Over the last 15 minutes, hour and day.
  std::vector<window_stats> windows;
  /// For a call arriving now: callers waiting ahead of it times the
  /// average handle time of the last hour (of the day if the hour had
  /// none), over the member agents signed in. Negative: unknown (nothing
  /// handled yet, or nobody signed in).
  duration estimated_wait{-1};
  /// Member agents by (activity, presence, ready), in that order.
  std::vector<agent_count> agents;
};

// -- the engine ---------------------------------------------------------------

/// The routing domain of one tenant: its queues, agents and live calls, and
/// every rule of their lifecycles. Each command applies a change, then
/// routes until no eligible agent and waiting call are left unmatched
/// (work conservation), and records what changed and which events happened
/// in `pending()`. The engine reads no clock and sets no timer: the caller
/// passes `now` and calls `advance(now)` when `next_deadline()` is due.
///
/// Lifecycle rules:
/// - An offer reserves the agent's capacity until accepted (assigned),
///   declined or expired (the call goes back to its queue in its original
///   place and the agent's missed-offer count rises; after the queue's
///   `max_missed_offers` in a row the agent becomes not ready, "not
///   responding").
/// - Completing an assigned call starts the queue's wrap-up on the agent;
///   the call is completed when wrap-up ends. The agent can extend its
///   wrap-up or end it early; several calls wrapped up at once end
///   together.
/// - A call waiting longer than its queue's `max_wait` overflows to the
///   overflow queue (keeping its original place in line) or, without one,
///   times out.
/// - A waiting or offered call can be abandoned (caller hung up) or
///   cancelled; an open offer is withdrawn.
/// - A queue's limits (full, max wait, no agent signed in) apply their
///   configured action: overflow keeping the call's place, disconnect, or
///   callback. A callback keeps its place in line and is offered like a
///   call; no max wait applies to it and it cannot be abandoned.
/// - Priority aging raises a waiting call's effective priority step by
///   step with time waited since it first entered a queue.
class engine {
 public:
  explicit engine(std::string tenant_id);

  const std::string& tenant_id() const { return tenant_id_; }

  // -- configuration ----------------------------------------------------------

  status upsert_queue(const queue& q, timestamp now);

  /// Refused while calls of the queue are live.
  status remove_queue(const std::string& id, timestamp now);

  /// Creates an agent (offline, not ready) or replaces its configuration
  /// keeping its state.
  status upsert_agent(agent a, timestamp now);

  /// Refused while the agent holds offers or work.
  status remove_agent(const std::string& id, timestamp now);

  /// Replaces the classification rules. Refused if a rule or the default
  /// names a queue that does not exist. Calls already submitted keep
  /// their queue.
  status set_classification(classification c);

  const routing::classification& classification() const {
    return classification_;
  }

  // -- commands ---------------------------------------------------------------

  /// Takes a call into its queue and routes it. A call without a queue is
  /// classified first (see set_classification). Refused if the queue is
  /// unknown or full, if no rule and no default queue take the call, or
  /// if the preferred agent is unknown.
  status submit(call c, timestamp now);

  /// Ends a waiting or offered call: ABANDONED if the caller hung up,
  /// CANCELLED otherwise.
  status cancel(const std::string& call_id, bool caller_hung_up, timestamp now);

  status accept(const std::string& call_id, const std::string& agent_id,
                const std::string& offer_id, timestamp now);

  status decline(const std::string& call_id, const std::string& agent_id,
                 const std::string& offer_id, timestamp now);

  /// Ends an assigned call: the agent wraps up.
  status complete(const std::string& call_id, timestamp now);

  /// Gives an answered call, or one in wrap-up, its disposition code and
  /// note (empty clears them). Bounds are the API's to check.
  status set_disposition(const std::string& call_id, std::string code,
                         std::string note);

  /// Moves an assigned or waiting call to `queue_id` (keeping its original
  /// place) or, with an agent id, to that agent's queue as preferred agent.
  status transfer(const std::string& call_id, const std::string& queue_id,
                  const std::string& agent_id, timestamp now);

  /// transfer() to a target named as a telephone transfer names it: a
  /// number is the agent whose sip_uri has it as user part, else the queue
  /// the classification rules give a call to it (the default queue does
  /// not count); a Teams user id is the agent with it. NOT_FOUND when the
  /// tenant has no such agent or number. An outside number marks an
  /// answered call for its gateway to transfer out (CALL_TRANSFERRED with
  /// transfer_number); the call stays with its agent until completed.
  status transfer(const std::string& call_id, const transfer_target& target,
                  timestamp now);

  /// Ends the agent's wrap-up now: its wrap-up calls complete and it can
  /// take work again.
  status end_wrap_up(const std::string& agent_id, timestamp now);

  /// Extends the agent's wrap-up by `extra` (at most an hour at a time).
  status extend_wrap_up(const std::string& agent_id, duration extra,
                        timestamp now);

  /// Starts a consult from an answered call: a leg to `queue_id`, or to
  /// `agent_id` as its preferred agent, routed like a call while the first
  /// agent stays on the call. One consult at a time.
  status consult(const std::string& call_id, const std::string& queue_id,
                 const std::string& agent_id, timestamp now);

  /// Completes the consult as a transfer: the consulted agent takes the
  /// call, the first agent leaves it (and wraps up).
  status complete_consult(const std::string& call_id, timestamp now);

  /// Joins the consulted agent to the call (a conference): both stay until
  /// the call completes, or the leg is completed on its own.
  status join_consult(const std::string& call_id, timestamp now);

  /// Turns a waiting call into a callback to `number` (the call's `from`
  /// if empty): the caller leaves the line, the call keeps its place.
  status request_callback(const std::string& call_id, const std::string& number,
                          timestamp now);

  status set_presence(const std::string& agent_id, presence p, timestamp now);

  status set_ready(const std::string& agent_id, bool ready,
                   const std::string& reason, timestamp now);

  // -- time -------------------------------------------------------------------

  /// Applies everything due by `now`: offer expiries, wrap-up ends, max
  /// waits and relaxations.
  void advance(timestamp now);

  /// The earliest pending deadline, if any. Drops deadlines that no longer
  /// matter (an offer answered, a call that left its queue) from the front
  /// first, so that a timer is set only for one that will act.
  std::optional<timestamp> next_deadline();

  // -- recovery ---------------------------------------------------------------

  /// Puts back what a store kept, then `recover(now)` rebuilds the index
  /// (agent load from the live calls, not from stored counters), expires
  /// offers whose deadline passed, resumes timers and routes.
  void restore(const queue& q);
  void restore(const agent_view& a);
  void restore(live_call c);
  void restore(const std::string& caller, last_served x);
  void recover(timestamp now);

  // -- last agents ------------------------------------------------------------

  /// Who last answered `caller`, if remembered.
  std::optional<last_served> last_agent_of(const std::string& caller) const;

  /// Forgets callers served longer ago than every queue's last-agent
  /// window (all of them if no queue routes to the last agent); each is
  /// in `pending().callers` and no longer remembered.
  void forget_last_agents(timestamp now);

  // -- reading ----------------------------------------------------------------

  const queue* find_queue(const std::string& id) const;
  const live_call* find_call(const std::string& id) const;
  std::optional<agent_view> find_agent(const std::string& id) const;
  std::vector<queue> queues() const;
  std::vector<agent_view> agents() const;
  std::vector<const live_call*> calls() const;

  /// 1-based place in its queue of a waiting call; 0 if not waiting.
  /// Cheap for a call at the back of its priority (a new arrival); else
  /// linear in the calls ahead of it.
  uint32_t position(const std::string& call_id) const;

  /// The place of every waiting call, in one pass over the lines.
  std::unordered_map<std::string, uint32_t> positions() const;

  std::optional<queue_stats> stats(const std::string& queue_id,
                                   timestamp now) const;

  /// The agent's figures of today (UTC) up to `now`; nothing for an
  /// unknown agent.
  std::optional<agent_stats> agent_figures(const std::string& agent_id,
                                           timestamp now) const;

  /// The estimated wait of the call at `position` in `queue_id` (see
  /// queue_stats::estimated_wait); negative if unknown.
  duration estimated_wait(const std::string& queue_id, uint32_t position,
                          timestamp now) const;

  /// The minutes counted since the last call, per queue, to be stored:
  /// rolling windows survive a restart up to the last time they were.
  std::vector<std::pair<std::string, minute_counts>> take_counted_minutes();

  /// Puts back a stored minute.
  void restore(const std::string& queue_id, const minute_counts& m);

  /// Compares each agent's counted state (load per channel, open offers,
  /// wrap-up) with the calls it holds. Empty when all agree, which the
  /// engine's own bookkeeping guarantees; anything else is a defect to
  /// report. Linear in agents and live calls.
  std::vector<inconsistency> audit() const;

  size_t live_call_count() const { return calls_.size(); }

  /// The live consult and conference legs of a call, oldest first.
  std::vector<std::string> legs_of(const std::string& call_id) const {
    auto i = legs_.find(call_id);
    return i == legs_.end() ? std::vector<std::string>{} : i->second;
  }
  size_t waiting_count() const { return index_.waiting_count(); }

  /// Publishes a change to the configuration that succeeded (a
  /// configuration_changed event in `pending()`), so that it is written
  /// and published with the change itself.
  void record_change(configuration_change c, timestamp now);

  /// What changed since the last `take_changes`.
  const changes& pending() const { return pending_; }
  changes take_changes();

 private:
  enum class deadline_kind : uint8_t { offer, wrap_up, max_wait, relax, aging };

  struct deadline {
    timestamp at;
    deadline_kind kind;
    std::string id;
    /// Offer attempt number, or the queue entry time, to tell a stale
    /// deadline from the current one.
    int64_t token;

    friend bool operator>(const deadline& x, const deadline& y) {
      return x.at > y.at;
    }
  };

  struct counters {
    uint64_t offered = 0;
    uint64_t answered = 0;
    uint64_t abandoned = 0;
    uint64_t answered_in_threshold = 0;
    duration total_answer_wait{0};
    uint64_t overflowed = 0;
    uint64_t disconnected = 0;
  };

  /// Order of a waiting line: effective priority (higher first), then
  /// original enqueue time, then id.
  using line_key = std::tuple<int32_t, int64_t, std::string>;

  static line_key key_of(const live_call& c) {
    return {-c.effective_priority(), to_micros(c.data.enqueued_at), c.data.id};
  }

  status not_found(const char* what, const std::string& id) const;
  /// FAILED_PRECONDITION: "call 'ID' of tenant 'T' is STATE" and `why`.
  status wrong_state(const live_call& c, std::string_view why) const;
  /// Ok if `c` (the call `call_id`) has the open offer `offer_id` (any,
  /// if empty) for `agent_id`.
  status check_open_offer(const live_call* c, const std::string& call_id,
                          const std::string& agent_id,
                          const std::string& offer_id) const;
  agent_view* agent_ptr(const std::string& id);
  live_call* call_ptr(const std::string& id);

  void touch(const live_call& c);
  /// Marks the agent changed (to store) and accounts its time up to now.
  void touch_agent(const std::string& id, timestamp now);
  void emit(event_type type, const live_call* c, const std::string& agent_id,
            timestamp now, const std::string& offer_id = {});
  void emit_agent(const std::string& agent_id, timestamp now);

  /// Puts `c` into `queue_id` (keeping its original enqueue time, so its
  /// place) unless a limit of the queue acts on it instead, counts and
  /// announces it there, sets its max-wait deadline and routes it. `hops`
  /// counts the overflows of this placement, to end overflow cycles.
  void enter_queue(live_call& c, std::string queue_id, timestamp now,
                   size_t hops = 0);
  /// Applies a limit's action to `c`, counted in its queue and out of the
  /// line.
  void act(live_call& c, const limit_action& a, const char* limit,
           timestamp now, size_t hops);
  /// Makes `c` a callback to `number`, in its line if it waits.
  void become_callback(live_call& c, std::string number, timestamp now);
  /// Waiting callers of a queue: its line without the callbacks.
  size_t callers_waiting(const std::string& queue_id) const;
  /// Counts `a`'s memberships as signed in (`sign` +1) or out (-1), if its
  /// presence is not Offline.
  void count_signed_in(const agent& a, int sign);
  void count_members(const std::vector<std::string>& queues, int sign);
  /// Applies `when_no_agents` to the calls waiting in those of `queues`
  /// that no member agent is signed in to any more.
  void act_on_unstaffed(const std::vector<std::string>& queues, timestamp now);
  /// Applies a limit's action to a call waiting in line: a callback keeps
  /// its place, any other action takes it out of the line first.
  void act_in_line(live_call& c, const limit_action& a, const char* limit,
                   timestamp now);
  /// Re-ranks a waiting call whose aging boost grew.
  void age(live_call& c, timestamp now);
  /// Takes `c` out of the line, its open offer or its agent; returns the
  /// agent it freed, if any.
  std::string detach(live_call& c, timestamp now);
  /// Stops counting `c` as live in its queue.
  void uncount(const live_call& c);
  /// Puts a call into the waiting line of its queue and the matching index
  /// (state queued). `changed` is false only for a call restored as
  /// queued: it is stored already.
  void enqueue(live_call& c, timestamp now, bool changed = true);
  void leave_line(const live_call& c);
  /// Ends `c`. A call that ended while offered names the offer it
  /// withdrew (`withdrawn_offer`, to `withdrawn_from`) in its event, so
  /// that the agent it rang hears of it.
  void finish(live_call& c, call_state final_state, timestamp now,
              const std::string& withdrawn_from = {},
              const std::string& withdrawn_offer = {});

  void make_offer(live_call& c, const std::string& agent_id, timestamp now);
  /// Ends the open offer of `c` with `outcome`, giving back the agent's
  /// capacity. Counts a miss for "declined" and "expired".
  void close_offer(live_call& c, const std::string& outcome, timestamp now);
  void miss(const std::string& agent_id, const std::string& queue_id,
            timestamp now);

  void route_call(const std::string& call_id, timestamp now);
  void route_agent(const std::string& agent_id, timestamp now);
  void route_everyone(timestamp now);
  /// Overflows or times out a waiting call past its queue's max wait.
  void check_max_wait(live_call& c, timestamp now);
  /// The queue a transfer or consult goes to: `queue_id`, or the queue
  /// of `c` if `agent_id` is a member of it, else the agent's first.
  status target_of(const live_call& c, const std::string& queue_id,
                   const std::string& agent_id, std::string& target) const;
  /// Completes the agent's wrap-up calls and ends its wrap-up.
  void finish_wrap_up(const std::string& agent_id, timestamp now);

  void schedule(timestamp at, deadline_kind kind, const std::string& id,
                int64_t token);
  void schedule_relaxation();
  void on_deadline(const deadline& d, timestamp now);
  /// The deadline no longer applies: its offer was answered, its call
  /// ended or moved on.
  bool stale(const deadline& d) const;

  std::string tenant_id_;
  routing::classification classification_;
  std::map<std::string, queue> queues_;
  std::unordered_map<std::string, agent_view> agents_;
  std::unordered_map<std::string, live_call> calls_;
  /// A queue's waiting calls in line order, and how many wait at each
  /// priority, so that the place of a call at the back of its priority
  /// (every new arrival) costs a few steps, not one per call ahead.
  struct line {
    std::set<line_key> keys;
    std::map<int32_t, size_t> per_priority; // by -priority, ascending
  };
  std::unordered_map<std::string, line> lines_;
  std::unordered_map<std::string, size_t> live_per_queue_;
  /// Per queue: callbacks in its line, and member agents not Offline.
  std::unordered_map<std::string, size_t> callbacks_in_line_;
  std::unordered_map<std::string, size_t> signed_in_;
  /// Calls offered to, answered by or wrapped up by an agent: what the
  /// audit compares the agents' counters with.
  std::unordered_set<std::string> with_agent_;
  std::unordered_map<std::string, last_served> last_agents_;
  /// A call's consult and conference legs.
  std::unordered_map<std::string, std::vector<std::string>> legs_;
  /// The answered consult leg of `call_id` (or, `or_conference`, its
  /// conference leg), or null with `st` saying why there is none to
  /// `verb`.
  live_call* answered_consult(const std::string& call_id, const char* verb,
                              status& st, bool or_conference = false);
  /// The open consult leg of `c`, if any.
  live_call* open_consult(const live_call& c);
  /// The blind transfer out of transfer().
  status transfer_outside(live_call& c, const std::string& number,
                          timestamp now);
  /// Ends every leg of `call_id`: answered ones complete, others are
  /// cancelled.
  void end_legs(const std::string& call_id, timestamp now);
  /// Per queue, a ring of the last day's minutes (1,440 slots), made on
  /// first use; and which minutes changed since they were last stored.
  std::unordered_map<std::string, std::vector<minute_counts>> minutes_;
  std::set<std::pair<std::string, int64_t>> counted_;

  /// The current minute of `queue_id`, counted as changed.
  minute_counts& minute_of(const std::string& queue_id, timestamp now);
  window_stats sum_window(const std::string& queue_id, duration window,
                          timestamp now) const;
  std::unordered_map<std::string, counters> counters_;
  matching_index index_;
  std::priority_queue<deadline, std::vector<deadline>, std::greater<>>
    deadlines_;
  std::optional<timestamp> relax_scheduled_;
  changes pending_;
};

} // namespace switchboard::routing
