// The service and method names of DESIGN.md are a contract: gateways,
// integrators and tests call them by name.

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/cluster.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"
#include "switchboard/v1/stats.grpc.pb.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// Links every generated file into the test, so that its descriptors are in
/// the generated pool (the linker drops unreferenced objects of a static
/// library).
const google::protobuf::DescriptorPool* api_pool() {
  using namespace switchboard::v1;
  for (auto* d : {Tenant::descriptor(), UpsertQueueRequest::descriptor(),
                  SubmitCallRequest::descriptor(), Event::descriptor(),
                  QueueStats::descriptor(), ListMembersRequest::descriptor()})
    EXPECT_NE(d, nullptr);
  return google::protobuf::DescriptorPool::generated_pool();
}

std::vector<std::string> methods_of(const std::string& service) {
  auto* pool = api_pool();
  auto* descriptor = pool->FindServiceByName(service);
  std::vector<std::string> result;
  if (descriptor == nullptr)
    return result;
  for (int i = 0; i < descriptor->method_count(); ++i)
    result.push_back(descriptor->method(i)->name());
  return result;
}

void expect_methods(const std::string& service,
                    const std::vector<std::string>& names) {
  auto methods = methods_of(service);
  ASSERT_FALSE(methods.empty()) << service << " is not in the API";
  for (auto& name : names)
    EXPECT_NE(std::find(methods.begin(), methods.end(), name), methods.end())
      << service << " lacks " << name;
}

} // namespace

TEST(api, admin_service_has_the_documented_methods) {
  expect_methods("switchboard.v1.AdminService",
                 {"UpsertTenant", "UpsertQueue", "GetQueue", "ListQueues",
                  "DeleteQueue", "UpsertAgent", "GetAgent", "ListAgents",
                  "DeleteAgent", "UpsertClassificationRules",
                  "GetClassificationRules"});
}

TEST(api, cluster_service_has_the_documented_methods) {
  expect_methods("switchboard.v1.ClusterService",
                 {"ListMembers", "LocateTenant", "RemoveMember"});
}

TEST(api, routing_service_has_the_documented_methods) {
  expect_methods("switchboard.v1.RoutingService",
                 {"SubmitCall", "GetCall", "CancelCall", "CompleteCall",
                  "TransferCall", "AcceptOffer", "DeclineOffer",
                  "SetAgentPresence", "SetAgentReady"});
}

TEST(api, event_service_streams_both_ways) {
  expect_methods("switchboard.v1.EventService", {"Subscribe", "Ingest"});
  auto* pool = api_pool();
  auto* service = pool->FindServiceByName("switchboard.v1.EventService");
  ASSERT_NE(service, nullptr);
  auto* subscribe = service->FindMethodByName("Subscribe");
  EXPECT_FALSE(subscribe->client_streaming());
  EXPECT_TRUE(subscribe->server_streaming());
  auto* ingest = service->FindMethodByName("Ingest");
  EXPECT_TRUE(ingest->client_streaming());
  EXPECT_TRUE(ingest->server_streaming());
}

TEST(api, stats_service_has_the_documented_methods) {
  expect_methods("switchboard.v1.StatsService",
                 {"GetQueueStats", "ListCallHistory"});
}

TEST(api, every_request_names_its_tenant) {
  // Requests that carry a whole object name the tenant inside it.
  auto* pool = api_pool();
  for (auto* service_name :
       {"switchboard.v1.AdminService", "switchboard.v1.RoutingService",
        "switchboard.v1.EventService", "switchboard.v1.StatsService"}) {
    auto* service = pool->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      auto* input = service->method(i)->input_type();
      if (input->name() == "IngestRequest")
        continue; // each command inside names its tenant
      bool direct = input->FindFieldByName("tenant_id") != nullptr;
      bool nested = false;
      for (int f = 0; f < input->field_count(); ++f) {
        auto* field = input->field(f);
        if (field->message_type() != nullptr
            && field->message_type()->FindFieldByName("tenant_id") != nullptr)
          nested = true;
      }
      EXPECT_TRUE(direct || nested)
        << service_name << "." << service->method(i)->name() << " takes "
        << input->full_name() << ", which does not name a tenant";
    }
  }
}

TEST(api, ingest_carries_every_routing_command) {
  auto* pool = api_pool();
  auto* ingest = pool->FindMessageTypeByName("switchboard.v1.IngestRequest");
  ASSERT_NE(ingest, nullptr);
  auto* command = ingest->FindOneofByName("command");
  ASSERT_NE(command, nullptr);
  std::vector<std::string> types;
  for (int i = 0; i < command->field_count(); ++i)
    types.push_back(command->field(i)->message_type()->name());
  for (auto* expected :
       {"SubmitCallRequest", "CancelCallRequest", "CompleteCallRequest",
        "TransferCallRequest", "AcceptOfferRequest", "DeclineOfferRequest",
        "SetAgentPresenceRequest", "SetAgentReadyRequest"})
    EXPECT_NE(std::find(types.begin(), types.end(), expected), types.end())
      << "Ingest cannot carry " << expected;
}

TEST(api, every_event_type_and_ingest_command_is_documented) {
  std::ifstream in{SWITCHBOARD_EVENTS_DOC_PATH};
  ASSERT_TRUE(in) << SWITCHBOARD_EVENTS_DOC_PATH;
  std::stringstream text;
  text << in.rdbuf();
  auto doc = text.str();
  auto* types = switchboard::v1::EventType_descriptor();
  for (int i = 0; i < types->value_count(); ++i) {
    auto name
      = types->value(i)->name().substr(std::string{"EVENT_TYPE_"}.size());
    if (name == "UNSPECIFIED")
      continue;
    EXPECT_NE(doc.find("`" + name + "`"), std::string::npos)
      << name << " is not in docs/events.md";
  }
  auto* commands = switchboard::v1::IngestRequest::descriptor()->oneof_decl(0);
  for (int i = 0; i < commands->field_count(); ++i)
    EXPECT_NE(doc.find("`" + commands->field(i)->name() + "`"),
              std::string::npos)
      << commands->field(i)->name() << " is not in docs/events.md";
}
