#include "nodes/sbc_gateway/gateway.hpp"

#include "nodes/sbc_gateway/call_actor.hpp"
#include "nodes/sbc_gateway/sdp.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace switchboard::sbc {

namespace {

std::string lower(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return x;
}

caf::actor_system_config& actor_config(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::sbc_gateway>();
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  // One shared run queue, as in the router: work stealing's idle workers
  // poll with 50 us sleeps. Through Kamailio at 200 calls/s (bench/sip.py)
  // the gateway took 3.2 ms of CPU per call with them, 2.7 ms with this,
  // and the post-dial delay fell from p50 12.9 ms to 6.5 ms.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", size_t{2});
  return cfg;
}

} // namespace

struct gateway::impl final : call_registry {
  impl(gateway_options opts, trunk_table table, router_link& r,
       router::logger& logger, metrics* m)
    : options(std::move(opts)), trunks(std::move(table)), router(r),
      log(logger), sys(actor_config(cfg)) {
    env.router = &router;
    env.log = &log;
    env.registry = this;
    env.probe = m;
    env.agent_route = options.agent_route;
    env.sbc_transport = options.sbc_transport;
    env.retry_after = options.retry_after;
    env.name = options.name;
    env.hold_uri = options.hold_uri;
    env.announcement_uri = options.announcement_uri;
    env.sip_port = options.sip_port;
    env.tls_port = options.tls_port;
    env.callback_uri = options.callback_uri;
  }

  ~impl() override {
    stop_pings();
    // Calls still live end with the gateway; their handles go before the
    // actor system does, which waits for them.
    std::unordered_map<leg_id, call_actor> leg_owners;
    std::unordered_map<std::string, call_actor> live;
    {
      std::lock_guard guard{mtx};
      leg_owners.swap(legs);
      live.swap(calls);
    }
    for (auto& [_, actor] : live)
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }

  void bind_leg(leg_id leg, const call_actor& owner) override {
    std::lock_guard guard{mtx};
    legs[leg] = owner;
  }

  void forget(const call_actor& owner, const std::string& tenant_id,
              const std::string& call_id,
              const std::vector<leg_id>& call_legs) override {
    std::lock_guard guard{mtx};
    auto i = calls.find(tenant_id + '\n' + call_id);
    if (i != calls.end() && i->second == owner)
      calls.erase(i);
    for (auto leg : call_legs) {
      auto j = legs.find(leg);
      if (j != legs.end() && j->second == owner)
        legs.erase(j);
    }
  }

