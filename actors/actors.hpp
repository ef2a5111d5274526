#pragma once

// Every actor interface of Switchboard, each a typed actor.

#include "actors/atoms.hpp"
#include "routing/engine.hpp"
#include "routing/model.hpp"

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard {

/// The entry point for every command of one tenant, and the single writer
/// of its routing domain (`routing::engine`): queues, agents, live calls
/// and the matching index. A command is applied, then written to the store
/// together with its events and idempotency key, and only then answered
/// and published (group commit: the commands that arrive together share
/// one write). Timers run on the actor clock.
///
/// Mutating commands end with an `event_id`: empty, or the idempotency key
/// of a gateway command. A repeated key is answered with a `duplicate`
/// error holding the first outcome, and not applied again.
using tenant_actor = caf::typed_actor<
  // -- configuration --
  // Creates or replaces a queue; replies with it as stored.
  // Configuration changes end with who made them, as the node's logs name
  // callers; each publishes a configuration_changed event and is kept for
  // the history retention.
  caf::replies_to<atom::upsert, routing::queue,
                  std::string>::with<routing::queue>,
  caf::replies_to<atom::get, atom::queue, std::string>::with<routing::queue>,
  // Every queue, ordered by id.
  caf::replies_to<atom::list, atom::queue>::with<std::vector<routing::queue>>,
  // Refused while calls of the queue are live.
  caf::replies_to<atom::erase, atom::queue, std::string,
                  std::string>::with<atom::ok>,
  // Creates or replaces an agent's configuration; its state is kept (a new
  // agent is offline and not ready).
  caf::replies_to<atom::upsert, routing::agent,
                  std::string>::with<routing::agent_view>,
  // Replaces the tenant's classification rules.
  caf::replies_to<atom::upsert, routing::classification,
                  std::string>::with<routing::classification>,
  caf::replies_to<atom::get, atom::rules>::with<routing::classification>,
  caf::replies_to<atom::get, atom::agent,
                  std::string>::with<routing::agent_view>,
  // Every agent, ordered by id.
  caf::replies_to<atom::list,
                  atom::agent>::with<std::vector<routing::agent_view>>,
  // Refused while the agent holds work.
  caf::replies_to<atom::erase, atom::agent, std::string,
                  std::string>::with<atom::ok>,
  // -- calls --
  // Submits a call; a known call id replies with already_submitted.
  caf::replies_to<atom::submit, routing::call, std::string>::with<call_reply>,
  // A live or finished call.
  caf::replies_to<atom::get, atom::call, std::string>::with<call_reply>,
  // Every live call, ordered by id.
  caf::replies_to<atom::list, atom::call>::with<std::vector<call_reply>>,
  // call id, caller hung up, event id.
  caf::replies_to<atom::cancel, std::string, bool,
                  std::string>::with<call_reply>,
  // call id, event id.
  caf::replies_to<atom::complete, std::string, std::string>::with<call_reply>,
  // call id, target queue id, target agent id, event id: the leg.
  caf::replies_to<atom::consult, std::string, std::string, std::string,
                  std::string>::with<call_reply>,
  // call id, event id: the call after the consulted agent took it.
  caf::replies_to<atom::consult, atom::complete, std::string,
                  std::string>::with<call_reply>,
  // call id, event id: the leg joined to the call.
  caf::replies_to<atom::join, std::string, std::string>::with<call_reply>,
  // call id, number to call back (empty: the caller's), event id.
  caf::replies_to<atom::callback, std::string, std::string,
                  std::string>::with<call_reply>,
  // call id, target kind (see routing::transfer_target), target, event id.
  caf::replies_to<atom::transfer, std::string, std::string, std::string,
                  std::string>::with<call_reply>,
  // call id, agent id, offer id, event id.
  caf::replies_to<atom::accept, std::string, std::string, std::string,
                  std::string>::with<call_reply>,
  caf::replies_to<atom::decline, std::string, std::string, std::string,
                  std::string>::with<call_reply>,
  // call id, disposition code, note: on an answered call, one in wrap-up,
  // or one that ended within the hour (its history record).
  caf::replies_to<atom::outcome, std::string, std::string,
                  std::string>::with<call_reply>,
  // -- agents --
  // agent id, extend by (zero: end now), event id.
  caf::replies_to<atom::wrap_up, std::string, caf::timespan,
                  std::string>::with<routing::agent_view>,
  // agent id, presence, event id.
  caf::replies_to<atom::presence, std::string, routing::presence,
                  std::string>::with<routing::agent_view>,
  // agent id, ready, reason, event id.
  caf::replies_to<atom::ready, std::string, bool, std::string,
                  std::string>::with<routing::agent_view>,
  // -- refusals --
  // A gateway command refused before it reached the tenant (bad input):
  // message, event id. Records the refusal as the event id's first
  // outcome and replies with it, so a later command with the same event
  // id is answered with the refusal and not applied.
  caf::replies_to<atom::refuse, std::string, std::string>::with<atom::ok>,
  // -- statistics and events --
  caf::replies_to<atom::stats, std::string>::with<routing::queue_stats>,
  // An agent's figures of today (UTC).
  caf::replies_to<atom::stats, atom::agent,
                  std::string>::with<routing::agent_stats>,
  // Every queue's statistics, ordered by queue id.
  caf::replies_to<atom::stats>::with<std::vector<routing::queue>,
                                     std::vector<routing::queue_stats>>,
  // Registers a sink for the tenant's events, which receives
  // (atom::event, event_batch) for each write that published events after
  // the sequence this replies with, until it terminates.
  caf::replies_to<atom::subscribe, caf::actor>::with<uint64_t>,
  // The stored events after sequence `after` up to `last`, at most 1,000,
  // and the oldest sequence still kept: how a subscriber on any node
  // catches up before the live events.
  caf::replies_to<atom::event, uint64_t, uint64_t>::with<uint64_t, event_batch>,
  // A page of finished calls, oldest first by end time: those that ended
  // in [from, to) (microseconds since the epoch), after the history key
  // suffix `after` (empty: from the start), in queue `queue_id` and
  // answered by `agent_id` and from `caller` when these are not empty. At
  // most `size`
  // records and history_page_bytes of them, and at most
  // history_page_scan records looked at: a page may end early with a
  // next one to follow.
  caf::replies_to<atom::history, int64_t, int64_t, std::string, std::string,
                  std::string, std::string, uint32_t>::with<history_page>,
  // A page of configuration changes (each a v1::Event), oldest first: those
  // made in [from, to), after the change key suffix `after`, at most
  // `size`.
  caf::replies_to<atom::history, atom::change, int64_t, int64_t, std::string,
                  uint32_t>::with<history_page>,
  // Hands the tenant over to another node: writes what is pending, replies
  // with every stored record of the tenant and stops, so that nothing sent
  // after it is applied here.
  caf::replies_to<atom::move>::with<record_set>,
  // The tenant's own settings changed: its history retention applies
  // from the next audit.
  caf::reacts_to<atom::upsert, routing::tenant>,
  // Internal: timers fire, pending writes are flushed, the agents are
  // audited.
  caf::reacts_to<atom::tick>, caf::reacts_to<atom::flush>,
  caf::reacts_to<atom::audit>>;

/// A router node as its peers see it: published with CAF's middleman on
/// the node's cluster port. Tenant actors travel as `caf::actor` (CAF has
/// type IDs for those) and are cast back to `tenant_actor`.
using node_actor = caf::typed_actor<
  // Heartbeat: replies with the node's name.
  caf::replies_to<atom::ping>::with<std::string>,
  // Creates or replaces a tenant this node owns. Every peer that is up
  // learns of it before the reply, which holds the tenant and its actor.
  caf::replies_to<atom::upsert, routing::tenant>::with<routing::tenant,
                                                       caf::actor>,
  // A peer created a tenant it owns: remember its actor.
  caf::replies_to<atom::upsert, routing::tenant, caf::actor>::with<atom::ok>,
  // Every tenant this node owns, and their actors in the same order.
  caf::replies_to<atom::list>::with<std::vector<routing::tenant>,
                                    std::vector<caf::actor>>,
  // A tenant moving here with its records: stored, started, and announced
  // to every peer that is up before the reply, which holds its new actor.
  caf::replies_to<atom::move, routing::tenant, record_set>::with<caf::actor>,
  // A peer handed tenant `id` on: forget its old actor (any but this one).
  caf::replies_to<atom::erase, std::string, caf::actor>::with<atom::ok>,
  // A member not in this node's configuration joined: its name and where
  // its cluster port is.
  caf::replies_to<atom::join, std::string, std::string,
                  uint16_t>::with<atom::ok>,
  // Takes a member out of the cluster: its tenants move to their new
  // owners. With `true`, the node asked tells every peer that is up first.
  caf::replies_to<atom::leave, std::string, bool>::with<atom::ok>>;

} // namespace switchboard
