#include "nodes/graph_gateway/bot.hpp"

#include "nodes/graph_gateway/call_actor.hpp"
#include "nodes/json/json.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace switchboard::graph {

namespace {

namespace gw = switchboard::gateway;

caf::actor_system_config& actor_config(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::graph_gateway>();
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", size_t{2});
  return cfg;
}

// The caller's and the called party's ids: a phone number, else an
// object id.
std::string id_of(const std::optional<party>& p) {
  return p ? p->id : std::string{};
}

bool ends(const std::string& state) { return state == "terminated"; }

} // namespace

struct bot::impl final : call_registry {
  impl(bot_options opts, gw::router_link& r, graph_api& g,
       router::logger& logger)
    : options(std::move(opts)), router(r), graph(g), log(logger),
      sys(actor_config(cfg)) {
    env.graph = &graph;
    env.router = &router;
    env.log = &log;
    env.registry = this;
    env.name = options.name;
    env.callback_url = options.callback_url;
    env.hold_prompt = options.hold_prompt;
    env.announcement_url = options.announcement_url;
    env.callback_tone = options.callback_tone;
  }

  ~impl() override {
    {
      std::lock_guard<std::mutex> guard{env.life->m};
      env.life->alive = false;
    }
    {
      std::lock_guard<std::mutex> guard{mtx};
      stopping = true;
    }
    wake.notify_all();
    if (agent_reader.joinable())
      agent_reader.join();
    if (held_keeper.joinable())
      held_keeper.join();
    if (rejoiner.joinable())
      rejoiner.join();
    std::vector<call_actor> live;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (auto& [_, actor] : calls)
        live.push_back(actor);
      for (auto& [_, actor] : graph_calls)
        live.push_back(actor);
      calls.clear();
      graph_calls.clear();
    }
    for (auto& actor : live)
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }

  void forget(const call_actor& owner, const call_data& st) override {
    const auto& call_id = st.call.call_id;
    auto graph_call_id = st.call.is_callback ? st.graph_call_id : call_id;
    std::vector<std::string> orphans;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (erase_owned(calls, call_id, owner)) {
        callback_offers.erase(call_id);
        callbacks_in_call.erase(call_id);
      }
      erase_owned(graph_calls, graph_call_id, owner);
      // A callback that ended before it heard of the call Graph placed
      // for it (its offer closed meanwhile): that call must not ring on.
      if (st.call.is_callback && graph_call_id.empty()) {
        for (auto k = graph_calls.begin(); k != graph_calls.end();) {
          if (k->second == owner) {
            orphans.push_back(k->first);
            k = graph_calls.erase(k);
          } else {
            ++k;
          }
        }
      }
    }
    for (const auto& id : orphans) {
      log.info("callback: the offer closed while Graph placed the call to "
               "the agent; hanging it up",
               {{"call", call_id}, {"graph_call", id}});
      graph.send(st.call.microsoft_tenant_id, "DELETE",
                 "/communications/calls/" + id, "", [](http::reply) {});
    }
  }

  // The caller of `call_id` left the line to be called back: the
  // engine's next events for the call are the callback's, not `owner`'s.
  void hand_over(const call_actor& owner, const std::string& call_id) {
    std::lock_guard<std::mutex> guard{mtx};
    erase_owned(calls, call_id, owner);
  }

  // Under the lock: drops `key` from `map` if `owner` has it (another
  // actor may have it by now); whether it did.
  static bool erase_owned(std::unordered_map<std::string, call_actor>& map,
                          const std::string& key, const call_actor& owner) {
    auto i = map.find(key);
    if (i == map.end() || i->second != owner)
      return false;
    map.erase(i);
    return true;
  }

  void customer_joined(const call_actor& owner,
                       const std::string& call_id) override {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = calls.find(call_id);
    if (i != calls.end() && i->second == owner)
      callbacks_in_call.insert(call_id);
  }

  void placing() override {
    std::lock_guard<std::mutex> guard{mtx};
    ++placements;
  }

  bool placed(const call_actor& owner, const std::string& call_id,
              const std::string& graph_call_id) override {
    std::vector<call_notification> early;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (auto j = unclaimed.begin(); j != unclaimed.end();)
        if (j->call_id == graph_call_id) {
          early.push_back(std::move(*j));
          j = unclaimed.erase(j);
        } else {
          ++j;
        }
      done_placing();
      // The callback's offer closed while Graph placed the call: the
      // actor is gone (or going), and the call must not ring on.
      auto i = calls.find(call_id);
      if (stopping || graph_call_id.empty() || i == calls.end()
          || i->second != owner)
        return false;
      graph_calls[graph_call_id] = owner;
    }
    for (auto& n : early)
      deliver(owner, n);
    return true;
  }

  void not_placed() override {
    std::lock_guard<std::mutex> guard{mtx};
    done_placing();
  }

  // Under the lock: one placement fewer; none left, nothing is waiting
  // for early notifications.
  void done_placing() {
    if (placements > 0)
      --placements;
    if (placements == 0)
      unclaimed.clear();
  }

  // The actor of an engine call id (engine events).
  std::optional<call_actor> find(const std::string& call_id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = calls.find(call_id);
    if (i != calls.end())
      return i->second;
    return std::nullopt;
  }

  // The actor of a Graph call id (notifications). A notification about a
  // call nobody has, while the bot places calls, may be about one whose
  // id Graph's answer has not told yet: the last few are kept for
  // placed(), under the same lock as the lookup so none slips between.
  std::optional<call_actor> claim(const call_notification& n) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = graph_calls.find(n.call_id);
    if (i != graph_calls.end())
      return i->second;
    if (placements > 0) {
      unclaimed.push_back(n);
      if (unclaimed.size() > 64)
        unclaimed.pop_front();
    }
    return std::nullopt;
  }

  // An incoming call while the router cannot be reached (or before its
  // tenants were read): held unanswered, for at most router_wait (Graph
  // rings the bot for 15 s), then answered the usual way or rejected.
  struct held_call {
    call_notification n;
    identity::token_claims claims;
    std::chrono::steady_clock::time_point until;
  };

  bool can_route() {
    std::lock_guard<std::mutex> guard{mtx};
    return served && router.up();
  }

  void hold(const call_notification& n, const identity::token_claims& claims) {
    std::lock_guard<std::mutex> guard{mtx};
    for (const auto& h : held)
      if (h.n.call_id == n.call_id)
        return; // a repeated delivery
    log.warn("incoming call while the router cannot be reached; it rings "
             "unanswered until the router is back",
             {{"call", n.call_id},
              {"wait_s", std::to_string(options.router_wait.count())}});
    held.push_back(
      {n, claims, std::chrono::steady_clock::now() + options.router_wait});
    wake.notify_all();
  }

  // Under no lock: held calls the router can take now go on; those whose
  // time is up are rejected.
  void release_held() {
    std::vector<held_call> go;
    std::vector<held_call> refuse;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto now = std::chrono::steady_clock::now();
      bool routable = served && router.up();
      for (auto i = held.begin(); i != held.end();) {
        if (routable || now >= i->until) {
          (routable ? go : refuse).push_back(std::move(*i));
          i = held.erase(i);
        } else {
          ++i;
        }
      }
    }
    for (auto& h : go)
      incoming(h.n, h.claims);
    for (auto& h : refuse) {
      auto ms
        = h.n.call.tenant_id.empty() ? h.claims.tenant_id : h.n.call.tenant_id;
      log.error("the router was not back in time; rejecting the call as busy",
                {{"call", h.n.call_id}, {"microsoft_tenant", ms}});
      if (graph_api::plausible_tenant(ms))
        graph.send(ms, "POST",
                   "/communications/calls/" + h.n.call_id + "/reject",
                   "{\"reason\":\"busy\"}", [](http::reply) {});
    }
  }

  // A new call, for the keeper thread: call actors are spawned only on
  // threads the bot joins before its actor system ends (an actor spawned
  // on another thread, such as the HTTP client's that completes a
  // deferred token check, would keep the actor system from ending).
  void arrive(const call_notification& n,
              const identity::token_claims& claims) {
    std::lock_guard<std::mutex> guard{mtx};
    if (stopping)
      return;
    arriving.push_back({n, claims, {}});
    wake.notify_all();
  }

  // The caller hung up while the call was held: nothing more to do.
  bool drop_held(const std::string& call_id) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto i = held.begin(); i != held.end(); ++i)
      if (i->n.call_id == call_id) {
        held.erase(i);
        return true;
      }
    return false;
  }

  void incoming(const call_notification& n,
                const identity::token_claims& claims) {
    if (!can_route())
      return hold(n, claims);
    // The call's own tenant when it says, else the token's.
    auto ms_tenant
      = n.call.tenant_id.empty() ? claims.tenant_id : n.call.tenant_id;
    std::string tenant;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto i = by_microsoft_tenant.find(ms_tenant);
      if (i != by_microsoft_tenant.end())
        tenant = i->second;
    }
    if (tenant.empty()) {
      log.warn("incoming call from a Microsoft tenant this gateway does not "
               "serve; rejecting it",
               {{"call", n.call_id}, {"microsoft_tenant", ms_tenant}});
      if (graph_api::plausible_tenant(ms_tenant))
        graph.send(ms_tenant, "POST",
                   "/communications/calls/" + n.call_id + "/reject",
                   "{\"reason\":\"forbidden\"}", [](http::reply) {});
      return;
    }
    call_setup setup;
    setup.tenant_id = tenant;
    setup.microsoft_tenant_id = ms_tenant;
    setup.call_id = n.call_id;
    setup.from = id_of(n.call.source);
    setup.caller_id = setup.from;
    setup.to
      = n.call.targets.empty() ? std::string{} : n.call.targets.front().id;
    if (!n.call.targets.empty()
        && json::iequals(n.call.targets.front().kind, "applicationInstance"))
      setup.app_instance = n.call.targets.front().id;
    call_actor actor;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (calls.count(n.call_id) != 0)
        return; // a repeated delivery
      actor = sys.spawn(call_behavior, setup, &env);
      calls.emplace(n.call_id, actor);
      graph_calls.emplace(n.call_id, actor);
    }
    log.info("incoming call", {{"call", n.call_id},
                               {"tenant", tenant},
                               {"microsoft_tenant", ms_tenant},
                               {"from", setup.from},
                               {"to", setup.to}});
    call_input x;
    x.event = call_event::incoming;
    caf::anon_send(actor, std::move(x));
  }

  void dispatch(const call_notification& n,
                const identity::token_claims& claims) {
    auto actor = claim(n);
    if (actor)
      return deliver(*actor, n);
    if (n.kind == call_notification::about::call && n.call.state == "incoming")
      arrive(n, claims);
    else if (n.kind == call_notification::about::call
             && (ends(n.call.state) || n.change_type == "deleted")
             && drop_held(n.call_id))
      log.info("a held call's caller hung up", {{"call", n.call_id}});
  }

  // A notification for the actor of its call, as that actor's input.
  void deliver(const call_actor& actor, const call_notification& n) {
    call_input x;
    switch (n.kind) {
      case call_notification::about::call:
        if (!n.call.tone.empty()) {
          if (n.call.tone != options.callback_tone)
            return;
          x.event = call_event::callback_digit;
        } else if (n.call.state == "established" && n.call.result
                   && n.call.result->code >= 400) {
          // Back to established with an error: a transfer failed.
          x.event = call_event::transfer_failed;
          x.text = n.call.result->message;
        } else if (n.call.state == "established") {
          x.event = call_event::established;
        } else if (ends(n.call.state) || n.change_type == "deleted") {
          x.event = call_event::caller_left;
        } else {
          return; // establishing, ringing, tones: nothing to do yet
        }
        break;
      case call_notification::about::participants:
        x.is_roster = true;
        for (const auto& p : n.roster) {
          if (!p.who)
            continue;
          x.roster.push_back(p.who->id);
          x.roster.push_back(p.id);
        }
        break;
      case call_notification::about::operation:
        if (json::iequals(n.op.kind, "playPromptOperation")
            && n.op.client_context.rfind("announcement:", 0) == 0
            && (n.op.status == "completed" || n.op.status == "failed")) {
          x.event = call_event::announcement_done;
          break;
        }
        if (n.op.kind != "inviteParticipantsOperation"
            || n.op.status != "failed")
          return;
        x.event = call_event::invite_failed;
        x.offer_id = n.op.client_context;
        if (n.op.result)
          x.text = n.op.result->message;
        break;
      case call_notification::about::other: return;
    }
    caf::anon_send(actor, std::move(x));
  }

  // Ends a call the engine has and Graph does not.
  void end_in_engine(const std::string& tenant, const gw::live_call& c,
                     const std::string& why) {
    gw::engine_command cmd;
    cmd.kind = c.answered ? gw::engine_command::complete
                          : gw::engine_command::withdraw;
    cmd.tenant_id = tenant;
    cmd.call_id = c.call_id;
    cmd.event_id = options.name + ":" + c.call_id + ":rejoin";
    log.warn(c.answered ? "completing an answered call Graph no longer has"
                        : "withdrawing a waiting call Graph no longer has",
             {{"tenant", tenant}, {"call", c.call_id}, {"graph", why}});
    router.send(std::move(cmd), [this, tenant,
                                 id = c.call_id](const gw::command_result& r) {
      if (r.code != 0)
        log.warn("the engine refused to end a call after a restart",
                 {{"tenant", tenant}, {"call", id}, {"error", r.message}});
    });
  }

  // The actor of a callback the engine offers: a call of this gateway's
  // whose caller left the line to be called back. nullopt for any other
  // event.
  std::optional<call_actor> spawn_callback(const gw::engine_event& e) {
    if (e.kind != gw::engine_event::offered || e.callback_number.empty()
        || e.attribute(owner_attribute) != options.name)
      return std::nullopt;
    call_setup setup;
    setup.is_callback = true;
    setup.tenant_id = e.tenant_id;
    setup.call_id = e.call_id;
    setup.callback_number = e.callback_number;
    setup.caller_id = e.callback_number;
    setup.from = e.callback_number;
    setup.to = e.dialled;
    setup.app_instance = e.attribute(app_instance_attribute);
    setup.resume = call_state::waiting;
    std::lock_guard<std::mutex> guard{mtx};
    if (stopping)
      return std::nullopt;
    // The call is placed in the Microsoft tenant of the Switchboard
    // tenant that owns the callback, never in one a call's attributes
    // (which the API can set) name.
    auto ms = microsoft_of.find(e.tenant_id);
    auto named = e.attribute(microsoft_tenant_attribute);
    if (ms == microsoft_of.end() || !graph_api::plausible_tenant(ms->second)
        || (!named.empty() && named != ms->second)) {
      log.warn("callback offered for a call this gateway cannot place: its "
               "tenant has no Microsoft tenant, or the call names another",
               {{"tenant", e.tenant_id},
                {"call", e.call_id},
                {"microsoft_tenant", named}});
      return std::nullopt;
    }
    setup.microsoft_tenant_id = ms->second;
    // A callback whose customer is in the call was transferred: its
    // actor invites the next agent, as for an incoming call.
    if (callbacks_in_call.count(e.call_id) != 0)
      if (auto i = calls.find(e.call_id); i != calls.end())
        return i->second;
    auto& offer = callback_offers[e.call_id];
    if (offer == e.offer_id)
      return std::nullopt; // a repeated event
    offer = e.offer_id;
    log.info(
      "callback offered",
      {{"tenant", e.tenant_id}, {"call", e.call_id}, {"agent", e.agent_id}});
    // Each offer its own actor: one whose offer has closed may still be
    // hanging up its call to the previous agent.
    auto actor = sys.spawn(call_behavior, std::move(setup), &env);
    calls[e.call_id] = actor;
    return actor;
  }

  void adopt(call_setup setup) {
    auto id = setup.call_id;
    auto tenant = setup.tenant_id;
    bool talking = setup.resume == call_state::talking;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (calls.count(id) != 0)
        return; // known again meanwhile
      auto actor = sys.spawn(call_behavior, std::move(setup), &env);
      calls.emplace(id, actor);
      graph_calls.emplace(id, actor);
    }
    log.info(talking ? "rejoined a call in talk after a restart"
                     : "rejoined a waiting call after a restart",
             {{"tenant", tenant}, {"call", id}});
  }

  // A Graph request answered on this thread. Calls are rejoined on the
  // rejoiner thread, not in the HTTP client's callbacks: an actor spawned
  // from a thread ties CAF's logger to it, and the actor system's end
  // waits for that thread to end (the client's outlives the system).
  http::reply ask_graph(const std::string& ms, const std::string& path) {
    std::promise<http::reply> answer;
    auto reply = answer.get_future();
    graph.send(ms, "GET", path, "", [&answer](http::reply r) {
      answer.set_value(std::move(r));
    });
    return reply.get();
  }

  // One call the engine says is ours: what Graph says of it decides.
  void rejoin_call(const std::string& tenant, const std::string& ms,
                   const gw::live_call& c) {
    if (!graph_api::plausible_tenant(ms))
      return;
    auto r = ask_graph(ms, "/communications/calls/" + c.call_id);
    if (r.ok() && r.value.status == 404)
      return end_in_engine(tenant, c, "404");
    auto doc = r.ok() && r.value.status == 200 ? json::parse(r.value.body)
                                               : json::parse_result{};
    if (!doc.value) {
      log.warn("cannot read a call from Graph after a restart; it is left "
               "as it is",
               {{"tenant", tenant},
                {"call", c.call_id},
                {"error",
                 r.ok() ? "HTTP " + std::to_string(r.value.status) : r.error}});
      return;
    }
    auto call = read_call(*doc.value);
    if (ends(call.state))
      return end_in_engine(tenant, c, call.state);
    call_setup setup;
    setup.tenant_id = tenant;
    setup.microsoft_tenant_id = ms;
    setup.call_id = c.call_id;
    setup.caller_id = id_of(call.source);
    setup.from = setup.caller_id;
    setup.resume = c.answered ? call_state::talking : call_state::waiting;
    if (c.answered) {
      // In talk: the agent is the user who is not the caller.
      auto p
        = ask_graph(ms, "/communications/calls/" + c.call_id + "/participants");
      auto list = p.ok() && p.value.status == 200 ? json::parse(p.value.body)
                                                  : json::parse_result{};
      if (list.value)
        for (const auto& who : read_participants(*list.value))
          if (who.who && who.who->kind == "user"
              && who.who->id != setup.caller_id) {
            setup.teams_user_id = who.who->id;
            setup.agent_participant = who.id;
          }
    }
    adopt(std::move(setup));
  }

  // Agents by Teams user id: (tenant, agent id), from every served tenant.
  void read_agents() {
    std::vector<std::string> tenants;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (const auto& [ms, t] : by_microsoft_tenant)
        tenants.push_back(t);
    }
    std::unordered_map<std::string, std::pair<std::string, std::string>> found;
    for (const auto& t : tenants) {
      std::vector<std::pair<std::string, std::string>> agents;
      std::string error;
      if (!router.teams_agents(t, agents, error)) {
        log.warn("cannot read the tenant's agents; their Teams presence "
                 "waits for the next try",
                 {{"tenant", t}, {"error", error}});
        std::lock_guard<std::mutex> guard{mtx};
        for (const auto& [user, owner] : agents_by_user)
          if (owner.first == t)
            found.emplace(user, owner);
        continue;
      }
      for (auto& [agent, user] : agents)
        found[user] = {t, agent};
    }
    std::unordered_map<std::string, std::vector<std::string>> users_of;
    {
      std::lock_guard<std::mutex> guard{mtx};
      agents_by_user.swap(found);
      for (const auto& [ms, t] : by_microsoft_tenant)
        users_of[ms];
      for (const auto& [user, owner] : agents_by_user) {
        auto ms = microsoft_of.find(owner.first);
        if (ms != microsoft_of.end())
          users_of[ms->second].push_back(user);
      }
    }
    if (options.on_agents)
      for (auto& [ms, users] : users_of)
        options.on_agents(ms, std::move(users));
  }

  bot_options options;
  gw::router_link& router;
  graph_api& graph;
  router::logger& log;
  call_env env;
  mutable std::mutex mtx;
  // Call actors by the engine's call id (engine events reach them so) and
  // by Graph's (notifications do). An incoming call has one id in both;
  // a callback's actor has the engine's id of the call the caller left
  // and Graph's id of the call it placed, so the first call's last
  // notifications never reach it.
  std::unordered_map<std::string, call_actor> calls;
  std::unordered_map<std::string, call_actor> graph_calls;
  // The offer each callback's actor was spawned for, by engine call id.
  std::unordered_map<std::string, std::string> callback_offers;
  // Callbacks whose customer has joined, by engine call id.
  std::unordered_set<std::string> callbacks_in_call;
  // Calls being placed, and the last notifications no call claimed
  // meanwhile.
  unsigned placements = 0;
  std::deque<call_notification> unclaimed;
  std::unordered_map<std::string, std::string> by_microsoft_tenant;
  std::unordered_map<std::string, std::string> microsoft_of; // tenant -> ms
  std::unordered_map<std::string, std::pair<std::string, std::string>>
    agents_by_user;
  std::uint64_t presence_changes = 0;
  std::unordered_map<std::string, std::string> last_availability; // by user
  bool stopping = false;
  bool served = false; // the tenants were read from the router
  std::vector<held_call> held;
  std::vector<held_call> arriving; // incoming calls for the keeper thread
  std::condition_variable wake;
  std::thread agent_reader;
  std::thread held_keeper;
  std::thread rejoiner;

  // Last: actors stop before anything they use goes.
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

