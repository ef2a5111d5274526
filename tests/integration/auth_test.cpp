// Who may do what, against the real router over mutual TLS: bearer tokens
// issued by the stand-in identity platform (served over HTTPS as Entra
// ID's OpenID configuration and keys) and client certificates whose URI
// names grant roles. Tokens of the wrong audience, issuer, signature,
// expiry, tenant or role; an agent acting as another, reading another's
// call, subscribing to another tenant; a gateway certificate of one
// tenant submitting for another.

#include "nodes/gateway/router_link.hpp"
#include "nodes/router/log.hpp"
#include "nodes/tls/grpc_credentials.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/graph_standin.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include "switchboard/v1/admin.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sys/stat.h>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;
using switchboard::testing::graph_standin;
using switchboard::testing::has_line;
using switchboard::testing::json_field;
using switchboard::testing::process;
using switchboard::testing::temp_dir;
using switchboard::testing::test_authority;

namespace {

const std::string router_binary = SWITCHBOARD_ROUTER_PATH;
const std::string cli_binary = SWITCHBOARD_CLI_PATH;

const std::string contoso_tid = "11111111-1111-4111-8111-111111111111";
const std::string fabrikam_tid = "22222222-2222-4222-8222-222222222222";
const std::string provider_tid = "99999999-9999-4999-8999-999999999999";
const std::string audience = "api://switchboard-test";
const std::string kid = "standin-key-1";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// What a token says; every field may be spoiled by a test.
struct claims {
  std::string tid = contoso_tid;
  std::string oid;
  std::string name;
  std::vector<std::string> roles;
  std::string aud = audience;
  std::string iss; // default: Entra ID's v2.0 issuer of tid
  std::int64_t exp = now_seconds() + 3600;

  std::string json() const {
    std::string r;
    for (auto& x : roles)
      r += (r.empty() ? "\"" : ",\"") + x + "\"";
    return "{\"iss\":\""
           + (iss.empty() ? "https://login.microsoftonline.com/" + tid + "/v2.0"
                          : iss)
           + "\",\"aud\":\"" + aud + "\",\"tid\":\"" + tid + "\",\"oid\":\""
           + oid + "\",\"name\":\"" + name + "\",\"roles\":[" + r
           + "],\"nbf\":" + std::to_string(now_seconds() - 60)
           + ",\"exp\":" + std::to_string(exp) + "}";
  }
};

class auth_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ca = std::make_unique<test_authority>(dir.path(), "ca");
    ASSERT_TRUE(ca->ok());
    ASSERT_TRUE(ca->sign("router"));
    ASSERT_TRUE(ca->sign("identity"));
    // A web edge's certificate: it authenticates the connection, the
    // user's token the request.
    ASSERT_TRUE(ca->sign("edge"));
    ASSERT_TRUE(ca->sign(
      "sbc-contoso",
      "IP:127.0.0.1,DNS:localhost,URI:urn:switchboard:gateway:contoso"));
    ASSERT_TRUE(ca->sign("provider",
                         "IP:127.0.0.1,DNS:localhost,URI:urn:switchboard:"
                         "platform:*"));
    idp = std::make_unique<graph_standin>(dir / "identity.pem",
                                          dir / "identity.key");
    ASSERT_EQ(idp->start(), "");
    router = std::make_unique<process>(
      router_binary,
      std::vector<std::string>{
        "--data-dir",
        dir / "data",
        "--grpc-listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--grpc-tls-certificate",
        dir / "router.pem",
        "--grpc-tls-private-key",
        dir / "router.key",
        "--grpc-tls-client-ca",
        ca->certificate(),
        "--auth-openid-configuration",
        idp->base_url() + "/common/v2.0/.well-known/openid-configuration",
        "--auth-audience",
        audience,
        "--auth-ca",
        ca->certificate(),
        "--auth-platform-tenant",
        provider_tid},
      true);
    auto line = router->wait_for_line("\"msg\":\"serving\"", 30s);
    ASSERT_TRUE(line) << "the router did not start";
    address = json_field(*line, "grpc");
    EXPECT_EQ(json_field(*line, "auth"), "tokens, certificates");

