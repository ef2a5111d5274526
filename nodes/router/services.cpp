#include "nodes/router/services.hpp"

#include "actors/directory.hpp"
#include "actors/tenant.hpp"
#include "nodes/router/access.hpp"
#include "nodes/router/authenticate.hpp"
#include "nodes/router/cluster.hpp"
#include "nodes/router/log.hpp"
#include "nodes/router/metrics.hpp"
#include "nodes/router/request_target.hpp"
#include "storage/error.hpp"
#include "storage/keys.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

#include "proto/convert.hpp"
#include "proto/status_names.hpp"

// The generated callback services hide the synchronous overloads on
// purpose; GCC's -Woverloaded-virtual would flag every one.
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/cluster.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"
#include "switchboard/v1/stats.grpc.pb.h"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

namespace switchboard::router {

namespace {

/// The tenant actor's (kind, target) of a TransferCall.
std::pair<std::string, std::string>
transfer_target_of(const v1::TransferCallRequest& x) {
  using R = v1::TransferCallRequest;
  switch (x.target_case()) {
    case R::kQueueId: return {"queue", x.queue_id()};
    case R::kAgentId: return {"agent", x.agent_id()};
    case R::kDialledNumber: return {"number", x.dialled_number()};
    case R::kTeamsUserId: return {"teams", x.teams_user_id()};
    case R::kOutsideNumber: return {"outside", x.outside_number()};
    default: return {};
  }
}

using grpc::Status;
using grpc::StatusCode;

/// Seconds since the epoch: when a stream's token expires.
int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// How long a request waits for its tenant's actor before UNAVAILABLE.
constexpr auto actor_timeout = std::chrono::seconds{10};

/// A subscriber this many events behind is dropped (it resumes with
/// from_sequence).
constexpr size_t max_subscriber_backlog = 100'000;

/// Ingest commands of one stream in progress at most; reading pauses
/// beyond.
constexpr size_t ingest_window = 256;

StatusCode code_of(ec x) {
  switch (x) {
    case ec::none: return StatusCode::OK;
    case ec::invalid_argument:
    case ec::bad_record: return StatusCode::INVALID_ARGUMENT;
    case ec::not_found: return StatusCode::NOT_FOUND;
    case ec::already_exists: return StatusCode::ALREADY_EXISTS;
    case ec::failed_precondition: return StatusCode::FAILED_PRECONDITION;
    case ec::resource_exhausted: return StatusCode::RESOURCE_EXHAUSTED;
    case ec::storage_io:
    case ec::storage_corrupt:
    case ec::storage_busy:
    case ec::unavailable:
    case ec::duplicate: return StatusCode::UNAVAILABLE;
  }
  return StatusCode::INTERNAL;
}

/// The message of an error of our category, without the code's name.
std::string message_of(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return render(err);
}

Status to_status(const caf::error& err, const std::string& tenant_id) {
  if (err.category() == caf::atom("switchbrd"))
    return {code_of(static_cast<ec>(err.code())), message_of(err)};
  if (err.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(err.code());
    if (code == caf::sec::request_timeout)
      return {StatusCode::UNAVAILABLE,
              "tenant '" + tenant_id + "' did not answer within 10 s"};
    return {StatusCode::UNAVAILABLE,
            "tenant '" + tenant_id
              + "' stopped before it took the request, which was not "
                "applied: it is moving to another node, or its node is "
                "stopping ("
              + caf::to_string(err) + "); retry in a moment"};
  }
  return {StatusCode::INTERNAL, caf::to_string(err)};
}

/// A request whose tenant's node went down while it was in flight: it may
/// or may not have been applied.
Status lost(const std::string& tenant_id) {
  return {StatusCode::UNAVAILABLE,
          "tenant '" + tenant_id
            + "': its node went down during the request, which may or may "
              "not have been applied; read it back (GetCall, GetAgent) when "
              "the node is back"};
}

Status invalid(const api::field_error& e) {
  return {StatusCode::INVALID_ARGUMENT, e.to_string()};
}

/// Shared by the services of one node.
struct node {
  service_context ctx;
  std::atomic<size_t> in_flight{0};

  /// The tenant's actor, or the status naming why not.
  std::optional<tenant_actor> tenant(const std::string& id,
                                     const std::string& field, Status& failed) {
    if (auto e = api::check_id(id, field)) {
      failed = invalid(*e);
      return std::nullopt;
    }
    if (ctx.cluster != nullptr) {
      auto found = ctx.cluster->find(id);
      if (!found.actor)
        failed = Status{found.result == tenant_lookup::outcome::unavailable
                          ? StatusCode::UNAVAILABLE
                          : StatusCode::NOT_FOUND,
                        found.message};
      return found.actor;
    }
    auto t = ctx.dir->find(id);
    if (!t)
      failed = Status{StatusCode::NOT_FOUND,
                      "tenant '" + id
                        + "' does not exist (create it with UpsertTenant)"};
    return t;
  }

  void count(const char* method, const Status& st) {
    if (ctx.metrics != nullptr)
      ctx.metrics->grpc_request(method, api::status_code_name(st.error_code()));
  }

  /// Requests in progress per tenant (tenants that exist only: a counter
  /// is made once a request found its tenant).
  std::shared_mutex tenants_mtx;
  std::unordered_map<std::string, std::unique_ptr<std::atomic<size_t>>>
    tenants_in_flight;

  std::atomic<size_t>* tenant_counter(const std::string& id) {
    {
      std::shared_lock guard{tenants_mtx};
      auto i = tenants_in_flight.find(id);
      if (i != tenants_in_flight.end())
        return i->second.get();
    }
    std::unique_lock guard{tenants_mtx};
    auto& slot = tenants_in_flight[id];
    if (!slot)
      slot = std::make_unique<std::atomic<size_t>>(0);
    return slot.get();
  }

  /// Whether requests are checked against their caller's roles.
  bool checks() const { return ctx.auth != nullptr && ctx.auth->enabled(); }

  /// The Microsoft tenant of tenant `id`, wherever it lives.
  std::optional<std::string> microsoft_tenant(const std::string& id) const {
    if (ctx.cluster != nullptr)
      return ctx.cluster->microsoft_tenant_of(id);
    auto t = ctx.dir->get(id);
    if (!t)
      return std::nullopt;
    return t->microsoft_tenant_id;
  }

  access::microsoft_tenant_of lookup() {
    return [this](const std::string& id) {
      return microsoft_tenant(id);
    };
  }

  /// A request refused for who sent it, logged for the operator.
  void log_refusal(const char* method, const Status& st,
                   const std::string& who) {
    if (ctx.log != nullptr)
      ctx.log->info("request refused",
                    {{"method", method},
                     {"code", api::status_code_name(st.error_code())},
                     {"reason", st.error_message()},
                     {"caller", who.empty() ? "unidentified" : who}});
  }

  /// The agents of a tenant that a signed-in user is (their
  /// teams_user_id is the user's oid), as last looked up; kept for
  /// own_agents_ttl so that an agent's every click is not a lookup.
  struct own_agents_entry {
    std::vector<std::string> agents;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex own_mtx;
  std::map<std::pair<std::string, std::string>, own_agents_entry> own_agents;
};

/// How long a user's agents in a tenant are remembered: an agent whose
/// teams_user_id changes acts as the old user at most this long.
constexpr auto own_agents_ttl = std::chrono::seconds{30};

// -- unary calls decoded by the node ------------------------------------------
//
// gRPC answers a request that does not decode (a string field that is not
// UTF-8, bytes that are not the message) with UNIMPLEMENTED and no message.
// The unary methods are therefore registered raw: the node decodes the
// request itself, answers INVALID_ARGUMENT naming the message when it
// cannot, and otherwise runs the typed handler with a reactor that encodes
// the response when the handler finishes.

/// The reactor of a unary call the node decodes.
class unary_call : public grpc::ServerUnaryReactor {
 public:
  /// Encodes the response (when `st` is OK) and finishes the call.
  virtual void respond(const Status& st) = 0;

  /// The requests in progress of the tenant this call counts against.
  std::atomic<size_t>* tenant_in_flight = nullptr;

  /// Who made the request, as the logs name callers.
  std::string caller;

  void OnDone() override { delete this; }
};

template<class Request, class Response>
class decoded_call final : public unary_call {
 public:
  explicit decoded_call(grpc::ByteBuffer* out) : out_(out) {}

  void respond(const Status& st) override {
    if (!st.ok()) {
      Finish(st);
      return;
    }
    grpc::ByteBuffer bytes;
    bool own = false;
    auto encoded
      = grpc::SerializationTraits<Response>::Serialize(response, &bytes, &own);
    if (encoded.ok())
      out_->Swap(&bytes);
    Finish(encoded);
  }

  Request request;
  Response response;

