// Every request message of the API as the router decodes and checks it
// before a tenant sees it: the first byte picks the method, the rest is its
// request's wire form. What decodes goes through the router's own reading
// of whom it concerns (target_of), the access decision for a gateway
// certificate of one tenant and an agent of it (which must never open
// another tenant), and the validation and conversion of its handler or
// Ingest command.

#include "nodes/identity/token.hpp"
#include "nodes/router/access.hpp"
#include "nodes/router/request_target.hpp"
#include "routing/model.hpp"

#include "proto/convert.hpp"
#include "switchboard/v1/admin.pb.h"
#include "switchboard/v1/cluster.pb.h"
#include "switchboard/v1/events.pb.h"
#include "switchboard/v1/routing.pb.h"
#include "switchboard/v1/stats.pb.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace v1 = switchboard::v1;
namespace api = switchboard::api;
namespace access = switchboard::router::access;
namespace routing = switchboard::routing;

namespace {

std::optional<std::string> microsoft_of(const std::string& id) {
  if (id == "contoso")
    return std::string{"ms-contoso"};
  if (id == "fabrikam")
    return std::string{"ms-fabrikam"};
  return std::nullopt;
}

/// Callers of contoso only: its gateway's certificate, and its agent.
const std::vector<access::principal>& contoso_callers() {
  static const std::vector<access::principal> all = [] {
    std::string why;
    std::vector<access::principal> ps;
    ps.push_back(*access::of_certificate(
      "CN=sbc", {"urn:switchboard:gateway:contoso"}, why));
    switchboard::identity::token_claims c;
    c.tenant_id = "ms-contoso";
    c.object_id = "oid-ann";
    c.roles
      = {"Switchboard.Agent", "Switchboard.Supervisor", "Switchboard.Platform"};
    ps.push_back(access::of_token(c, "ms-provider"));
    return ps;
  }();
  return all;
}

/// No decision may let a caller of contoso at another tenant.
void check_access(const char* method, const google::protobuf::Message& m) {
  auto target = switchboard::router::target_of(m);
  for (auto& who : contoso_callers()) {
    auto d = access::decide(who, method, target, microsoft_of);
    bool opens = d.what != access::decision::kind::deny
                 && d.what != access::decision::kind::hide;
    if (opens && target.tenant_id != "contoso") {
      std::fprintf(stderr, "%s opened tenant '%s' to %s\n", method,
                   target.tenant_id.c_str(), who.who.c_str());
      __builtin_trap();
    }
  }
}

void ingest(const v1::IngestRequest& req) {
  using R = v1::IngestRequest;
  (void)api::check_id(req.event_id(), "event_id");
  switch (req.command_case()) {
    case R::kSubmitCall: {
      routing::call c;
      (void)api::from_proto(req.submit_call().call(), c, "submit_call.call");
      check_access("SubmitCall", req.submit_call());
      break;
    }
    case R::kCancelCall:
      (void)api::check(req.cancel_call(), "cancel_call.");
      check_access("CancelCall", req.cancel_call());
      break;
    case R::kCompleteCall:
      (void)api::check(req.complete_call(), "complete_call.");
      break;
    case R::kTransferCall:
      (void)api::check(req.transfer_call(), "transfer_call.");
      check_access("TransferCall", req.transfer_call());
      break;
    case R::kAcceptOffer:
      (void)api::check(req.accept_offer(), "accept_offer.");
      check_access("AcceptOffer", req.accept_offer());
      break;
    case R::kDeclineOffer:
      (void)api::check(req.decline_offer(), "decline_offer.");
      break;
    case R::kSetAgentPresence:
      (void)api::check(req.set_agent_presence(), "set_agent_presence.");
      break;
    case R::kSetAgentReady:
      (void)api::check(req.set_agent_ready(), "set_agent_ready.");
      break;
    case R::kRequestCallback:
      (void)api::check(req.request_callback(), "request_callback.");
      break;
    case R::kEndWrapUp:
      (void)api::check(req.end_wrap_up(), "end_wrap_up.");
      break;
    case R::kExtendWrapUp:
      (void)api::check(req.extend_wrap_up(), "extend_wrap_up.");
      break;
    case R::kConsultCall:
      (void)api::check(req.consult_call(), "consult_call.");
      break;
    case R::kCompleteConsult:
      (void)api::check(req.complete_consult(), "complete_consult.");
      break;
    case R::kJoinConsult:
      (void)api::check(req.join_consult(), "join_consult.");
      break;
    case R::COMMAND_NOT_SET: break;
  }
}

/// One method: its name, and what the router does with its request.
struct method {
  const char* name;
  std::function<void(const std::uint8_t*, std::size_t)> run;
};

/// Decodes as Request and checks who may call `name` with it; then `more`.
template<class Request>
method plain(const char* name,
             std::function<void(const Request&)> more = nullptr) {
  return {name, [name, more](const std::uint8_t* d, std::size_t n) {
            Request req;
            if (!req.ParseFromArray(d, static_cast<int>(n)))
              return;
            check_access(name, req);
            if (more)
              more(req);
          }};
}

/// A request with api::check of its own.
template<class Request>
method checked(const char* name) {
  return plain<Request>(name, [](const Request& r) {
    (void)api::check(r);
  });
}

const std::vector<method>& methods() {
  static const std::vector<method> all{
    plain<v1::UpsertTenantRequest>("UpsertTenant",
                                   [](const v1::UpsertTenantRequest& r) {
                                     routing::tenant t;
                                     (void)api::from_proto(r.tenant(), t);
                                   }),
    plain<v1::UpsertQueueRequest>("UpsertQueue",
                                  [](const v1::UpsertQueueRequest& r) {
                                    routing::queue q;
                                    (void)api::from_proto(r.queue(), q);
                                  }),
    plain<v1::UpsertAgentRequest>("UpsertAgent",
                                  [](const v1::UpsertAgentRequest& r) {
                                    routing::agent a;
                                    (void)api::from_proto(r.agent(), a);
                                  }),
    plain<v1::UpsertClassificationRulesRequest>(
      "UpsertClassificationRules",
      [](const v1::UpsertClassificationRulesRequest& r) {
        v1::ClassificationRules rules;
        rules.set_tenant_id(r.tenant_id());
        *rules.mutable_rules() = r.rules();
        rules.set_default_queue_id(r.default_queue_id());
        routing::classification c;
        (void)api::from_proto(rules, c);
      }),
    plain<v1::SubmitCallRequest>("SubmitCall",
                                 [](const v1::SubmitCallRequest& r) {
                                   routing::call c;
                                   (void)api::from_proto(r.call(), c);
                                 }),
    {"Ingest",
     [](const std::uint8_t* d, std::size_t n) {
       v1::IngestRequest req;
       if (req.ParseFromArray(d, static_cast<int>(n)))
         ingest(req);
     }},
    checked<v1::GetQueueRequest>("GetQueue"),
    checked<v1::DeleteQueueRequest>("DeleteQueue"),
    checked<v1::GetAgentRequest>("GetAgent"),
    checked<v1::DeleteAgentRequest>("DeleteAgent"),
    checked<v1::GetQueueStatsRequest>("GetQueueStats"),
    checked<v1::GetAgentStatsRequest>("GetAgentStats"),
    checked<v1::GetCallRequest>("GetCall"),
    checked<v1::CancelCallRequest>("CancelCall"),
    checked<v1::CompleteCallRequest>("CompleteCall"),
    checked<v1::TransferCallRequest>("TransferCall"),
    checked<v1::AcceptOfferRequest>("AcceptOffer"),
    checked<v1::SetCallDispositionRequest>("SetCallDisposition"),
    checked<v1::DeclineOfferRequest>("DeclineOffer"),
    checked<v1::RequestCallbackRequest>("RequestCallback"),
    checked<v1::SetAgentPresenceRequest>("SetAgentPresence"),
    checked<v1::SetAgentReadyRequest>("SetAgentReady"),
    checked<v1::ConsultCallRequest>("ConsultCall"),
    checked<v1::ConsultActionRequest>("CompleteConsult"),
    checked<v1::EndWrapUpRequest>("EndWrapUp"),
    checked<v1::ExtendWrapUpRequest>("ExtendWrapUp"),
    plain<v1::GetTenantRequest>("GetTenant"),
    plain<v1::ListQueuesRequest>("ListQueues"),
    plain<v1::ListAgentsRequest>("ListAgents"),
    plain<v1::ListCallsRequest>("ListCalls"),
    plain<v1::ListCallHistoryRequest>("ListCallHistory"),
    plain<v1::ListConfigurationChangesRequest>("ListConfigurationChanges"),
    plain<v1::SubscribeRequest>("Subscribe"),
    plain<v1::LocateTenantRequest>("LocateTenant"),
    plain<v1::RemoveMemberRequest>("RemoveMember"),
    checked<v1::ConsultActionRequest>("JoinConsult"),
  };
  return all;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  auto& all = methods();
  all[data[0] % all.size()].run(data + 1, size - 1);
  return 0;
}
