// Teams calls to the bot through the real Graph gateway and the real
// router, with the stand-in Graph (tests/support/graph_standin.hpp) on
// HTTPS sending the published notifications, ids rewritten: the gateway
// answers, the call waits in the engine, the chosen agent is invited and
// joins, and the call ends in the engine when the caller hangs up.

#include "tests/support/certificates.hpp"
#include "tests/support/graph_standin.hpp"
#include "tests/support/http.hpp"
#include "tests/support/router_fixture.hpp"
#include "tests/support/sip_peers.hpp"
#include "tests/support/test_keys.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>
#include <sys/stat.h>

using namespace switchboard;
using namespace switchboard::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* microsoft_tenant = "632899f8-2ea1-4604-8413-27bd2892079f";

class graph_calls_test : public routing_test {
 protected:
  void SetUp() override {
    routing_test::SetUp();
    graph_tenant();
    events = std::make_unique<event_reader>(*n->events, "contoso");
    ca = std::make_unique<test_authority>(dir.path(), "test-ca");
    ASSERT_TRUE(ca->ok());
    ASSERT_TRUE(ca->sign("standin"));
    ASSERT_TRUE(ca->sign("gateway"));
    // The certificate presence subscriptions are encrypted for.
    ASSERT_TRUE(ca->sign("presence-cert"));
    std::ifstream pem{dir / "presence-cert.pem"};
    std::stringstream text;
    text << pem.rdbuf();
    presence_key = rsa_key::of_certificate(text.str());
    ASSERT_TRUE(presence_key);
    standin = std::make_unique<graph_standin>(dir / "standin.pem",
                                              dir / "standin.key");
    ASSERT_EQ(standin->start(), "");
    std::ofstream{dir / "client-secret"} << "standin-client-secret\n";
    std::ofstream{dir / "client-state"} << "presence-state\n";
    std::ofstream{dir / "token-key"} << "a-test-key-that-seals-tokens\n";
  }

  void TearDown() override {
    if (gateway) {
      EXPECT_EQ(gateway->stop(), 0) << "the gateway did not stop cleanly";
      if (HasFailure())
        for (auto& line : gateway->lines())
          std::cerr << "gateway: " << line << "\n";
      gateway.reset();
    }
    standin.reset();
    events.reset();
  }

  // contoso as a Teams customer: its Microsoft tenant, the "sales" queue
  // every call goes to (offers ring 10 s), and ann, whose Teams user id
  // the gateway invites.
  void graph_tenant() {
    v1::UpsertTenantRequest t;
    t.mutable_tenant()->set_tenant_id("contoso");
    t.mutable_tenant()->set_microsoft_tenant_id(microsoft_tenant);
    v1::Tenant tenant_out;
    ASSERT_TRUE(n->admin->UpsertTenant(ctx().get(), t, &tenant_out).ok());
    v1::UpsertQueueRequest q;
    q.mutable_queue()->set_tenant_id("contoso");
    q.mutable_queue()->set_queue_id("sales");
    *q.mutable_queue()->mutable_offer_timeout()
      = google::protobuf::util::TimeUtil::SecondsToDuration(10);
    // One missed offer and the agent is set not ready, as a contact
    // center runs it: the next offer goes to another agent.
    q.mutable_queue()->set_max_missed_offers(1);
    v1::Queue queue_out;
    ASSERT_TRUE(n->admin->UpsertQueue(ctx().get(), q, &queue_out).ok());
    v1::UpsertClassificationRulesRequest rules;
    rules.set_tenant_id("contoso");
    rules.set_default_queue_id("sales");
    v1::ClassificationRules rules_out;
    ASSERT_TRUE(
      n->admin->UpsertClassificationRules(ctx().get(), rules, &rules_out).ok());
  }