 private:
  grpc::ByteBuffer* out_;
};

/// The call whose typed handler runs on this thread right now.
thread_local unary_call* current_call = nullptr;

/// The reactor a typed handler finishes: the decoded call it runs for.
grpc::ServerUnaryReactor* reactor_of(grpc::CallbackServerContext* ctx) {
  if (auto* call = std::exchange(current_call, nullptr))
    return call;
  return ctx->DefaultReactor();
}

/// A request whose tenant's actor, on node `where`, stopped before it
/// answered, for `reason` (its exit reason, or the error of a request to
/// an actor that had stopped). If that node went down, the request may or
/// may not have been applied; else the tenant is moving (it stops with no
/// error) or its node stopping, and a tenant answers what it applied
/// before it stops, so the request was not.
Status stopped(node& n, const std::string& tenant_id, const caf::node_id& where,
               const caf::error& reason) {
  if (reason == caf::exit_reason::remote_link_unreachable
      || n.ctx.cluster == nullptr)
    return lost(tenant_id);
  auto why = n.ctx.cluster->why_stopped(tenant_id, where);
  if (why.node.empty())
    return lost(tenant_id);
  auto head = "tenant '" + tenant_id + "' ";
  auto tail = std::string{" before it took the request, which was not "
                          "applied; retry in a moment"};
  if (!why.moving_to.empty() || !reason)
    return {StatusCode::UNAVAILABLE,
            head + "is moving from node '" + why.node + "' to "
              + (why.moving_to.empty() ? std::string{"another node"}
                                       : "node '" + why.moving_to + "'")
              + " and paused" + tail};
  if (reason == caf::exit_reason::user_shutdown)
    return {StatusCode::UNAVAILABLE, head + "stopped on node '" + why.node
                                       + "', which is stopping," + tail};
  return {StatusCode::UNAVAILABLE,
          head + "stopped on node '" + why.node
            + "' (it is moving to another node, or that node is stopping)"
            + tail};
}

/// What is said of request bytes that are not the message `name`.
std::string undecodable_text(const std::string& name) {
  return "does not decode as switchboard.v1." + name
         + " (a string field that is not UTF-8, or bytes that are not this "
           "message)";
}

/// Finishes a unary RPC and counts it.
void finish(node& n, grpc::ServerUnaryReactor* reactor, const char* method,
            const Status& st) {
  n.count(method, st);
  n.in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (auto* call = dynamic_cast<unary_call*>(reactor)) {
    if (auto* mine = std::exchange(call->tenant_in_flight, nullptr))
      mine->fetch_sub(1, std::memory_order_relaxed);
    call->respond(st);
  } else
    reactor->Finish(st);
}

// -- who may call what --------------------------------------------------------

/// Asks tenant `tenant_id`'s actor `xs` and hands the reply, or the
/// status that says why there is none, to `done`.
template<class Reply, class... Ts>
void query(node& n, const std::string& tenant_id,
           std::function<void(Reply*, const Status&)> done, Ts... xs) {
  Status failed;
  auto t = n.tenant(tenant_id, "tenant_id", failed);
  if (!t) {
    done(nullptr, failed);
    return;
  }
  n.ctx.sys->spawn(
    [done, tenant_id, xs...](caf::event_based_actor* self,
                             tenant_actor target) {
      self->request(target, actor_timeout, xs...)
        .then(
          [done, self](Reply& reply) {
            done(&reply, Status::OK);
            self->quit();
          },
          [done, self, tenant_id](caf::error& err) {
            done(nullptr, to_status(err, tenant_id));
            self->quit();
          });
    },
    *t);
}

/// The agents of tenant `tenant_id` that user `who` is, to `done`.
void find_own_agents(
  node& n, const access::principal& who, const std::string& tenant_id,
  std::function<void(const std::vector<std::string>&, const Status&)> done) {
  auto key = std::make_pair(tenant_id, who.object_id);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard guard{n.own_mtx};
    auto i = n.own_agents.find(key);
    if (i != n.own_agents.end() && now - i->second.at < own_agents_ttl) {
      auto agents = i->second.agents;
      done(agents, Status::OK);
      return;
    }
  }
  query<std::vector<routing::agent_view>>(
    n, tenant_id,
    [&n, key, now, oid = who.object_id,
     done](std::vector<routing::agent_view>* all, const Status& st) {
      if (all == nullptr) {
        done({}, st);
        return;
      }
      std::vector<std::string> mine;
      for (auto& a : *all)
        if (!oid.empty() && a.data.teams_user_id == oid)
          mine.push_back(a.data.id);
      {
        std::lock_guard guard{n.own_mtx};
        if (n.own_agents.size() >= 100'000)
          n.own_agents.clear();
        n.own_agents[key] = {mine, now};
      }
      done(mine, Status::OK);
    },
    atom::list_v, atom::agent_v);
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// Refuses a unary request before its handler ran.
void refuse(node& n, unary_call* call, const char* method, const Status& st,
            const std::string& who) {
  n.log_refusal(method, st, who);
  n.in_flight.fetch_add(1, std::memory_order_relaxed);
  finish(n, call, method, st);
}

/// Who made the request that `reactor` (from reactor_of) answers, as the
/// logs name callers; with authentication off, the address it came from.
std::string caller_of(grpc::ServerUnaryReactor* reactor,
                      grpc::CallbackServerContext* ctx) {
  auto* call = dynamic_cast<unary_call*>(reactor);
  if (call != nullptr && !call->caller.empty())
    return call->caller;
  return "unauthenticated caller at " + ctx->peer();
}

/// Runs `run` if the call `target.call_id` is a consult or conference leg
/// of a call one of the agents `mine` handles (the agent withdraws the
/// consult they started), else refuses `call` saying why not.
void own_leg(node& n, const char* method, const access::target& target,
             unary_call* call, const std::function<void()>& run,
             const access::principal& who,
             const std::vector<std::string>& mine) {
  auto not_theirs = [&n, method, target, call, who] {
    refuse(
      n, call, method,
      {StatusCode::PERMISSION_DENIED, "call_id: call '" + target.call_id
                                        + "' is no consult leg of a "
                                          "call "
                                        + who.who
                                        + " handles; an agent cancels only the "
                                          "consults they started"},
      who.who);
  };
  query<call_reply>(
    n, target.tenant_id,
    [&n, method, target, call, run, who, mine, not_theirs](call_reply* leg,
                                                           const Status& got) {
      if (leg == nullptr) {
        refuse(n, call, method, got, who.who);
        return;
      }
      if (leg->call.parent_id.empty()) {
        not_theirs();
        return;
      }
      query<call_reply>(
        n, target.tenant_id,
        [&n, method, call, run, who, mine, not_theirs](call_reply* parent,
                                                       const Status& found) {
          if (parent == nullptr)
            refuse(n, call, method, found, who.who);
          else if (contains(mine, parent->call.agent_id))
            run();
          else
            not_theirs();
        },
        atom::get_v, atom::call_v, leg->call.parent_id);
    },
    atom::get_v, atom::call_v, target.call_id);
}

/// Runs `run` (the request's handler) if the caller of `ctx` may make
/// request `req` of `method`, else finishes `call` with the status that
/// says why not. `run` may run later, on another thread.
void guarded(node& n, grpc::CallbackServerContext* ctx, const char* method,
             const google::protobuf::Message& req, unary_call* call,
             std::function<void()> run) {
  // A request waiting for its caller to be known counts against the
  // node's limit like one waiting for its tenant.
  auto now = n.in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
  if (now > n.ctx.max_in_flight) {
    finish(n, call, method,
           {StatusCode::RESOURCE_EXHAUSTED,
            "node overloaded: " + std::to_string(now - 1)
              + " requests in progress; retry with backoff"});
    return;
  }
  n.ctx.auth->authenticate(*ctx, [&n, method, target = target_of(req), call,
                                  run = std::move(run)](const Status& st,
                                                        access::principal who) {
    n.in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!st.ok()) {
      refuse(n, call, method, st, who.who);
      return;
    }
    call->caller = who.who;
    auto d = access::decide(who, method, target, n.lookup());
    using kind = access::decision::kind;
    switch (d.what) {
      case kind::allow:
        if (access::is_admin_change(method) && n.ctx.log != nullptr)
          n.ctx.log->info("configuration change", {{"method", method},
                                                   {"tenant", target.tenant_id},
                                                   {"caller", who.who}});
        run();
        return;
      case kind::deny:
      case kind::own_events:
        refuse(n, call, method, {StatusCode::PERMISSION_DENIED, d.message},
               who.who);
        return;
      case kind::hide:
        refuse(n, call, method, {StatusCode::NOT_FOUND, d.message}, who.who);
        return;
      case kind::own_agent:
      case kind::own_call:
      case kind::own_leg:
      case kind::own_caller: break;
    }
    find_own_agents(
      n, who, target.tenant_id,
      [&n, method, target, call, run, who, what = d.what](
        const std::vector<std::string>& mine, const Status& found) {
        if (!found.ok()) {
          refuse(n, call, method, found, who.who);
          return;
        }
        if (mine.empty()) {
          refuse(n, call, method,
                 {StatusCode::PERMISSION_DENIED,
                  who.who + " is no agent of tenant '" + target.tenant_id
                    + "': no agent has teams_user_id " + who.object_id},
                 who.who);
          return;
        }
        if (what == kind::own_agent) {
          if (contains(mine, target.agent_id))
            run();
          else
            refuse(n, call, method,
                   {StatusCode::PERMISSION_DENIED,
                    "agent_id: '" + target.agent_id + "' is not " + who.who
                      + "'s agent; an agent acts only as themself"},
                   who.who);
          return;
        }
        if (what == kind::own_caller) {
          query<std::vector<call_reply>>(
            n, target.tenant_id,
            [&n, method, target, call, run, who,
             mine](std::vector<call_reply>* live, const Status& got) {
              if (live == nullptr) {
                refuse(n, call, method, got, who.who);
                return;
              }
              for (auto& r : *live)
                if (r.call.data.from == target.caller
                    && contains(mine, r.call.agent_id)) {
                  run();
                  return;
                }
              refuse(n, call, method,
                     {StatusCode::PERMISSION_DENIED,
                      "caller: " + who.who
                        + " is offered or handles no call from '"
                        + target.caller
                        + "'; an agent reads the history of the caller "
                          "on the line"},
                     who.who);
            },
            atom::list_v, atom::call_v);
          return;
        }
        if (what == kind::own_leg) {
          own_leg(n, method, target, call, run, who, mine);
          return;
        }
        query<call_reply>(
          n, target.tenant_id,
          [&n, method, target, call, run, who, mine](call_reply* reply,
                                                     const Status& got) {
            if (reply == nullptr) {
              refuse(n, call, method, got, who.who);
              return;
            }
            if (contains(mine, reply->call.agent_id))
              run();
            else
              refuse(n, call, method,
                     {StatusCode::PERMISSION_DENIED,
                      "call_id: call '" + target.call_id
                        + "' is not offered to or handled by " + who.who},
                     who.who);
          },
          atom::get_v, atom::call_v, target.call_id);
      });
  });
}

/// The generated callback service of `Service` with the unary methods the
/// node decodes itself (see unary_call).
template<class Service>
class decoding : public Service::CallbackService {
 protected:
  /// Registers `method` of `self` (the typed handler of `name`) raw.
  template<class Self, class Request, class Response>
  void decode_here(node& n, Self* self, const char* name,
                   grpc::ServerUnaryReactor* (Self::*method)(
                     grpc::CallbackServerContext*, const Request*, Response*)) {
    this->MarkMethodRawCallback(
      method_index(name),
      new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                               grpc::ByteBuffer>(
        [&n, self, name,
         method](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                 grpc::ByteBuffer* out) -> grpc::ServerUnaryReactor* {
          auto* call = new decoded_call<Request, Response>(out);
          grpc::ByteBuffer bytes{*in};
          auto decoded = grpc::SerializationTraits<Request>::Deserialize(
            &bytes, &call->request);
          if (!decoded.ok()) {
            n.in_flight.fetch_add(1, std::memory_order_relaxed);
            finish(
              n, call, name,
              {StatusCode::INVALID_ARGUMENT,
               "request: " + undecodable_text(Request::descriptor()->name())});
            return call;
          }
          if (n.checks()) {
            guarded(n, ctx, name, call->request, call,
                    [self, method, ctx, call] {
                      current_call = call;
                      (self->*method)(ctx, &call->request, &call->response);
                      current_call = nullptr;
                    });
            return call;
          }
          current_call = call;
          auto* reactor = (self->*method)(ctx, &call->request, &call->response);
          current_call = nullptr;
          return reactor;
        }));
  }