bot::bot(bot_options options, gw::router_link& router, graph_api& graph,
         router::logger& log)
  : impl_(std::make_unique<impl>(std::move(options), router, graph, log)) {
  auto* d = impl_.get();
  // The keeper: starts the calls that arrive, and releases (or refuses)
  // the held ones.
  d->held_keeper = std::thread([d] {
    std::unique_lock<std::mutex> guard{d->mtx};
    while (!d->stopping) {
      if (!d->arriving.empty()) {
        std::vector<impl::held_call> now;
        now.swap(d->arriving);
        guard.unlock();
        for (const auto& h : now)
          d->incoming(h.n, h.claims);
        guard.lock();
        continue;
      }
      if (d->held.empty()) {
        d->wake.wait(guard);
        continue;
      }
      guard.unlock();
      d->release_held();
      guard.lock();
      d->wake.wait_for(guard, std::chrono::milliseconds{200});
    }
  });
}

bot::~bot() = default;

void bot::serve(const std::vector<gw::tenant_settings>& tenants) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->served = true;
  impl_->wake.notify_all();
  for (const auto& t : tenants)
    if (!t.microsoft_tenant_id.empty()) {
      impl_->by_microsoft_tenant[t.microsoft_tenant_id] = t.tenant_id;
      impl_->microsoft_of[t.tenant_id] = t.microsoft_tenant_id;
    }
}