    // The provider sets up two customers; contoso's admin its queue and
    // two agents, each a Teams user of contoso.
    for (auto& [id, tid] : {std::pair{"contoso", contoso_tid},
                            std::pair{"fabrikam", fabrikam_tid}}) {
      v1::UpsertTenantRequest t;
      t.mutable_tenant()->set_tenant_id(id);
      t.mutable_tenant()->set_microsoft_tenant_id(tid);
      v1::Tenant out;
      auto st = admin("provider")->UpsertTenant(ctx().get(), t, &out);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    v1::UpsertQueueRequest q;
    q.mutable_queue()->set_tenant_id("contoso");
    q.mutable_queue()->set_queue_id("support");
    *q.mutable_queue()->mutable_offer_timeout()
      = TimeUtil::SecondsToDuration(30);
    v1::Queue queue_out;
    auto st = admin("edge")->UpsertQueue(ctx(token(admin_claims)).get(), q,
                                         &queue_out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    for (auto* agent : {"ann", "bob"}) {
      v1::UpsertAgentRequest a;
      a.mutable_agent()->set_tenant_id("contoso");
      a.mutable_agent()->set_agent_id(agent);
      a.mutable_agent()->set_teams_user_id(std::string{"oid-"} + agent);
      a.mutable_agent()->add_queue_ids("support");
      v1::AgentView agent_out;
      st = admin("edge")->UpsertAgent(ctx(token(admin_claims)).get(), a,
                                      &agent_out);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
  }

  void TearDown() override {
    if (HasFailure() && router)
      for (auto& line : router->lines())
        std::cerr << "router: " << line << "\n";
  }

  /// A channel presenting the certificate `name` signed.
  std::shared_ptr<grpc::Channel> channel(const std::string& name) {
    tls::client_options o;
    o.f.ca_file = ca->certificate();
    o.f.certificate_file = dir / (name + ".pem");
    o.f.private_key_file = dir / (name + ".key");
    std::string error;
    auto credentials = tls::channel_credentials(
      o, {"certificate", "private_key", "ca"}, error);
    EXPECT_TRUE(credentials) << error;
    return grpc::CreateChannel(address, credentials);
  }

  std::unique_ptr<v1::AdminService::Stub> admin(const std::string& cert) {
    return v1::AdminService::NewStub(channel(cert));
  }
  std::unique_ptr<v1::RoutingService::Stub> routing(const std::string& cert) {
    return v1::RoutingService::NewStub(channel(cert));
  }

  /// A token the stand-in identity platform signed.
  std::string token(const claims& c) { return idp->sign(kid, c.json()); }

  static std::unique_ptr<grpc::ClientContext> ctx(const std::string& bearer
                                                  = {}) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + 10s);
    if (!bearer.empty())
      c->AddMetadata("authorization", "Bearer " + bearer);
    return c;
  }

  static claims user(const std::string& oid, const std::string& role,
                     const std::string& tid = contoso_tid) {
    claims c;
    c.tid = tid;
    c.oid = oid;
    c.name = oid;
    c.roles = {role};
    return c;
  }

  grpc::Status get_tenant(const std::string& bearer, const std::string& id,
                          const std::string& cert = "edge") {
    v1::GetTenantRequest req;
    req.set_tenant_id(id);
    v1::Tenant out;
    return admin(cert)->GetTenant(ctx(bearer).get(), req, &out);
  }

  grpc::Status set_ready(const std::string& bearer, const std::string& agent) {
    v1::SetAgentPresenceRequest p;
    p.set_tenant_id("contoso");
    p.set_agent_id(agent);
    p.set_presence(v1::PRESENCE_AVAILABLE);
    v1::AgentView out;
    auto st = routing("edge")->SetAgentPresence(ctx(bearer).get(), p, &out);
    if (!st.ok())
      return st;
    v1::SetAgentReadyRequest r;
    r.set_tenant_id("contoso");
    r.set_agent_id(agent);
    r.set_ready(true);
    return routing("edge")->SetAgentReady(ctx(bearer).get(), r, &out);
  }

  grpc::Status submit(const std::string& cert, const std::string& tenant,
                      const std::string& call_id, v1::SubmitCallResponse& out) {
    v1::SubmitCallRequest req;
    req.mutable_call()->set_tenant_id(tenant);
    req.mutable_call()->set_call_id(call_id);
    req.mutable_call()->set_queue_id("support");
    req.mutable_call()->set_from("+15550100");
    return routing(cert)->SubmitCall(ctx().get(), req, &out);
  }