 protected:
  /// The index of method `name` in the service.
  static int method_index(const char* name) {
    auto* service
      = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        Service::service_full_name());
    auto* m = service != nullptr ? service->FindMethodByName(name) : nullptr;
    // Only a name that is not in the .proto: a defect of this file.
    if (m == nullptr)
      std::abort();
    return m->index();
  }
};

/// Starts a unary RPC: refuses it when the node is overloaded.
bool admit(node& n, grpc::ServerUnaryReactor* reactor, const char* method) {
  auto now = n.in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
  if (now <= n.ctx.max_in_flight)
    return true;
  finish(n, reactor, method,
         {StatusCode::RESOURCE_EXHAUSTED,
          "node overloaded: " + std::to_string(now - 1)
            + " requests in progress; retry with backoff"});
  return false;
}

/// Admits a unary RPC and finds its tenant's actor. On failure the RPC is
/// finished (overloaded, bad or unknown tenant) and nothing is returned.
std::optional<tenant_actor> begin(node& n, grpc::ServerUnaryReactor* reactor,
                                  const char* method,
                                  const std::string& tenant_id,
                                  const char* field) {
  if (!admit(n, reactor, method))
    return std::nullopt;
  Status failed;
  auto t = n.tenant(tenant_id, field, failed);
  if (!t) {
    finish(n, reactor, method, failed);
    return t;
  }
  // A tenant past its share is refused on its own, so that one flooding
  // tenant cannot take the whole node from the others.
  auto* call = dynamic_cast<unary_call*>(reactor);
  if (call == nullptr)
    return t;
  auto* mine = n.tenant_counter(tenant_id);
  call->tenant_in_flight = mine;
  auto now = mine->fetch_add(1, std::memory_order_relaxed) + 1;
  if (now > n.ctx.max_in_flight_per_tenant) {
    finish(n, reactor, method,
           {StatusCode::RESOURCE_EXHAUSTED,
            "tenant '" + tenant_id + "' has " + std::to_string(now - 1)
              + " requests in progress, its share of this node "
                "(--grpc-max-in-flight-per-tenant); retry with backoff"});
    return std::nullopt;
  }
  return t;
}

/// `begin`, then the request's own fields (api::check): on bad input the
/// RPC is finished with INVALID_ARGUMENT naming the field.
template<class Request>
std::optional<tenant_actor>
begin_checked(node& n, grpc::ServerUnaryReactor* reactor, const char* method,
              const Request& req) {
  auto t = begin(n, reactor, method, req.tenant_id(), "tenant_id");
  if (!t)
    return t;
  if (auto e = api::check(req)) {
    finish(n, reactor, method, invalid(*e));
    return std::nullopt;
  }
  return t;
}

/// Sends `xs` to the tenant actor `dest` from a short-lived actor; its
/// reply goes to `on_reply`, which fills the response and returns the
/// status to finish with.
template<class Reply, class OnReply, class... Ts>
void ask(node& n, grpc::ServerUnaryReactor* reactor, const char* method,
         const tenant_actor& dest, const std::string& tenant_id,
         OnReply on_reply, Ts... xs) {
  // The behavior takes the destination as its argument: CAF 0.17.6
  // mishandles function actors spawned without arguments.
  n.ctx.sys->spawn(
    [&n, reactor, method, tenant_id, on_reply,
     xs...](caf::event_based_actor* self, tenant_actor target) {
      if (target.node() != self->node()) {
        // A tenant on another node: if that node goes, the request is
        // answered at once rather than at its timeout.
        self->monitor(target);
        self->set_down_handler([&n, reactor, method, tenant_id, self,
                                where = target.node()](caf::down_msg& down) {
          finish(n, reactor, method, stopped(n, tenant_id, where, down.reason));
          self->quit();
        });
      }
      self->request(target, actor_timeout, xs...)
        .then(
          [&n, reactor, method, on_reply, self](Reply& reply) mutable {
            finish(n, reactor, method, on_reply(reply));
            self->quit();
          },
          [&n, reactor, method, tenant_id, self,
           where = target.node()](caf::error& err) {
            finish(n, reactor, method,
                   err == caf::sec::request_receiver_down
                     ? stopped(n, tenant_id, where, err)
                     : to_status(err, tenant_id));
            self->quit();
          });
    },
    dest);
}

/// Bytes as lowercase hex: page tokens that are binary key suffixes.
std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : bytes) {
    out += digits[ch >> 4];
    out += digits[ch & 15];
  }
  return out;
}

