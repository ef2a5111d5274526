#pragma once

#include "routing/model.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

/// Why `matching_index::enqueue` refused a call.
enum class enqueue_status : uint8_t { ok, unknown_queue, already_waiting };

/// What the index keeps of a waiting call: its routing keys. The call
/// itself (attributes, history) belongs to its owner.
struct waiting_call {
  std::string id;
  /// Views the queue's id, which lives as long as the index.
  std::string_view queue_id;
  routing::channel channel = channel::voice;
  int32_t priority = 0;
  std::string preferred_agent;
  timestamp enqueued_at{};
};

/// The matching index of one routing domain (a tenant, or a shard of one):
/// the agents, the queues' routing settings and the waiting calls, indexed
/// so that each decision is cheap in both directions:
///
/// (a) a call becomes routable -> `best_agent_for` picks the best eligible
///     agent by its queue's distribution mode, the preferred agent first;
/// (b) an agent gains capacity -> `best_call_for` picks the best waiting
///     call among the queues it serves: highest priority, then a call that
///     prefers this agent, then the earliest original enqueue time.
///
/// Agents with identical skills and labels share a *profile*; calls with
/// identical active selectors share a *requirement*. Selector lists are
/// interned too, each with its relaxation stages (the requirement in force
/// after each distinct `relax_after`), so enqueueing and relaxing a call
/// cost lookups, and a million waiting calls cost little memory. Each (queue,
/// channel) keeps its eligible agents bucketed by profile and its waiting calls
/// bucketed by requirement, every bucket ordered best-first, and an ordered
/// set of bucket heads. A decision walks bucket heads best-first and stops
/// at the first profile/requirement pair that matches, with the match
/// cached per pair. Its cost grows with the number of distinct profiles or
/// requirements in the queue, not with the number of agents or calls.
///
/// The index reads no clock: `advance_to(now)` moves its time forward and
/// applies due relaxations; decisions use that time.
///
/// Eligibility of agent A for call C in queue Q on channel H: A is a
/// member of Q, A's presence is routable for Q, A is ready and not in
/// wrap-up, A has room for one more item on H, and A satisfies every
/// active selector of Q and of C.
class matching_index {
 public:
  matching_index();
  ~matching_index();
  matching_index(matching_index&&) noexcept;
  matching_index& operator=(matching_index&&) noexcept;
  matching_index(const matching_index&) = delete;
  matching_index& operator=(const matching_index&) = delete;

  // -- queues -----------------------------------------------------------------

  /// Adds a queue or changes its routing settings (mode, selectors,
  /// routable presences). Waiting calls keep their places.
  void upsert_queue(const queue& q);

  /// Removes a queue. Refused (false) while calls wait in it.
  bool remove_queue(std::string_view id);

  // -- agents -----------------------------------------------------------------

  /// Adds an agent or replaces its record: attributes, capacity,
  /// memberships and state. Queues named before they are configured are
  /// created with default settings.
  void upsert_agent(const agent& a);

  bool remove_agent(std::string_view id);

  bool set_presence(std::string_view id, presence p);

  bool set_ready(std::string_view id, bool ready, std::string reason = {});

  /// Starts or ends wrap-up. Ending it with no work held makes the agent
  /// idle since `now`.
  bool set_wrap_up(std::string_view id, bool on, timestamp now);

  /// Takes one item of `ch` from `queue_id` onto the agent (an offer or an
  /// assignment): uses capacity and, for round-robin, moves the agent to
  /// the back of that queue's rotation.
  bool reserve(std::string_view agent_id, std::string_view queue_id,
               channel ch);

  /// Gives back one item of `ch`. With no work left the agent is idle since
  /// `now`, unless in wrap-up.
  bool release(std::string_view agent_id, channel ch, timestamp now);

  const agent* find_agent(std::string_view id) const;

  size_t agent_count() const;

  // -- calls ------------------------------------------------------------------

  /// Adds a waiting call; `c.enqueued_at` sets its place and its relaxation
  /// clock, `c.priority` plus `boost` (priority aging) its rank. Until
  /// `exclusive_until` only its preferred agent may take it; then
  /// `advance_to` releases it to the queue.
  enqueue_status enqueue(const call& c, int32_t boost = 0,
                         timestamp exclusive_until = {});

  /// Takes a call out of the waiting set (offered, abandoned, overflowed).
  bool remove_call(std::string_view id);

  const waiting_call* find_call(std::string_view id) const;

  size_t waiting_count() const;

  size_t waiting_count(std::string_view queue_id) const;

  /// Convenience: `remove_call` plus `reserve` for the call's queue and
  /// channel.
  bool assign(std::string_view call_id, std::string_view agent_id);

  // -- time -------------------------------------------------------------------

  /// Moves the index's time to `now` (never backwards) and applies the
  /// relaxations due by then. Returns the calls whose requirements widened:
  /// each may now match an idle agent.
  std::vector<std::string> advance_to(timestamp now);

  /// When the next relaxation falls due, if any call has one pending.
  std::optional<timestamp> next_relaxation() const;

  timestamp now() const;

  // -- decisions --------------------------------------------------------------

  /// (a) The best eligible agent for a waiting call, or null.
  const agent* best_agent_for(std::string_view call_id);

  /// (a) The best eligible agent for a call not (yet) waiting, e.g. a new
  /// arrival, or null. Its queue must exist.
  const agent* best_agent_for(const call& c);

  /// (b) The best waiting call for an agent, or null.
  const waiting_call* best_call_for(std::string_view agent_id);

  // -- introspection ----------------------------------------------------------

  /// Distinct agent profiles, live call requirements and live selector
  /// lists, for metrics.
  size_t profile_count() const;
  size_t requirement_count() const;
  size_t selector_list_count() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The best-skill score of `attrs` for `active` selectors: the sum of the
/// agent's proficiencies over the distinct skills the selectors name.
uint32_t best_skill_score(const std::vector<selector>& active,
                          const attributes& attrs);

} // namespace switchboard::routing