  // With `available` false the agent is ready in Switchboard but not
  // Available: their presence is to come from Teams.
  void teams_agent(const std::string& id, const std::string& teams_user_id,
                   bool available = true) {
    v1::UpsertAgentRequest req;
    auto& a = *req.mutable_agent();
    a.set_tenant_id("contoso");
    a.set_agent_id(id);
    a.set_teams_user_id(teams_user_id);
    a.add_queue_ids("sales");
    v1::AgentView out;
    auto st = n->admin->UpsertAgent(ctx().get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    if (available)
      presence(id, v1::PRESENCE_AVAILABLE);
    ready(id, true);
  }

  // The settings the gateway and its login share.
  std::vector<std::string> graph_settings() {
    return {"--app-id",           "bot-app-id",       "--authority",
            standin->authority(), "--graph-url",      standin->graph_url(),
            "--ca-file",          ca->certificate(),  "--token-store",
            dir / "tokens",       "--token-key-file", dir / "token-key"};
  }

  // switchboard-graph-gateway login: the service account signs in.
  void sign_in() {
    auto args = graph_settings();
    args.insert(args.begin(), {"login", microsoft_tenant});
    process login{SWITCHBOARD_GRAPH_GATEWAY_PATH, args, true};
    ASSERT_TRUE(login.wait_for_line("enter the code STANDIN1", 20s));
    ASSERT_EQ(login.wait(), 0);
    ASSERT_TRUE(
      has_line(login, "signed in as switchboard-presence@contoso.com", 1s));
  }

  void start_gateway(std::vector<std::string> extra = {}) {
    if (port == 0)
      port = free_port();
    callback = "https://127.0.0.1:" + std::to_string(port) + "/api/calls";
    // Graph validates a subscription's URL before the gateway is told it
    // is made: the stand-in knows where the bot is from the start.
    standin->connect_bot(callback, ca->certificate(),
                         SWITCHBOARD_GRAPH_FIXTURES, microsoft_tenant);
    std::vector<std::string> args{"--listen",
                                  "127.0.0.1:" + std::to_string(port),
                                  "--certificate",
                                  dir / "gateway.pem",
                                  "--private-key",
                                  dir / "gateway.key",
                                  "--app-id",
                                  "bot-app-id",
                                  "--openid-configuration",
                                  standin->openid_configuration_url(),
                                  "--graph-url",
                                  standin->graph_url(),
                                  "--authority",
                                  standin->authority(),
                                  "--ca-file",
                                  ca->certificate(),
                                  "--client-secret-file",
                                  dir / "client-secret",
                                  "--router",
                                  n->address,
                                  "--tenants",
                                  "contoso",
                                  "--callback-url",
                                  callback,
                                  "--client-state-file",
                                  dir / "client-state",
                                  "--presence-private-key",
                                  dir / "presence-cert.key",
                                  "--presence-certificate",
                                  dir / "presence-cert.pem",
                                  "--presence-certificate-id",
                                  "presence-cert",
                                  "--token-store",
                                  dir / "tokens",
                                  "--token-key-file",
                                  dir / "token-key"};
    args.insert(args.end(), extra.begin(), extra.end());
    gateway
      = std::make_unique<process>(SWITCHBOARD_GRAPH_GATEWAY_PATH, args, true);
    ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"serving\"", 30s))
      << "the gateway did not start";
    ASSERT_TRUE(has_line(*gateway, "\"msg\":\"signing keys read\"", 30s));
  }

  // The waiting caller of `call_id` presses 1 once the bot listens for
  // tones (Graph sends none before subscribeToTone): the engine takes
  // the call off the line for a callback.
  void caller_asks_for_a_callback(const std::string& call_id) {
    ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, call_id));
    ASSERT_EQ(
      requests_to("/v1.0/communications/calls/" + call_id + "/subscribeToTone")
        .size(),
      1u);
    standin->press(call_id, "tone1");
    ASSERT_TRUE(
      events->wait_for(v1::EVENT_TYPE_CALL_CALLBACK_REQUESTED, call_id));
  }

  // Ann is ready, and a Teams call `call_id` reaches her: they talk.
  void ann_talks(const std::string& call_id) {
    teams_agent("ann", "agent-oid-ann");
    standin->incoming_call(call_id);
    ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, call_id));
    ASSERT_TRUE(
      gateway->wait_for_line("agent joined; caller and agent talk", 10s));
  }

  // The stand-in's subscriptions once `ready` holds for them (20 s at most).
  template<class Ready>
  std::vector<graph_standin::subscription> subscriptions_when(Ready ready) {
    for (int i = 0; i < 200; ++i) {
      auto subs = standin->subscriptions();
      if (ready(subs))
        return subs;
      std::this_thread::sleep_for(100ms);
    }
    return standin->subscriptions();
  }

  // The requests the stand-in had for `path`, waiting up to 10 s for one.
  std::vector<http::request> requests_to(const std::string& path,
                                         const std::string& method = "POST") {
    for (int i = 0; i < 100; ++i) {
      std::vector<http::request> found;
      for (auto& r : standin->requests())
        if (r.path == path && r.method == method)
          found.push_back(r);
      if (!found.empty())
        return found;
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }

  // A Teams presence change as Graph delivers it to the gateway: a rich
  // notification encrypted for the gateway's certificate.
  unsigned post_presence(const std::string& user,
                         const std::string& availability,
                         const std::string& tenant) {
    auto content = presence_key->encrypt_like_graph(
      "{\"@odata.type\":\"#microsoft.graph.presence\",\"id\":\"" + user
        + "\",\"availability\":\"" + availability + "\",\"activity\":\""
        + availability + "\"}",
      "presence-cert");
    http::outgoing req;
    req.method = "POST";
    req.url = "https://127.0.0.1:" + std::to_string(port) + "/api/presence";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = "{\"value\":[{\"subscriptionId\":\"sub-1\",\"clientState\":"
               "\"presence-state\",\"changeType\":\"updated\",\"tenantId\":\""
               + tenant + "\",\"resource\":\"communications/presences/" + user
               + "\",\"resourceData\":{\"id\":\"" + user
               + "\"},\"encryptedContent\":" + content
               + "}],\"validationTokens\":[\""
               + standin->validation_token(tenant) + "\"]}";
    http::client::options o;
    o.ca_file = ca->certificate();
    http::client client{o};
    std::promise<http::reply> done;
    auto f = done.get_future();
    client.send(std::move(req), [&done](http::reply r) {
      done.set_value(std::move(r));
    });
    return f.get().value.status;
  }

  std::unique_ptr<rsa_key> presence_key;
  std::unique_ptr<event_reader> events;
  std::unique_ptr<test_authority> ca;
  std::unique_ptr<graph_standin> standin;
  std::unique_ptr<process> gateway;
  std::uint16_t port = 0;
  std::string callback;
};

} // namespace

TEST_F(graph_calls_test,
       a_teams_call_is_answered_waits_reaches_an_agent_and_ends) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-1");

  // Answered within Graph's 15 s, with service-hosted media and this
  // gateway's callback URL, as the app of the call's tenant.
  auto answers = requests_to("/v1.0/communications/calls/call-1/answer");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_NE(answers[0].body.find("serviceHostedMediaConfig"),
            std::string::npos);
  EXPECT_NE(answers[0].body.find("\"callbackUri\":\"" + callback + "\""),
            std::string::npos)
    << answers[0].body;
  EXPECT_EQ(
    standin->count("/" + std::string{microsoft_tenant} + "/oauth2/v2.0/token"),
    1u);

  // Established, it waits in the engine's queue: nobody is ready.
  auto queued = events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-1");
  ASSERT_TRUE(queued) << "the call did not reach the engine; "
                      << standin->notification_statuses().size()
                      << " notifications sent, first status "
                      << (standin->notification_statuses().empty()
                            ? 0u
                            : standin->notification_statuses()[0]);
  EXPECT_EQ(get_call("call-1").call().from(), graph_standin::caller_id);
  EXPECT_EQ(get_call("call-1").call().attributes().at("microsoft_tenant"),
            microsoft_tenant);

  // An agent becomes ready: the engine offers the call and the gateway
  // invites ann's Teams user into it.
  teams_agent("ann", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-1"));
  auto invites
    = requests_to("/v1.0/communications/calls/call-1/participants/invite");
  ASSERT_EQ(invites.size(), 1u);
  EXPECT_NE(invites[0].body.find("\"id\":\"agent-oid-ann\""), std::string::npos)
    << invites[0].body;
  EXPECT_NE(invites[0].body.find(microsoft_tenant), std::string::npos);

  // Ann joins (the roster shows her): the offer is accepted.
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-1"))
    << "the agent joining did not accept the offer";
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_ASSIGNED);
  EXPECT_TRUE(
    gateway->wait_for_line("agent joined; caller and agent talk", 10s));

  // The caller hangs up: the agent wraps up and the bot leaves the call.
  standin->caller_hangs_up("call-1");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "call-1"));
  EXPECT_EQ(requests_to("/v1.0/communications/calls/call-1", "DELETE").size(),
            1u);
  for (auto status : standin->notification_statuses())
    EXPECT_EQ(status, 202u);
}