void bot::watch_agents(std::chrono::seconds every) {
  impl_->read_agents();
  auto* d = impl_.get();
  d->agent_reader = std::thread([d, every] {
    std::unique_lock<std::mutex> guard{d->mtx};
    while (!d->wake.wait_for(guard, every, [d] {
      return d->stopping;
    })) {
      guard.unlock();
      d->read_agents();
      guard.lock();
    }
  });
}

void bot::on_presence(const presence& p, const change_notification& n,
                      bool only_changes) {
  auto& d = *impl_;
  gw::engine_command cmd;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    auto i = d.agents_by_user.find(p.user_id);
    if (i == d.agents_by_user.end())
      return; // not an agent of a served tenant
    auto ms = d.microsoft_of.find(i->second.first);
    if (!n.tenant_id.empty()
        && (ms == d.microsoft_of.end() || ms->second != n.tenant_id)) {
      // No data crosses tenants, whatever a subscription says.
      d.log.warn("presence change ignored: the user is an agent of another "
                 "Microsoft tenant",
                 {{"user", p.user_id}, {"notification_tenant", n.tenant_id}});
      return;
    }
    auto& last = d.last_availability[p.user_id];
    if (only_changes && json::iequals(last, p.availability))
      return;
    last = p.availability;
    cmd.tenant_id = i->second.first;
    cmd.agent_id = i->second.second;
    cmd.event_id = d.options.name + ":presence:" + p.user_id + ":"
                   + std::to_string(++d.presence_changes);
  }
  cmd.kind = gw::engine_command::presence;
  cmd.availability = p.availability;
  auto tenant = cmd.tenant_id;
  auto agent = cmd.agent_id;
  d.log.info(
    "agent presence from Teams",
    {{"tenant", tenant}, {"agent", agent}, {"availability", p.availability}});
  d.router.send(std::move(cmd), [&d, tenant,
                                 agent](const gw::command_result& r) {
    if (r.code != 0)
      d.log.warn("the engine refused a Teams presence change",
                 {{"tenant", tenant}, {"agent", agent}, {"error", r.message}});
  });
}

