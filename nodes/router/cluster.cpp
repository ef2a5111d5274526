#include "nodes/router/cluster.hpp"

#include "actors/directory.hpp"
#include "actors/placement.hpp"
#include "nodes/router/cluster_tls.hpp"
#include "nodes/router/log.hpp"
#include "nodes/router/metrics.hpp"
#include "storage/error.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace switchboard::router {

namespace {

/// How often a peer that is up is pinged, and how long a ping may take
/// before the peer counts as down.
constexpr auto ping_every = std::chrono::milliseconds{500};
constexpr auto ping_timeout = std::chrono::seconds{1};

/// Reconnection backoff: doubles from the first to the last.
constexpr auto first_backoff = std::chrono::milliseconds{100};
constexpr auto last_backoff = std::chrono::seconds{5};

/// How long a tenant's creation waits for each peer to learn of it.
constexpr auto learn_timeout = std::chrono::seconds{2};

} // namespace

struct cluster::impl : std::enable_shared_from_this<impl> {
  struct peer {
    peer_address address;
    bool up = false;
    std::chrono::system_clock::time_point since;
    std::string last_error;
    std::optional<node_actor> actor;
    std::map<std::string, std::pair<routing::tenant, tenant_actor>> tenants;
    /// While it is down: the tenants it ran when it was last up. Their
    /// data is on its volume, so they are unavailable, not missing.
    std::set<std::string> held;
  };

  impl(caf::actor_system& s, directory& d, std::string name, metrics* mx,
       logger* lg)
    : sys(s), dir(d), self(std::move(name)), m(mx), log(lg),
      started(std::chrono::system_clock::now()) {}

  caf::actor_system& sys;
  directory& dir;
  std::string self;
  metrics* m;
  logger* log;
  std::chrono::system_clock::time_point started;
  std::string listen;
  /// How a member that is not in the others' configuration tells them
  /// where to reach it.
  std::string advertise_host;
  uint16_t advertise_port = 0;
  /// TLS between the nodes (set before any peer thread starts, reset
  /// when the cluster stops).
  std::unique_ptr<cluster_tunnel> tunnel;
  node_actor actor;

  mutable std::mutex mtx;
  /// Tenants whose old node announced their move (with the actor they now
  /// run as) before their new node announced them: without it, a request
  /// in that moment would hear that the tenant does not exist.
  std::map<std::string, caf::actor> moved_to;
  /// Tenants announced by a peer before it was marked up, by its node.
  std::map<caf::node_id,
           std::map<std::string, std::pair<routing::tenant, tenant_actor>>>
    early;
  /// Every member's name, this node's included, sorted; grows when a
  /// member joins.
  std::vector<std::string> members;
  std::map<std::string, peer> peers;
  /// Moves run one at a time.
  std::mutex move_mtx;
  std::mutex threads_mtx;

  std::mutex stop_mtx;
  std::condition_variable stop_cv;
  std::atomic<bool> stopping{false};
  /// The node actor was stopped.
  std::atomic<bool> closed{false};
  bool rebalance_wanted = false;
  /// This node was taken out of the cluster: it no longer joins peers.
  bool left = false;
  std::vector<std::thread> threads;