/// Reads what hex() wrote; false if `text` is not that.
bool unhex(const std::string& text, std::string& out) {
  out.clear();
  if (text.size() % 2 != 0)
    return false;
  auto digit = [](char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); i += 2) {
    auto hi = digit(text[i]);
    auto lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

/// Page size of a list request: 0 = 100, at most 1000.
size_t page_size_of(uint32_t requested) {
  if (requested == 0)
    return 100;
  return std::min<size_t>(requested, 1000);
}

/// A page stops growing once its items take this many bytes: with the
/// largest item the API accepts on top (limits::queue_bytes), it stays
/// within gRPC's default 4 MB message size.
constexpr size_t page_bytes = 2 * 1024 * 1024;

/// Fills one page from `all`, which is ordered by id: the items after the
/// id `after` that `keep` accepts, at most `size` of them and no more once
/// they take `page_bytes`, each appended by `add`, which returns the bytes
/// it added. Returns the next page token: the last id sent if more follow,
/// else empty.
template<class T, class IdOf, class Keep, class Add>
std::string fill_page(const std::vector<T>& all, const std::string& after,
                      size_t size, IdOf id_of, Keep keep, Add add) {
  size_t sent = 0;
  size_t bytes = 0;
  const std::string* last = nullptr;
  for (auto& x : all) {
    auto& id = id_of(x);
    if ((!after.empty() && id <= after) || !keep(x))
      continue;
    if (sent == size || bytes >= page_bytes)
      return *last;
    bytes += add(x);
    last = &id;
    ++sent;
  }
  return {};
}

/// Whether a Timestamp is one RFC 3339 can write: 0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59.999999999Z, as google.protobuf.Timestamp defines.
bool timestamp_in_range(const google::protobuf::Timestamp& ts) {
  constexpr int64_t min_seconds = -62'135'596'800;
  constexpr int64_t max_seconds = 253'402'300'799;
  return ts.seconds() >= min_seconds && ts.seconds() <= max_seconds
         && ts.nanos() >= 0 && ts.nanos() <= 999'999'999;
}

Status bad_timestamp(const char* field) {
  return {StatusCode::INVALID_ARGUMENT,
          std::string{field}
            + ": must be between 0001-01-01T00:00:00Z and "
              "9999-12-31T23:59:59.999999999Z (seconds -62135596800 to "
              "253402300799, nanos 0 to 999999999)"};
}

/// The [from, to) of a listing request: unset ends are open.
struct time_span_of {
  Status status;
  routing::timestamp from{};
  routing::timestamp to = routing::timestamp::max();

  bool ok() const { return status.ok(); }
};

/// Reads a listing request's [from, to) and its page token (the key suffix
/// of the last item sent, in hex). False, having finished the call with
/// the field that is wrong, when one is.
template<class Request>
bool read_listing(node& n, grpc::ServerUnaryReactor* reactor,
                  const char* method, const Request& req, time_span_of& span,
                  std::string& after) {
  if (req.has_from() && !timestamp_in_range(req.from()))
    span.status = bad_timestamp("from");
  else if (req.has_to() && !timestamp_in_range(req.to()))
    span.status = bad_timestamp("to");
  else if (!unhex(req.page_token(), after))
    span.status = {StatusCode::INVALID_ARGUMENT,
                   "page_token: '" + req.page_token() + "' is not a token that "
                     + method + " returned"};
  if (!span.ok()) {
    finish(n, reactor, method, span.status);
    return false;
  }
  if (req.has_from())
    span.from = api::read_timestamp(req.from());
  if (req.has_to())
    span.to = api::read_timestamp(req.to());
  return true;
}

/// Fills a ListCallHistory response from a page of stored records, at
/// most history_page_bytes of them: a page the tenant sent that would
/// pass it once converted ends early, and the next continues from there.
Status history_response(const history_page& page, const std::string& tenant_id,
                        v1::ListCallHistoryResponse& resp) {
  auto prefix = storage::kind_prefix(tenant_id, 'H');
  auto next = page.next_after;
  size_t bytes = 0;
  for (size_t i = 0; i < page.records.size(); ++i) {
    auto c = storage::decode_call(page.records[i], prefix + page.keys[i]);
    if (!c)
      return to_status(c.error(), tenant_id);
    v1::CallRecord record;
    api::to_proto(*c, record);
    // The record's own size, its field tag and its length.
    auto size = record.ByteSizeLong() + 6;
    if (i > 0 && bytes + size > history_page_bytes) {
      next = page.keys[i - 1];
      break;
    }
    bytes += size;
    *resp.add_records() = std::move(record);
  }
  resp.set_next_page_token(hex(next));
  return Status::OK;
}

// -- AdminService -------------------------------------------------------------

class admin_service : public decoding<v1::AdminService> {
 public:
  explicit admin_service(node& n) : n_(n) {
    decode_here(n_, this, "UpsertTenant", &admin_service::UpsertTenant);
    decode_here(n_, this, "GetTenant", &admin_service::GetTenant);
    decode_here(n_, this, "UpsertQueue", &admin_service::UpsertQueue);
    decode_here(n_, this, "GetQueue", &admin_service::GetQueue);
    decode_here(n_, this, "ListQueues", &admin_service::ListQueues);
    decode_here(n_, this, "DeleteQueue", &admin_service::DeleteQueue);
    decode_here(n_, this, "UpsertAgent", &admin_service::UpsertAgent);
    decode_here(n_, this, "GetAgent", &admin_service::GetAgent);
    decode_here(n_, this, "ListAgents", &admin_service::ListAgents);
    decode_here(n_, this, "DeleteAgent", &admin_service::DeleteAgent);
    decode_here(n_, this, "UpsertClassificationRules",
                &admin_service::UpsertClassificationRules);
    decode_here(n_, this, "GetClassificationRules",
                &admin_service::GetClassificationRules);
    decode_here(n_, this, "ListConfigurationChanges",
                &admin_service::ListConfigurationChanges);
  }

  grpc::ServerUnaryReactor* UpsertTenant(grpc::CallbackServerContext* ctx,
                                         const v1::UpsertTenantRequest* req,
                                         v1::Tenant* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "UpsertTenant";
    if (!admit(n_, reactor, method))
      return reactor;
    routing::tenant t;
    if (auto e = api::from_proto(req->tenant(), t, "tenant")) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    if (n_.ctx.cluster != nullptr) {
      // Through the owner's node actor, even when that is this node's: it
      // tells every peer of the tenant before answering.
      forward_tenant(reactor, method, std::move(t), resp);
      return reactor;
    }
    // A store write of one record: microseconds, no actor involved.
    auto stored = n_.ctx.dir->upsert(t);
    if (!stored) {
      finish(n_, reactor, method, to_status(stored.error(), t.id));
      return reactor;
    }
    api::to_proto(*stored, *resp);
    finish(n_, reactor, method, Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetTenant(grpc::CallbackServerContext* ctx,
                                      const v1::GetTenantRequest* req,
                                      v1::Tenant* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "GetTenant";
    if (!admit(n_, reactor, method))
      return reactor;
    const auto& id = req->tenant_id();
    if (auto e = api::check_id(id, "tenant_id")) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    // Every node knows every tenant's settings: its own from the store,
    // the cluster's from their owners' announcements.
    std::optional<routing::tenant> found;
    if (n_.ctx.cluster != nullptr) {
      for (auto& t : n_.ctx.cluster->tenants())
        if (t.id == id)
          found = std::move(t);
    } else {
      found = n_.ctx.dir->get(id);
    }
    if (!found) {
      finish(
        n_, reactor, method,
        {StatusCode::NOT_FOUND,
         "tenant '" + id + "' does not exist (create it with UpsertTenant)"});
      return reactor;
    }
    api::to_proto(*found, *resp);
    finish(n_, reactor, method, Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* UpsertQueue(grpc::CallbackServerContext* ctx,
                                        const v1::UpsertQueueRequest* req,
                                        v1::Queue* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "UpsertQueue";
    auto tenant_id = req->queue().tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "queue.tenant_id");
    if (!t)
      return reactor;
    routing::queue q;
    if (auto e = api::from_proto(req->queue(), q, "queue")) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    ask<routing::queue>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::queue& stored) {
        api::to_proto(stored, tenant_id, *resp);
        return Status::OK;
      },
      atom::upsert_v, q, caller_of(reactor, ctx));
    return reactor;
  }

  grpc::ServerUnaryReactor* GetQueue(grpc::CallbackServerContext* ctx,
                                     const v1::GetQueueRequest* req,
                                     v1::Queue* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "GetQueue";
    auto tenant_id = req->tenant_id();
    auto t = begin_checked(n_, reactor, method, *req);
    if (!t)
      return reactor;
    ask<routing::queue>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::queue& q) {
        api::to_proto(q, tenant_id, *resp);
        return Status::OK;
      },
      atom::get_v, atom::queue_v, req->queue_id());
    return reactor;
  }

  grpc::ServerUnaryReactor* ListQueues(grpc::CallbackServerContext* ctx,
                                       const v1::ListQueuesRequest* req,
                                       v1::ListQueuesResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "ListQueues";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    auto size = page_size_of(req->page_size());
    auto after = req->page_token();
    ask<std::vector<routing::queue>>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id, size, after](std::vector<routing::queue>& all) {
        resp->set_next_page_token(fill_page(
          all, after, size,
          [](const routing::queue& q) -> const std::string& {
            return q.id;
          },
          [](const routing::queue&) {
            return true;
          },
          [&](const routing::queue& q) {
            auto* x = resp->add_queues();
            api::to_proto(q, tenant_id, *x);
            return x->ByteSizeLong();
          }));
        return Status::OK;
      },
      atom::list_v, atom::queue_v);
    return reactor;
  }

  grpc::ServerUnaryReactor* DeleteQueue(grpc::CallbackServerContext* ctx,
                                        const v1::DeleteQueueRequest* req,
                                        v1::DeleteQueueResponse*) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "DeleteQueue";
    auto t = begin_checked(n_, reactor, method, *req);
    if (!t)
      return reactor;
    ask<atom::ok>(
      n_, reactor, method, *t, req->tenant_id(),
      [](atom::ok) {
        return Status::OK;
      },
      atom::erase_v, atom::queue_v, req->queue_id(), caller_of(reactor, ctx));
    return reactor;
  }

  grpc::ServerUnaryReactor* UpsertAgent(grpc::CallbackServerContext* ctx,
                                        const v1::UpsertAgentRequest* req,
                                        v1::AgentView* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "UpsertAgent";
    auto tenant_id = req->agent().tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "agent.tenant_id");
    if (!t)
      return reactor;
    routing::agent a;
    if (auto e = api::from_proto(req->agent(), a, "agent")) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    ask<routing::agent_view>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::agent_view& v) {
        api::to_proto(v, tenant_id, *resp);
        return Status::OK;
      },
      atom::upsert_v, a, caller_of(reactor, ctx));
    return reactor;
  }

  grpc::ServerUnaryReactor* GetAgent(grpc::CallbackServerContext* ctx,
                                     const v1::GetAgentRequest* req,
                                     v1::AgentView* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "GetAgent";
    auto tenant_id = req->tenant_id();
    auto t = begin_checked(n_, reactor, method, *req);
    if (!t)
      return reactor;
    if (req->agent_id().empty()) {
      // By Teams user: the agent whose teams_user_id it is.
      ask<std::vector<routing::agent_view>>(
        n_, reactor, method, *t, tenant_id,
        [resp, tenant_id,
         user = req->teams_user_id()](std::vector<routing::agent_view>& all) {
          for (auto& v : all)
            if (v.data.teams_user_id == user) {
              api::to_proto(v, tenant_id, *resp);
              return Status::OK;
            }
          return Status{StatusCode::NOT_FOUND,
                        "no agent of tenant '" + tenant_id
                          + "' has teams_user_id '" + user + "'"};
        },
        atom::list_v, atom::agent_v);
      return reactor;
    }
    ask<routing::agent_view>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::agent_view& v) {
        api::to_proto(v, tenant_id, *resp);
        return Status::OK;
      },
      atom::get_v, atom::agent_v, req->agent_id());
    return reactor;
  }

  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* ctx,
                                       const v1::ListAgentsRequest* req,
                                       v1::ListAgentsResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "ListAgents";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    auto size = page_size_of(req->page_size());
    auto after = req->page_token();
    auto queue_id = req->queue_id();
    ask<std::vector<routing::agent_view>>(
      n_, reactor, method, *t, tenant_id,
      [=](std::vector<routing::agent_view>& all) {
        resp->set_next_page_token(fill_page(
          all, after, size,
          [](const routing::agent_view& a) -> const std::string& {
            return a.data.id;
          },
          [&](const routing::agent_view& a) {
            return queue_id.empty()
                   || std::find(a.data.queues.begin(), a.data.queues.end(),
                                queue_id)
                        != a.data.queues.end();
          },
          [&](const routing::agent_view& a) {
            auto* x = resp->add_agents();
            api::to_proto(a, tenant_id, *x);
            return x->ByteSizeLong();
          }));
        return Status::OK;
      },
      atom::list_v, atom::agent_v);
    return reactor;
  }

  grpc::ServerUnaryReactor* DeleteAgent(grpc::CallbackServerContext* ctx,
                                        const v1::DeleteAgentRequest* req,
                                        v1::DeleteAgentResponse*) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "DeleteAgent";
    auto t = begin_checked(n_, reactor, method, *req);
    if (!t)
      return reactor;
    ask<atom::ok>(
      n_, reactor, method, *t, req->tenant_id(),
      [](atom::ok) {
        return Status::OK;
      },
      atom::erase_v, atom::agent_v, req->agent_id(), caller_of(reactor, ctx));
    return reactor;
  }

  grpc::ServerUnaryReactor*
  UpsertClassificationRules(grpc::CallbackServerContext* ctx,
                            const v1::UpsertClassificationRulesRequest* req,
                            v1::ClassificationRules* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "UpsertClassificationRules";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    v1::ClassificationRules in;
    *in.mutable_rules() = req->rules();
    in.set_default_queue_id(req->default_queue_id());
    routing::classification c;
    if (auto e = api::from_proto(in, c)) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    ask<routing::classification>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::classification& stored) {
        api::to_proto(stored, tenant_id, *resp);
        return Status::OK;
      },
      atom::upsert_v, c, caller_of(reactor, ctx));
    return reactor;
  }

  grpc::ServerUnaryReactor*
  GetClassificationRules(grpc::CallbackServerContext* ctx,
                         const v1::GetClassificationRulesRequest* req,
                         v1::ClassificationRules* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "GetClassificationRules";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    ask<routing::classification>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::classification& stored) {
        api::to_proto(stored, tenant_id, *resp);
        return Status::OK;
      },
      atom::get_v, atom::rules_v);
    return reactor;
  }

  grpc::ServerUnaryReactor* ListConfigurationChanges(
    grpc::CallbackServerContext* ctx,
    const v1::ListConfigurationChangesRequest* req,
    v1::ListConfigurationChangesResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "ListConfigurationChanges";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    time_span_of span;
    std::string after;
    if (!read_listing(n_, reactor, method, *req, span, after))
      return reactor;
    ask<history_page>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](history_page& page) {
        for (size_t i = 0; i < page.records.size(); ++i) {
          v1::Event e;
          if (!e.ParseFromString(page.records[i]) || !e.has_change())
            return Status{StatusCode::DATA_LOSS,
                          "tenant '" + tenant_id
                            + "': the stored configuration change "
                            + hex(page.keys[i]) + " does not decode"};
          *resp->add_changes() = std::move(*e.mutable_change());
        }
        resp->set_next_page_token(hex(page.next_after));
        return Status::OK;
      },
      atom::history_v, atom::change_v, routing::to_micros(span.from),
      routing::to_micros(span.to), after,
      static_cast<uint32_t>(page_size_of(req->page_size())));
    return reactor;
  }

 private:
  /// Creates or replaces a tenant on the member that owns it, which tells
  /// the others.
  void forward_tenant(grpc::ServerUnaryReactor* reactor, const char* method,
                      routing::tenant t, v1::Tenant* resp) {
    auto* cl = n_.ctx.cluster;
    auto owner = cl->owner_of(t.id);
    auto dest = cl->member_actor(owner);
    if (!dest) {
      finish(n_, reactor, method,
             {StatusCode::UNAVAILABLE,
              "tenant '" + t.id + "' belongs on node '" + owner
                + "', which is down; retry when it is back"});
      return;
    }
    n_.ctx.sys->spawn(
      [&n = n_, reactor, method, resp, t](caf::event_based_actor* self,
                                          node_actor target) {
        self->request(target, actor_timeout, atom::upsert_v, t)
          .then(
            [&n, reactor, method, resp](routing::tenant& stored,
                                        caf::actor& actor) {
              n.ctx.cluster->remember(stored, actor);
              api::to_proto(stored, *resp);
              finish(n, reactor, method, Status::OK);
            },
            [&n, reactor, method, id = t.id](caf::error& err) {
              finish(n, reactor, method, to_status(err, id));
            });
      },
      *dest);
  }

  node& n_;
};

// -- ClusterService -----------------------------------------------------------

class cluster_service : public decoding<v1::ClusterService> {
 public:
  explicit cluster_service(node& n) : n_(n) {
    decode_here(n_, this, "ListMembers", &cluster_service::ListMembers);
    decode_here(n_, this, "LocateTenant", &cluster_service::LocateTenant);
    decode_here(n_, this, "RemoveMember", &cluster_service::RemoveMember);
  }

