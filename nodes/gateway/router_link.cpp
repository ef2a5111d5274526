#include "nodes/gateway/router_link.hpp"

#include "nodes/gateway/router_tls.hpp"
#include "nodes/router/config.hpp"

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace switchboard::gateway {

namespace {

// Teams' availability as the engine's presence (the same values);
// anything else is UNKNOWN.
v1::Presence presence_of(const std::string& availability) {
  std::string a;
  for (char c : availability)
    a += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (a == "available")
    return v1::PRESENCE_AVAILABLE;
  if (a == "availableidle")
    return v1::PRESENCE_AVAILABLE_IDLE;
  if (a == "away")
    return v1::PRESENCE_AWAY;
  if (a == "berightback")
    return v1::PRESENCE_BE_RIGHT_BACK;
  if (a == "busy")
    return v1::PRESENCE_BUSY;
  if (a == "busyidle")
    return v1::PRESENCE_BUSY_IDLE;
  if (a == "donotdisturb")
    return v1::PRESENCE_DO_NOT_DISTURB;
  if (a == "offline")
    return v1::PRESENCE_OFFLINE;
  return v1::PRESENCE_UNKNOWN;
}

v1::IngestRequest to_request(const engine_command& c) {
  v1::IngestRequest r;
  r.set_event_id(c.event_id);
  switch (c.kind) {
    case engine_command::submit: {
      auto& call = *r.mutable_submit_call()->mutable_call();
      call.set_tenant_id(c.tenant_id);
      call.set_call_id(c.call_id);
      call.set_channel(v1::CHANNEL_VOICE);
      call.set_from(c.from);
      call.set_to(c.to);
      for (auto& [k, v] : c.attributes)
        (*call.mutable_attributes())[k] = v;
      break;
    }
    case engine_command::cancel: {
      auto& x = *r.mutable_cancel_call();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      x.set_reason(v1::CancelCallRequest::REASON_CALLER_HUNG_UP);
      break;
    }
    case engine_command::withdraw: {
      auto& x = *r.mutable_cancel_call();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      x.set_reason(v1::CancelCallRequest::REASON_CANCELLED);
      break;
    }
    case engine_command::complete: {
      auto& x = *r.mutable_complete_call();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      break;
    }
    case engine_command::accept: {
      auto& x = *r.mutable_accept_offer();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      x.set_agent_id(c.agent_id);
      x.set_offer_id(c.offer_id);
      break;
    }
    case engine_command::transfer: {
      auto& x = *r.mutable_transfer_call();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      if (!c.teams_user_id.empty())
        x.set_teams_user_id(c.teams_user_id);
      else
        x.set_dialled_number(c.dialled_number);
      break;
    }
    case engine_command::presence: {
      auto& x = *r.mutable_set_agent_presence();
      x.set_tenant_id(c.tenant_id);
      x.set_agent_id(c.agent_id);
      x.set_presence(presence_of(c.availability));
      break;
    }
    case engine_command::callback: {
      auto& x = *r.mutable_request_callback();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      x.set_number(c.callback_number);
      break;
    }
    case engine_command::complete_consult: {
      auto& x = *r.mutable_complete_consult();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      break;
    }
    case engine_command::decline: {
      auto& x = *r.mutable_decline_offer();
      x.set_tenant_id(c.tenant_id);
      x.set_call_id(c.call_id);
      x.set_agent_id(c.agent_id);
      x.set_offer_id(c.offer_id);
      break;
    }
  }
  return r;
}

engine_event to_event(const v1::Event& e) {
  engine_event x;
  x.sequence = e.sequence();
  x.type = v1::EventType_Name(e.type());
  x.tenant_id = e.tenant_id();
  x.call_id = e.call().call().call_id();
  x.offer_id = e.offer().offer_id();
  x.agent_id = e.offer().agent_id();
  x.limit_reason = e.call().limit_reason();
  x.announcement = e.call().announcement();
  x.parent_call_id = e.call().parent_call_id();
  x.leg = e.call().leg();
  x.assigned_agent = e.call().agent_id();
  x.transfer_number = e.call().transfer_number();
  x.callback_requested = e.type() == v1::EVENT_TYPE_CALL_CALLBACK_REQUESTED;
  if (e.type() == v1::EVENT_TYPE_CALL_OFFERED) {
    auto& call = e.call().call();
    x.attributes.insert(call.attributes().begin(), call.attributes().end());
    if (!e.call().callback().number().empty()) {
      x.callback_number = e.call().callback().number();
      x.dialled = call.to();
    }
  }
  switch (e.type()) {
    case v1::EVENT_TYPE_CALL_OFFERED: x.kind = engine_event::offered; break;
    case v1::EVENT_TYPE_OFFER_EXPIRED:
    case v1::EVENT_TYPE_OFFER_DECLINED:
      x.kind = engine_event::offer_closed;
      break;
    case v1::EVENT_TYPE_CALL_TRANSFERRED:
      x.kind = x.transfer_number.empty() ? engine_event::transferred
                                         : engine_event::transferred_out;
      break;
    case v1::EVENT_TYPE_CALL_CONFERENCED:
      x.kind = engine_event::conferenced;
      break;
    case v1::EVENT_TYPE_CALL_ABANDONED:
    case v1::EVENT_TYPE_CALL_CANCELLED:
    case v1::EVENT_TYPE_CALL_TIMED_OUT:
    case v1::EVENT_TYPE_CALL_DISCONNECTED:
    case v1::EVENT_TYPE_CALL_CALLBACK_REQUESTED:
      x.kind = engine_event::ended;
      break;
    default: x.kind = engine_event::other; break;
  }
  return x;
}

struct pending {
  v1::IngestRequest request;
  std::function<void(const command_result&)> on_result;
};

} // namespace

struct router_link::impl {
  impl(const std::string& address,
       std::shared_ptr<grpc::ChannelCredentials> credentials,
       router::logger& logger)
    : log(logger), channel(grpc::CreateChannel(address, credentials)),
      events(v1::EventService::NewStub(channel)),
      admin(v1::AdminService::NewStub(channel)),
      routing(v1::RoutingService::NewStub(channel)), address_(address) {}

  router::logger& log;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::EventService::Stub> events;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::RoutingService::Stub> routing;
  std::string address_;

  std::atomic<bool> up{false};
  std::function<void(bool)> on_up;
  std::atomic<bool> stopping{false};

  // Ingest: commands not yet answered, in the order sent; the first
  // `written` of them went out on the current stream.
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<pending> queue;
  size_t written = 0;
  bool broken = false;
  grpc::ClientContext* ingest_ctx = nullptr;
  std::thread ingest_thread;

  // Subscribe: one thread per tenant.
  std::vector<std::thread> subscribers;
  std::vector<std::shared_ptr<grpc::ClientContext>> subscribe_ctxs;
  std::mutex subscribe_mtx;

  void sleep_a_little(std::chrono::milliseconds d) {
    std::unique_lock guard{mtx};
    cv.wait_for(guard, d, [this] {
      return stopping.load();
    });
  }

  void ingest_loop() {
    auto backoff = std::chrono::milliseconds{100};
    bool was_up = false;
    while (!stopping) {
      if (!channel->WaitForConnected(std::chrono::system_clock::now()
                                     + std::chrono::milliseconds{500})) {
        if (was_up) {
          log.error("router unreachable", {{"router", address_}});
          was_up = false;
        }
        up = false;
        continue;
      }
      grpc::ClientContext ctx;
      auto stream = events->Ingest(&ctx);
      {
        std::lock_guard guard{mtx};
        written = 0;
        broken = false;
        ingest_ctx = &ctx;
      }
      up = true;
      if (!was_up) {
        log.info("router connected", {{"router", address_}});
        was_up = true;
        if (on_up)
          on_up(true);
      }
      std::thread reader([this, &stream] {
        v1::IngestResponse r;
        while (stream->Read(&r)) {
          std::function<void(const command_result&)> done;
          {
            std::lock_guard guard{mtx};
            for (auto i = queue.begin(); i != queue.end(); ++i)
              if (i->request.event_id() == r.event_id()) {
                done = std::move(i->on_result);
                if (static_cast<size_t>(i - queue.begin()) < written)
                  --written;
                queue.erase(i);
                break;
              }
          }
          if (done)
            done({r.event_id(), r.code(), r.message(), r.duplicate()});
        }
        std::lock_guard guard{mtx};
        broken = true;
        cv.notify_all();
      });
      std::unique_lock guard{mtx};
      while (!stopping && !broken) {
        if (written < queue.size()) {
          auto req = queue[written].request;
          ++written;
          guard.unlock();
          bool ok = stream->Write(req);
          guard.lock();
          if (!ok)
            break;
          continue;
        }
        cv.wait(guard);
      }
      ingest_ctx = nullptr;
      guard.unlock();
      ctx.TryCancel();
      reader.join();
      stream->Finish();
      up = false;
      if (on_up)
        on_up(false);
      if (!stopping) {
        log.error("router stream lost; reconnecting", {{"router", address_}});
        was_up = false;
        sleep_a_little(backoff);
      }
    }
  }

  void
  subscribe_loop(const std::string& tenant,
                 const std::function<void(const engine_event&)>& on_event) {
    uint64_t last = 0;
    while (!stopping) {
      auto ctx = std::make_shared<grpc::ClientContext>();
      {
        std::lock_guard guard{subscribe_mtx};
        if (stopping)
          return;
        subscribe_ctxs.push_back(ctx);
      }
      v1::SubscribeRequest req;
      req.set_tenant_id(tenant);
      req.set_from_sequence(last);
      for (auto t :
           {v1::EVENT_TYPE_CALL_OFFERED, v1::EVENT_TYPE_OFFER_EXPIRED,
            v1::EVENT_TYPE_OFFER_DECLINED, v1::EVENT_TYPE_CALL_ABANDONED,
            v1::EVENT_TYPE_CALL_CANCELLED, v1::EVENT_TYPE_CALL_TIMED_OUT,
            v1::EVENT_TYPE_CALL_DISCONNECTED,
            v1::EVENT_TYPE_CALL_CALLBACK_REQUESTED,
            v1::EVENT_TYPE_CALL_TRANSFERRED, v1::EVENT_TYPE_CALL_CONFERENCED})
        req.add_types(t);
      auto stream = events->Subscribe(ctx.get(), req);
      v1::Event e;
      while (stream->Read(&e)) {
        last = e.sequence();
        if (e.has_call())
          on_event(to_event(e));
      }
      auto status = stream->Finish();
      {
        std::lock_guard guard{subscribe_mtx};
        subscribe_ctxs.erase(
          std::find(subscribe_ctxs.begin(), subscribe_ctxs.end(), ctx));
      }
      if (stopping)
        return;
      if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE)
        last = 0; // events older than the node keeps: from the oldest kept
      sleep_a_little(std::chrono::milliseconds{200});
    }
  }
};