  /// Waits `d` unless the cluster stops first; false if it stopped.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock guard{stop_mtx};
    return !stop_cv.wait_for(guard, d, [this] {
      return stopping.load();
    });
  }

  void mark_up(const std::string& name, node_actor a,
               std::vector<routing::tenant> ts, std::vector<caf::actor> as) {
    {
      std::lock_guard guard{mtx};
      auto& p = peers[name];
      p.up = true;
      p.since = std::chrono::system_clock::now();
      p.last_error.clear();
      p.actor = a;
      p.tenants.clear();
      p.held.clear();
      for (size_t i = 0; i < ts.size() && i < as.size(); ++i)
        p.tenants[ts[i].id] = {ts[i], caf::actor_cast<tenant_actor>(as[i])};
      // Announcements it made while it was being listed: newer than the
      // list, or the same.
      if (auto e = early.find(a.node()); e != early.end()) {
        for (auto& [id, entry] : e->second)
          p.tenants[id] = entry;
        early.erase(e);
      }
    }
    if (m != nullptr)
      m->peer_up(name, true);
    if (log != nullptr)
      log->info("peer up",
                {{"peer", name}, {"tenants", std::to_string(ts.size())}});
  }

  void mark_down(const std::string& name, const std::string& why) {
    bool was_up = false;
    {
      std::lock_guard guard{mtx};
      auto& p = peers[name];
      was_up = p.up;
      if (p.up || p.since == std::chrono::system_clock::time_point{})
        p.since = std::chrono::system_clock::now();
      p.up = false;
      p.last_error = why;
      p.actor.reset();
      for (auto& [id, entry] : p.tenants)
        p.held.insert(id);
      p.tenants.clear();
    }
    if (m != nullptr)
      m->peer_up(name, false);
    if (was_up && log != nullptr)
      log->write(log_level::warn,
                 "peer down: its tenants answer UNAVAILABLE until it is back",
                 {{"peer", name}, {"error", why}});
  }

  std::string owner(const std::string& tenant_id) const {
    std::lock_guard guard{mtx};
    return switchboard::owner_of(tenant_id, members);
  }

  /// A peer announced a tenant it runs (created or moved there): filed
  /// under the peer whose actor it is, forgotten under any other.
  void learn(const routing::tenant& t, const caf::actor& a) {
    std::lock_guard guard{mtx};
    moved_to.erase(t.id);
    bool filed = false;
    for (auto& [name, p] : peers) {
      p.held.erase(t.id);
      if (p.up && p.actor && p.actor->node() == a.node()) {
        p.tenants[t.id] = {t, caf::actor_cast<tenant_actor>(a)};
        filed = true;
      } else {
        p.tenants.erase(t.id);
      }
    }
    for (auto& [node, announced] : early)
      announced.erase(t.id);
    // From a peer this node is still listing (its answer and this
    // announcement race): kept until the peer is marked up.
    if (!filed && a.node() != sys.node())
      early[a.node()][t.id] = {t, caf::actor_cast<tenant_actor>(a)};
  }

  /// Tenant `id` now runs as `current`: entries with any other actor go.
  /// Until its new node announces it, requests go to `current`.
  void forget(const std::string& id, const caf::actor& current) {
    std::lock_guard guard{mtx};
    for (auto& [name, p] : peers) {
      auto i = p.tenants.find(id);
      if (i != p.tenants.end()
          && caf::actor_cast<caf::actor>(i->second.second) != current)
        p.tenants.erase(i);
    }
    for (auto& [node, announced] : early)
      if (auto i = announced.find(id);
          i != announced.end()
          && caf::actor_cast<caf::actor>(i->second.second) != current)
        announced.erase(i);
    moved_to[id] = current;
  }

  /// Where tenant `id` moved, when its old node said so and its new node
  /// (up) has not announced it yet. Holds mtx.
  std::optional<tenant_actor> moved_actor(const std::string& id) const {
    auto i = moved_to.find(id);
    if (i == moved_to.end())
      return std::nullopt;
    for (auto& [name, p] : peers)
      if (p.up && p.actor && p.actor->node() == i->second.node())
        return caf::actor_cast<tenant_actor>(i->second);
    return std::nullopt;
  }

  /// The member that is down and held tenant `id` when it was last up,
  /// if any: the tenant's data is on its volume. Holds mtx.
  const std::pair<const std::string, peer>*
  down_holder(const std::string& id) const {
    for (auto& entry : peers)
      if (!entry.second.up && entry.second.held.count(id) > 0)
        return &entry;
    return nullptr;
  }

  /// Why tenant `id` cannot be served while it is not on this node: the
  /// member that holds its data is down. Nothing if no such member.
  std::optional<std::string> held_elsewhere(const std::string& id) const {
    std::lock_guard guard{mtx};
    auto* holder = down_holder(id);
    if (holder == nullptr)
      return std::nullopt;
    return "tenant '" + id + "' is served by node '" + holder->first
           + "', which is down (" + holder->second.last_error
           + "); retry when it is back";
  }

  /// Why member `name` cannot leave now, if it cannot: it is down.
  std::optional<std::string> cannot_leave(const std::string& name) const {
    std::lock_guard guard{mtx};
    auto i = peers.find(name);
    if (i == peers.end() || i->second.up)
      return std::nullopt;
    return "member '" + name
           + "' is down, and the data of the tenants it runs is on its "
             "volume: removed now, they would be unavailable until it "
             "returns. Start it again (same name, same volume), then "
             "remove it: it hands its tenants over before it leaves. "
             "(Last error: "
           + i->second.last_error + ")";
  }

  /// The member a node id is, if it is this node or a peer that is up.
  std::optional<std::string> name_of(const caf::node_id& where) const {
    if (where == sys.node())
      return self;
    std::lock_guard guard{mtx};
    for (auto& [name, p] : peers)
      if (p.up && p.actor && p.actor->node() == where)
        return name;
    return std::nullopt;
  }

  /// Adds a member that joined; false if it was one.
  bool add_member(const peer_address& address) {
    bool new_peer = false;
    {
      std::lock_guard guard{mtx};
      if (address.name == self
          || std::find(members.begin(), members.end(), address.name)
               != members.end())
        return false;
      members.push_back(address.name);
      std::sort(members.begin(), members.end());
      new_peer = peers.count(address.name) == 0;
      if (new_peer)
        peers[address.name].address = address;
    }
    if (log != nullptr)
      log->info(
        "member joined",
        {{"peer", address.name},
         {"address", address.host + ":" + std::to_string(address.port)}});
    if (new_peer) {
      if (m != nullptr)
        m->peer_up(address.name, false);
      start_thread(address.name);
    }
    request_rebalance();
    return true;
  }

  void start_thread(const std::string& name) {
    {
      std::lock_guard guard{mtx};
      peers[name];
    }
    std::lock_guard guard{threads_mtx};
    if (stopping)
      return;
    threads.emplace_back([c = shared_from_this(), name] {
      c->run(name);
    });
  }

  bool is_member(const std::string& name) const {
    std::lock_guard guard{mtx};
    return std::find(members.begin(), members.end(), name) != members.end();
  }

  /// Takes a member out of placement: its tenants go to their new owners
  /// (if it is this node, all of them). Its connection stays while it
  /// still runs tenants.
  void remove_member(const std::string& name) {
    {
      std::lock_guard guard{mtx};
      auto i = std::find(members.begin(), members.end(), name);
      if (i == members.end())
        return;
      members.erase(i);
      if (name == self)
        left = true;
    }
    if (log != nullptr)
      log->info("member removed", {{"peer", name}});
    request_rebalance();
  }

  /// Wakes the mover, which runs rebalance() off the actors' threads.
  void request_rebalance() {
    {
      std::lock_guard guard{stop_mtx};
      rebalance_wanted = true;
    }
    stop_cv.notify_all();
  }

  void mover() {
    while (true) {
      {
        std::unique_lock guard{stop_mtx};
        stop_cv.wait(guard, [this] {
          return stopping || rebalance_wanted;
        });
        if (stopping)
          return;
        rebalance_wanted = false;
      }
      rebalance();
    }
  }

  /// Hands every tenant this node runs but no longer owns to its owner,
  /// if that member is up.
  void rebalance() {
    std::lock_guard moving{move_mtx};
    for (auto& t : dir.list()) {
      if (stopping)
        return;
      auto to = owner(t.id);
      if (to == self)
        continue;
      std::optional<node_actor> dest;
      {
        std::lock_guard guard{mtx};
        auto i = peers.find(to);
        if (i != peers.end() && i->second.up)
          dest = i->second.actor;
      }
      if (dest)
        move(t, to, *dest);
    }
  }

  /// Moves one tenant: stop it here with its records, start it there from
  /// them, then delete it here. If the new node fails, it starts here
  /// again from the store, which still holds everything.
  void move(const routing::tenant& t, const std::string& to,
            const node_actor& dest) {
    auto local = dir.find(t.id);
    if (!local)
      return;
    auto paused_at = std::chrono::steady_clock::now();
    caf::scoped_actor me{sys};
    std::optional<record_set> records;
    std::string failed;
    me->request(*local, std::chrono::seconds{30}, atom::move_v)
      .receive(
        [&](record_set& r) {
          records = std::move(r);
        },
        [&](caf::error& err) {
          failed = sys.render(err);
        });
    if (!records) {
      log_move_failed(t.id, to, "reading it failed: " + failed);
      dir.restart(t.id);
      return;
    }
    std::optional<caf::actor> moved;
    me->request(dest, std::chrono::seconds{30}, atom::move_v, t, *records)
      .receive(
        [&](caf::actor& a) {
          moved = a;
        },
        [&](caf::error& err) {
          failed = sys.render(err);
        });
    if (!moved) {
      log_move_failed(t.id, to, failed);
      if (auto again = dir.restart(t.id); !again)
        log_move_failed(t.id, self,
                        "restarting it here failed too: "
                          + sys.render(again.error()));
      return;
    }
    forget(t.id, *moved);
    learn(t, *moved);
    if (auto err = dir.release(t.id))
      log_move_failed(t.id, to,
                      "moved, but deleting it here failed (" + sys.render(err)
                        + "); it is served there and not here");
    for (auto& p : up_peers())
      me->request(p, learn_timeout, atom::erase_v, t.id, *moved)
        .receive([](atom::ok) {}, [](caf::error&) {});
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - paused_at);
    if (m != nullptr)
      m->tenant_moved(took);
    if (log != nullptr)
      log->info("tenant moved",
                {{"tenant", t.id},
                 {"to", to},
                 {"records", std::to_string(records->keys.size())},
                 {"paused_ms", std::to_string(took.count())}});
  }

  void log_move_failed(const std::string& tenant, const std::string& to,
                       const std::string& why) {
    if (log != nullptr)
      log->write(log_level::error,
                 "tenant move failed; it is served here and the move is "
                 "tried again when the peer is next up",
                 {{"tenant", tenant}, {"to", to}, {"error", why}});
  }

  std::vector<node_actor> up_peers() const {
    std::vector<node_actor> result;
    std::lock_guard guard{mtx};
    for (auto& [name, p] : peers)
      if (p.up && p.actor)
        result.push_back(*p.actor);
    return result;
  }

  /// One peer's life: connect with backoff, fetch its tenants, ping.
  void run(const std::string& name) {
    peer_address address;
    {
      std::lock_guard guard{mtx};
      address = peers[name].address;
    }
    auto backoff = first_backoff;
    std::optional<node_actor> connected;
    while (!stopping) {
      if (!connected && !is_member(name)) {
        // Removed, and gone or never reached: nothing of it to show,
        // unless it went down before it handed every tenant over; then
        // they answer UNAVAILABLE until it is back to hand them over.
        std::lock_guard guard{mtx};
        if (peers[name].held.empty()) {
          peers.erase(name);
          return;
        }
      }
      if (!connected) {
        // Through the tunnel (a loopback port of its own per peer) when
        // the cluster runs on TLS.
        auto host = tunnel ? std::string{"127.0.0.1"} : address.host;
        auto port
          = tunnel ? tunnel->dial(address.host, address.port) : address.port;
        auto remote = port == 0
                        ? caf::expected<node_actor>{caf::make_error(
                          caf::sec::cannot_connect_to_node,
                          "no loopback port left for the tls tunnel")}
                        : sys.middleman().remote_actor<node_actor>(host, port);
        if (!remote) {
          mark_down(name, "cannot connect to " + address.host + ":"
                            + std::to_string(address.port) + ": "
                            + sys.render(remote.error()));
          if (!pause(backoff))
            return;
          backoff
            = std::min<std::chrono::milliseconds>(backoff * 2, last_backoff);
          continue;
        }
        caf::scoped_actor me{sys};
        bool listed = false;
        me->request(*remote, ping_timeout * 2, atom::list_v)
          .receive(
            [&](std::vector<routing::tenant>& ts, std::vector<caf::actor>& as) {
              mark_up(name, *remote, std::move(ts), std::move(as));
              listed = true;
            },
            [&](caf::error& err) {
              mark_down(name, "listing its tenants failed: " + sys.render(err));
            });
        if (!listed) {
          if (!pause(backoff))
            return;
          continue;
        }
        connected = *remote;
        backoff = first_backoff;
        // Tell it where this node is, in case its configuration does not
        // list it; then hand it the tenants it now owns.
        bool joins = false;
        {
          std::lock_guard guard{mtx};
          joins = !left;
        }
        if (joins)
          me->request(*connected, ping_timeout * 2, atom::join_v, self,
                      advertise_host, advertise_port)
            .receive([](atom::ok) {}, [](caf::error&) {});
        request_rebalance();
      }
      if (!pause(ping_every))
        return;
      caf::scoped_actor me{sys};
      me->request(*connected, ping_timeout, atom::ping_v)
        .receive([](std::string&) {},
                 [&](caf::error& err) {
                   mark_down(name, "heartbeat failed: " + sys.render(err));
                   connected.reset();
                 });
    }
  }
};