  grpc::ServerUnaryReactor*
  ListMembers(grpc::CallbackServerContext* ctx, const v1::ListMembersRequest*,
              v1::ListMembersResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "ListMembers";
    if (!admit(n_, reactor, method))
      return reactor;
    if (n_.ctx.cluster != nullptr)
      for (auto& m : n_.ctx.cluster->members()) {
        auto& out = *resp->add_members();
        out.set_name(m.name);
        out.set_address(m.address);
        out.set_self(m.self);
        out.set_up(m.up);
        if (m.since != std::chrono::system_clock::time_point{})
          *out.mutable_since()
            = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
              std::chrono::duration_cast<std::chrono::microseconds>(
                m.since.time_since_epoch())
                .count());
        out.set_last_error(m.last_error);
        out.set_tenants(static_cast<uint32_t>(m.tenants));
      }
    finish(n_, reactor, method, Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* RemoveMember(grpc::CallbackServerContext* ctx,
                                         const v1::RemoveMemberRequest* req,
                                         v1::RemoveMemberResponse*) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "RemoveMember";
    if (!admit(n_, reactor, method))
      return reactor;
    auto* cl = n_.ctx.cluster;
    if (cl == nullptr || !cl->is_member(req->name())) {
      finish(n_, reactor, method,
             {StatusCode::NOT_FOUND,
              "name: '" + req->name() + "' is not a member of the cluster"});
      return reactor;
    }
    n_.ctx.sys->spawn(
      [&n = n_, reactor, method,
       name = req->name()](caf::event_based_actor* self, node_actor target) {
        self->request(target, actor_timeout, atom::leave_v, name, true)
          .then(
            [&n, reactor, method](atom::ok) {
              finish(n, reactor, method, Status::OK);
            },
            [&n, reactor, method, name](caf::error& err) {
              // A refusal of ours (a member that is down) says why.
              finish(n, reactor, method,
                     err.category() == caf::atom("switchbrd")
                       ? to_status(err, {})
                       : Status{StatusCode::UNAVAILABLE,
                                "removing member '" + name
                                  + "' failed: " + caf::to_string(err)});
            });
      },
      cl->self_actor());
    return reactor;
  }

  grpc::ServerUnaryReactor* LocateTenant(grpc::CallbackServerContext* ctx,
                                         const v1::LocateTenantRequest* req,
                                         v1::TenantLocation* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "LocateTenant";
    if (!admit(n_, reactor, method))
      return reactor;
    if (auto e = api::check_id(req->tenant_id(), "tenant_id")) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    resp->set_tenant_id(req->tenant_id());
    auto* cl = n_.ctx.cluster;
    auto owner = cl == nullptr ? std::string{} : cl->owner_of(req->tenant_id());
    resp->set_owner(owner);
    resp->set_owner_up(cl == nullptr || cl->member_actor(owner).has_value());
    finish(n_, reactor, method, Status::OK);
    return reactor;
  }

 private:
  node& n_;
};

// -- RoutingService -----------------------------------------------------------

/// Fills a CallView from a reply.
Status call_view(const call_reply& r, const std::string& tenant_id,
                 v1::CallView& out) {
  api::to_proto(r.call, tenant_id, r.position, out);
  if (r.estimated_wait.count() >= 0)
    api::write_duration(r.estimated_wait, *out.mutable_estimated_wait());
  return Status::OK;
}

class routing_service : public decoding<v1::RoutingService> {
 public:
  explicit routing_service(node& n) : n_(n) {
    decode_here(n_, this, "SubmitCall", &routing_service::SubmitCall);
    decode_here(n_, this, "GetCall", &routing_service::GetCall);
    decode_here(n_, this, "ListCalls", &routing_service::ListCalls);
    decode_here(n_, this, "CancelCall", &routing_service::CancelCall);
    decode_here(n_, this, "CompleteCall", &routing_service::CompleteCall);
    decode_here(n_, this, "TransferCall", &routing_service::TransferCall);
    decode_here(n_, this, "AcceptOffer", &routing_service::AcceptOffer);
    decode_here(n_, this, "SetCallDisposition",
                &routing_service::SetCallDisposition);
    decode_here(n_, this, "DeclineOffer", &routing_service::DeclineOffer);
    decode_here(n_, this, "RequestCallback", &routing_service::RequestCallback);
    decode_here(n_, this, "SetAgentPresence",
                &routing_service::SetAgentPresence);
    decode_here(n_, this, "SetAgentReady", &routing_service::SetAgentReady);
    decode_here(n_, this, "ConsultCall", &routing_service::ConsultCall);
    decode_here(n_, this, "CompleteConsult", &routing_service::CompleteConsult);
    decode_here(n_, this, "JoinConsult", &routing_service::JoinConsult);
    decode_here(n_, this, "EndWrapUp", &routing_service::EndWrapUp);
    decode_here(n_, this, "ExtendWrapUp", &routing_service::ExtendWrapUp);
  }

  grpc::ServerUnaryReactor* SubmitCall(grpc::CallbackServerContext* ctx,
                                       const v1::SubmitCallRequest* req,
                                       v1::SubmitCallResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "SubmitCall";
    auto tenant_id = req->call().tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "call.tenant_id");
    if (!t)
      return reactor;
    routing::call c;
    if (auto e = api::from_proto(req->call(), c, "call")) {
      finish(n_, reactor, method, invalid(*e));
      return reactor;
    }
    ask<call_reply>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](call_reply& r) {
        resp->set_already_submitted(r.already_submitted);
        return call_view(r, tenant_id, *resp->mutable_call());
      },
      atom::submit_v, c, std::string{});
    return reactor;
  }

  grpc::ServerUnaryReactor* GetCall(grpc::CallbackServerContext* ctx,
                                    const v1::GetCallRequest* req,
                                    v1::CallView* resp) override {
    return call_command(ctx, "GetCall", *req, resp, atom::get_v, atom::call_v,
                        req->call_id());
  }

  grpc::ServerUnaryReactor* ListCalls(grpc::CallbackServerContext* ctx,
                                      const v1::ListCallsRequest* req,
                                      v1::ListCallsResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "ListCalls";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    auto size = page_size_of(req->page_size());
    auto after = req->page_token();
    auto queue_id = req->queue_id();
    ask<std::vector<call_reply>>(
      n_, reactor, method, *t, tenant_id,
      [=](std::vector<call_reply>& all) {
        resp->set_next_page_token(fill_page(
          all, after, size,
          [](const call_reply& r) -> const std::string& {
            return r.call.data.id;
          },
          [&](const call_reply& r) {
            return queue_id.empty() || r.call.data.queue_id == queue_id;
          },
          [&](const call_reply& r) {
            auto* x = resp->add_calls();
            call_view(r, tenant_id, *x);
            return x->ByteSizeLong();
          }));
        return Status::OK;
      },
      atom::list_v, atom::call_v);
    return reactor;
  }

  grpc::ServerUnaryReactor* CancelCall(grpc::CallbackServerContext* ctx,
                                       const v1::CancelCallRequest* req,
                                       v1::CallView* resp) override {
    bool hung_up
      = req->reason() == v1::CancelCallRequest::REASON_CALLER_HUNG_UP;
    return call_command(ctx, "CancelCall", *req, resp, atom::cancel_v,
                        req->call_id(), hung_up, std::string{});
  }

  grpc::ServerUnaryReactor*
  RequestCallback(grpc::CallbackServerContext* ctx,
                  const v1::RequestCallbackRequest* req,
                  v1::CallView* resp) override {
    return call_command(ctx, "RequestCallback", *req, resp, atom::callback_v,
                        req->call_id(), req->number(), std::string{});
  }

  grpc::ServerUnaryReactor* CompleteCall(grpc::CallbackServerContext* ctx,
                                         const v1::CompleteCallRequest* req,
                                         v1::CallView* resp) override {
    return call_command(ctx, "CompleteCall", *req, resp, atom::complete_v,
                        req->call_id(), std::string{});
  }

  grpc::ServerUnaryReactor* TransferCall(grpc::CallbackServerContext* ctx,
                                         const v1::TransferCallRequest* req,
                                         v1::CallView* resp) override {
    auto [kind, target] = transfer_target_of(*req);
    return call_command(ctx, "TransferCall", *req, resp, atom::transfer_v,
                        req->call_id(), kind, target, std::string{});
  }

  grpc::ServerUnaryReactor*
  SetCallDisposition(grpc::CallbackServerContext* ctx,
                     const v1::SetCallDispositionRequest* req,
                     v1::CallView* resp) override {
    return call_command(ctx, "SetCallDisposition", *req, resp, atom::outcome_v,
                        req->call_id(), req->disposition_code(), req->note());
  }

  grpc::ServerUnaryReactor* AcceptOffer(grpc::CallbackServerContext* ctx,
                                        const v1::AcceptOfferRequest* req,
                                        v1::CallView* resp) override {
    return call_command(ctx, "AcceptOffer", *req, resp, atom::accept_v,
                        req->call_id(), req->agent_id(), req->offer_id(),
                        std::string{});
  }

  grpc::ServerUnaryReactor* DeclineOffer(grpc::CallbackServerContext* ctx,
                                         const v1::DeclineOfferRequest* req,
                                         v1::CallView* resp) override {
    return call_command(ctx, "DeclineOffer", *req, resp, atom::decline_v,
                        req->call_id(), req->agent_id(), req->offer_id(),
                        std::string{});
  }

  grpc::ServerUnaryReactor*
  SetAgentPresence(grpc::CallbackServerContext* ctx,
                   const v1::SetAgentPresenceRequest* req,
                   v1::AgentView* resp) override {
    // Checked by agent_command before it is sent.
    auto p = api::from_proto(req->presence()).value_or(routing::presence{});
    return agent_command(ctx, "SetAgentPresence", *req, resp, atom::presence_v,
                         req->agent_id(), p, std::string{});
  }

  grpc::ServerUnaryReactor* ConsultCall(grpc::CallbackServerContext* ctx,
                                        const v1::ConsultCallRequest* req,
                                        v1::CallView* resp) override {
    return call_command(ctx, "ConsultCall", *req, resp, atom::consult_v,
                        req->call_id(), req->queue_id(), req->agent_id(),
                        std::string{});
  }

  grpc::ServerUnaryReactor* CompleteConsult(grpc::CallbackServerContext* ctx,
                                            const v1::ConsultActionRequest* req,
                                            v1::CallView* resp) override {
    return call_command(ctx, "CompleteConsult", *req, resp, atom::consult_v,
                        atom::complete_v, req->call_id(), std::string{});
  }

  grpc::ServerUnaryReactor* JoinConsult(grpc::CallbackServerContext* ctx,
                                        const v1::ConsultActionRequest* req,
                                        v1::CallView* resp) override {
    return call_command(ctx, "JoinConsult", *req, resp, atom::join_v,
                        req->call_id(), std::string{});
  }

  grpc::ServerUnaryReactor* EndWrapUp(grpc::CallbackServerContext* ctx,
                                      const v1::EndWrapUpRequest* req,
                                      v1::AgentView* resp) override {
    return agent_command(ctx, "EndWrapUp", *req, resp, atom::wrap_up_v,
                         req->agent_id(), caf::timespan{0}, std::string{});
  }

  grpc::ServerUnaryReactor* ExtendWrapUp(grpc::CallbackServerContext* ctx,
                                         const v1::ExtendWrapUpRequest* req,
                                         v1::AgentView* resp) override {
    // Checked by agent_command before it is sent.
    routing::duration by{0};
    (void)api::read_extension(req->extend_by(), by, "extend_by");
    return agent_command(ctx, "ExtendWrapUp", *req, resp, atom::wrap_up_v,
                         req->agent_id(), caf::timespan{by}, std::string{});
  }

  grpc::ServerUnaryReactor* SetAgentReady(grpc::CallbackServerContext* ctx,
                                          const v1::SetAgentReadyRequest* req,
                                          v1::AgentView* resp) override {
    return agent_command(ctx, "SetAgentReady", *req, resp, atom::ready_v,
                         req->agent_id(), req->ready(), req->reason(),
                         std::string{});
  }

 private:
  template<class Request, class... Ts>
  grpc::ServerUnaryReactor* call_command(grpc::CallbackServerContext* ctx,
                                         const char* method, const Request& req,
                                         v1::CallView* resp, Ts... xs) {
    auto* reactor = reactor_of(ctx);
    auto t = begin_checked(n_, reactor, method, req);
    if (!t)
      return reactor;
    auto tenant_id = req.tenant_id();
    ask<call_reply>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](call_reply& r) {
        return call_view(r, tenant_id, *resp);
      },
      xs...);
    return reactor;
  }

  template<class Request, class... Ts>
  grpc::ServerUnaryReactor*
  agent_command(grpc::CallbackServerContext* ctx, const char* method,
                const Request& req, v1::AgentView* resp, Ts... xs) {
    auto* reactor = reactor_of(ctx);
    auto t = begin_checked(n_, reactor, method, req);
    if (!t)
      return reactor;
    auto tenant_id = req.tenant_id();
    ask<routing::agent_view>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](routing::agent_view& v) {
        api::to_proto(v, tenant_id, *resp);
        return Status::OK;
      },
      xs...);
    return reactor;
  }

  node& n_;
};