TEST_F(graph_calls_test,
       an_agent_who_does_not_join_is_declined_and_the_next_is_invited) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  teams_agent("ann", "agent-oid-ann");
  teams_agent("bob", "agent-oid-bob");
  standin->does_not_answer("agent-oid-ann");
  standin->incoming_call("call-2");
  // Ann, ready longest, is invited first; her invite's operation fails:
  // DeclineOffer, and the next agent is invited.
  auto offered = events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-2");
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->offer().agent_id(), "ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_OFFER_DECLINED, "call-2"))
    << "a failed invite did not decline the offer";
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-2"));
  EXPECT_EQ(get_call("call-2").agent_id(), "bob");
  EXPECT_EQ(
    requests_to("/v1.0/communications/calls/call-2/participants/invite").size(),
    2u);
}

TEST_F(graph_calls_test, a_caller_who_hangs_up_while_waiting_abandons) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-3");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-3"));
  standin->caller_hangs_up("call-3");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ABANDONED, "call-3"));
  EXPECT_EQ(get_call("call-3").state(), v1::CALL_STATE_ABANDONED);
}

TEST_F(graph_calls_test, a_call_from_a_tenant_not_served_is_rejected) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->connect_bot(callback, ca->certificate(), SWITCHBOARD_GRAPH_FIXTURES,
                       "11111111-2222-3333-4444-555555555555");
  standin->incoming_call("call-4");
  auto rejects = requests_to("/v1.0/communications/calls/call-4/reject");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_NE(rejects[0].body.find("forbidden"), std::string::npos);
  v1::GetCallRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id("call-4");
  v1::CallView out;
  EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(graph_calls_test, teams_presence_gates_routing) {
  // Ann is ready in Switchboard but not Available in Teams yet.
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann", false));
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-5");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-5"));

  // A change claiming another Microsoft tenant changes nothing.
  EXPECT_EQ(post_presence("agent-oid-ann", "Available",
                          "11111111-2222-3333-4444-555555555555"),
            202u);
  EXPECT_TRUE(gateway->wait_for_line("agent of another Microsoft tenant", 10s));
  v1::GetCallRequest get;
  get.set_tenant_id("contoso");
  get.set_call_id("call-5");
  v1::CallView waiting;
  ASSERT_TRUE(n->routing->GetCall(ctx().get(), get, &waiting).ok());
  EXPECT_EQ(waiting.state(), v1::CALL_STATE_QUEUED);

  // Teams says Available: the engine offers her the call.
  EXPECT_EQ(post_presence("agent-oid-ann", "Available", microsoft_tenant),
            202u);
  auto offered = events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-5");
  ASSERT_TRUE(offered) << "a Teams presence change did not reach the engine";
  EXPECT_EQ(offered->offer().agent_id(), "ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-5"));
}

TEST_F(graph_calls_test,
       the_service_account_signs_in_once_and_its_refresh_token_is_sealed) {
  ASSERT_NO_FATAL_FAILURE(sign_in());
  EXPECT_EQ(standin->current_refresh_token(), "standin-refresh-1");
  auto file = dir / "tokens" + "/" + microsoft_tenant + ".token";
  std::ifstream in{file};
  std::stringstream sealed;
  sealed << in.rdbuf();
  ASSERT_FALSE(sealed.str().empty()) << "no token file in the store";
  EXPECT_EQ(sealed.str().find("standin-refresh"), std::string::npos)
    << "the refresh token is kept in the clear";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Another tenant id does not take the token.
  auto args = graph_settings();
  args.insert(args.begin(), {"login", "not a tenant"});
  process refused{SWITCHBOARD_GRAPH_GATEWAY_PATH, args, true};
  EXPECT_EQ(refused.wait(), 2);
  EXPECT_TRUE(has_line(refused, "is not a Microsoft tenant id", 1s));
}

TEST_F(graph_calls_test,
       presence_subscriptions_cover_the_agents_and_their_changes_gate_routing) {
  ASSERT_NO_FATAL_FAILURE(sign_in());
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann", false));
  ASSERT_NO_FATAL_FAILURE(teams_agent("bob", "agent-oid-bob"));
  ready("bob", false);
  auto metrics_port = free_port();
  ASSERT_NO_FATAL_FAILURE(start_gateway(
    {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)}));

  auto subs = subscriptions_when([](const auto& s) {
    return s.size() == 1;
  });
  ASSERT_EQ(subs.size(), 1u) << "no presence subscription was made";
  const auto& sub = subs.front();
  EXPECT_EQ(sub.resource, "/communications/presences?$filter=id in "
                          "('agent-oid-ann','agent-oid-bob')");
  EXPECT_EQ(sub.notification_url,
            "https://127.0.0.1:" + std::to_string(port) + "/api/presence");
  EXPECT_EQ(sub.lifecycle_url, sub.notification_url);
  EXPECT_EQ(sub.client_state, "presence-state");
  EXPECT_EQ(sub.certificate_id, "presence-cert");
  // Made with the service account's token, whose refresh token rotated
  // and was sealed again.
  auto made = requests_to("/v1.0/subscriptions");
  ASSERT_FALSE(made.empty());
  EXPECT_EQ(made.front().header("authorization").rfind("Bearer eyJ0eXAi", 0),
            0u);
  EXPECT_EQ(standin->current_refresh_token(), "standin-refresh-2");
  EXPECT_TRUE(has_line(*gateway, "presence subscription made", 10s));

  // Ann is ready but not Available in Teams: the call waits until Teams
  // says she is, through the subscription.
  standin->incoming_call("call-7");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-7"));
  standin->change_presence("agent-oid-ann", "Available");
  auto offered = events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-7");
  ASSERT_TRUE(offered) << "the subscription's change did not reach the engine";
  EXPECT_EQ(offered->offer().agent_id(), "ann");

  // What the operator's dashboards read.
  auto figures = http_get(metrics_port, "/metrics");
  for (const char* line :
       {"switchboard_graph_presence_subscriptions 1",
        "switchboard_graph_presence_users 2",
        "switchboard_graph_presence_changes_total 1",
        "switchboard_graph_subscription_validations_total 1",
        "switchboard_graph_presence_subscription_operations_total{operation="
        "\"created\"} 1",
        "switchboard_graph_calls 1"})
    EXPECT_NE(figures.find(line), std::string::npos) << line << " in\n"
                                                     << figures;
}