std::shared_ptr<grpc::ChannelCredentials>
router_credentials(const std::string& address, const tls::client_options& o,
                   const router_token_options& token, router::logger& log,
                   std::string& error) {
  if (error = check(token); !error.empty())
    return nullptr;
  if (token.enabled() && !o.uses_tls()) {
    error = "router.token_client_id needs TLS to the router (router.tls_ca "
            "or router.tls): a token is never sent in the clear";
    return nullptr;
  }
  auto credentials = tls::channel_credentials(o, router_tls_names, error);
  if (!credentials)
    return nullptr;
  if (token.enabled()) {
    log.info("router token", {{"client_id", token.client_id},
                              {"tenant_id", token.tenant_id},
                              {"scope", token.scope},
                              {"authority", token.authority}});
    credentials = grpc::CompositeChannelCredentials(
      credentials, router_token_credentials(token, log));
  }
  auto parsed = router::parse_listen_address(address);
  if (o.uses_tls())
    log.info("router over tls",
             {{"router", address},
              {"authorities",
               o.f.ca_file.empty() ? std::string{"the system's"} : o.f.ca_file},
              {"client_certificate", o.f.certificate_file.empty()
                                       ? std::string{"none"}
                                       : o.f.certificate_file}});
  else if (!parsed || !parsed->loopback())
    log.write(router::log_level::warn,
              "router over plain grpc to a network address: calls and "
              "tenants' data cross the network unencrypted; set "
              "--router-tls-ca (or --router-tls) unless a service mesh "
              "encrypts it",
              {{"router", address}});
  return credentials;
}