// -- StatsService -------------------------------------------------------------

class stats_service : public decoding<v1::StatsService> {
 public:
  explicit stats_service(node& n) : n_(n) {
    decode_here(n_, this, "GetQueueStats", &stats_service::GetQueueStats);
    decode_here(n_, this, "GetAgentStats", &stats_service::GetAgentStats);
    decode_here(n_, this, "ListCallHistory", &stats_service::ListCallHistory);
  }

  grpc::ServerUnaryReactor* GetQueueStats(grpc::CallbackServerContext* ctx,
                                          const v1::GetQueueStatsRequest* req,
                                          v1::QueueStats* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "GetQueueStats";
    auto tenant_id = req->tenant_id();
    auto t = begin_checked(n_, reactor, method, *req);
    if (!t)
      return reactor;
    auto queue_id = req->queue_id();
    ask<routing::queue_stats>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id, queue_id](routing::queue_stats& s) {
        *resp = api::to_proto(s, tenant_id, queue_id, {});
        return Status::OK;
      },
      atom::stats_v, queue_id);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetAgentStats(grpc::CallbackServerContext* ctx,
                                          const v1::GetAgentStatsRequest* req,
                                          v1::AgentStats* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "GetAgentStats";
    auto tenant_id = req->tenant_id();
    auto t = begin_checked(n_, reactor, method, *req);
    if (!t)
      return reactor;
    auto agent_id = req->agent_id();
    ask<routing::agent_stats>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id, agent_id](routing::agent_stats& s) {
        *resp = api::to_proto(s, tenant_id, agent_id);
        return Status::OK;
      },
      atom::stats_v, atom::agent_v, agent_id);
    return reactor;
  }

  /// Through the tenant's actor, wherever it runs: the history is in the
  /// store of the node that runs the tenant.
  grpc::ServerUnaryReactor*
  ListCallHistory(grpc::CallbackServerContext* ctx,
                  const v1::ListCallHistoryRequest* req,
                  v1::ListCallHistoryResponse* resp) override {
    auto* reactor = reactor_of(ctx);
    const char* method = "ListCallHistory";
    auto tenant_id = req->tenant_id();
    auto t = begin(n_, reactor, method, tenant_id, "tenant_id");
    if (!t)
      return reactor;
    time_span_of span;
    std::string after;
    if (!read_listing(n_, reactor, method, *req, span, after))
      return reactor;
    if (req->caller().size() > 256) {
      finish(n_, reactor, method,
             {StatusCode::INVALID_ARGUMENT,
              "caller: must be at most 256 characters, has "
                + std::to_string(req->caller().size())});
      return reactor;
    }
    ask<history_page>(
      n_, reactor, method, *t, tenant_id,
      [resp, tenant_id](history_page& page) {
        return history_response(page, tenant_id, *resp);
      },
      atom::history_v, routing::to_micros(span.from),
      routing::to_micros(span.to), req->queue_id(), req->agent_id(),
      req->caller(), after,
      static_cast<uint32_t>(page_size_of(req->page_size())));
    return reactor;
  }

 private:
  node& n_;
};

// -- EventService -------------------------------------------------------------

/// Events waiting to be written to one Subscribe stream. Shared by the
/// stream's reactor and its sink actor; the reactor pointer is cleared when
/// the stream ends.
struct outbox {
  std::mutex mtx;
  grpc::ServerWriteReactor<v1::Event>* reactor = nullptr;
  std::deque<v1::Event> pending;
  bool writing = false;
  bool finished = false;
  std::vector<int32_t> types;
  uint64_t last_sent = 0;
  /// The actor that feeds this box, once started.
  caf::actor sink;
  /// An agent's stream: only events of these agents, of calls offered to
  /// or handled by them, and of their offers. The agents are found when
  /// the stream starts and kept until it ends.
  bool only_own = false;
  std::vector<std::string> own;
  /// When the token that opened the stream expires (seconds since the
  /// epoch); the stream ends then. 0: never.
  int64_t expires_at = 0;

  bool wanted(int32_t t) const {
    return types.empty()
           || std::find(types.begin(), types.end(), t) != types.end();
  }

  bool mine(const v1::Event& e) const {
    auto of = [this](const std::string& agent) {
      return !agent.empty()
             && std::find(own.begin(), own.end(), agent) != own.end();
    };
    if (e.has_agent())
      return of(e.agent().agent().agent_id());
    if (e.has_offer() && of(e.offer().agent_id()))
      return true;
    if (of(e.released_agent_id()))
      return true;
    if (e.has_call())
      return of(e.call().agent_id()) || of(e.call().offer().agent_id());
    return false;
  }

  /// Queues an event in sequence order, decoding it only if the stream
  /// wants its type; starts a write if none is running.
  void push(uint64_t sequence, int32_t type, std::string_view bytes) {
    std::lock_guard guard{mtx};
    if (reactor == nullptr || finished || sequence <= last_sent)
      return;
    if (expires_at != 0 && unix_now() >= expires_at) {
      finished = true;
      reactor->Finish({StatusCode::UNAUTHENTICATED,
                       "the stream's bearer token expired; resubscribe with "
                       "a fresh token, from the last sequence received"});
      return;
    }
    last_sent = sequence;
    if (!wanted(type))
      return;
    v1::Event e;
    e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    if (only_own && !mine(e))
      return;
    if (pending.size() >= max_subscriber_backlog) {
      finished = true;
      reactor->Finish({StatusCode::RESOURCE_EXHAUSTED,
                       "subscriber too slow: " + std::to_string(pending.size())
                         + " events behind; resubscribe with from_sequence "
                         + std::to_string(pending.front().sequence() - 1)});
      return;
    }
    pending.push_back(std::move(e));
    if (!writing) {
      writing = true;
      reactor->StartWrite(&pending.front());
    }
  }

  /// Options for writing the front event: while more wait behind it, gRPC
  /// may hold it back and send them together.
  grpc::WriteOptions front_options() const {
    grpc::WriteOptions o;
    if (pending.size() > 1)
      o.set_buffer_hint();
    return o;
  }

  /// Events of one write, in order.
  void push(const event_batch& batch) {
    for (size_t i = 0; i < batch.events.size(); ++i)
      push(batch.first_sequence + i, batch.types[i], batch.events[i]);
  }

  void fail(const Status& st) {
    std::lock_guard guard{mtx};
    if (reactor == nullptr || finished)
      return;
    finished = true;
    reactor->Finish(st);
  }
};

/// A stream's sink while it catches up: live events wait here until the
/// stored ones before them are out.
struct sink_state {
  bool caught_up = false;
  std::vector<event_batch> held;
};

/// Sends a stream the stored events after `after` up to `last`, a chunk
/// at a time, read by the tenant's actor on whichever node owns it; then
/// the live events held meanwhile. `from_sequence` is what the subscriber
/// asked to resume from.
void catch_up(caf::event_based_actor* self, std::shared_ptr<outbox> box,
              std::shared_ptr<sink_state> st, tenant_actor tenant,
              std::string tenant_id, uint64_t from_sequence, uint64_t after,
              uint64_t last) {
  auto done = [box, st] {
    st->caught_up = true;
    for (auto& batch : st->held)
      box->push(batch); // the outbox drops what it already sent
    st->held.clear();
  };
  if (after >= last) {
    done();
    return;
  }
  self->request(tenant, actor_timeout, atom::event_v, after, last)
    .then(
      [=](uint64_t oldest, event_batch& stored) {
        // A resume from before the oldest event kept would have a gap.
        if (after == from_sequence && from_sequence > 0
            && from_sequence + 1 < oldest) {
          box->fail(
            {StatusCode::OUT_OF_RANGE,
             "from_sequence " + std::to_string(from_sequence) + ": tenant '"
               + tenant_id + "' keeps events from sequence "
               + std::to_string(oldest)
               + " on; older ones are past the node's --event-retention. "
                 "Read the current state (ListCalls, ListAgents), then "
                 "subscribe with from_sequence "
               + std::to_string(oldest - 1)});
          self->quit();
          return;
        }
        if (stored.events.empty()) {
          done();
          return;
        }
        box->push(stored);
        catch_up(self, box, st, tenant, tenant_id, from_sequence,
                 stored.first_sequence + stored.events.size() - 1, last);
      },
      [=](caf::error& err) {
        box->fail(to_status(err, tenant_id));
        self->quit();
      });
}

/// Receives a tenant's events for one stream and moves them to its outbox.
caf::behavior event_sink(caf::event_based_actor* self,
                         std::shared_ptr<outbox> box, tenant_actor tenant,
                         std::string tenant_id, uint64_t from_sequence) {
  auto st = std::make_shared<sink_state>();
  // The tenant's actor may live on another node: if it goes, so does the
  // stream, and the subscriber resumes when the tenant is back.
  self->monitor(tenant);
  self->set_down_handler([=](caf::down_msg&) {
    box->fail({StatusCode::UNAVAILABLE,
               "tenant '" + tenant_id
                 + "' stopped where it ran (its node went down, or it moved "
                   "to another node); resume with from_sequence, the last "
                   "sequence received"});
    self->quit();
  });
  self
    ->request(tenant, actor_timeout, atom::subscribe_v,
              caf::actor_cast<caf::actor>(self))
    .then(
      [=](uint64_t last_written) {
        catch_up(self, box, st, tenant, tenant_id, from_sequence, from_sequence,
                 last_written);
      },
      [=](caf::error& err) {
        box->fail(to_status(err, tenant_id));
        self->quit();
      });
  return {
    [box, st](atom::event, const event_batch& batch) {
      if (st->caught_up)
        box->push(batch);
      else
        st->held.push_back(batch);
    },
  };
}

