// The rules of who may call what, without a node: principals from token
// claims and certificate names, and the decision for each role.

#include "nodes/identity/token.hpp"
#include "nodes/router/access.hpp"

#include "switchboard/v1/admin.pb.h"
#include "switchboard/v1/cluster.pb.h"
#include "switchboard/v1/events.pb.h"
#include "switchboard/v1/routing.pb.h"
#include "switchboard/v1/stats.pb.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <map>

using namespace switchboard::router::access;
using switchboard::identity::token_claims;
using kind = decision::kind;

namespace {

/// contoso belongs to Microsoft tenant "ms-contoso", fabrikam to
/// "ms-fabrikam".
std::optional<std::string> microsoft_of(const std::string& id) {
  static const std::map<std::string, std::string> tenants{
    {"contoso", "ms-contoso"}, {"fabrikam", "ms-fabrikam"}};
  auto i = tenants.find(id);
  if (i == tenants.end())
    return std::nullopt;
  return i->second;
}

principal user(std::vector<std::string> roles, std::string tid = "ms-contoso") {
  token_claims c;
  c.tenant_id = std::move(tid);
  c.object_id = "oid-1";
  c.name = "Ann Lee";
  c.roles = std::move(roles);
  return of_token(c, "ms-provider");
}

kind decide_for(const principal& p, std::string_view method,
                target t = {"contoso", {}, {}, {}, {}}) {
  return decide(p, method, t, microsoft_of).what;
}

TEST(access, every_method_of_the_api_has_a_rule) {
  // Every method of every service the API defines, read from the
  // compiled protos: a method added without a rule fails here.
  size_t methods = 0;
  namespace v1 = switchboard::v1;
  for (auto* file : {v1::UpsertQueueRequest::descriptor()->file(),
                     v1::ListMembersRequest::descriptor()->file(),
                     v1::SubscribeRequest::descriptor()->file(),
                     v1::SubmitCallRequest::descriptor()->file(),
                     v1::GetQueueStatsRequest::descriptor()->file()}) {
    ASSERT_EQ(file->service_count(), 1) << file->name();
    auto* service = file->service(0);
    for (int i = 0; i < service->method_count(); ++i, ++methods)
      EXPECT_NE(rule_of(service->method(i)->name()), nullptr)
        << service->method(i)->full_name() << " has no rule";
  }
  EXPECT_EQ(methods, 38u);
  // A method without a rule is refused (fail closed).
  EXPECT_EQ(decide_for(user({"Switchboard.Admin"}), "DropEverything"),
            kind::deny);
}

TEST(access, app_roles_of_a_token_become_roles) {
  auto p = user({"Switchboard.Supervisor", "Switchboard.Agent", "Other"});
  EXPECT_EQ(p.roles, bit(role::supervisor) | bit(role::agent));
  EXPECT_EQ(describe(p.roles), "agent, supervisor");
  EXPECT_EQ(p.microsoft_tenant, "ms-contoso");
  EXPECT_NE(p.who.find("Ann Lee"), std::string::npos);
  // The platform role only from the provider's own directory.
  EXPECT_EQ(user({"Switchboard.Platform"}).roles, 0u);
  EXPECT_EQ(user({"Switchboard.Platform"}, "ms-provider").roles,
            bit(role::platform));
}

TEST(access, certificate_uris_bind_roles_to_tenants) {
  std::string why;
  auto gw = of_certificate("CN=sbc-a",
                           {"https://sbc-a.example",
                            "urn:switchboard:gateway:"
                            "contoso",
                            "urn:switchboard:gateway:northwind"},
                           why);
  ASSERT_TRUE(gw);
  EXPECT_EQ(gw->roles, bit(role::gateway));
  EXPECT_EQ(gw->grants.size(), 2u);
  EXPECT_EQ(decide_for(*gw, "SubmitCall"), kind::allow);
  EXPECT_EQ(decide_for(*gw, "SubmitCall", {"fabrikam", {}, {}, {}, {}}),
            kind::hide);
  EXPECT_EQ(decide_for(*gw, "UpsertQueue"), kind::deny);
  // The platform role needs every tenant, and every tenant is the
  // platform's alone; a role the API does not know grants nothing.
  EXPECT_FALSE(of_certificate("CN=x",
                              {"urn:switchboard:platform:contoso",
                               "urn:switchboard:gateway:*",
                               "urn:switchboard:owner:*", "urn:switchboard:"},
                              why));
  EXPECT_NE(why.find("names no Switchboard role"), std::string::npos) << why;
  auto platform = of_certificate("CN=ops", {"urn:switchboard:platform:*"}, why);
  ASSERT_TRUE(platform);
  EXPECT_EQ(decide_for(*platform, "UpsertTenant"), kind::allow);
  EXPECT_EQ(decide_for(*platform, "UpsertQueue", {"fabrikam", {}, {}, {}, {}}),
            kind::allow);
}

TEST(access, a_certificate_holds_each_role_on_its_own_tenant_only) {
  std::string why;
  auto p = of_certificate("CN=mixed",
                          {"urn:switchboard:supervisor:contoso",
                           "urn:switchboard:admin:fabrikam",
                           "urn:switchboard:gateway:contoso"},
                          why);
  ASSERT_TRUE(p);
  // Admin of fabrikam, not of contoso; gateway of contoso, not of fabrikam.
  EXPECT_EQ(decide_for(*p, "UpsertQueue", {"fabrikam", {}, {}, {}, {}}),
            kind::allow);
  EXPECT_EQ(decide_for(*p, "UpsertQueue"), kind::deny);
  EXPECT_EQ(decide_for(*p, "SubmitCall"), kind::allow);
  EXPECT_EQ(decide_for(*p, "SubmitCall", {"fabrikam", {}, {}, {}, {}}),
            kind::deny);
  EXPECT_EQ(roles_on(*p, "contoso", microsoft_of),
            bit(role::supervisor) | bit(role::gateway));
  EXPECT_EQ(roles_on(*p, "northwind", microsoft_of), 0u);
}

TEST(access, another_tenant_looks_like_no_tenant) {
  auto p = user({"Switchboard.Admin"});
  auto d = decide(p, "GetQueue", {"fabrikam", {}, {}, {}, {}}, microsoft_of);
  EXPECT_EQ(d.what, kind::hide);
  EXPECT_EQ(d.message, no_such_tenant("fabrikam"));
  EXPECT_EQ(
    decide(p, "GetQueue", {"nowhere", {}, {}, {}, {}}, microsoft_of).message,
    no_such_tenant("nowhere"));
  EXPECT_EQ(decide_for(p, "UpsertQueue"), kind::allow);
  // Only the platform handles tenants and the cluster.
  EXPECT_EQ(decide_for(p, "UpsertTenant"), kind::deny);
  EXPECT_EQ(decide_for(p, "RemoveMember"), kind::deny);
}

TEST(access, each_role_calls_its_own_methods) {
  auto agent = user({"Switchboard.Agent"});
  auto supervisor = user({"Switchboard.Supervisor"});
  auto gateway = user({"Switchboard.Gateway"});
  target ann{"contoso", "ann", "call-1", {}, {}};
  // An agent: as themself, on their own calls, their own events.
  EXPECT_EQ(decide_for(agent, "SetAgentReady", ann), kind::own_agent);
  EXPECT_EQ(decide_for(agent, "AcceptOffer", ann), kind::own_agent);
  EXPECT_EQ(decide_for(agent, "ListCallHistory", ann), kind::own_agent);
  EXPECT_EQ(decide_for(agent, "CompleteCall", ann), kind::own_call);
  // Only the consult legs of their own calls.
  EXPECT_EQ(decide_for(agent, "CancelCall", ann), kind::own_leg);
  EXPECT_EQ(decide_for(agent, "Subscribe"), kind::own_events);
  EXPECT_EQ(decide_for(agent, "GetQueueStats"), kind::allow);
  for (auto* m : {"ListAgents", "ListCalls", "SubmitCall", "UpsertAgent",
                  "Ingest", "ListCallHistory"})
    EXPECT_EQ(decide_for(agent, m), kind::deny) << m;
  // Their own agent by their own Teams user id, no one else's; the history
  // of a caller, if one of their calls is from that caller.
  auto own_oid = agent.object_id;
  EXPECT_EQ(decide_for(agent, "GetAgent", {"contoso", {}, {}, own_oid, {}}),
            kind::allow);
  EXPECT_EQ(decide_for(agent, "GetAgent", {"contoso", {}, {}, "oid-bob", {}}),
            kind::deny);
  EXPECT_EQ(
    decide_for(agent, "SetAgentReady", {"contoso", {}, {}, own_oid, {}}),
    kind::deny);
  EXPECT_EQ(decide_for(agent, "ListCallHistory",
                       {"contoso", {}, {}, {}, "+14255550100"}),
            kind::own_caller);
  EXPECT_EQ(decide_for(agent, "SetCallDisposition", ann), kind::own_call);
  // A supervisor reads the tenant and changes agents' state, but neither
  // configures nor takes calls in.
  EXPECT_EQ(decide_for(supervisor, "SetAgentReady", ann), kind::allow);
  EXPECT_EQ(decide_for(supervisor, "ListCallHistory"), kind::allow);
  EXPECT_EQ(decide_for(supervisor, "Subscribe"), kind::allow);
  EXPECT_EQ(decide_for(supervisor, "UpsertQueue"), kind::deny);
  EXPECT_EQ(decide_for(supervisor, "SubmitCall"), kind::deny);
  // A gateway: calls in, but no history or figures of agents.
  EXPECT_EQ(decide_for(gateway, "SubmitCall"), kind::allow);
  EXPECT_EQ(decide_for(gateway, "AcceptOffer", ann), kind::allow);
  EXPECT_EQ(decide_for(gateway, "ListCallHistory"), kind::deny);
  // The message says what role would do.
  auto d = decide(supervisor, "UpsertQueue", {"contoso", {}, {}, {}, {}},
                  microsoft_of);
  EXPECT_NE(d.message.find("Switchboard.Admin or Switchboard.Platform"),
            std::string::npos)
    << d.message;
}

TEST(access, a_gateway_app_serves_its_own_directory_or_the_providers_all) {
  // A customer's gateway app: the customer's tenants only.
  auto customer = user({"Switchboard.Gateway"}, "ms-fabrikam");
  EXPECT_EQ(decide_for(customer, "SubmitCall", {"fabrikam", {}, {}, {}, {}}),
            kind::allow);
  EXPECT_EQ(decide_for(customer, "SubmitCall", {"contoso", {}, {}, {}, {}}),
            kind::hide);
  // The provider's gateway app: every tenant, and only as a gateway.
  auto provider = user({"Switchboard.Gateway"}, "ms-provider");
  EXPECT_EQ(provider.everywhere, bit(role::gateway));
  for (auto* tenant : {"contoso", "fabrikam"})
    EXPECT_EQ(decide_for(provider, "SubmitCall", {tenant, {}, {}, {}, {}}),
              kind::allow)
      << tenant;
  EXPECT_EQ(decide_for(provider, "UpsertQueue", {"contoso", {}, {}, {}, {}}),
            kind::deny);
  EXPECT_EQ(decide_for(provider, "UpsertTenant"), kind::deny);
  // Other roles of the provider's directory stay on its own tenants.
  auto provider_admin = user({"Switchboard.Admin"}, "ms-provider");
  EXPECT_EQ(provider_admin.everywhere, 0u);
  EXPECT_EQ(
    decide_for(provider_admin, "UpsertQueue", {"contoso", {}, {}, {}, {}}),
    kind::hide);
}

TEST(access, an_unrestricted_node_allows_everything) {
  principal anyone;
  anyone.unrestricted = true;
  EXPECT_EQ(decide_for(anyone, "UpsertTenant"), kind::allow);
  EXPECT_EQ(decide_for(anyone, "GetQueue", {"nowhere", {}, {}, {}, {}}),
            kind::allow);
}

} // namespace
