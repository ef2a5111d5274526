#pragma once

// Message types and atoms of Switchboard's actors. CAF 0.17.6 needs a
// type ID for every type in a message (checked at compile time with
// CAF_ENABLE_TYPE_ID_CHECKS) and an inspect overload (actors/inspect.hpp)
// to copy, print and serialize it.

#include "actors/inspect.hpp"
#include "routing/model.hpp"

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(switchboard, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::selector))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::attributes))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::capacity))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::tenant))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::queue))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::agent))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::call))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::offer))
CAF_ADD_TYPE_ID(switchboard, (std::vector<switchboard::routing::queue>))
CAF_ADD_TYPE_ID(switchboard, (std::vector<switchboard::routing::agent>))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::presence))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::live_call))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::agent_view))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::queue_stats))
CAF_ADD_TYPE_ID(switchboard, (switchboard::call_reply))
CAF_ADD_TYPE_ID(switchboard, (std::vector<switchboard::routing::agent_view>))
CAF_ADD_TYPE_ID(switchboard, (std::vector<switchboard::call_reply>))
CAF_ADD_TYPE_ID(switchboard, (std::vector<switchboard::routing::queue_stats>))
CAF_ADD_TYPE_ID(switchboard, (switchboard::event_batch))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::classification))
CAF_ADD_TYPE_ID(switchboard, (switchboard::routing::agent_stats))
CAF_ADD_TYPE_ID(switchboard, (std::vector<switchboard::routing::tenant>))
CAF_ADD_TYPE_ID(switchboard, (switchboard::record_set))
CAF_ADD_TYPE_ID(switchboard, (switchboard::history_page))

CAF_END_TYPE_ID_BLOCK(switchboard)

// Atoms: at most 10 characters of text each.
CAF_ADD_ATOM(switchboard, switchboard::atom, upsert, "upsert")
CAF_ADD_ATOM(switchboard, switchboard::atom, get, "get")
CAF_ADD_ATOM(switchboard, switchboard::atom, list, "list")
CAF_ADD_ATOM(switchboard, switchboard::atom, erase, "erase")
CAF_ADD_ATOM(switchboard, switchboard::atom, tick, "tick")
CAF_ADD_ATOM(switchboard, switchboard::atom, queue, "queue")
CAF_ADD_ATOM(switchboard, switchboard::atom, agent, "agent")
CAF_ADD_ATOM(switchboard, switchboard::atom, ok, "ok")
CAF_ADD_ATOM(switchboard, switchboard::atom, call, "call")
CAF_ADD_ATOM(switchboard, switchboard::atom, submit, "submit")
CAF_ADD_ATOM(switchboard, switchboard::atom, cancel, "cancel")
CAF_ADD_ATOM(switchboard, switchboard::atom, complete, "complete")
CAF_ADD_ATOM(switchboard, switchboard::atom, transfer, "transfer")
CAF_ADD_ATOM(switchboard, switchboard::atom, accept, "accept")
CAF_ADD_ATOM(switchboard, switchboard::atom, outcome, "outcome")
CAF_ADD_ATOM(switchboard, switchboard::atom, decline, "decline")
CAF_ADD_ATOM(switchboard, switchboard::atom, presence, "presence")
CAF_ADD_ATOM(switchboard, switchboard::atom, ready, "ready")
CAF_ADD_ATOM(switchboard, switchboard::atom, callback, "callback")
CAF_ADD_ATOM(switchboard, switchboard::atom, audit, "audit")
CAF_ADD_ATOM(switchboard, switchboard::atom, wrap_up, "wrap_up")
CAF_ADD_ATOM(switchboard, switchboard::atom, consult, "consult")
CAF_ADD_ATOM(switchboard, switchboard::atom, join, "join")
CAF_ADD_ATOM(switchboard, switchboard::atom, stats, "stats")
CAF_ADD_ATOM(switchboard, switchboard::atom, subscribe, "subscribe")
CAF_ADD_ATOM(switchboard, switchboard::atom, event, "event")
CAF_ADD_ATOM(switchboard, switchboard::atom, flush, "flush")
CAF_ADD_ATOM(switchboard, switchboard::atom, ping, "ping")
CAF_ADD_ATOM(switchboard, switchboard::atom, move, "move")
CAF_ADD_ATOM(switchboard, switchboard::atom, leave, "leave")
CAF_ADD_ATOM(switchboard, switchboard::atom, refuse, "refuse")
CAF_ADD_ATOM(switchboard, switchboard::atom, history, "history")
CAF_ADD_ATOM(switchboard, switchboard::atom, change, "change")
CAF_ADD_ATOM(switchboard, switchboard::atom, rules, "rules")

namespace caf {
class actor_system_config;
} // namespace caf

namespace switchboard {

/// Registers Switchboard's message types and its error category (so that
/// `ec` errors print as words) with an actor system configuration.
void add_message_types(caf::actor_system_config& cfg);

} // namespace switchboard