namespace {

/// Replies `reply` once every peer that is up has learned that the tenant
/// runs as `handle`, or failed to answer in time.
template<class Self, class Promise, class... Reply>
void announce(Self* self, const std::shared_ptr<cluster::impl>& c,
              const routing::tenant& tenant, const caf::actor& handle,
              Promise rp, Reply... reply) {
  auto peers = c->up_peers();
  if (peers.empty()) {
    rp.deliver(reply...);
    return;
  }
  auto pending = std::make_shared<size_t>(peers.size());
  for (auto& p : peers) {
    auto done = [rp, pending, reply...]() mutable {
      if (--*pending == 0)
        rp.deliver(reply...);
    };
    self->request(p, learn_timeout, atom::upsert_v, tenant, handle)
      .then(
        [done](atom::ok) mutable {
          done();
        },
        [done](caf::error&) mutable {
          done();
        });
  }
}

/// Takes one tenant over (stores its records, starts its actor, announces
/// it), replies with its new actor and quits.
using adopt_actor = caf::typed_actor<
  caf::replies_to<atom::move, routing::tenant, record_set>::with<caf::actor>>;

/// Delivers the reply, then ends the worker that made it.
struct reply_then_quit {
  caf::typed_response_promise<caf::actor> rp;
  adopt_actor::pointer self;