TEST_F(graph_calls_test,
       subscriptions_are_renewed_reauthorized_remade_and_missed_changes_read) {
  ASSERT_NO_FATAL_FAILURE(sign_in());
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann", false));
  // Graph grants 15 min 5 s: the gateway renews 15 min before expiry.
  standin->cap_subscription_lifetime(std::chrono::seconds{905});
  ASSERT_NO_FATAL_FAILURE(start_gateway());

  auto subs = subscriptions_when([](const auto& s) {
    return s.size() == 1 && s.front().renewals >= 1;
  });
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_GE(subs.front().renewals, 1u) << "the subscription was not renewed";
  EXPECT_TRUE(has_line(*gateway, "presence subscription renewed", 10s));
  auto first = subs.front().id;
  standin->cap_subscription_lifetime(std::chrono::seconds{3600});

  standin->lifecycle(first, "reauthorizationRequired");
  subs = subscriptions_when([](const auto& s) {
    return s.size() == 1 && s.front().reauthorizations;
  });
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs.front().reauthorizations, 1u);

  // Graph removes it: the gateway makes it again.
  standin->lifecycle(first, "subscriptionRemoved", true);
  subs = subscriptions_when([&first](const auto& s) {
    return s.size() == 1 && s.front().id != first;
  });
  ASSERT_EQ(subs.size(), 1u) << "the removed subscription was not made again";
  EXPECT_NE(subs.front().id, first);
  EXPECT_EQ(subs.front().users, std::vector<std::string>{"agent-oid-ann"});

  // A change Graph did not deliver ("missed") is read with
  // getPresencesByUserId, and routes the waiting call.
  standin->incoming_call("call-8");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-8"));
  auto reads = standin->count("/v1.0/communications/getPresencesByUserId");
  standin->change_presence("agent-oid-ann", "Available", false);
  standin->lifecycle(subs.front().id, "missed");
  auto offered = events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-8");
  ASSERT_TRUE(offered) << "the missed change was not read";
  EXPECT_EQ(offered->offer().agent_id(), "ann");
  EXPECT_GT(standin->count("/v1.0/communications/getPresencesByUserId"), reads);
}

TEST_F(graph_calls_test, a_restarted_gateway_replaces_its_subscriptions) {
  ASSERT_NO_FATAL_FAILURE(sign_in());
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann"));
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  auto subs = subscriptions_when([](const auto& s) {
    return s.size() == 1;
  });
  ASSERT_EQ(subs.size(), 1u);
  auto first = subs.front().id;
  ASSERT_EQ(gateway->stop(), 0);

  // Graph keeps a subscription for one user per app: the new run deletes
  // the one the old run left, then makes its own.
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  subs = subscriptions_when([&first](const auto& s) {
    return s.size() == 1 && s.front().id != first;
  });
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_NE(subs.front().id, first);
  EXPECT_EQ(requests_to("/v1.0/subscriptions/" + first, "DELETE").size(), 1u);
}

TEST_F(graph_calls_test,
       without_subscriptions_the_periodic_reconcile_still_gates_routing) {
  // No service account signed in: presence is read every 2 s instead.
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann", false));
  ASSERT_NO_FATAL_FAILURE(start_gateway({"--presence-reconcile", "2s"}));
  EXPECT_TRUE(has_line(*gateway, "has not signed in for this tenant", 10s));
  standin->incoming_call("call-9");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-9"));
  standin->change_presence("agent-oid-ann", "Available", false);
  auto offered = events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-9");
  ASSERT_TRUE(offered) << "the reconcile did not read Ann's presence";
  EXPECT_EQ(offered->offer().agent_id(), "ann");
  EXPECT_TRUE(standin->subscriptions().empty());
}

TEST_F(graph_calls_test,
       a_call_while_the_router_is_down_rings_until_it_is_back_then_waits) {
  ASSERT_NO_FATAL_FAILURE(start_gateway({"--router-wait", "30s"}));
  auto address = n->address;
  events.reset();
  n->kill();
  ASSERT_TRUE(has_line(*gateway, "router stream lost", 30s));

  standin->incoming_call("call-10");
  ASSERT_TRUE(
    has_line(*gateway, "rings unanswered until the router is back", 10s));
  EXPECT_EQ(standin->count("/v1.0/communications/calls/call-10/answer"), 0u)
    << "answered with no router to queue the call";

  // The router comes back at the same address, with its data.
  n->start(dir, {"--grpc-listen", address});
  ASSERT_EQ(n->address, address);
  events = std::make_unique<event_reader>(*n->events, "contoso");
  // The gateway reconnects with its back-off: up to 40 s.
  std::optional<v1::Event> queued;
  for (int i = 0; i < 4 && !queued; ++i)
    queued = events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-10");
  ASSERT_TRUE(queued) << "the held call was not queued once the router was "
                         "back";
  EXPECT_EQ(standin->count("/v1.0/communications/calls/call-10/answer"), 1u);
  for (auto status : standin->notification_statuses())
    EXPECT_EQ(status, 202u) << "a notification was not taken";
}

TEST_F(graph_calls_test, a_call_the_router_is_not_back_for_is_rejected_busy) {
  ASSERT_NO_FATAL_FAILURE(start_gateway({"--router-wait", "2s"}));
  events.reset();
  n->kill();
  ASSERT_TRUE(has_line(*gateway, "router stream lost", 30s));
  standin->incoming_call("call-11");
  auto rejected = requests_to("/v1.0/communications/calls/call-11/reject");
  ASSERT_EQ(rejected.size(), 1u) << "the call was not rejected";
  EXPECT_EQ(rejected.front().body, "{\"reason\":\"busy\"}");
  EXPECT_TRUE(has_line(*gateway, "the router was not back in time", 5s));
  EXPECT_EQ(standin->count("/v1.0/communications/calls/call-11/answer"), 0u);
}

