#pragma once

// How CAF copies, prints and serializes the routing core's types. Kept
// here so that routing/ stays free of CAF. CAF 0.17 inspectors know enums,
// containers, arrays and chrono types; std::optional is written as a flag
// and a value.

#include "routing/engine.hpp"
#include "routing/model.hpp"

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

namespace switchboard::routing {

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, selector& x) {
  bool applies = x.apply_after.has_value();
  duration apply = x.apply_after.value_or(duration{0});
  bool relaxes = x.relax_after.has_value();
  duration relax = x.relax_after.value_or(duration{0});
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x.apply_after = applies ? std::optional<duration>{apply} : std::nullopt;
    x.relax_after = relaxes ? std::optional<duration>{relax} : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("switchboard.selector"), x.kind, x.name, x.op,
           x.values, applies, apply, relaxes, relax, load);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, selector_step& x) {
  return f(caf::meta::type_name("switchboard.selector_step"), x.selectors,
           x.timeout);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, condition& x) {
  return f(caf::meta::type_name("switchboard.condition"), x.field, x.match,
           x.values);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, classification_rule& x) {
  return f(caf::meta::type_name("switchboard.classification_rule"), x.id,
           x.conditions, x.queue_id, x.priority, x.selectors);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, classification& x) {
  return f(caf::meta::type_name("switchboard.classification"), x.rules,
           x.default_queue);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, attributes& x) {
  return f(caf::meta::type_name("switchboard.attributes"), x.skills, x.labels);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel_capacity& x) {
  return f(caf::meta::type_name("switchboard.channel_capacity"),
           x.max_concurrent, x.cost);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, capacity& x) {
  return f(caf::meta::type_name("switchboard.capacity"), x.total, x.channels);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, tenant& x) {
  return f(caf::meta::type_name("switchboard.tenant"), x.id, x.name,
           x.microsoft_tenant_id, x.sip_trunk_fqdns, x.dialled_numbers,
           x.history_retention);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_level& x) {
  return f(caf::meta::type_name("switchboard.service_level"), x.threshold,
           x.target_percent);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_action& x) {
  return f(caf::meta::type_name("switchboard.limit_action"), x.what, x.queue_id,
           x.announcement);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, priority_aging& x) {
  return f(caf::meta::type_name("switchboard.priority_aging"), x.every, x.step,
           x.max_boost);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, open_hours& x) {
  return f(caf::meta::type_name("switchboard.open_hours"), x.days, x.from,
           x.to);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, business_hours& x) {
  return f(caf::meta::type_name("switchboard.business_hours"), x.time_zone,
           x.open, x.holidays);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue& x) {
  return f(caf::meta::type_name("switchboard.queue"), x.id, x.name, x.mode,
           x.selectors, x.steps, x.routable_presences, x.offer_timeout,
           x.wrap_up, x.max_missed_offers, x.max_length, x.max_wait,
           x.overflow_queue, x.sla, x.when_full, x.when_max_wait,
           x.when_no_agents, x.aging, x.hours, x.when_closed, x.preferred_wait,
           x.last_agent_window);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent& x) {
  return f(caf::meta::type_name("switchboard.agent"), x.id, x.display_name,
           x.teams_user_id, x.sip_uri, x.attrs, x.cap, x.queues, x.pres,
           x.ready, x.not_ready_reason, x.in_wrap_up, x.load, x.idle_since);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, call& x) {
  return f(caf::meta::type_name("switchboard.call"), x.id, x.channel, x.from,
           x.to, x.attributes, x.priority, x.queue_id, x.selectors, x.steps,
           x.preferred_agent, x.enqueued_at, x.state);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, offer& x) {
  return f(caf::meta::type_name("switchboard.offer"), x.call_id, x.agent_id,
           x.channel, x.offered_at, x.expires_at);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, offer_attempt& x) {
  return f(caf::meta::type_name("switchboard.offer_attempt"), x.agent_id,
           x.offered_at, x.outcome);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, live_call& x) {
  return f(caf::meta::type_name("switchboard.live_call"), x.data, x.created_at,
           x.queue_entered_at, x.queue_path, x.offers, x.agent_id, x.offer_id,
           x.offer_expires_at, x.answered_at, x.ended_at, x.limit,
           x.announcement, x.callback_number, x.callback_requested_at,
           x.priority_boost, x.exclusive_until, x.last_agent, x.parent_id,
           x.leg, x.transfer_number, x.disposition_code, x.note);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_stats& x) {
  return f(caf::meta::type_name("switchboard.agent_stats"), x.day, x.handled,
           x.handle_time, x.missed, x.busy, x.available, x.since, x.mode);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_view& x) {
  return f(caf::meta::type_name("switchboard.agent_view"), x.data,
           x.offers_pending, x.missed_in_a_row, x.wrap_up_until,
           x.wrap_up_calls, x.today);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_count& x) {
  return f(caf::meta::type_name("switchboard.agent_count"), x.activity, x.pres,
           x.ready, x.agents);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, window_stats& x) {
  return f(caf::meta::type_name("switchboard.window_stats"), x.window,
           x.offered, x.answered, x.answered_in_threshold, x.abandoned,
           x.handled, x.answer_wait, x.handle_time);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_stats& x) {
  return f(caf::meta::type_name("switchboard.queue_stats"), x.waiting,
           x.longest_wait, x.offered, x.answered, x.abandoned,
           x.answered_in_threshold, x.total_answer_wait, x.callbacks_waiting,
           x.overflowed, x.disconnected, x.open, x.windows, x.estimated_wait,
           x.agents);
}

} // namespace switchboard::routing

namespace switchboard {

/// A call as commands and queries return it.
struct call_reply {
  routing::live_call call;
  /// 1-based place in its queue while waiting, else 0.
  uint32_t position = 0;
  /// While waiting: the estimated wait from now; negative if unknown.
  routing::duration estimated_wait{-1};
  /// The call id was submitted before; `call` is as it is now.
  bool already_submitted = false;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_reply& x) {
  return f(caf::meta::type_name("switchboard.call_reply"), x.call, x.position,
           x.estimated_wait, x.already_submitted);
}

/// The events one write of a tenant published, in sequence order: what a
/// subscription's sink receives. The type of each is kept beside its bytes
/// so that a sink filters without decoding.
struct event_batch {
  uint64_t first_sequence = 0;
  /// v1::EventType of each event.
  std::vector<int32_t> types;
  /// Each event as v1::Event bytes, exactly as stored.
  std::vector<std::string> events;
};

/// Every stored record of one tenant, as a move hands it to its new node:
/// the column family (storage::family) of each, its key and its value.
struct record_set {
  std::vector<uint8_t> families;
  std::vector<std::string> keys;
  std::vector<std::string> values;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_set& x) {
  return f(caf::meta::type_name("switchboard.record_set"), x.families, x.keys,
           x.values);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(caf::meta::type_name("switchboard.event_batch"), x.first_sequence,
           x.types, x.events);
}

/// One page of a tenant's call history, oldest first: each finished call
/// as stored (v1::StoredCall bytes) beside its history key's suffix after
/// the tenant's prefix, and the suffix the next page starts after (empty:
/// no page follows).
struct history_page {
  std::vector<std::string> keys;
  std::vector<std::string> records;
  std::string next_after;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_page& x) {
  return f(caf::meta::type_name("switchboard.history_page"), x.keys, x.records,
           x.next_after);
}

} // namespace switchboard