  void deliver(caf::actor handle) {
    rp.deliver(std::move(handle));
    self->quit();
  }
};

adopt_actor::behavior_type adopt_behavior(adopt_actor::pointer self,
                                          std::shared_ptr<cluster::impl> c) {
  return {
    [self, c](atom::move, routing::tenant& t,
              record_set& records) -> caf::result<caf::actor> {
      auto started = c->dir.adopt(t, records);
      if (!started) {
        self->quit();
        return started.error();
      }
      auto handle = caf::actor_cast<caf::actor>(*started);
      reply_then_quit rp{self->make_response_promise<caf::actor>(), self};
      announce(self, c, t, handle, rp, handle);
      return rp.rp;
    },
  };
}

node_actor::behavior_type node_behavior(node_actor::pointer self,
                                        std::shared_ptr<cluster::impl> c) {
  return {
    [c](atom::ping) {
      return c->self;
    },
    [self, c](atom::upsert,
              routing::tenant& t) -> caf::result<routing::tenant, caf::actor> {
      if (!c->dir.find(t.id))
        if (auto why = c->held_elsewhere(t.id))
          return caf::make_error(ec::unavailable, *why);
      auto stored = c->dir.upsert(std::move(t));
      if (!stored)
        return stored.error();
      auto local = c->dir.find(stored->id);
      if (!local)
        return caf::make_error(ec::unavailable, "tenant '" + stored->id
                                                  + "' was stored but "
                                                    "its actor did not start");
      auto handle = caf::actor_cast<caf::actor>(*local);
      auto rp = self->make_response_promise<routing::tenant, caf::actor>();
      announce(self, c, *stored, handle, rp, *stored, handle);
      return rp;
    },
    [self, c](atom::move, routing::tenant& t,
              record_set& records) -> caf::result<caf::actor> {
      // Writing a large tenant's records takes seconds on a loaded
      // machine; a worker does it, so that this actor keeps answering its
      // peers' heartbeats meanwhile and is not taken for down.
      auto worker = self->spawn<caf::detached>(adopt_behavior, c);
      return self->delegate(worker, atom::move_v, std::move(t),
                            std::move(records));
    },
    [c](atom::erase, std::string& id, caf::actor& current) {
      c->forget(id, current);
      return atom::ok_v;
    },
    [c](atom::join, std::string& name, std::string& host, uint16_t port) {
      c->add_member(peer_address{name, host, port});
      return atom::ok_v;
    },
    [self, c](atom::leave, std::string& name,
              bool tell_peers) -> caf::result<atom::ok> {
      // A member that is down cannot hand its tenants over: their data is
      // on its volume. Taken out now, they would have no node to live on.
      if (tell_peers && name != c->self)
        if (auto why = c->cannot_leave(name))
          return caf::make_error(ec::failed_precondition, *why);
      // The node asked tells every peer, then takes it out itself.
      auto rp = self->make_response_promise<atom::ok>();
      auto peers = tell_peers ? c->up_peers() : std::vector<node_actor>{};
      auto pending = std::make_shared<size_t>(peers.size() + 1);
      auto done = [rp, pending, c, name]() mutable {
        if (--*pending == 0) {
          c->remove_member(name);
          rp.deliver(atom::ok_v);
        }
      };
      for (auto& p : peers)
        self->request(p, learn_timeout, atom::leave_v, name, false)
          .then(
            [done](atom::ok) mutable {
              done();
            },
            [done](caf::error&) mutable {
              done();
            });
      done();
      return rp;
    },
    [c](atom::upsert, routing::tenant& t, caf::actor& a) {
      c->learn(t, a);
      return atom::ok_v;
    },
    [c](atom::list)
      -> caf::result<std::vector<routing::tenant>, std::vector<caf::actor>> {
      std::vector<routing::tenant> ts;
      std::vector<caf::actor> as;
      for (auto& [id, a] : c->dir.actors())
        if (auto t = c->dir.get(id)) {
          ts.push_back(*t);
          as.push_back(caf::actor_cast<caf::actor>(a));
        }
      return {std::move(ts), std::move(as)};
    },
  };
}

} // namespace