  /// The offer of contoso's call `call_id` as `bearer` reads it, once it
  /// has one (empty after 5 s without).
  std::string offer_of(const std::string& bearer, const std::string& call_id) {
    v1::GetCallRequest get;
    get.set_tenant_id("contoso");
    get.set_call_id(call_id);
    v1::CallView view;
    for (int i = 0; i < 100; ++i) {
      if (routing("edge")->GetCall(ctx(bearer).get(), get, &view).ok()
          && !view.offer().offer_id().empty())
        return view.offer().offer_id();
      std::this_thread::sleep_for(50ms);
    }
    return {};
  }

  /// The contoso events `bearer`'s stream carries in its first 3 s, from
  /// the first kept.
  std::vector<v1::Event> events_of(const std::string& bearer) {
    auto stub = v1::EventService::NewStub(channel("edge"));
    v1::SubscribeRequest sub;
    sub.set_tenant_id("contoso");
    auto c = ctx(bearer);
    c->set_deadline(std::chrono::system_clock::now() + 3s);
    auto stream = stub->Subscribe(c.get(), sub);
    std::vector<v1::Event> out;
    v1::Event e;
    while (stream->Read(&e))
      out.push_back(e);
    return out;
  }

  claims admin_claims = user("oid-carol", "Switchboard.Admin");

  temp_dir dir;
  std::unique_ptr<test_authority> ca;
  std::unique_ptr<graph_standin> idp;
  std::unique_ptr<process> router;
  std::string address;
};

