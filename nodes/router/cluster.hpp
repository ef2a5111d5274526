#pragma once

// A router node's place in its cluster (docs/cluster.md): its peers and
// their up/down view, where each tenant lives, and the actors of tenants
// that peers own.
//
// The node publishes its node actor (actors/actors.hpp) with CAF's
// middleman on the cluster port. One thread per peer connects to the
// peer's node actor with retry and backoff, fetches the tenants the peer
// owns, and then pings it; a failed ping or a lost connection marks the
// peer down and forgets its tenants' actors until it is back. Tenants are
// placed by rendezvous hashing over the configured member names
// (actors/placement.hpp), so every node knows the owner of every tenant,
// up or down, without asking.
//
// Without peers the node is a cluster of one: every tenant is its own.

#include "actors/actors.hpp"
#include "nodes/router/config.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard {
class directory;
} // namespace switchboard

namespace switchboard::router {

class logger;
class metrics;

/// A member as this node sees it.
struct member_view {
  std::string name;
  /// host:port of its cluster port (this node's own for itself).
  std::string address;
  bool self = false;
  bool up = false;
  /// When it last went up or down (this node's start for itself).
  std::chrono::system_clock::time_point since;
  /// Why it is down: the last connection or heartbeat error.
  std::string last_error;
  /// Tenants it owns, as far as this node knows.
  size_t tenants = 0;
};

/// Where a request for a tenant goes.
struct tenant_lookup {
  enum class outcome { found, not_found, unavailable };
  outcome result = outcome::not_found;
  std::optional<tenant_actor> actor;
  /// The owning member's name, when the tenant is not on this node.
  std::string owner;
  /// For not_found and unavailable: what to tell the client.
  std::string message;
};

/// Why a tenant's actor stopped answering while its node is up.
struct tenant_stop {
  /// The member it ran on, if this node knows it and it is up; empty if
  /// that node is down or unknown.
  std::string node;
  /// The member it moves to (or moved to), if it is moving; else empty:
  /// it stopped where it runs (its node is stopping, or it restarts).
  std::string moving_to;
};

class cluster {
 public:
  cluster(caf::actor_system& sys, directory& dir, std::string self_name,
          std::vector<peer_address> peers, metrics* m = nullptr,
          logger* log = nullptr);
  ~cluster();

  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// Publishes the node actor on `host:port` (port 0: any free port) and
  /// starts connecting to the peers; returns the port. `advertise` is
  /// where peers that do not list this node reach it. Does nothing and
  /// returns 0 without peers.
  /// With `tls`, peers connect over TLS with a certificate on both sides
  /// (see cluster_tls.hpp).
  caf::expected<uint16_t> start(const std::string& host, uint16_t port,
                                const std::optional<listen_address>& advertise
                                = std::nullopt,
                                const tls::files* tls = nullptr);

  /// Stops the node's part in the cluster, in order: the peer threads and
  /// moves, then the node actor (no tenant arrives after it), and lets go
  /// of the peers' actors while the middleman still runs.
  void stop();

  const std::string& self_name() const;

  /// The member that owns `tenant_id`.
  std::string owner_of(const std::string& tenant_id) const;

  /// The tenant's actor on whichever node owns it, or why there is none.
  tenant_lookup find(const std::string& tenant_id) const;

  /// Why the actor of tenant `tenant_id` on node `where` stopped: moving
  /// when it runs, or its owner is, on another member than `where`.
  tenant_stop why_stopped(const std::string& tenant_id,
                          const caf::node_id& where) const;

  /// The node actor of a member that is up (this node's own for itself).
  std::optional<node_actor> member_actor(const std::string& name) const;

  /// A tenant a peer owns, as its creation answered: its actor is used at
  /// once, before the owner's own notice arrives.
  void remember(const routing::tenant& t, const caf::actor& a);

  /// Every tenant known, own and peers', ordered by id.
  std::vector<routing::tenant> tenants() const;

  /// The Microsoft tenant id of tenant `id`, wherever it lives; nothing
  /// if no member announced it.
  std::optional<std::string> microsoft_tenant_of(const std::string& id) const;

  /// Every member, this node first, then peers by name.
  std::vector<member_view> members() const;

  /// Whether `name` is a member (this node's name included).
  bool is_member(const std::string& name) const;

  /// This node's actor, for the services to hand tenants to.
  node_actor self_actor() const;

  /// The shared state of the peer threads and the node actor.
  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

} // namespace switchboard::router