TEST_F(graph_calls_test,
       two_microsoft_tenants_never_see_each_others_calls_or_agents) {
  constexpr const char* fabrikam_ms = "9d1e6f55-2c4b-4a0e-9bb7-7a1e7c5d2f10";
  // fabrikam: another customer, its own Microsoft tenant, queue and agent.
  v1::UpsertTenantRequest t;
  t.mutable_tenant()->set_tenant_id("fabrikam");
  t.mutable_tenant()->set_microsoft_tenant_id(fabrikam_ms);
  v1::Tenant tenant_out;
  ASSERT_TRUE(n->admin->UpsertTenant(ctx().get(), t, &tenant_out).ok());
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("fabrikam");
  q.mutable_queue()->set_queue_id("support");
  v1::Queue queue_out;
  ASSERT_TRUE(n->admin->UpsertQueue(ctx().get(), q, &queue_out).ok());
  v1::UpsertClassificationRulesRequest rules;
  rules.set_tenant_id("fabrikam");
  rules.set_default_queue_id("support");
  v1::ClassificationRules rules_out;
  ASSERT_TRUE(
    n->admin->UpsertClassificationRules(ctx().get(), rules, &rules_out).ok());
  v1::UpsertAgentRequest a;
  a.mutable_agent()->set_tenant_id("fabrikam");
  a.mutable_agent()->set_agent_id("fay");
  a.mutable_agent()->set_teams_user_id("agent-oid-fay");
  a.mutable_agent()->add_queue_ids("support");
  v1::AgentView agent_out;
  ASSERT_TRUE(n->admin->UpsertAgent(ctx().get(), a, &agent_out).ok());
  v1::SetAgentPresenceRequest p;
  p.set_tenant_id("fabrikam");
  p.set_agent_id("fay");
  p.set_presence(v1::PRESENCE_AVAILABLE);
  v1::AgentView p_out;
  ASSERT_TRUE(n->routing->SetAgentPresence(ctx().get(), p, &p_out).ok());
  v1::SetAgentReadyRequest r;
  r.set_tenant_id("fabrikam");
  r.set_agent_id("fay");
  r.set_ready(true);
  v1::AgentView r_out;
  ASSERT_TRUE(n->routing->SetAgentReady(ctx().get(), r, &r_out).ok());
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann"));

  // One gateway serves both.
  ASSERT_NO_FATAL_FAILURE(start_gateway({"--tenants", "contoso,fabrikam"}));
  event_reader fabrikam_events{*n->events, "fabrikam"};
  standin->incoming_call("call-c", microsoft_tenant);
  standin->incoming_call("call-f", fabrikam_ms);

  // Each call waits in its own tenant and goes to its own agent.
  auto c = events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-c");
  auto f = fabrikam_events.wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-f");
  ASSERT_TRUE(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(c->call().agent_id(), "ann");
  EXPECT_EQ(f->call().agent_id(), "fay");
  EXPECT_FALSE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-f"))
    << "contoso's stream shows fabrikam's call";
  EXPECT_EQ(f->call().call().attributes().at("microsoft_tenant"), fabrikam_ms);

  // Each call's Graph requests went with its own tenant's app token, and
  // each invite named its own tenant's agent.
  EXPECT_EQ(standin->cross_tenant_requests(), 0u);
  for (const auto& req :
       requests_to("/v1.0/communications/calls/call-c/participants/invite"))
    EXPECT_EQ(req.body.find("agent-oid-fay"), std::string::npos) << req.body;
  for (const auto& req :
       requests_to("/v1.0/communications/calls/call-f/participants/invite")) {
    EXPECT_NE(req.body.find("agent-oid-fay"), std::string::npos) << req.body;
    EXPECT_EQ(req.body.find("agent-oid-ann"), std::string::npos) << req.body;
  }
  for (const auto& req : standin->requests()) {
    if (req.path.rfind("/v1.0/communications/calls/call-f", 0) == 0) {
      EXPECT_NE(req.header("authorization").find(fabrikam_ms),
                std::string::npos)
        << req.path;
    }
  }

  // A presence change for fabrikam's agent that claims contoso's tenant
  // is ignored.
  EXPECT_EQ(post_presence("agent-oid-fay", "Offline", microsoft_tenant), 202u);
  EXPECT_TRUE(has_line(*gateway, "agent of another Microsoft tenant", 10s));
}

TEST_F(graph_calls_test, a_restarted_gateway_rejoins_a_waiting_call) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-12");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-12"));
  gateway->stop(SIGKILL);
  gateway.reset();

  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_TRUE(
    has_line(*gateway, "rejoined a waiting call after a restart", 20s));
  // The call is routed by the new run: its agent is invited and joins.
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann"));
  auto assigned = events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-12");
  ASSERT_TRUE(assigned) << "the rejoined call was not routed";
  EXPECT_EQ(assigned->call().agent_id(), "ann");
  EXPECT_EQ(
    requests_to("/v1.0/communications/calls/call-12/participants/invite")
      .size(),
    1u);
}

TEST_F(graph_calls_test,
       a_restarted_gateway_ends_calls_graph_lost_and_rejoins_calls_in_talk) {
  ASSERT_NO_FATAL_FAILURE(teams_agent("ann", "agent-oid-ann"));
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-13");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-13"));
  standin->incoming_call("call-14"); // waits: ann is busy
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-14"));
  gateway->stop(SIGKILL);
  gateway.reset();
  // While the gateway is down the waiting caller hangs up.
  standin->caller_hangs_up("call-14");

  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_CANCELLED, "call-14"))
    << "the call Graph lost still waits in the engine";
  ASSERT_TRUE(
    has_line(*gateway, "rejoined a call in talk after a restart", 20s));

  // Ann hangs up in Teams: the engine wraps the call up, the bot leaves.
  standin->agent_leaves("call-13", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "call-13"))
    << "the rejoined call did not end when the agent left";
  EXPECT_EQ(requests_to("/v1.0/communications/calls/call-13", "DELETE").size(),
            1u);
}

