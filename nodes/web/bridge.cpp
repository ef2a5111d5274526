#include "nodes/web/bridge.hpp"

#include "nodes/router/log.hpp"

#include "switchboard/v1/admin.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.pb.h"
#include "switchboard/v1/stats.pb.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <mutex>

namespace switchboard::web {

namespace v1 = switchboard::v1;
namespace pb = google::protobuf;

namespace {

/// The services the app may call, with their package.
constexpr const char* package = "switchboard.v1.";
constexpr const char* bridged_services[]
  = {"AdminService", "RoutingService", "StatsService"};

/// The HTTP status of a gRPC code, as grpc-gateway maps them.
unsigned http_status(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    default: return 500;
  }
}

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

api_answer error_answer(unsigned status, const char* code,
                        const std::string& message) {
  return {status, "{\"error\":{\"code\":" + router::json_quote(code)
                    + ",\"message\":" + router::json_quote(message) + "}}"};
}

api_answer error_answer(const grpc::Status& st) {
  return error_answer(http_status(st.error_code()), code_name(st.error_code()),
                      st.error_message());
}

pb::util::JsonPrintOptions print_options() {
  pb::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  return o;
}

std::unique_ptr<grpc::ClientContext> context_for(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty())
    ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

// The events of one tenant, read one at a time and handed on as JSON.
class subscription final : public grpc::ClientReadReactor<v1::Event> {
 public:
  // What the stream's holder and the reactor share: the reactor goes when
  // gRPC is done with it, the holder when the app's connection closes.
  struct control {
    std::mutex mutex;
    subscription* reactor = nullptr;
    bool dropped = false;
  };

  subscription(std::shared_ptr<control> c,
               std::function<void(std::string)> on_event,
               std::function<void(std::string)> on_end)
    : control_(std::move(c)), on_event_(std::move(on_event)),
      on_end_(std::move(on_end)) {
    control_->reactor = this;
  }

  grpc::ClientContext ctx;
  v1::SubscribeRequest request;

  void start() {
    StartRead(&event_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok)
      return; // OnDone follows
    std::string json;
    (void)pb::util::MessageToJsonString(event_, &json, print_options());
    {
      std::lock_guard<std::mutex> lock{control_->mutex};
      if (!control_->dropped)
        on_event_(std::move(json));
    }
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& st) override {
    {
      std::lock_guard<std::mutex> lock{control_->mutex};
      control_->reactor = nullptr;
      if (!control_->dropped)
        on_end_(st.ok() ? std::string{} : error_answer(st).body);
    }
    delete this;
  }

 private:
  std::shared_ptr<control> control_;
  std::function<void(std::string)> on_event_;
  std::function<void(std::string)> on_end_;
  v1::Event event_;
};

class subscription_handle final : public event_stream {
 public:
  explicit subscription_handle(std::shared_ptr<subscription::control> c)
    : control_(std::move(c)) {}
  ~subscription_handle() override {
    std::lock_guard<std::mutex> lock{control_->mutex};
    control_->dropped = true;
    if (control_->reactor != nullptr)
      control_->reactor->ctx.TryCancel();
  }

 private:
  std::shared_ptr<subscription::control> control_;
};

} // namespace

struct bridge::impl {
  options opts;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> generic;
  std::unique_ptr<v1::EventService::Stub> events;
};

bridge::bridge(const options& opts, std::string& error)
  : impl_(std::make_unique<impl>()) {
  impl_->opts = opts;
  auto credentials = tls::channel_credentials(
    opts.router_tls,
    {"--router-tls-certificate", "--router-tls-private-key", "--router-tls-ca"},
    error);
  if (!credentials)
    return;
  impl_->channel = grpc::CreateChannel(opts.router, credentials);
  impl_->generic = std::make_unique<grpc::GenericStub>(impl_->channel);
  impl_->events = v1::EventService::NewStub(impl_->channel);
  // The messages of every bridged service, registered before any lookup.
  (void)v1::GetTenantRequest::descriptor();
  (void)v1::SubmitCallRequest::descriptor();
  (void)v1::GetQueueStatsRequest::descriptor();
}

bridge::~bridge() = default;

void bridge::call(const std::string& service, const std::string& method,
                  const std::string& json, const std::string& token,
                  std::function<void(api_answer)> done) {
  bool bridged = false;
  for (const char* s : bridged_services)
    bridged = bridged || service == s;
  const auto* pool = pb::DescriptorPool::generated_pool();
  const auto* sd
    = bridged ? pool->FindServiceByName(package + service) : nullptr;
  const auto* md = sd != nullptr ? sd->FindMethodByName(method) : nullptr;
  if (md == nullptr)
    return done(error_answer(
      404, "NOT_FOUND", "no method " + service + "." + method + " in the API"));
  if (md->client_streaming() || md->server_streaming())
    return done(error_answer(404, "NOT_FOUND",
                             service + "." + method
                               + " streams: events come over the WebSocket "
                                 "/api/v1/events"));
  auto* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> req{
    factory->GetPrototype(md->input_type())->New()};
  pb::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto parsed = pb::util::JsonStringToMessage(json.empty() ? "{}" : json,
                                              req.get(), parse);
  if (!parsed.ok())
    return done(error_answer(400, "INVALID_ARGUMENT",
                             "the body is not a " + md->input_type()->name()
                               + ": " + std::string{parsed.message()}));
  grpc::ByteBuffer request_bytes;
  {
    std::string wire;
    req->SerializeToString(&wire);
    grpc::Slice slice{wire};
    request_bytes = grpc::ByteBuffer{&slice, 1};
  }
  struct pending {
    std::unique_ptr<grpc::ClientContext> ctx;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::unique_ptr<pb::Message> answer;
    std::function<void(api_answer)> done;
  };
  auto p = std::make_shared<pending>();
  p->ctx = context_for(token);
  p->ctx->set_deadline(std::chrono::system_clock::now() + impl_->opts.deadline);
  p->request = std::move(request_bytes);
  p->answer.reset(factory->GetPrototype(md->output_type())->New());
  p->done = std::move(done);
  impl_->generic->UnaryCall(
    p->ctx.get(), "/" + std::string{package} + service + "/" + method, {},
    &p->request, &p->response, [p](grpc::Status st) {
      if (!st.ok())
        return p->done(error_answer(st));
      std::vector<grpc::Slice> slices;
      (void)p->response.Dump(&slices);
      std::string wire;
      for (auto& s : slices)
        wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
      if (!p->answer->ParseFromString(wire))
        return p->done(error_answer(502, "INTERNAL",
                                    "the router's answer could not be read"));
      std::string out;
      (void)pb::util::MessageToJsonString(*p->answer, &out, print_options());
      p->done({200, std::move(out)});
    });
}

std::unique_ptr<event_stream>
bridge::subscribe(const std::string& tenant_id, std::uint64_t from_sequence,
                  const std::string& token,
                  std::function<void(std::string)> on_event,
                  std::function<void(std::string)> on_end) {
  auto control = std::make_shared<subscription::control>();
  auto* s = new subscription(control, std::move(on_event), std::move(on_end));
  if (!token.empty())
    s->ctx.AddMetadata("authorization", "Bearer " + token);
  s->request.set_tenant_id(tenant_id);
  s->request.set_from_sequence(from_sequence);
  impl_->events->async()->Subscribe(&s->ctx, &s->request, s);
  s->start();
  return std::make_unique<subscription_handle>(std::move(control));
}

} // namespace switchboard::web