void bot::on_calls(std::vector<call_notification> batch,
                   const identity::token_claims& claims) {
  for (const auto& n : batch)
    impl_->dispatch(n, claims);
}

void bot::rejoin(const std::vector<std::string>& tenants) {
  auto* d = impl_.get();
  d->rejoiner = std::thread([d, tenants] {
    auto wait = [d](std::chrono::milliseconds how_long) {
      std::unique_lock<std::mutex> guard{d->mtx};
      return !d->wake.wait_for(guard, how_long, [d] {
        return d->stopping;
      });
    };
    while (!d->can_route())
      if (!wait(std::chrono::milliseconds{200}))
        return;
    for (const auto& tenant : tenants) {
      std::string ms;
      {
        std::lock_guard<std::mutex> guard{d->mtx};
        auto i = d->microsoft_of.find(tenant);
        if (i == d->microsoft_of.end())
          continue;
        ms = i->second;
      }
      std::vector<gw::live_call> found;
      std::string error;
      while (!d->router.live_calls(tenant, owner_attribute, d->options.name,
                                   found, error)) {
        d->log.warn("cannot list the calls to rejoin; retrying",
                    {{"tenant", tenant}, {"error", error}});
        found.clear();
        if (!wait(std::chrono::seconds{2}))
          return;
      }
      for (const auto& c : found)
        if (!c.callback && !d->find(c.call_id))
          d->rejoin_call(tenant, ms, c);
    }
  });
}