router_link::router_link(const std::string& address,
                         std::shared_ptr<grpc::ChannelCredentials> credentials,
                         router::logger& log)
  : impl_(std::make_unique<impl>(address, std::move(credentials), log)) {}

router_link::~router_link() { stop(); }

void router_link::start(const std::vector<std::string>& tenants,
                        std::function<void(const engine_event&)> on_event,
                        std::function<void(bool)> on_up) {
  auto* self = impl_.get();
  self->on_up = std::move(on_up);
  self->ingest_thread = std::thread([self] {
    self->ingest_loop();
  });
  for (auto& t : tenants)
    self->subscribers.emplace_back([self, t, on_event] {
      self->subscribe_loop(t, on_event);
    });
}

void router_link::send(engine_command cmd,
                       std::function<void(const command_result&)> on_result) {
  std::lock_guard guard{impl_->mtx};
  impl_->queue.push_back({to_request(cmd), std::move(on_result)});
  impl_->cv.notify_all();
}

void router_link::get_agent(const std::string& tenant_id,
                            const std::string& agent_id,
                            std::function<void(const agent_lookup&)> done) {
  struct call {
    grpc::ClientContext ctx;
    v1::GetAgentRequest req;
    v1::AgentView resp;
  };
  auto c = std::make_shared<call>();
  c->ctx.set_deadline(std::chrono::system_clock::now()
                      + std::chrono::seconds{5});
  c->req.set_tenant_id(tenant_id);
  c->req.set_agent_id(agent_id);
  impl_->admin->async()->GetAgent(
    &c->ctx, &c->req, &c->resp,
    [c, done = std::move(done)](grpc::Status status) {
      agent_lookup r;
      if (!status.ok()) {
        r.error = status.error_message();
      } else {
        r.found = true;
        r.sip_uri = c->resp.agent().sip_uri();
        r.teams_user_id = c->resp.agent().teams_user_id();
      }
      done(r);
    });
}