TEST_F(auth_test, bad_tokens_are_refused_with_the_reason) {
  auto expect = [&](const grpc::Status& st, grpc::StatusCode code,
                    const std::string& reason) {
    EXPECT_EQ(st.error_code(), code) << st.error_message();
    EXPECT_NE(st.error_message().find(reason), std::string::npos)
      << st.error_message();
  };
  auto good = user("oid-sam", "Switchboard.Supervisor");
  EXPECT_TRUE(get_tenant(token(good), "contoso").ok());

  // No token, and a certificate that grants nothing.
  expect(get_tenant("", "contoso"), grpc::StatusCode::PERMISSION_DENIED,
         "names no Switchboard role");
  auto wrong_audience = good;
  wrong_audience.aud = "https://graph.microsoft.com";
  expect(get_tenant(token(wrong_audience), "contoso"),
         grpc::StatusCode::UNAUTHENTICATED, "wrong_audience");
  auto wrong_issuer = good;
  wrong_issuer.iss = "https://login.example.org/" + contoso_tid + "/v2.0";
  expect(get_tenant(token(wrong_issuer), "contoso"),
         grpc::StatusCode::UNAUTHENTICATED, "wrong_issuer");
  auto expired = good;
  expired.exp = now_seconds() - 3600;
  expect(get_tenant(token(expired), "contoso"),
         grpc::StatusCode::UNAUTHENTICATED, "expired");
  // Signed by a key of the same id that the identity platform never
  // published.
  switchboard::testing::rsa_key forger;
  expect(get_tenant(forger.sign(kid, good.json()), "contoso"),
         grpc::StatusCode::UNAUTHENTICATED, "bad_signature");
  expect(get_tenant("not-a-token", "contoso"),
         grpc::StatusCode::UNAUTHENTICATED, "malformed");
  {
    v1::GetTenantRequest req;
    req.set_tenant_id("contoso");
    v1::Tenant out;
    auto c = ctx();
    c->AddMetadata("authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
    expect(admin("edge")->GetTenant(c.get(), req, &out),
           grpc::StatusCode::UNAUTHENTICATED, "expected 'Bearer <token>'");
  }
  // A token without any of Switchboard's app roles.
  auto no_role = good;
  no_role.roles = {"Files.Read"};
  expect(get_tenant(token(no_role), "contoso"),
         grpc::StatusCode::PERMISSION_DENIED, "has none");
  // The operator reads why, and whose request it was; never the token.
  EXPECT_TRUE(has_line(*router, "\"msg\":\"request refused\"", 5s));
  EXPECT_TRUE(has_line(*router, "wrong_audience", 5s));
  for (auto& line : router->lines())
    EXPECT_EQ(line.find(token(good).substr(0, 40)), std::string::npos) << line;
}

TEST_F(auth_test, roles_decide_what_each_may_call) {
  auto agent = token(user("oid-ann", "Switchboard.Agent"));
  auto supervisor = token(user("oid-sam", "Switchboard.Supervisor"));
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("contoso");
  q.mutable_queue()->set_queue_id("sales");
  v1::Queue out;
  for (auto& bearer : {agent, supervisor}) {
    auto st = admin("edge")->UpsertQueue(ctx(bearer).get(), q, &out);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << st.error_message();
    EXPECT_NE(st.error_message().find("Switchboard.Admin"), std::string::npos)
      << st.error_message();
  }
  // A supervisor reads the tenant's agents; an agent may not list them.
  v1::ListAgentsRequest list;
  list.set_tenant_id("contoso");
  v1::ListAgentsResponse agents;
  EXPECT_TRUE(
    admin("edge")->ListAgents(ctx(supervisor).get(), list, &agents).ok());
  EXPECT_EQ(agents.agents_size(), 2);
  EXPECT_EQ(
    admin("edge")->ListAgents(ctx(agent).get(), list, &agents).error_code(),
    grpc::StatusCode::PERMISSION_DENIED);
  // An admin's change is recorded with who made it.
  auto st = admin("edge")->UpsertQueue(ctx(token(admin_claims)).get(), q, &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(has_line(*router, "\"msg\":\"configuration change\"", 5s));
  EXPECT_TRUE(has_line(*router, "oid-carol", 5s));
  // The platform role counts only in the provider's own tokens: a
  // customer cannot grant it to themself.
  v1::UpsertTenantRequest t;
  t.mutable_tenant()->set_tenant_id("northwind");
  v1::Tenant tenant_out;
  auto customer = user("oid-carol", "Switchboard.Platform");
  EXPECT_EQ(admin("edge")
              ->UpsertTenant(ctx(token(customer)).get(), t, &tenant_out)
              .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto provider = user("oid-pat", "Switchboard.Platform", provider_tid);
  st = admin("edge")->UpsertTenant(ctx(token(provider)).get(), t, &tenant_out);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(auth_test, a_tenant_sees_only_itself) {
  auto supervisor = token(user("oid-sam", "Switchboard.Supervisor"));
  // Another customer's tenant is answered as one that does not exist,
  // word for word.
  auto theirs = get_tenant(supervisor, "fabrikam");
  auto missing = get_tenant(supervisor, "nowhere");
  EXPECT_EQ(theirs.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(theirs.error_message(),
            "tenant 'fabrikam' does not exist (create it with UpsertTenant)");
  EXPECT_EQ(missing.error_message(),
            "tenant 'nowhere' does not exist (create it with UpsertTenant)");
  v1::ListCallsRequest calls;
  calls.set_tenant_id("fabrikam");
  v1::ListCallsResponse listed;
  EXPECT_EQ(routing("edge")
              ->ListCalls(ctx(supervisor).get(), calls, &listed)
              .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Nor may they subscribe to its events.
  auto stub = v1::EventService::NewStub(channel("edge"));
  v1::SubscribeRequest sub;
  sub.set_tenant_id("fabrikam");
  auto c = ctx(supervisor);
  auto stream = stub->Subscribe(c.get(), sub);
  v1::Event e;
  EXPECT_FALSE(stream->Read(&e));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  // Fabrikam's own supervisor sees it.
  EXPECT_TRUE(
    get_tenant(token(user("oid-fay", "Switchboard.Supervisor", fabrikam_tid)),
               "fabrikam")
      .ok());
}

TEST_F(auth_test, an_agent_acts_only_as_themself) {
  auto ann = token(user("oid-ann", "Switchboard.Agent"));
  auto bob = token(user("oid-bob", "Switchboard.Agent"));
  // Each goes ready as themself; not as the other.
  ASSERT_TRUE(set_ready(ann, "ann").ok());
  auto as_other = set_ready(bob, "ann");
  EXPECT_EQ(as_other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(as_other.error_message().find("'ann' is not oid-bob"),
            std::string::npos)
    << as_other.error_message();
  // A contoso user who is no agent of it.
  EXPECT_EQ(
    set_ready(token(user("oid-zed", "Switchboard.Agent")), "ann").error_code(),
    grpc::StatusCode::PERMISSION_DENIED);

  v1::SubmitCallResponse submitted;
  auto st = submit("sbc-contoso", "contoso", "call-1", submitted);
  ASSERT_TRUE(st.ok()) << st.error_message();
  // The call is offered to ann, the only agent ready.
  v1::CallView view;
  v1::GetCallRequest get;
  get.set_tenant_id("contoso");
  get.set_call_id("call-1");
  auto offer_id = offer_of(ann, "call-1");
  ASSERT_FALSE(offer_id.empty());
  // Bob may neither read ann's call nor accept her offer.
  EXPECT_EQ(routing("edge")->GetCall(ctx(bob).get(), get, &view).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::AcceptOfferRequest accept;
  accept.set_tenant_id("contoso");
  accept.set_call_id("call-1");
  accept.set_agent_id("ann");
  accept.set_offer_id(offer_id);
  EXPECT_EQ(
    routing("edge")->AcceptOffer(ctx(bob).get(), accept, &view).error_code(),
    grpc::StatusCode::PERMISSION_DENIED);
  // Naming himself, the engine refuses: the offer is not his.
  accept.set_agent_id("bob");
  EXPECT_FALSE(
    routing("edge")->AcceptOffer(ctx(bob).get(), accept, &view).ok());
  accept.set_agent_id("ann");
  st = routing("edge")->AcceptOffer(ctx(ann).get(), accept, &view);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(view.agent_id(), "ann");

  // Bob's event stream carries his own events only.
  ASSERT_TRUE(set_ready(bob, "bob").ok());
  int bobs = 0;
  for (auto& e : events_of(bob)) {
    if (e.has_agent())
      EXPECT_EQ(e.agent().agent().agent_id(), "bob");
    else
      ADD_FAILURE() << "bob received an event of another: " << e.DebugString();
    bobs += e.has_agent() ? 1 : 0;
  }
  EXPECT_GE(bobs, 2); // available, then ready
}

TEST_F(auth_test, an_agent_cancels_only_the_consult_they_started) {
  auto ann = token(user("oid-ann", "Switchboard.Agent"));
  auto bob = token(user("oid-bob", "Switchboard.Agent"));
  auto sue = token(user("oid-sue", "Switchboard.Supervisor"));
  ASSERT_TRUE(set_ready(ann, "ann").ok());
  v1::SubmitCallResponse submitted;
  ASSERT_TRUE(submit("sbc-contoso", "contoso", "call-1", submitted).ok());
  auto offer_id = offer_of(ann, "call-1");
  ASSERT_FALSE(offer_id.empty());
  v1::CallView view;
  v1::AcceptOfferRequest accept;
  accept.set_tenant_id("contoso");
  accept.set_call_id("call-1");
  accept.set_agent_id("ann");
  accept.set_offer_id(offer_id);
  ASSERT_TRUE(routing("edge")->AcceptOffer(ctx(ann).get(), accept, &view).ok());

  // Ann consults Bob: a leg rings him.
  ASSERT_TRUE(set_ready(bob, "bob").ok());
  v1::ConsultCallRequest consult;
  consult.set_tenant_id("contoso");
  consult.set_call_id("call-1");
  consult.set_agent_id("bob");
  v1::CallView leg;
  auto st = routing("edge")->ConsultCall(ctx(ann).get(), consult, &leg);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto cancel = [&](const std::string& bearer, const std::string& call_id) {
    v1::CancelCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(call_id);
    req.set_reason(v1::CancelCallRequest::REASON_CANCELLED);
    v1::CallView out;
    return routing("edge")->CancelCall(ctx(bearer).get(), req, &out);
  };
  // Bob is offered the leg, but the consult is not his to cancel; nor may
  // Ann end the caller's call itself this way.
  st = cancel(bob, leg.call().call_id());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message().rfind("call_id: call '" + leg.call().call_id()
                                       + "' is no consult leg of a call "
                                         "oid-bob (oid oid-bob,",
                                     0),
            0u)
    << st.error_message();
  EXPECT_NE(st.error_message().find(
              "; an agent cancels only the consults they started"),
            std::string::npos);
  EXPECT_EQ(cancel(ann, "call-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  st = cancel(ann, leg.call().call_id());
  ASSERT_TRUE(st.ok()) << st.error_message();
  v1::GetCallRequest get;
  get.set_tenant_id("contoso");
  get.set_call_id(leg.call().call_id());
  ASSERT_TRUE(routing("edge")->GetCall(ctx(sue).get(), get, &view).ok());
  EXPECT_EQ(view.state(), v1::CALL_STATE_CANCELLED);

  // A supervisor moves Ann's call to the queue (Bob gets it): Ann's own
  // stream hears that it left her.
  v1::TransferCallRequest transfer;
  transfer.set_tenant_id("contoso");
  transfer.set_call_id("call-1");
  transfer.set_queue_id("support");
  st = routing("edge")->TransferCall(ctx(sue).get(), transfer, &view);
  ASSERT_TRUE(st.ok()) << st.error_message();
  bool heard = false;
  for (auto& e : events_of(ann))
    if (e.type() == v1::EVENT_TYPE_CALL_TRANSFERRED
        && e.call().call().call_id() == "call-1") {
      EXPECT_EQ(e.released_agent_id(), "ann") << e.DebugString();
      EXPECT_NE(e.call().agent_id(), "ann");
      heard = true;
    }
  EXPECT_TRUE(heard);
}

TEST_F(auth_test, a_gateway_certificate_serves_its_own_tenants_only) {
  v1::SubmitCallResponse out;
  auto st = submit("sbc-contoso", "contoso", "call-a", out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  st = submit("sbc-contoso", "fabrikam", "call-b", out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
  // Configuration is not a gateway's.
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("contoso");
  q.mutable_queue()->set_queue_id("sales");
  v1::Queue queue_out;
  EXPECT_EQ(
    admin("sbc-contoso")->UpsertQueue(ctx().get(), q, &queue_out).error_code(),
    grpc::StatusCode::PERMISSION_DENIED);

  // On an Ingest stream, each command is checked: the other tenant's is
  // answered NOT_FOUND in its place, the stream goes on.
  auto stub = v1::EventService::NewStub(channel("sbc-contoso"));
  auto c = ctx();
  auto stream = stub->Ingest(c.get());
  for (auto* tenant : {"fabrikam", "contoso"}) {
    v1::IngestRequest req;
    req.set_event_id(std::string{"ingest-"} + tenant);
    auto& call = *req.mutable_submit_call()->mutable_call();
    call.set_tenant_id(tenant);
    call.set_call_id(std::string{"ingest-call-"} + tenant);
    call.set_queue_id("support");
    ASSERT_TRUE(stream->Write(req));
  }
  stream->WritesDone();
  v1::IngestResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.event_id(), "ingest-fabrikam");
  EXPECT_EQ(answer.code(), static_cast<int32_t>(grpc::StatusCode::NOT_FOUND));
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.event_id(), "ingest-contoso");
  EXPECT_EQ(answer.code(), 0) << answer.message();
  EXPECT_TRUE(stream->Finish().ok());

  // A user's token cannot open an Ingest stream.
  auto agent = ctx(token(user("oid-ann", "Switchboard.Agent")));
  auto refused
    = v1::EventService::NewStub(channel("edge"))->Ingest(agent.get());
  refused->WritesDone();
  EXPECT_EQ(refused->Finish().error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(auth_test, a_gateway_app_token_serves_its_directorys_tenants) {
  // Gateway apps of contoso's directory and of the provider's: the
  // identity platform gives each a token for the API with its app role.
  idp->sign_api_apps_in(audience, kid, [](const std::string& tenant) {
    claims c;
    c.tid = tenant;
    c.oid = "sp-" + tenant.substr(0, 8);
    c.name = "sbc-gateway-app";
    c.roles = {"Switchboard.Gateway"};
    return c.json();
  });
  std::ofstream{dir / "secret"} << "standin-client-secret\n";
  router::logger log{router::log_level::warn, "test-gateway"};
  auto gateway_channel
    = [&](const std::string& app_tenant, const std::string& secret_file) {
        tls::client_options o;
        o.f.ca_file = ca->certificate();
        // The router asks every connection for a certificate: one that names
        // no role, so that the token decides.
        o.f.certificate_file = dir / "edge.pem";
        o.f.private_key_file = dir / "edge.key";
        gateway::router_token_options token;
        token.authority = idp->authority();
        token.authority_ca = ca->certificate();
        token.tenant_id = app_tenant;
        token.client_id = "bot-app-id";
        token.client_secret_file = secret_file;
        token.scope = audience + "/.default";
        std::string error;
        auto credentials
          = gateway::router_credentials(address, o, token, log, error);
        EXPECT_TRUE(credentials) << error;
        return v1::RoutingService::NewStub(
          grpc::CreateChannel(address, credentials));
      };
  auto submit_to = [](v1::RoutingService::Stub& stub, const std::string& tenant,
                      const std::string& id) {
    v1::SubmitCallRequest req;
    req.mutable_call()->set_tenant_id(tenant);
    req.mutable_call()->set_call_id(id);
    req.mutable_call()->set_queue_id("support");
    v1::SubmitCallResponse out;
    return stub.SubmitCall(ctx().get(), req, &out);
  };

  // Contoso's app serves contoso, and fabrikam does not exist for it.
  auto contoso_app = gateway_channel(contoso_tid, dir / "secret");
  auto st = submit_to(*contoso_app, "contoso", "app-call-1");
  EXPECT_TRUE(st.ok()) << st.error_message();
  st = submit_to(*contoso_app, "contoso", "app-call-2");
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(idp->api_app_tokens_issued(), 1u); // one token, reused
  st = submit_to(*contoso_app, "fabrikam", "app-call-3");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();

  // The provider's app serves every customer, as a gateway only.
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("fabrikam");
  q.mutable_queue()->set_queue_id("support");
  v1::Queue queue_out;
  ASSERT_TRUE(admin("provider")->UpsertQueue(ctx().get(), q, &queue_out).ok());
  auto provider_app = gateway_channel(provider_tid, dir / "secret");
  for (auto* tenant : {"contoso", "fabrikam"}) {
    st = submit_to(*provider_app, tenant, std::string{"provider-"} + tenant);
    EXPECT_TRUE(st.ok()) << tenant << ": " << st.error_message();
  }

  // A secret the identity platform refuses: no token, no request.
  std::ofstream{dir / "wrong-secret"} << "not-the-secret\n";
  auto refused = gateway_channel(contoso_tid, dir / "wrong-secret");
  st = submit_to(*refused, "contoso", "app-call-5");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
    << st.error_message();
  EXPECT_NE(st.error_message().find("invalid_client"), std::string::npos)
    << st.error_message();
}

TEST_F(auth_test, admin_changes_are_in_the_event_stream_and_history) {
  // The set-up's queue and two agents, made by contoso's admin; then a
  // queue changed by the provider's certificate.
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("contoso");
  q.mutable_queue()->set_queue_id("sales");
  v1::Queue queue_out;
  ASSERT_TRUE(admin("provider")->UpsertQueue(ctx().get(), q, &queue_out).ok());
  auto supervisor = token(user("oid-sam", "Switchboard.Supervisor"));

  // In the event stream, replayed from the start.
  auto stub = v1::EventService::NewStub(channel("edge"));
  v1::SubscribeRequest sub;
  sub.set_tenant_id("contoso");
  sub.add_types(v1::EVENT_TYPE_CONFIGURATION_CHANGED);
  auto c = ctx(supervisor);
  auto stream = stub->Subscribe(c.get(), sub);
  std::vector<v1::ConfigurationChange> published;
  v1::Event e;
  while (published.size() < 4 && stream->Read(&e))
    published.push_back(e.change());
  c->TryCancel();
  stream->Finish();
  ASSERT_EQ(published.size(), 4u);
  EXPECT_EQ(published[0].method(), "UpsertQueue");
  EXPECT_EQ(published[0].object_id(), "support");
  EXPECT_EQ(published[1].method(), "UpsertAgent");
  EXPECT_EQ(published[1].object_id(), "ann");
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NE(published[i].changed_by().find("oid-carol"), std::string::npos)
      << published[i].changed_by();
  EXPECT_EQ(published[3].object_id(), "sales");
  EXPECT_NE(published[3].changed_by().find("certificate"), std::string::npos)
    << published[3].changed_by();

  // In the history, the same changes.
  v1::ListConfigurationChangesRequest list;
  list.set_tenant_id("contoso");
  v1::ListConfigurationChangesResponse kept;
  auto st = admin("edge")->ListConfigurationChanges(ctx(supervisor).get(), list,
                                                    &kept);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(kept.changes_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(kept.changes(i).sequence(), published[size_t(i)].sequence());
    EXPECT_EQ(kept.changes(i).changed_by(), published[size_t(i)].changed_by());
  }
  // Not for an agent, nor for another customer.
  EXPECT_EQ(
    admin("edge")
      ->ListConfigurationChanges(
        ctx(token(user("oid-ann", "Switchboard.Agent"))).get(), list, &kept)
      .error_code(),
    grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
    admin("edge")
      ->ListConfigurationChanges(
        ctx(token(user("oid-fay", "Switchboard.Admin", fabrikam_tid))).get(),
        list, &kept)
      .error_code(),
    grpc::StatusCode::NOT_FOUND);

  // The CLI lists them.
  std::ofstream{dir / "token"} << supervisor << "\n";
  process cli{cli_binary,
              {"--server", address, "--tls-ca", ca->certificate(),
               "--tls-certificate", dir / "edge.pem", "--tls-private-key",
               dir / "edge.key", "--token-file", dir / "token", "changes",
               "--tenant", "contoso", "--format", "csv"},
              true};
  // A field with a comma is quoted.
  EXPECT_TRUE(cli.wait_for_line(",UpsertAgent,agent,bob,\"oid-carol (oid "
                                "oid-carol, tenant "
                                  + contoso_tid + ")\"",
                                10s));
  EXPECT_EQ(cli.wait(), 0);
}

TEST_F(auth_test, a_stream_ends_when_its_token_expires) {
  auto brief = user("oid-sam", "Switchboard.Supervisor");
  brief.exp = now_seconds() + 3;
  auto stub = v1::EventService::NewStub(channel("edge"));
  v1::SubscribeRequest sub;
  sub.set_tenant_id("contoso");
  auto c = ctx(token(brief));
  c->set_deadline(std::chrono::system_clock::now() + 20s);
  auto stream = stub->Subscribe(c.get(), sub);
  v1::Event e;
  std::this_thread::sleep_for(4s);
  // The next event finds the token expired (a token refused at the start
  // would say so, not "expired").
  ASSERT_TRUE(
    set_ready(token(user("oid-ann", "Switchboard.Agent")), "ann").ok());
  while (stream->Read(&e)) {
  }
  auto st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
    << st.error_message();
  EXPECT_NE(st.error_message().find("token expired"), std::string::npos)
    << st.error_message();
}

TEST_F(auth_test, the_cli_sends_the_token_of_its_token_file) {
  auto cli = [&](const claims& who, const std::string& what) {
    std::ofstream{dir / "token"} << token(who) << "\n";
    return std::make_unique<process>(
      cli_binary,
      std::vector<std::string>{
        "--server", address, "--tls-ca", ca->certificate(), "--tls-certificate",
        dir / "edge.pem", "--tls-private-key", dir / "edge.key", "--token-file",
        dir / "token", "get", what, "--tenant", "contoso"},
      true);
  };
  auto supervisor = cli(user("oid-sam", "Switchboard.Supervisor"), "queues");
  EXPECT_TRUE(supervisor->wait_for_line("support", 10s));
  EXPECT_EQ(supervisor->wait(), 0);
  auto agent = cli(user("oid-ann", "Switchboard.Agent"), "agents");
  EXPECT_TRUE(agent->wait_for_line("PERMISSION_DENIED", 10s));
  EXPECT_EQ(agent->wait(), 1);
}

TEST_F(auth_test, the_cli_signs_in_with_a_device_code_and_refreshes) {
  // Sam's first access token expires within the CLI's refresh margin, the
  // next ones in an hour.
  std::atomic<int> issued{0};
  idp->sign_api_users_in(audience, kid, [&issued] {
    auto c = user("oid-sam", "Switchboard.Supervisor");
    c.exp = now_seconds() + (++issued == 1 ? 120 : 3600);
    return c.json();
  });
  auto cache = dir / "config/switchboard/token.json";
  std::vector<std::string> connect{"--server",          address,
                                   "--tls-ca",          ca->certificate(),
                                   "--tls-certificate", dir / "edge.pem",
                                   "--tls-private-key", dir / "edge.key",
                                   "--token-cache",     cache};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), connect.begin(), connect.end());
    return std::make_unique<process>(cli_binary, args, true);
  };
  auto login
    = run({"login", "--client-id", "bot-app-id", "--scope",
           audience + "/.default", "--tenant-id", contoso_tid, "--authority",
           idp->authority(), "--authority-ca", ca->certificate()});
  EXPECT_TRUE(login->wait_for_line("enter the code STANDIN1", 10s));
  EXPECT_TRUE(login->wait_for_line("signed in", 15s));
  EXPECT_EQ(login->wait(), 0);
  EXPECT_EQ(issued.load(), 1);
  struct stat info {};
  ASSERT_EQ(::stat(cache.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  // The token about to expire is refreshed before it is sent.
  auto get = run({"get", "queues", "--tenant", "contoso"});
  EXPECT_TRUE(get->wait_for_line("support", 10s));
  EXPECT_EQ(get->wait(), 0);
  EXPECT_EQ(issued.load(), 2);
  // A fresh one is sent as kept.
  get = run({"get", "queues", "--tenant", "contoso"});
  EXPECT_TRUE(get->wait_for_line("support", 10s));
  EXPECT_EQ(get->wait(), 0);
  EXPECT_EQ(issued.load(), 2);

  auto logout = run({"logout"});
  EXPECT_TRUE(logout->wait_for_line("signed out", 10s));
  EXPECT_EQ(logout->wait(), 0);
  EXPECT_NE(::stat(cache.c_str(), &info), 0);
}

} // namespace