void bot::on_engine_event(const gw::engine_event& e) {
  if (!e.parent_call_id.empty())
    return on_leg_event(e);
  // A callback's offer gets an actor of its own, whatever else has the
  // call's id.
  auto actor = e.kind == gw::engine_event::offered && !e.callback_number.empty()
                 ? impl_->spawn_callback(e)
                 : impl_->find(e.call_id);
  if (!actor)
    return;
  if (e.callback_requested)
    impl_->hand_over(*actor, e.call_id);
  call_input x;
  switch (e.kind) {
    case gw::engine_event::transferred_out:
      x.event = call_event::transferred_out;
      x.text = e.transfer_number;
      break;
    case gw::engine_event::transferred:
      x.event = call_event::transferred;
      // Set when a completed consult gave the call to its agent.
      x.agent_id = e.assigned_agent;
      break;
    case gw::engine_event::offered:
      x.event = call_event::offered;
      x.offer_id = e.offer_id;
      x.agent_id = e.agent_id;
      break;
    case gw::engine_event::offer_closed:
      x.event = call_event::offer_closed;
      x.offer_id = e.offer_id;
      break;
    case gw::engine_event::ended:
      x.event = call_event::engine_ended;
      if (!impl_->options.announcement_url.empty()
          && (!e.announcement.empty() || e.callback_requested)) {
        // A caller who asked for a callback hears it confirmed.
        x.event = call_event::ended_with_announcement;
        x.text = e.callback_requested ? "callback" : e.announcement;
      }
      break;
    default: return;
  }
  caf::anon_send(*actor, std::move(x));
}

// An event of a call's consult leg, for the call's actor.
void bot::on_leg_event(const gw::engine_event& e) {
  auto actor = impl_->find(e.parent_call_id);
  if (!actor)
    return;
  call_input x;
  x.for_leg = true;
  x.leg_id = e.call_id;
  x.offer_id = e.offer_id;
  x.agent_id = e.agent_id;
  switch (e.kind) {
    case gw::engine_event::offered: x.leg = leg_event::offered; break;
    case gw::engine_event::offer_closed: x.leg = leg_event::offer_closed; break;
    case gw::engine_event::conferenced: x.leg = leg_event::conferenced; break;
    case gw::engine_event::ended: x.leg = leg_event::ended; break;
    default: return;
  }
  caf::anon_send(*actor, std::move(x));
}

std::size_t bot::live_calls() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->calls.size();
}

} // namespace switchboard::graph