/// Starts feeding a Subscribe stream's box from its tenant, unless the
/// stream ended already.
void start_sink(node& n, const std::shared_ptr<outbox>& box,
                const v1::SubscribeRequest& req) {
  Status failed;
  auto t = n.tenant(req.tenant_id(), "tenant_id", failed);
  if (!t) {
    n.count("Subscribe", failed);
    box->fail(failed);
    return;
  }
  auto sink = n.ctx.sys->spawn(event_sink, box, *t, req.tenant_id(),
                               req.from_sequence());
  std::lock_guard guard{box->mtx};
  if (box->reactor == nullptr)
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  else
    box->sink = sink;
}

/// Starts a Subscribe stream once its caller may read it: the whole
/// tenant, or as an agent their own events.
void start_guarded(node& n, grpc::CallbackServerContext* ctx,
                   const std::shared_ptr<outbox>& box,
                   const v1::SubscribeRequest& req) {
  const char* method = "Subscribe";
  n.ctx.auth->authenticate(*ctx, [&n, method, box, req](const Status& st,
                                                        access::principal who) {
    auto refuse = [&](const Status& why) {
      n.log_refusal(method, why, who.who);
      n.count(method, why);
      box->fail(why);
    };
    if (!st.ok())
      return refuse(st);
    auto d = access::decide(who, method, target_of(req), n.lookup());
    {
      std::lock_guard guard{box->mtx};
      box->expires_at = who.expires_at;
    }
    using kind = access::decision::kind;
    switch (d.what) {
      case kind::allow: start_sink(n, box, req); return;
      case kind::hide: return refuse({StatusCode::NOT_FOUND, d.message});
      case kind::own_events: break;
      default: return refuse({StatusCode::PERMISSION_DENIED, d.message});
    }
    find_own_agents(
      n, who, req.tenant_id(),
      [&n, box, req, who, refuse](const std::vector<std::string>& mine,
                                  const Status& found) {
        if (!found.ok())
          return refuse(found);
        if (mine.empty())
          return refuse({StatusCode::PERMISSION_DENIED,
                         who.who + " is no agent of tenant '" + req.tenant_id()
                           + "': no agent has teams_user_id " + who.object_id});
        {
          std::lock_guard guard{box->mtx};
          box->only_own = true;
          box->own = mine;
        }
        start_sink(n, box, req);
      });
  });
}

class subscribe_reactor final : public grpc::ServerWriteReactor<v1::Event> {
 public:
  subscribe_reactor(node& n, grpc::CallbackServerContext* ctx,
                    const v1::SubscribeRequest& req)
    : n_(n) {
    box_ = std::make_shared<outbox>();
    box_->reactor = this;
    for (auto t : req.types())
      box_->types.push_back(static_cast<int32_t>(t));
    box_->last_sent = req.from_sequence();
    if (n_.checks())
      start_guarded(n_, ctx, box_, req);
    else
      start_sink(n_, box_, req);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard guard{box_->mtx};
    if (!box_->pending.empty())
      box_->pending.pop_front();
    if (!ok) {
      box_->writing = false;
      if (!box_->finished) {
        box_->finished = true;
        Finish(Status::CANCELLED);
      }
      return;
    }
    if (!box_->pending.empty() && !box_->finished)
      StartWrite(&box_->pending.front(), box_->front_options());
    else
      box_->writing = false;
  }

  void OnCancel() override { box_->fail(Status::CANCELLED); }

  void OnDone() override {
    caf::actor sink;
    {
      std::lock_guard guard{box_->mtx};
      box_->reactor = nullptr;
      sink = std::move(box_->sink);
    }
    if (sink)
      caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    n_.count("Subscribe", Status::OK);
    delete this;
  }

 private:
  node& n_;
  std::shared_ptr<outbox> box_;
};

/// Requests of one Ingest stream, in arrival order.
struct job_queue {
  std::mutex mtx;
  std::vector<std::function<void(caf::event_based_actor*)>> jobs;
  /// Touched by the bridge actor only: requests waiting on tenant actors
  /// of other nodes, by actor and request number, each with what answers
  /// it if that actor's node goes down first.
  std::map<caf::actor_addr,
           std::map<uint64_t, std::function<void(const caf::error&)>>>
    remote;
  uint64_t next_remote = 0;
  /// A tick is on its way to the bridge: it will take every job queued
  /// until then, so no other is sent.
  bool tick_sent = false;
};

/// Sends one Ingest stream's commands to their tenants from one actor, so
/// that they arrive in the order the gateway sent them (CAF keeps the order
/// of messages between two actors): a submit is applied before the cancel
/// that follows it.
caf::behavior ingest_bridge(caf::event_based_actor* self,
                            std::shared_ptr<job_queue> jobs) {
  return {
    [self, jobs](atom::tick) {
      std::vector<std::function<void(caf::event_based_actor*)>> batch;
      {
        std::lock_guard guard{jobs->mtx};
        batch.swap(jobs->jobs);
        jobs->tick_sent = false;
      }
      for (auto& job : batch)
        job(self);
    },
  };
}

/// Answers the requests that wait on an actor whose node went down.
void fail_remote(std::shared_ptr<job_queue> jobs, const caf::actor_addr& who,
                 const caf::error& reason) {
  auto i = jobs->remote.find(who);
  if (i == jobs->remote.end())
    return;
  auto waiting = std::move(i->second);
  jobs->remote.erase(i);
  for (auto& [id, fail] : waiting)
    fail(reason);
}