bool router_link::live_calls(const std::string& tenant_id,
                             const std::string& key, const std::string& value,
                             std::vector<live_call>& out, std::string& error) {
  v1::ListCallsRequest req;
  req.set_tenant_id(tenant_id);
  req.set_page_size(1000);
  do {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now()
                     + std::chrono::seconds{10});
    v1::ListCallsResponse page;
    auto status = impl_->routing->ListCalls(&ctx, req, &page);
    if (!status.ok()) {
      error = status.error_message();
      return false;
    }
    for (auto& c : page.calls()) {
      auto i = c.call().attributes().find(key);
      if (i == c.call().attributes().end() || i->second != value)
        continue;
      switch (c.state()) {
        case v1::CALL_STATE_CREATED:
        case v1::CALL_STATE_QUEUED:
        case v1::CALL_STATE_OFFERED:
          out.push_back({c.call().call_id(), false, c.has_callback()});
          break;
        case v1::CALL_STATE_ASSIGNED:
          out.push_back({c.call().call_id(), true, false});
          break;
        default: // wrap-up or over: nothing of SIP's left to end
          break;
      }
    }
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return true;
}

bool router_link::teams_agents(
  const std::string& tenant_id,
  std::vector<std::pair<std::string, std::string>>& out, std::string& error) {
  v1::ListAgentsRequest req;
  req.set_tenant_id(tenant_id);
  req.set_page_size(1000);
  do {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now()
                     + std::chrono::seconds{10});
    v1::ListAgentsResponse page;
    auto status = impl_->admin->ListAgents(&ctx, req, &page);
    if (!status.ok()) {
      error = status.error_message();
      return false;
    }
    for (const auto& a : page.agents())
      if (!a.agent().teams_user_id().empty())
        out.emplace_back(a.agent().agent_id(), a.agent().teams_user_id());
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return true;
}

bool router_link::tenant(const std::string& tenant_id, tenant_settings& out,
                         std::string& error) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds{10});
  v1::GetTenantRequest req;
  req.set_tenant_id(tenant_id);
  v1::Tenant t;
  auto status = impl_->admin->GetTenant(&ctx, req, &t);
  if (!status.ok()) {
    error = status.error_message();
    return false;
  }
  out.tenant_id = t.tenant_id();
  out.microsoft_tenant_id = t.microsoft_tenant_id();
  out.dialled_numbers.assign(t.dialled_numbers().begin(),
                             t.dialled_numbers().end());
  return true;
}

bool router_link::up() const { return impl_->up; }

void router_link::stop() {
  auto* self = impl_.get();
  if (self->stopping.exchange(true))
    return;
  {
    std::lock_guard guard{self->mtx};
    if (self->ingest_ctx != nullptr)
      self->ingest_ctx->TryCancel();
    self->cv.notify_all();
  }
  {
    std::lock_guard guard{self->subscribe_mtx};
    for (auto& ctx : self->subscribe_ctxs)
      ctx->TryCancel();
  }
  if (self->ingest_thread.joinable())
    self->ingest_thread.join();
  for (auto& t : self->subscribers)
    t.join();
  // Unanswered commands hold their calls' actors: let go of them now,
  // while the actor system still runs.
  std::lock_guard guard{self->mtx};
  self->queue.clear();
}

} // namespace switchboard::gateway