cluster::cluster(caf::actor_system& sys, directory& dir, std::string self_name,
                 std::vector<peer_address> peers, metrics* m, logger* log)
  : impl_(std::make_shared<impl>(sys, dir, std::move(self_name), m, log)) {
  impl_->members.push_back(impl_->self);
  impl_->advertise_host = impl_->self;
  for (auto& p : peers) {
    impl_->members.push_back(p.name);
    impl_->peers[p.name].address = p;
  }
  std::sort(impl_->members.begin(), impl_->members.end());
  impl_->actor = sys.spawn(node_behavior, impl_);
}

cluster::~cluster() { stop(); }

caf::expected<uint16_t>
cluster::start(const std::string& host, uint16_t port,
               const std::optional<listen_address>& advertise,
               const tls::files* tls) {
  if (impl_->peers.empty())
    return uint16_t{0};
  // On TLS, the middleman listens on loopback only, and the tunnel on the
  // cluster address.
  auto bound = impl_->sys.middleman().publish(
    impl_->actor, tls ? uint16_t{0} : port,
    tls ? "127.0.0.1" : (host.empty() ? nullptr : host.c_str()), true);
  if (!bound)
    return bound.error();
  if (tls) {
    std::string error;
    auto* log = impl_->log;
    impl_->tunnel = cluster_tunnel::start(
      *tls, host, port, *bound,
      [log](const std::string& who, const std::string& why) {
        if (log != nullptr)
          log->write(log_level::warn,
                     "cluster connection refused: no certificate of "
                     "--cluster-tls-ca, or none at all",
                     {{"peer", who}, {"error", why}});
      },
      error);
    if (!impl_->tunnel)
      return caf::make_error(caf::sec::cannot_open_port, error);
    bound = impl_->tunnel->port();
  }
  impl_->listen = (host.empty() ? std::string{"0.0.0.0"} : host) + ":"
                  + std::to_string(*bound);
  // A wildcard address cannot be dialled: peers then use the node's name,
  // which Kubernetes resolves for a StatefulSet's pods.
  if (!host.empty() && host != "0.0.0.0" && host != "::")
    impl_->advertise_host = host;
  impl_->advertise_port = *bound;
  if (advertise) {
    impl_->advertise_host = advertise->host;
    impl_->advertise_port = advertise->port;
  }
  std::vector<std::string> names;
  for (auto& [name, p] : impl_->peers)
    names.push_back(name);
  for (auto& name : names) {
    if (impl_->m != nullptr)
      impl_->m->peer_up(name, false);
    impl_->start_thread(name);
  }
  {
    std::lock_guard guard{impl_->threads_mtx};
    impl_->threads.emplace_back([c = impl_] {
      c->mover();
    });
  }
  return *bound;
}