TEST_F(graph_calls_test,
       a_call_the_engine_ends_with_an_announcement_hears_it_then_is_hung_up) {
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("contoso");
  q.mutable_queue()->set_queue_id("sales");
  *q.mutable_queue()->mutable_max_wait()
    = google::protobuf::util::TimeUtil::SecondsToDuration(2);
  q.mutable_queue()->mutable_when_max_wait()->set_kind(
    v1::LimitAction::KIND_DISCONNECT);
  q.mutable_queue()->mutable_when_max_wait()->set_announcement("sorry");
  v1::Queue queue_out;
  ASSERT_TRUE(n->admin->UpsertQueue(ctx().get(), q, &queue_out).ok());
  // No agent: the call waits until max_wait ends it.
  ASSERT_NO_FATAL_FAILURE(
    start_gateway({"--announcement-url", "https://prompts.test/{prompt}.wav"}));
  standin->incoming_call("call-15");
  auto ended = events->wait_for(v1::EVENT_TYPE_CALL_TIMED_OUT, "call-15");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->call().announcement(), "sorry");

  auto prompts = requests_to("/v1.0/communications/calls/call-15/playPrompt");
  ASSERT_EQ(prompts.size(), 1u) << "the announcement was not played";
  EXPECT_NE(prompts.front().body.find("https://prompts.test/sorry.wav"),
            std::string::npos)
    << prompts.front().body;
  EXPECT_NE(prompts.front().body.find("\"clientContext\":\"announcement:"),
            std::string::npos);
  // Once it has played, the bot hangs up; not before.
  auto hung_up = requests_to("/v1.0/communications/calls/call-15", "DELETE");
  ASSERT_EQ(hung_up.size(), 1u) << "the bot did not hang up";
  auto all = standin->requests();
  auto order = [&all](const std::string& method, const std::string& path) {
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].method == method && all[i].path == path)
        return i;
    return all.size();
  };
  EXPECT_LT(order("POST", "/v1.0/communications/calls/call-15/playPrompt"),
            order("DELETE", "/v1.0/communications/calls/call-15"));
  EXPECT_TRUE(has_line(*gateway, "playing the engine's announcement", 5s));
}

TEST_F(graph_calls_test,
       a_transfer_invites_the_next_agent_and_then_removes_the_first) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_NO_FATAL_FAILURE(ann_talks("call-tr"));
  teams_agent("bob", "agent-oid-bob");

  // A supervisor transfers the call to bob through the API.
  v1::TransferCallRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id("call-tr");
  req.set_agent_id("bob");
  v1::CallView out;
  auto st = n->routing->TransferCall(ctx().get(), req, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_TRANSFERRED, "call-tr"));
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-tr"))
    << "bob joining did not accept the transferred call";
  EXPECT_EQ(get_call("call-tr").agent_id(), "bob");

  // Bob was invited while ann stayed with the caller; ann was removed
  // only after bob had joined, and the call itself went on.
  auto removed = requests_to(
    "/v1.0/communications/calls/call-tr/participants/agent-participant-"
    "agent-oid-ann",
    "DELETE");
  ASSERT_EQ(removed.size(), 1u) << "ann was not removed after the handoff";
  std::vector<std::string> order;
  for (auto& r : standin->requests())
    if (r.path.find("/call-tr/participants") != std::string::npos)
      order.push_back(
        r.method + " " + r.path
        + (r.body.find("agent-oid-bob") != std::string::npos ? " bob" : ""));
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[1],
            "POST /v1.0/communications/calls/call-tr/participants/invite bob");
  EXPECT_EQ(order[2].rfind("DELETE ", 0), 0u) << order[2];
  for (auto& r : standin->requests())
    EXPECT_FALSE(r.method == "DELETE"
                 && r.path == "/v1.0/communications/calls/call-tr")
      << "the bot hung up the transferred call";

  // Ann wraps up the transferred part; bob talks until the caller leaves.
  standin->caller_hangs_up("call-tr");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "call-tr"));
  EXPECT_EQ(get_call("call-tr").agent_id(), "bob");
}

TEST_F(graph_calls_test,
       a_waiting_caller_who_presses_1_is_called_back_through_the_bot) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-cb");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-cb"));
  // The gateway listens for the caller's digits once the call waits.
  ASSERT_EQ(
    requests_to("/v1.0/communications/calls/call-cb/subscribeToTone").size(),
    1u);

  // Another key does nothing; 1 keeps the caller's place and the bot
  // hangs up.
  standin->press("call-cb", "tone5");
  standin->press("call-cb", "tone1");
  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_CALLBACK_REQUESTED, "call-cb"));
  EXPECT_EQ(get_call("call-cb").callback().number(), graph_standin::caller_id);
  ASSERT_EQ(requests_to("/v1.0/communications/calls/call-cb", "DELETE").size(),
            1u);

  // Ann becomes ready: the engine offers her the callback, and the bot
  // calls her from the number the caller had called.
  teams_agent("ann", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-cb"));
  std::map<std::string, std::string> placed;
  for (int i = 0; i < 100 && placed.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    placed = standin->placed_calls();
  }
  ASSERT_EQ(placed.size(), 1u) << "the bot did not call the agent";
  auto graph_id = placed.begin()->first;
  EXPECT_NE(placed.begin()->second.find("\"id\":\"agent-oid-ann\""),
            std::string::npos)
    << placed.begin()->second;
  EXPECT_NE(placed.begin()->second.find("\"callbackUri\":\"" + callback + "\""),
            std::string::npos);

  // She answers: the offer is accepted, and the customer is invited.
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-cb"))
    << "the agent answering did not accept the callback";
  auto customer = requests_to("/v1.0/communications/calls/" + graph_id
                              + "/participants/invite");
  ASSERT_EQ(customer.size(), 1u);
  EXPECT_NE(customer[0].body.find(graph_standin::caller_id), std::string::npos)
    << customer[0].body;
  // The customer joins (the roster shows them): they talk.
  ASSERT_TRUE(gateway->wait_for_line(
    "callback: the customer answered; customer and agent talk", 10s));

  // Ann hangs up after the talk: she wraps up, the bot leaves.
  standin->agent_leaves(graph_id, "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "call-cb"));
  EXPECT_EQ(
    requests_to("/v1.0/communications/calls/" + graph_id, "DELETE").size(), 1u);
}

TEST_F(graph_calls_test, a_callback_agent_who_does_not_answer_is_declined) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-cn");
  ASSERT_NO_FATAL_FAILURE(caller_asks_for_a_callback("call-cn"));
  standin->does_not_answer("agent-oid-ann");
  teams_agent("ann", "agent-oid-ann");
  teams_agent("bob", "agent-oid-bob");
  // Ann's call terminates unanswered: declined, and bob is called.
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_OFFER_DECLINED, "call-cn"));
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-cn"));
  EXPECT_EQ(get_call("call-cn").agent_id(), "bob");
  EXPECT_EQ(standin->placed_calls().size(), 2u);
}

