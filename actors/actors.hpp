#pragma once

// Every actor interface of Switchboard, each a typed actor.

#include "actors/atoms.hpp"
#include "routing/model.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

namespace switchboard {

/// The entry point for every command of one tenant. Owns the tenant's
/// configuration (queues and agents) and writes every change to the store
/// before it replies; rebuilt from the store when spawned.
using tenant_actor = caf::typed_actor<
  // Creates or replaces a queue; replies with it as stored.
  caf::replies_to<atom::upsert, routing::queue>::with<routing::queue>,
  // A queue by id, or not_found.
  caf::replies_to<atom::get, atom::queue, std::string>::with<routing::queue>,
  // Every queue, ordered by id.
  caf::replies_to<atom::list, atom::queue>::with<std::vector<routing::queue>>,
  // Deletes a queue, or not_found.
  caf::replies_to<atom::erase, atom::queue, std::string>::with<atom::ok>,
  // Creates or replaces an agent's configuration; its state is kept (a new
  // agent is offline and not ready). Replies with configuration and state.
  caf::replies_to<atom::upsert, routing::agent>::with<routing::agent>,
  // An agent by id, or not_found.
  caf::replies_to<atom::get, atom::agent, std::string>::with<routing::agent>,
  // Every agent, ordered by id.
  caf::replies_to<atom::list, atom::agent>::with<std::vector<routing::agent>>,
  // Deletes an agent, or not_found; refused while it holds work.
  caf::replies_to<atom::erase, atom::agent, std::string>::with<atom::ok>>;

} // namespace switchboard