void cluster::stop() {
  {
    std::lock_guard guard{impl_->stop_mtx};
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  std::vector<std::thread> threads;
  {
    std::lock_guard guard{impl_->threads_mtx};
    threads.swap(impl_->threads);
  }
  for (auto& t : threads)
    if (t.joinable())
      t.join();
  // Then the node actor, so that no peer hands this node a tenant after
  // its tenants stop; waited for, so that it is gone before the actor
  // system's teardown.
  if (!impl_->closed.exchange(true)) {
    caf::scoped_actor me{impl_->sys};
    me->monitor(impl_->actor);
    me->send_exit(impl_->actor, caf::exit_reason::user_shutdown);
    me->receive([](const caf::down_msg&) {},
                caf::after(std::chrono::seconds{5}) >> [] {});
  }
  // Proxies of remote actors must go while the middleman runs.
  {
    std::lock_guard guard{impl_->mtx};
    for (auto& [name, p] : impl_->peers) {
      p.up = false;
      p.actor.reset();
      p.tenants.clear();
    }
  }
  // Last, the connections to the peers.
  impl_->tunnel.reset();
}

const std::string& cluster::self_name() const { return impl_->self; }

std::string cluster::owner_of(const std::string& tenant_id) const {
  return impl_->owner(tenant_id);
}

tenant_lookup cluster::find(const std::string& tenant_id) const {
  tenant_lookup out;
  // Where the tenant runs now, which is its owner except while it moves.
  // Found here, as every tenant of a single node is, nothing else is
  // looked at: this runs for every request.
  if (auto here = impl_->dir.find(tenant_id)) {
    out.actor = here;
    out.result = tenant_lookup::outcome::found;
    return out;
  }
  out.owner = owner_of(tenant_id);
  std::lock_guard guard{impl_->mtx};
  for (auto& [name, peer] : impl_->peers)
    if (auto i = peer.tenants.find(tenant_id);
        peer.up && i != peer.tenants.end()) {
      out.actor = i->second.second;
      out.result = tenant_lookup::outcome::found;
      return out;
    }
  if (auto moved = impl_->moved_actor(tenant_id)) {
    out.actor = *moved;
    out.result = tenant_lookup::outcome::found;
    return out;
  }
  out.result = tenant_lookup::outcome::not_found;
  out.message
    = "tenant '" + tenant_id + "' does not exist (create it with UpsertTenant)";
  // Not where placement puts it, but its data may be on a member that is
  // down (one that went down while it handed its tenants over).
  if (auto* holder = impl_->down_holder(tenant_id)) {
    out.owner = holder->first;
    out.result = tenant_lookup::outcome::unavailable;
    out.message = "tenant '" + tenant_id + "' is served by node '"
                  + holder->first + "', which is down ("
                  + holder->second.last_error + "); retry when it is back";
    return out;
  }
  if (out.owner == impl_->self)
    return out;
  auto& p = impl_->peers.at(out.owner);
  if (!p.up) {
    out.result = tenant_lookup::outcome::unavailable;
    out.message = "tenant '" + tenant_id + "' is served by node '" + out.owner
                  + "', which is down (" + p.last_error
                  + "); retry when it is back";
  }
  return out;
}

tenant_stop cluster::why_stopped(const std::string& tenant_id,
                                 const caf::node_id& where) const {
  tenant_stop out;
  out.node = impl_->name_of(where).value_or("");
  if (out.node.empty())
    return out;
  // Where it runs now, as this node knows it: moved already if that is
  // another member; else moving if another member owns it.
  auto now = find(tenant_id);
  if (now.actor && now.actor->node() != where)
    out.moving_to = impl_->name_of(now.actor->node()).value_or("");
  if (out.moving_to.empty()) {
    auto owner = owner_of(tenant_id);
    if (owner != out.node)
      out.moving_to = owner;
  }
  return out;
}

std::optional<node_actor> cluster::member_actor(const std::string& name) const {
  if (name == impl_->self)
    return impl_->actor;
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->peers.find(name);
  if (i == impl_->peers.end() || !i->second.up)
    return std::nullopt;
  return i->second.actor;
}

void cluster::remember(const routing::tenant& t, const caf::actor& a) {
  impl_->learn(t, a);
}

std::optional<std::string>
cluster::microsoft_tenant_of(const std::string& id) const {
  if (auto own = impl_->dir.get(id))
    return own->microsoft_tenant_id;
  std::lock_guard guard{impl_->mtx};
  for (auto& [name, p] : impl_->peers) {
    auto i = p.tenants.find(id);
    if (i != p.tenants.end())
      return i->second.first.microsoft_tenant_id;
  }
  return std::nullopt;
}

std::vector<routing::tenant> cluster::tenants() const {
  std::map<std::string, routing::tenant> all;
  for (auto& t : impl_->dir.list())
    all[t.id] = t;
  {
    std::lock_guard guard{impl_->mtx};
    for (auto& [name, p] : impl_->peers)
      for (auto& [id, entry] : p.tenants)
        all[id] = entry.first;
  }
  std::vector<routing::tenant> result;
  for (auto& [id, t] : all)
    result.push_back(t);
  return result;
}

std::vector<member_view> cluster::members() const {
  std::vector<member_view> result;
  member_view me;
  me.name = impl_->self;
  me.address = impl_->listen;
  me.self = true;
  me.up = true;
  me.since = impl_->started;
  me.tenants = impl_->dir.list().size();
  result.push_back(me);
  std::lock_guard guard{impl_->mtx};
  for (auto& [name, p] : impl_->peers) {
    member_view v;
    v.name = name;
    v.address = p.address.host + ":" + std::to_string(p.address.port);
    v.up = p.up;
    v.since = p.since;
    v.last_error = p.last_error;
    v.tenants = p.tenants.size();
    result.push_back(v);
  }
  return result;
}

bool cluster::is_member(const std::string& name) const {
  return impl_->is_member(name);
}

node_actor cluster::self_actor() const { return impl_->actor; }

} // namespace switchboard::router