TEST_F(graph_calls_test,
       a_callback_call_graph_places_after_its_offer_closed_is_hung_up) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-pl");
  ASSERT_NO_FATAL_FAILURE(caller_asks_for_a_callback("call-pl"));
  ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"call ended\"", 10s))
    << "the caller's call did not end";

  // Graph takes its time placing the call to ann; meanwhile the callback
  // is withdrawn, and its actor ends.
  standin->hold_placements();
  teams_agent("ann", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-pl"));
  ASSERT_EQ(requests_to("/v1.0/communications/calls").size(), 1u);
  v1::CallView out;
  auto st = cancel("call-pl", out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"call ended\"", 10s))
    << "the callback's actor did not end";

  // Graph's answer comes: the call it placed does not ring on.
  standin->release_placements();
  EXPECT_EQ(requests_to("/v1.0/communications/calls/placed-1", "DELETE").size(),
            1u)
    << "the call to ann was left ringing";
  EXPECT_TRUE(has_line(*gateway, "the offer closed while Graph placed", 5s));
}

TEST_F(graph_calls_test,
       a_callback_call_graph_notifies_of_before_its_201_is_not_lost) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-ea");
  ASSERT_NO_FATAL_FAILURE(caller_asks_for_a_callback("call-ea"));
  // Graph places the call to ann and notifies (establishing,
  // established, the roster with her) before its 201 reaches the bot.
  auto before = standin->notification_statuses().size();
  standin->hold_placements();
  teams_agent("ann", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-ea"));
  for (int i = 0;
       i < 100 && standin->notification_statuses().size() < before + 3; ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_GE(standin->notification_statuses().size(), before + 3);
  std::this_thread::sleep_for(200ms); // the gateway has dispatched them
  EXPECT_EQ(get_call("call-ea").state(), v1::CALL_STATE_OFFERED);

  standin->release_placements();
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-ea"))
    << "the notifications that came before Graph's 201 were lost";
  EXPECT_EQ(requests_to("/v1.0/communications/calls/placed-1/participants/"
                        "invite")
              .size(),
            1u)
    << "the customer was not invited";
}

TEST_F(graph_calls_test,
       a_callback_offered_to_an_agent_without_teams_goes_to_the_next) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  standin->incoming_call("call-nt");
  ASSERT_NO_FATAL_FAILURE(caller_asks_for_a_callback("call-nt"));
  // nat has no Teams user id: the bot declines, and its actor for that
  // offer ends (the gateway's clean stop in TearDown says none is left).
  teams_agent("nat", "");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_OFFER_DECLINED, "call-nt"));
  teams_agent("bob", "agent-oid-bob");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, "call-nt"));
  EXPECT_EQ(get_call("call-nt").agent_id(), "bob");
  EXPECT_EQ(standin->placed_calls().size(), 1u);
}

namespace {

// ConsultCall for contoso's call `id` to agent `agent`; the leg's id.
std::string consult(node& nd, const std::string& id, const std::string& agent) {
  v1::ConsultCallRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id(id);
  req.set_agent_id(agent);
  v1::CallView out;
  auto st = nd.routing->ConsultCall(ctx().get(), req, &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return out.call().call_id();
}

v1::ConsultActionRequest consult_action(const std::string& id) {
  v1::ConsultActionRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id(id);
  return req;
}

} // namespace

TEST_F(graph_calls_test,
       a_consult_invites_a_second_agent_and_completing_it_hands_over_the_call) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_NO_FATAL_FAILURE(ann_talks("call-co"));
  teams_agent("bob", "agent-oid-bob");

  // Ann consults bob: he is invited into the same Teams call, ann stays.
  auto leg = consult(*n, "call-co", "bob");
  ASSERT_FALSE(leg.empty());
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, leg));
  auto invites
    = requests_to("/v1.0/communications/calls/call-co/participants/invite");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, leg))
    << "bob joining did not accept the consult leg";
  ASSERT_TRUE(
    gateway->wait_for_line("consult: the consulted agent joined", 10s));
  invites
    = requests_to("/v1.0/communications/calls/call-co/participants/invite");
  ASSERT_EQ(invites.size(), 2u);
  EXPECT_NE(invites[1].body.find("agent-oid-bob"), std::string::npos);
  EXPECT_EQ(get_call("call-co").agent_id(), "ann");
  for (auto& r : standin->requests())
    EXPECT_NE(r.method, "DELETE") << r.path;

  // Completed, the call is bob's: ann is removed from the Teams call and
  // wraps up; bob talks on with the caller.
  v1::CallView out;
  auto st
    = n->routing->CompleteConsult(ctx().get(), consult_action("call-co"), &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(requests_to("/v1.0/communications/calls/call-co/participants/"
                        "agent-participant-agent-oid-ann",
                        "DELETE")
              .size(),
            1u);
  EXPECT_EQ(get_call("call-co").agent_id(), "bob");
  standin->agent_leaves("call-co", "agent-oid-bob");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "call-co"));
  EXPECT_EQ(get_call("call-co").agent_id(), "bob");
  EXPECT_EQ(requests_to("/v1.0/communications/calls/call-co", "DELETE").size(),
            1u);
}