/// One Ingest stream: commands are applied in order as they arrive (up to
/// `ingest_window` at once) and answered in the same order.
class ingest_reactor final
  : public grpc::ServerBidiReactor<grpc::ByteBuffer, v1::IngestResponse> {
 public:
  ingest_reactor(node& n, grpc::CallbackServerContext* ctx) : n_(n) {
    jobs_ = std::make_shared<job_queue>();
    // The queue is a spawn argument: CAF 0.17.6 mishandles function
    // actors spawned without arguments.
    bridge_ = n_.ctx.sys->spawn(
      [](caf::event_based_actor* self, std::shared_ptr<job_queue> jobs) {
        self->set_down_handler([jobs](caf::down_msg& down) {
          fail_remote(jobs, down.source, down.reason);
        });
        return ingest_bridge(self, jobs);
      },
      jobs_);
    if (!n_.checks()) {
      StartRead(&request_);
      return;
    }
    // Nothing is read before the caller is known, so the stream stays
    // open (gRPC calls OnDone only after Finish) until this answers.
    n_.ctx.auth->authenticate(
      *ctx, [this](const Status& st, access::principal who) {
        auto refused = st;
        if (st.ok()) {
          // Ingest names no tenant itself: the role is checked here,
          // each command's tenant as it arrives.
          auto* rule = access::rule_of("Ingest");
          if ((who.roles & rule->tenant_wide) == 0)
            refused = {StatusCode::PERMISSION_DENIED,
                       "Ingest needs the app role Switchboard.Gateway or "
                       "Switchboard.Platform; "
                         + who.who + " has " + access::describe(who.roles)};
        }
        if (!refused.ok()) {
          n_.log_refusal("Ingest", refused, who.who);
          std::lock_guard guard{mtx_};
          finished_ = true;
          Finish(refused);
          return;
        }
        caller_ = std::move(who);
        StartRead(&request_);
      });
  }

  ~ingest_reactor() override {
    caf::anon_send_exit(bridge_, caf::exit_reason::user_shutdown);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock guard{mtx_};
    if (!ok) {
      reads_done_ = true;
      maybe_finish();
      return;
    }
    // Decoded here rather than by gRPC, so that bytes which are not an
    // IngestRequest are answered in their place in the stream, naming
    // what is wrong, and the stream goes on.
    v1::IngestRequest req;
    auto decoded = grpc::SerializationTraits<v1::IngestRequest>::Deserialize(
      &request_, &req);
    request_.Clear();
    auto slot = std::make_shared<entry>();
    slot->response.set_event_id(req.event_id());
    slots_.push_back(slot);
    guard.unlock();
    if (decoded.ok())
      dispatch(req, slot);
    else
      undecodable(slot);
    guard.lock();
    if (slots_.size() < ingest_window)
      StartRead(&request_);
    else
      read_paused_ = true;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard guard{mtx_};
    writing_ = false;
    slots_.pop_front();
    if (!ok) {
      broken_ = true;
      maybe_finish();
      return;
    }
    if (read_paused_ && slots_.size() < ingest_window && !reads_done_) {
      read_paused_ = false;
      StartRead(&request_);
    }
    write_next();
    maybe_finish();
  }

  void OnDone() override {
    n_.count("Ingest", Status::OK);
    // Replies still in flight hold the entries, not this reactor.
    std::unique_lock guard{mtx_};
    done_ = true;
    if (outstanding_ == 0) {
      guard.unlock();
      delete this;
    }
  }

 private:
  struct entry {
    bool ready = false;
    v1::IngestResponse response;
  };

  /// Called with the lock held.
  void write_next() {
    if (writing_ || broken_ || slots_.empty() || !slots_.front()->ready)
      return;
    writing_ = true;
    // While the next answer is ready too, gRPC may send them together.
    grpc::WriteOptions o;
    if (slots_.size() > 1 && slots_[1]->ready)
      o.set_buffer_hint();
    StartWrite(&slots_.front()->response, o);
  }

  /// Called with the lock held.
  void maybe_finish() {
    if (finished_ || writing_)
      return;
    if (broken_ || (reads_done_ && slots_.empty())) {
      finished_ = true;
      Finish(broken_ ? Status::CANCELLED : Status::OK);
    }
  }

  void complete(const std::shared_ptr<entry>& slot, const Status& st,
                bool duplicate = false) {
    std::unique_lock guard{mtx_};
    slot->ready = true;
    slot->response.set_code(static_cast<int32_t>(st.error_code()));
    slot->response.set_message(st.error_message());
    slot->response.set_duplicate(duplicate);
    --outstanding_;
    if (done_) {
      if (outstanding_ == 0) {
        guard.unlock();
        delete this;
      }
      return;
    }
    write_next();
  }

  void complete(const std::shared_ptr<entry>& slot, const caf::error& err,
                const std::string& tenant_id, const caf::node_id& where) {
    if (err == caf::sec::request_receiver_down) {
      complete(slot, stopped(n_, tenant_id, where, err));
      return;
    }
    if (err.category() == caf::atom("switchbrd")
        && static_cast<ec>(err.code()) == ec::duplicate) {
      // The first outcome, stored as "CODE|message".
      auto first = message_of(err);
      auto bar = first.find('|');
      auto code = ec::none;
      if (bar != std::string::npos)
        code = static_cast<ec>(std::atoi(first.substr(0, bar).c_str()));
      complete(slot,
               Status{code_of(code),
                      bar == std::string::npos ? first : first.substr(bar + 1)},
               true);
      return;
    }
    complete(slot, to_status(err, tenant_id));
  }

  template<class Reply, class... Ts>
  void send(const std::shared_ptr<entry>& slot, const std::string& tenant_id,
            Ts... xs) {
    if (caller_) {
      Status refused;
      auto held = access::roles_on(*caller_, tenant_id, n_.lookup());
      if (caller_->expires_at != 0 && unix_now() >= caller_->expires_at)
        refused = {StatusCode::UNAUTHENTICATED,
                   "the stream's bearer token expired; open a new Ingest "
                   "stream with a fresh token and send this command again"};
      else if (held == 0)
        refused = {StatusCode::NOT_FOUND, access::no_such_tenant(tenant_id)};
      else if ((held & access::rule_of("Ingest")->tenant_wide) == 0)
        refused
          = {StatusCode::PERMISSION_DENIED,
             "Ingest for tenant '" + tenant_id
               + "' needs the role gateway or platform there; " + caller_->who
               + " has " + access::describe(held) + " there"};
      if (!refused.ok()) {
        n_.log_refusal("Ingest", refused, caller_->who);
        complete(slot, refused);
        return;
      }
    }
    Status failed;
    auto t = n_.tenant(tenant_id, "tenant_id", failed);
    if (!t) {
      complete(slot, failed);
      return;
    }
    bool tick = false;
    {
      std::lock_guard guard{jobs_->mtx};
      tick = !jobs_->tick_sent;
      jobs_->tick_sent = true;
      jobs_->jobs.push_back([this, slot, tenant_id, target = *t,
                             xs...](caf::event_based_actor* self) {
        // No timer per command: arming and cancelling one wakes CAF's
        // clock thread twice per command, measured as 6 % of the node's
        // CPU under load. A tenant that stops answers every waiting
        // request with an error, and the stream's window bounds what
        // waits.
        if (target.node() == self->node()) {
          self->request(target, caf::infinite, xs...)
            .then(
              [this, slot](Reply&) {
                complete(slot, Status::OK);
              },
              [this, slot, tenant_id, where = target.node()](caf::error& err) {
                complete(slot, err, tenant_id, where);
              });
          return;
        }
        // A tenant on another node: answered at once if its node goes.
        auto jobs = jobs_;
        auto addr = target.address();
        auto& waiting = jobs->remote[addr];
        if (waiting.empty())
          self->monitor(target);
        auto id = jobs->next_remote++;
        waiting[id] = [this, slot, tenant_id,
                       where = target.node()](const caf::error& reason) {
          complete(slot, stopped(n_, tenant_id, where, reason));
        };
        // Whichever comes first answers: the reply or the node's loss.
        auto answered = [jobs, addr, id] {
          auto i = jobs->remote.find(addr);
          return i != jobs->remote.end() && i->second.erase(id) > 0;
        };
        self->request(target, caf::infinite, xs...)
          .then(
            [this, slot, answered](Reply&) {
              if (answered())
                complete(slot, Status::OK);
            },
            [this, slot, tenant_id, answered,
             where = target.node()](caf::error& err) {
              if (answered())
                complete(slot, err, tenant_id, where);
            });
      });
    }
    if (tick)
      caf::anon_send(bridge_, atom::tick_v);
  }

  /// Refuses a command for bad input through its tenant, which records
  /// the refusal as the event id's first outcome: a later command with the
  /// same id gets the refusal, not a second chance. Without a tenant to
  /// record it in (an unknown or bad tenant id) it is answered here.
  void refuse(const std::shared_ptr<entry>& slot, const std::string& tenant_id,
              const api::field_error& e, const std::string& event_id) {
    send<atom::ok>(slot, tenant_id, atom::refuse_v, e.to_string(), event_id);
  }

  void undecodable(const std::shared_ptr<entry>& slot) {
    {
      std::lock_guard guard{mtx_};
      ++outstanding_;
      slot->response.clear_event_id();
    }
    complete(slot, Status{StatusCode::INVALID_ARGUMENT,
                          std::string{"request: "}
                            + undecodable_text(
                              v1::IngestRequest::descriptor()->name())});
  }

  void dispatch(const v1::IngestRequest& req,
                const std::shared_ptr<entry>& slot) {
    {
      std::lock_guard guard{mtx_};
      ++outstanding_;
    }
    auto& id = req.event_id();
    if (auto e = api::check_id(id, "event_id")) {
      complete(slot, invalid(*e));
      return;
    }
    using R = v1::IngestRequest;
    switch (req.command_case()) {
      case R::kSubmitCall: {
        auto& x = req.submit_call().call();
        routing::call c;
        if (auto e = api::from_proto(x, c, "submit_call.call"))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::submit_v, c, id);
        return;
      }
      case R::kCancelCall: {
        auto& x = req.cancel_call();
        if (auto e = api::check(x, "cancel_call."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(
          slot, x.tenant_id(), atom::cancel_v, x.call_id(),
          x.reason() == v1::CancelCallRequest::REASON_CALLER_HUNG_UP, id);
        return;
      }
      case R::kCompleteCall: {
        auto& x = req.complete_call();
        if (auto e = api::check(x, "complete_call."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::complete_v, x.call_id(),
                         id);
        return;
      }
      case R::kTransferCall: {
        auto& x = req.transfer_call();
        if (auto e = api::check(x, "transfer_call."))
          return refuse(slot, x.tenant_id(), *e, id);
        auto [kind, target] = transfer_target_of(x);
        send<call_reply>(slot, x.tenant_id(), atom::transfer_v, x.call_id(),
                         kind, target, id);
        return;
      }
      case R::kAcceptOffer: {
        auto& x = req.accept_offer();
        if (auto e = api::check(x, "accept_offer."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::accept_v, x.call_id(),
                         x.agent_id(), x.offer_id(), id);
        return;
      }
      case R::kDeclineOffer: {
        auto& x = req.decline_offer();
        if (auto e = api::check(x, "decline_offer."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::decline_v, x.call_id(),
                         x.agent_id(), x.offer_id(), id);
        return;
      }
      case R::kRequestCallback: {
        auto& x = req.request_callback();
        if (auto e = api::check(x, "request_callback."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::callback_v, x.call_id(),
                         x.number(), id);
        return;
      }
      case R::kSetAgentPresence: {
        auto& x = req.set_agent_presence();
        if (auto e = api::check(x, "set_agent_presence."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<routing::agent_view>(slot, x.tenant_id(), atom::presence_v,
                                  x.agent_id(), *api::from_proto(x.presence()),
                                  id);
        return;
      }
      case R::kSetAgentReady: {
        auto& x = req.set_agent_ready();
        if (auto e = api::check(x, "set_agent_ready."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<routing::agent_view>(slot, x.tenant_id(), atom::ready_v,
                                  x.agent_id(), x.ready(), x.reason(), id);
        return;
      }
      case R::kConsultCall: {
        auto& x = req.consult_call();
        if (auto e = api::check(x, "consult_call."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::consult_v, x.call_id(),
                         x.queue_id(), x.agent_id(), id);
        return;
      }
      case R::kCompleteConsult: {
        auto& x = req.complete_consult();
        if (auto e = api::check(x, "complete_consult."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::consult_v, atom::complete_v,
                         x.call_id(), id);
        return;
      }
      case R::kJoinConsult: {
        auto& x = req.join_consult();
        if (auto e = api::check(x, "join_consult."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<call_reply>(slot, x.tenant_id(), atom::join_v, x.call_id(), id);
        return;
      }
      case R::kEndWrapUp: {
        auto& x = req.end_wrap_up();
        if (auto e = api::check(x, "end_wrap_up."))
          return refuse(slot, x.tenant_id(), *e, id);
        send<routing::agent_view>(slot, x.tenant_id(), atom::wrap_up_v,
                                  x.agent_id(), caf::timespan{0}, id);
        return;
      }
      case R::kExtendWrapUp: {
        auto& x = req.extend_wrap_up();
        routing::duration by{0};
        if (auto e = api::check(x, "extend_wrap_up."))
          return refuse(slot, x.tenant_id(), *e, id);
        (void)api::read_extension(x.extend_by(), by, "extend_wrap_up");
        send<routing::agent_view>(slot, x.tenant_id(), atom::wrap_up_v,
                                  x.agent_id(), caf::timespan{by}, id);
        return;
      }
      case R::COMMAND_NOT_SET: break;
    }
    complete(slot, {StatusCode::INVALID_ARGUMENT,
                    "command: none set (submit_call, cancel_call, ...)"});
  }

  node& n_;
  std::shared_ptr<job_queue> jobs_;
  /// Who sent the stream, when requests are checked.
  std::optional<access::principal> caller_;
  caf::actor bridge_;
  std::mutex mtx_;
  grpc::ByteBuffer request_;
  std::deque<std::shared_ptr<entry>> slots_;
  size_t outstanding_ = 0;
  bool writing_ = false;
  bool reads_done_ = false;
  bool read_paused_ = false;
  bool broken_ = false;
  bool finished_ = false;
  bool done_ = false;
};

/// A Subscribe whose request is refused before it starts.
class refused_subscription final : public grpc::ServerWriteReactor<v1::Event> {
 public:
  explicit refused_subscription(const Status& st) { Finish(st); }
  void OnDone() override { delete this; }
};

/// Subscribe and Ingest, both registered raw so that requests which do not
/// decode get INVALID_ARGUMENT naming the message, not gRPC's own status.
class event_service : public decoding<v1::EventService> {
 public:
  explicit event_service(node& n) : n_(n) {
    MarkMethodRawCallback(
      method_index("Subscribe"),
      new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer,
                                                         v1::Event>(
        [this](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in)
          -> grpc::ServerWriteReactor<v1::Event>* {
          grpc::ByteBuffer bytes{*in};
          v1::SubscribeRequest req;
          auto decoded
            = grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(
              &bytes, &req);
          if (!decoded.ok()) {
            Status st{
              StatusCode::INVALID_ARGUMENT,
              std::string{"request: "}
                + undecodable_text(v1::SubscribeRequest::descriptor()->name())};
            n_.count("Subscribe", st);
            return new refused_subscription(st);
          }
          return new subscribe_reactor(n_, ctx, req);
        }));
    MarkMethodRawCallback(
      method_index("Ingest"),
      new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer,
                                              v1::IngestResponse>(
        [this](grpc::CallbackServerContext* ctx)
          -> grpc::ServerBidiReactor<grpc::ByteBuffer, v1::IngestResponse>* {
          return new ingest_reactor(n_, ctx);
        }));
  }

 private:
  node& n_;
};

/// Owns the node state shared by the services; the last service holds it.
template<class Service>
class owning final : public Service {
 public:
  explicit owning(std::shared_ptr<node> n) : Service(*n), n_(std::move(n)) {}

 private:
  std::shared_ptr<node> n_;
};

} // namespace

std::vector<std::unique_ptr<grpc::Service>>
make_services(const service_context& ctx) {
  auto n = std::make_shared<node>();
  n->ctx = ctx;
  std::vector<std::unique_ptr<grpc::Service>> result;
  result.push_back(std::make_unique<owning<admin_service>>(n));
  result.push_back(std::make_unique<owning<routing_service>>(n));
  result.push_back(std::make_unique<owning<event_service>>(n));
  result.push_back(std::make_unique<owning<stats_service>>(n));
  result.push_back(std::make_unique<owning<cluster_service>>(n));
  return result;
}

} // namespace switchboard::router