  /// The actor of a callback the engine offers: a call of this gateway's
  /// (its owner attribute) that has no actor here, because its caller's
  /// went when the caller left the line, or because the gateway has
  /// restarted since. nullptr for any other offer. Under mtx.
  call_actor spawn_callback(const engine_event& x) {
    if (x.kind != engine_event::offered || x.callback_number.empty()
        || x.attribute(owner_attribute) != options.name)
      return {};
    call_setup setup;
    setup.is_callback = true;
    setup.tenant_id = x.tenant_id;
    setup.call_id = x.call_id;
    setup.callback = callback_number(x.callback_number);
    setup.trunk = x.attribute(trunk_attribute);
    if (setup.trunk.empty())
      setup.trunk = trunks.fqdn_of(x.tenant_id);
    // The agent's Teams shows whom the callback is for.
    setup.from
      = "sip:"
        + (setup.callback.empty() ? std::string{"callback"} : setup.callback)
        + "@" + setup.trunk + ";user=phone";
    setup.to = x.dialled;
    setup.caller_sdp = callback_offer(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch())
        .count()));
    // "transport:host:port", host perhaps an IPv6 address.
    auto r = x.attribute(route_attribute);
    auto first = r.find(':');
    auto last = r.rfind(':');
    if (first != std::string::npos && last > first) {
      setup.source_transport = r.substr(0, first);
      setup.source_host = r.substr(first + 1, last - first - 1);
      setup.source_port = static_cast<uint16_t>(
        std::strtoul(r.c_str() + last + 1, nullptr, 10));
    }
    log.info("callback offered", {{"tenant", x.tenant_id},
                                  {"call_id", x.call_id},
                                  {"agent_id", x.agent_id},
                                  {"number", setup.callback},
                                  {"trunk", setup.trunk}});
    auto actor = sys.spawn(call_behavior, std::move(setup), &env);
    calls[x.tenant_id + '\n' + x.call_id] = actor;
    return actor;
  }

  gateway_options options;
  trunk_table trunks;
  router_link& router;
  router::logger& log;
  sip_stack* sip = nullptr;
  call_env env;

  void stop_pings() {
    {
      std::lock_guard guard{ping_mtx};
      stopping = true;
    }
    ping_cv.notify_all();
    if (pinger.joinable())
      pinger.join();
    if (reconciler.joinable())
      reconciler.join();
  }

  /// Waits (until stopping) for `ready`, checking every 200 ms.
  bool wait_for(const std::function<bool()>& ready) {
    std::unique_lock guard{ping_mtx};
    while (!stopping) {
      guard.unlock();
      if (ready())
        return true;
      guard.lock();
      ping_cv.wait_for(guard, std::chrono::milliseconds{200});
    }
    return false;
  }

  /// Ends the engine's calls that this gateway submitted and no longer
  /// has a dialog for: those of a previous run, before a crash or a
  /// kill. Waiting or ringing calls are withdrawn (CANCELLED), answered
  /// ones completed (the agent wraps up).
  void reconcile_once(const std::vector<std::string>& tenants) {
    for (auto& tenant : tenants) {
      std::vector<live_call> found;
      std::string error;
      while (!router.live_calls(tenant, owner_attribute, options.name, found,
                                error)) {
        log.warn("cannot list calls to reconcile; retrying",
                 {{"tenant", tenant}, {"error", error}});
        found.clear();
        std::unique_lock guard{ping_mtx};
        if (ping_cv.wait_for(guard, std::chrono::seconds{2}, [this] {
              return stopping;
            }))
          return;
      }
      size_t ended = 0;
      for (auto& c : found) {
        if (has_call(tenant, c.call_id))
          continue; // a call of this run
        if (c.callback)
          continue; // waits in line with no dialog until it is offered
        engine_command cmd;
        cmd.kind
          = c.answered ? engine_command::complete : engine_command::withdraw;
        cmd.event_id = command_event_id(c.call_id, "reconcile");
        cmd.tenant_id = tenant;
        cmd.call_id = c.call_id;
        log.warn(c.answered ? "completing an answered call that has no SIP "
                              "dialog since this gateway restarted"
                            : "cancelling a waiting call that has no SIP "
                              "dialog since this gateway restarted",
                 {{"tenant", tenant}, {"call_id", c.call_id}});
        router.send(std::move(cmd), [this, tenant,
                                     id = c.call_id](const command_result& r) {
          if (r.code != 0)
            log.warn(
              "reconciling a call failed",
              {{"tenant", tenant}, {"call_id", id}, {"error", r.message}});
        });
        ++ended;
      }
      log.info("reconciled",
               {{"tenant", tenant},
                {"calls_of_this_gateway", std::to_string(found.size())},
                {"ended", std::to_string(ended)}});
    }
  }

  bool has_call(const std::string& tenant_id, const std::string& call_id) {
    std::lock_guard guard{mtx};
    return calls.count(tenant_id + '\n' + call_id) > 0;
  }

  std::thread reconciler;

  // OPTIONS pings: a thread that sends them; the SIP thread's answers.
  std::mutex ping_mtx;
  std::condition_variable ping_cv;
  bool stopping = false;
  std::map<std::string, bool> sbc_up;
  std::thread pinger;

  mutable std::mutex mtx;
  std::unordered_map<leg_id, call_actor> legs;
  std::unordered_map<std::string, call_actor> calls; // tenant \n call id

  // Last: actors stop before anything they use goes.
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

gateway::gateway(gateway_options options, trunk_table trunks,
                 router_link& router, router::logger& log, metrics* probe)
  : impl_(std::make_unique<impl>(std::move(options), std::move(trunks), router,
                                 log, probe)) {}

gateway::~gateway() = default;

void gateway::attach(sip_stack& sip) {
  impl_->sip = &sip;
  impl_->env.sip = &sip;
  if (impl_->options.ping.empty())
    return;
  impl_->pinger = std::thread([self = impl_.get()] {
    std::unique_lock guard{self->ping_mtx};
    while (!self->stopping) {
      guard.unlock();
      for (auto& target : self->options.ping)
        self->sip->ping(target, self->options.sbc_transport);
      guard.lock();
      self->ping_cv.wait_for(guard, self->options.ping_interval, [self] {
        return self->stopping;
      });
    }
  });
}

void gateway::stop_pings() { impl_->stop_pings(); }

void gateway::on_ping(const std::string& target, int status) {
  auto& self = *impl_;
  bool up = status >= 200 && status < 300;
  bool changed = false;
  {
    std::lock_guard guard{self.ping_mtx};
    auto i = self.sbc_up.find(target);
    changed = i == self.sbc_up.end() || i->second != up;
    self.sbc_up[target] = up;
  }
  if (self.env.probe != nullptr)
    self.env.probe->sbc_up(target, up);
  if (changed)
    self.log.write(up ? router::log_level::info : router::log_level::warn,
                   up ? "sbc up" : "sbc down",
                   {{"sbc", target}, {"status", std::to_string(status)}});
}