TEST_F(
  graph_calls_test,
  a_conference_keeps_both_agents_and_a_consulting_agent_who_leaves_hands_over) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_NO_FATAL_FAILURE(ann_talks("call-cf"));
  teams_agent("bob", "agent-oid-bob");
  teams_agent("cyd", "agent-oid-cyd");

  // A conference: bob joins ann and the caller; when he leaves, his leg
  // completes and ann goes on with the caller.
  auto leg = consult(*n, "call-cf", "bob");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, leg));
  ASSERT_TRUE(
    gateway->wait_for_line("consult: the consulted agent joined", 10s));
  v1::CallView out;
  auto st
    = n->routing->JoinConsult(ctx().get(), consult_action("call-cf"), &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_CONFERENCED, leg));
  standin->agent_leaves("call-cf", "agent-oid-bob");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, leg))
    << "bob leaving the conference did not complete his leg";
  EXPECT_EQ(get_call("call-cf").state(), v1::CALL_STATE_ASSIGNED);
  EXPECT_EQ(get_call("call-cf").agent_id(), "ann");

  // A consult with cyd, and ann hangs up: the consult completes, as a
  // transfer to cyd, and the call goes on.
  leg = consult(*n, "call-cf", "cyd");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, leg));
  ASSERT_TRUE(
    gateway->wait_for_line("consult: the consulted agent joined", 10s));
  standin->agent_leaves("call-cf", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_TRANSFERRED, "call-cf"));
  EXPECT_EQ(get_call("call-cf").agent_id(), "cyd");
  EXPECT_EQ(get_call("call-cf").state(), v1::CALL_STATE_ASSIGNED);

  // cyd brings dee into a conference, then hangs up: the call is dee's.
  teams_agent("dee", "agent-oid-dee");
  leg = consult(*n, "call-cf", "dee");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, leg));
  st = n->routing->JoinConsult(ctx().get(), consult_action("call-cf"), &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_CONFERENCED, leg));
  standin->agent_leaves("call-cf", "agent-oid-cyd");
  ASSERT_TRUE(events->wait_until([](const v1::Event& e) {
    return e.type() == v1::EVENT_TYPE_CALL_TRANSFERRED
           && e.call().call().call_id() == "call-cf"
           && e.call().agent_id() == "dee";
  }))
    << "the conference did not go on with dee";
  EXPECT_EQ(get_call("call-cf").state(), v1::CALL_STATE_ASSIGNED);
  for (auto& r : standin->requests())
    EXPECT_FALSE(r.method == "DELETE"
                 && r.path == "/v1.0/communications/calls/call-cf")
      << "the bot hung up the call";
}

TEST_F(graph_calls_test,
       a_consulted_agent_who_joins_after_the_leg_was_withdrawn_is_removed) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_NO_FATAL_FAILURE(ann_talks("call-lj"));
  teams_agent("bob", "agent-oid-bob");
  standin->rings("agent-oid-bob");
  auto leg = consult(*n, "call-lj", "bob");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, leg));
  auto invited = [this] {
    for (auto& r : standin->requests())
      if (r.path == "/v1.0/communications/calls/call-lj/participants/invite"
          && r.body.find("agent-oid-bob") != std::string::npos)
        return true;
    return false;
  };
  for (int i = 0; i < 100 && !invited(); ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(invited()) << "bob was not invited";

  // The leg is withdrawn while bob's Teams still rings; he answers after.
  v1::CallView out;
  auto st = cancel(leg, out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(
    has_line(*gateway, "the leg's offer closed before the consulted", 10s));
  standin->answers("call-lj", "agent-oid-bob");
  EXPECT_EQ(requests_to("/v1.0/communications/calls/call-lj/participants/"
                        "agent-participant-agent-oid-bob",
                        "DELETE")
              .size(),
            1u)
    << "bob stayed in a call he has no part in";
  EXPECT_EQ(get_call("call-lj").agent_id(), "ann");
  EXPECT_EQ(get_call("call-lj").state(), v1::CALL_STATE_ASSIGNED);
}

TEST_F(graph_calls_test,
       a_callback_is_placed_only_in_its_own_tenants_microsoft_tenant) {
  ASSERT_NO_FATAL_FAILURE(start_gateway({"--name", "graph-1"}));
  // A call submitted through the API that names this gateway as its
  // owner and another Microsoft tenant: its callback is not placed there.
  v1::SubmitCallRequest req;
  auto& c = *req.mutable_call();
  c.set_tenant_id("contoso");
  c.set_call_id("call-xt");
  c.set_from("+14255550123");
  (*c.mutable_attributes())["graph_gateway"] = "graph-1";
  (*c.mutable_attributes())["microsoft_tenant"]
    = "0b5e1b1c-6d3a-4f0e-9f6e-2d1c7a9e8f00";
  v1::SubmitCallResponse submitted;
  auto st = n->routing->SubmitCall(ctx().get(), req, &submitted);
  ASSERT_TRUE(st.ok()) << st.error_message();
  v1::CallView view;
  st = request_callback("call-xt", "+14255550123", view);
  ASSERT_TRUE(st.ok()) << st.error_message();
  teams_agent("ann", "agent-oid-ann");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-xt"));
  ASSERT_TRUE(has_line(*gateway,
                       "callback offered for a call this gateway "
                       "cannot place",
                       10s));
  EXPECT_TRUE(standin->placed_calls().empty());
  EXPECT_EQ(standin->cross_tenant_requests(), 0u);
}

TEST_F(graph_calls_test,
       a_blind_transfer_sends_the_caller_to_an_outside_number) {
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  auto transfer = [this](const std::string& call, const std::string& number) {
    v1::TransferCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(call);
    req.set_outside_number(number);
    v1::CallView out;
    return n->routing->TransferCall(ctx().get(), req, &out);
  };

  // A transfer Graph cannot complete: caller and ann talk on.
  standin->transfer_fails("+14255550111");
  ASSERT_NO_FATAL_FAILURE(ann_talks("call-bf"));
  auto st = transfer("call-bf", "+14255550111");
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(gateway->wait_for_line(
    "the transfer out of the contact center failed", 10s));
  EXPECT_EQ(get_call("call-bf").state(), v1::CALL_STATE_ASSIGNED);

  // Transferred again, to a number that answers: Graph is asked to
  // transfer the caller (the transferee of the group call); the caller
  // leaving the call completes it, and the bot leaves.
  st = transfer("call-bf", "+14255550100");
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "call-bf"))
    << "the transfer out did not complete the call";
  auto asked = requests_to("/v1.0/communications/calls/call-bf/transfer");
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_NE(asked[1].body.find("\"phone\":{\"@odata.type\":\"#microsoft."
                               "graph.identity\",\"id\":\"+14255550100\""),
            std::string::npos)
    << asked[1].body;
  EXPECT_NE(asked[1].body.find("\"participantId\":\"caller-participant\""),
            std::string::npos)
    << asked[1].body;
  EXPECT_EQ(requests_to("/v1.0/communications/calls/call-bf", "DELETE").size(),
            1u);

  // Only an E.164 number, and only an answered call.
  st = transfer("call-bf", "14255550100");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("outside_number"), std::string::npos);
  standin->incoming_call("call-bq");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "call-bq"));
  EXPECT_EQ(transfer("call-bq", "+14255550100").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}