void gateway::on_invite(const incoming_invite& x) {
  auto& self = *impl_;
  auto verdict = admit(x.facts, self.trunks, self.options.allowed_sources,
                       self.router.up());
  auto call_id = engine_call_id(x.call_id);
  if (verdict.status != 0) {
    if (self.env.probe != nullptr) {
      self.env.probe->invite_final(verdict.status, verdict.trunk_fqdn);
      self.env.probe->refused(verdict.why);
    }
    self.sip->respond(
      x.leg, {verdict.status,
              verdict.phrase,
              verdict.reason,
              verdict.retry_after ? self.options.retry_after : std::string{},
              {}});
    self.log.info("invite refused", {{"sip_call_id", x.call_id},
                                     {"status", std::to_string(verdict.status)},
                                     {"reason", verdict.reason},
                                     {"trunk", verdict.trunk_fqdn},
                                     {"source", x.facts.source_host}});
    return;
  }
  call_setup setup;
  setup.tenant_id = verdict.tenant_id;
  setup.call_id = call_id;
  setup.sip_call_id = x.call_id;
  setup.trunk = verdict.trunk_fqdn;
  setup.caller_leg = x.leg;
  setup.caller_sdp = x.sdp;
  setup.from = x.asserted_uri.empty() ? x.from_uri : x.asserted_uri;
  setup.to = verdict.number;
  for (auto& [name, value] : x.headers)
    setup.attributes[lower(name)] = value.substr(0, 4096);
  setup.source_host = x.facts.source_host;
  setup.source_port = x.source_port;
  setup.source_transport = x.source_transport;
  auto key = setup.tenant_id + '\n' + call_id;
  {
    std::lock_guard guard{self.mtx};
    if (self.calls.count(key) != 0) {
      // Same Call-ID, new dialog (a forked or repeated INVITE): one call
      // per Call-ID.
      self.sip->respond(x.leg, {482,
                                "Loop Detected",
                                "a call with this Call-ID is in progress",
                                {},
                                {}});
      return;
    }
  }
  self.log.info("call admitted", {{"tenant", setup.tenant_id},
                                  {"call_id", call_id},
                                  {"sip_call_id", x.call_id},
                                  {"from", setup.from},
                                  {"to", setup.to},
                                  {"trunk", verdict.trunk_fqdn}});
  // No 100 Trying of our own: the stack sent one as the INVITE arrived.
  auto actor = self.sys.spawn(call_behavior, std::move(setup), &self.env);
  {
    std::lock_guard guard{self.mtx};
    self.calls[key] = actor;
    self.legs[x.leg] = actor;
  }
  call_input in;
  in.event = call_event::invite;
  caf::anon_send(actor, std::move(in));
}

void gateway::on_leg_event(const leg_event& x) {
  auto& self = *impl_;
  call_actor owner;
  {
    std::lock_guard guard{self.mtx};
    auto i = self.legs.find(x.leg);
    if (i != self.legs.end()) {
      owner = i->second;
      if (x.kind == leg_event::terminated)
        self.legs.erase(i);
    }
  }
  if (!owner) {
    // An agent answered a call that is over: hang up on it.
    if (x.kind == leg_event::answered)
      self.sip->bye(x.leg);
    if (x.kind == leg_event::request)
      self.sip->answer(x.leg, x.request_id,
                       {481, {}, "the call of this dialog is over", {}, {}});
    return;
  }
  call_input in;
  in.leg = x.leg;
  in.leg_kind = static_cast<uint8_t>(x.kind);
  in.status = x.status;
  in.text = x.kind == leg_event::refer ? x.refer_to : x.phrase;
  in.sdp = x.sdp;
  in.request = x.request_id;
  in.method = static_cast<uint8_t>(x.method);
  in.content_type = x.content_type;
  caf::anon_send(owner, std::move(in));
}

void gateway::on_engine_event(const engine_event& x) {
  auto& self = *impl_;
  if (x.kind == engine_event::other)
    return;
  call_actor owner;
  {
    std::lock_guard guard{self.mtx};
    auto i = self.calls.find(x.tenant_id + '\n' + x.call_id);
    if (i == self.calls.end()) {
      owner = self.spawn_callback(x);
      if (!owner)
        return; // not a call this gateway owns
    } else {
      owner = i->second;
      // The caller leaves the line; the callback's offer, which may
      // follow at once, gets an actor of its own.
      if (x.callback_requested)
        self.calls.erase(i);
    }
  }
  call_input in;
  switch (x.kind) {
    case engine_event::offered: in.event = call_event::offered; break;
    case engine_event::offer_closed: in.event = call_event::offer_closed; break;
    case engine_event::transferred: in.event = call_event::transferred; break;
    case engine_event::transferred_out:
      in.event = call_event::transferred_out;
      in.text = x.transfer_number;
      break;
    default:
      in.event = call_event::engine_ended;
      in.text = x.callback_requested     ? std::string{"callback"}
                : x.limit_reason.empty() ? x.type
                                         : x.limit_reason;
      in.announcement = x.announcement;
      break;
  }
  in.offer_id = x.offer_id;
  in.agent_id = x.agent_id;
  caf::anon_send(owner, std::move(in));
}

size_t gateway::live_calls() const {
  std::lock_guard guard{impl_->mtx};
  return impl_->calls.size();
}

bool gateway::has_call(const std::string& tenant_id,
                       const std::string& call_id) const {
  return impl_->has_call(tenant_id, call_id);
}

void gateway::reconcile(std::vector<std::string> tenants) {
  impl_->reconciler
    = std::thread([self = impl_.get(), tenants = std::move(tenants)] {
        if (self->wait_for([self] {
              return self->router.up();
            }))
          self->reconcile_once(tenants);
      });
}

} // namespace switchboard::sbc
