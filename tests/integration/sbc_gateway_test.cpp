// The SBC gateway with real peers: the real router, the real gateway
// binary, and SIPp callers and agents (tests/integration/sip/*.xml), all
// on 127.0.0.1. SIPp runs with call counts (-m) and a global timeout, so
// it always ends; its exit code 0 means every call went as its scenario
// says. The engine's side is checked through its events and GetCall.

#include "tests/support/router_fixture.hpp"
#include "tests/support/sip_peers.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <tuple>

namespace switchboard::testing {
namespace {

const std::string gateway_binary = SWITCHBOARD_SBC_GATEWAY_PATH;
const std::string scenarios = SWITCHBOARD_SIP_SCENARIOS;
const std::string torture_dir = SWITCHBOARD_SIP_TORTURE_DIR;
const std::string trunk = "contoso.sbc.test";
const std::string number = "+14255550100";

/// A SIPp instance running one of the repository's scenarios.
std::unique_ptr<process> sipp(const std::string& scenario, uint16_t port,
                              const std::vector<std::string>& extra) {
  // -d: the length of a scenario's <pause/> (caller.xml's talk time),
  // 500 ms unless the test says otherwise.
  auto args = extra;
  if (std::find(args.begin(), args.end(), "-d") == args.end())
    args.insert(args.end(), {"-d", "500"});
  return testing::sipp(scenarios + "/" + scenario, port, args);
}

/// Starts one SIPp caller of `scenario` to the gateway: Call-ID
/// `call_id_prefix`-1@sipp, from `trunk_fqdn` to `dialled`, with `extra`
/// arguments.
std::unique_ptr<process> caller(uint16_t gateway_port,
                                const std::string& scenario,
                                const std::string& call_id_prefix,
                                std::vector<std::string> extra = {},
                                const std::string& trunk_fqdn = trunk,
                                const std::string& dialled = number) {
  auto args = caller_args("127.0.0.1:" + std::to_string(gateway_port),
                          call_id_prefix, trunk_fqdn, dialled);
  args.insert(args.end(), {"-m", "1"});
  args.insert(args.end(), extra.begin(), extra.end());
  return sipp(scenario, free_port(), args);
}

/// Runs a SIPp caller to the gateway and returns its exit code; its
/// output goes to the test's log when it fails.
int call(uint16_t gateway_port, const std::string& scenario,
         const std::string& call_id_prefix,
         const std::string& trunk_fqdn = trunk,
         const std::string& dialled = number) {
  auto p
    = caller(gateway_port, scenario, call_id_prefix, {}, trunk_fqdn, dialled);
  auto code = p->wait();
  if (code != 0)
    for (auto& line : p->lines())
      std::cerr << "sipp " << scenario << ": " << line << "\n";
  return code;
}

/// Waits for a SIPp started with sipp(); its output goes to the test's
/// log when it did not end well.
int finished(process& p, const std::string& who) {
  auto code = p.wait();
  if (code != 0)
    for (auto& line : p.lines())
      std::cerr << "sipp " << who << ": " << line << "\n";
  return code;
}

class sbc_gateway_test : public routing_test {
 protected:
  void SetUp() override {
    n = std::make_unique<node>(dir);
    sip_tenant(*n, "contoso", trunk, number, "sales");
    events = std::make_unique<event_reader>(*n->events, "contoso");
  }

  void TearDown() override {
    if (gateway) {
      EXPECT_EQ(gateway->stop(), 0) << "the gateway did not stop cleanly";
      if (HasFailure())
        for (auto& line : gateway->lines())
          std::cerr << "gateway: " << line << "\n";
      gateway.reset();
    }
    events.reset();
  }

  void start_gateway(std::vector<std::string> extra = {}) {
    std::ofstream{dir / "trunks"} << "# trunk FQDN  tenant  numbers\n"
                                  << trunk << " contoso " << number << "\n";
    gateway_port = free_port();
    std::vector<std::string> args{"--sip-listen",
                                  "127.0.0.1:" + std::to_string(gateway_port),
                                  "--router",
                                  n->address,
                                  "--trunks",
                                  dir / "trunks",
                                  "--agent-route",
                                  "direct",
                                  "--attribute-headers",
                                  "X-Customer-Tier",
                                  "--ring-refresh",
                                  "1s",
                                  "--metrics-listen",
                                  "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    gateway = std::make_unique<process>(gateway_binary, args);
    auto serving = gateway->wait_for_line("\"msg\":\"serving\"", 30s);
    ASSERT_TRUE(serving) << "the gateway did not start";
    metrics_port = port_of(json_field(*serving, "metrics"));
    ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"router connected\"", 30s))
      << "the gateway did not reach the router";
  }

  /// A caller of `prefix` who waits (no agent ready) and asks to be
  /// called back: the engine takes the call off the line and the gateway
  /// ends the caller's INVITE with 480 (caller_called_back.xml).
  void caller_asks_for_a_callback(const std::string& prefix) {
    auto p = caller(gateway_port, "caller_called_back.xml", prefix);
    auto call_id = prefix + "-1@sipp";
    ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, call_id));
    v1::CallView view;
    auto asked = request_callback(call_id, "", view);
    ASSERT_TRUE(asked.ok()) << asked.error_message();
    EXPECT_EQ(finished(*p, "caller"), 0);
  }

  /// A caller of `prefix` whose call an agent answers, then the API
  /// transfers (`target` sets the request's target): the caller's SIPp,
  /// which expects to be moved by re-INVITE (caller_transferred.xml).
  template<class Target>
  std::unique_ptr<process> transferred_caller(const std::string& prefix,
                                              Target target) {
    auto p = caller(gateway_port, "caller_transferred.xml", prefix);
    auto call_id = prefix + "-1@sipp";
    EXPECT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ASSIGNED, call_id));
    v1::TransferCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(call_id);
    target(req);
    v1::CallView out;
    auto st = n->routing->TransferCall(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return p;
  }

  std::unique_ptr<event_reader> events;
  std::unique_ptr<process> gateway;
  uint16_t gateway_port = 0;
  uint16_t metrics_port = 0;
};

TEST_F(sbc_gateway_test, a_call_is_answered_by_the_agent_talks_and_completes) {
  auto agent_port = free_port();
  auto agent = sipp("agent_answer.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller.xml", "life"), 0);
  EXPECT_EQ(agent->wait(), 0) << "the agent's SIPp saw something unexpected";

  auto wrap_up = events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "life-1@sipp");
  ASSERT_TRUE(wrap_up) << "CompleteCall did not reach the engine";
  auto call = get_call("life-1@sipp");
  EXPECT_TRUE(call.state() == v1::CALL_STATE_WRAP_UP
              || call.state() == v1::CALL_STATE_COMPLETED)
    << v1::CallState_Name(call.state());
  EXPECT_EQ(call.agent_id(), "a1");
  EXPECT_EQ(call.call().to(), number);
  EXPECT_EQ(call.call().from(), "sip:+14255551234@" + trunk + ";user=phone");
  EXPECT_EQ(call.call().attributes().at("x-customer-tier"), "gold");
}

TEST_F(sbc_gateway_test, a_session_refresh_re_invite_keeps_the_call_up) {
  auto agent_port = free_port();
  auto agent = sipp("agent_answer.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller_refresh.xml", "refresh"), 0);
  EXPECT_EQ(agent->wait(), 0);

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "refresh-1@sipp"));
}

TEST_F(sbc_gateway_test,
       a_hold_re_invite_and_dtmf_infos_pass_between_caller_and_agent) {
  // Both SIPp scenarios check what the other side sent: the hold's
  // a=sendonly reaches the agent, its a=recvonly answer the caller (in
  // the caller's known origin), and each side's INFO digit the other.
  auto agent_port = free_port();
  auto agent = sipp("agent_hold.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller_hold.xml", "hold"), 0);
  EXPECT_EQ(agent->wait(), 0) << "the agent's SIPp saw something unexpected";
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "hold-1@sipp"));
}

TEST_F(sbc_gateway_test,
       an_agents_refer_to_a_queue_number_moves_the_caller_to_that_queue) {
  const std::string support_number = "+14255550199";
  support_queue(support_number);
  auto first_port = free_port();
  auto second_port = free_port();
  auto first = sipp("agent_refer.xml", first_port,
                    {"-m", "1", "-key", "refer_to",
                     "sip:" + support_number + "@127.0.0.1;user=phone"});
  auto second = sipp("party_answers_hangs_up.xml", second_port, {"-m", "1"});
  sip_agent("a1", first_port);
  sip_agent("a2", second_port, "support");
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller_transferred.xml", "refer"), 0);
  EXPECT_EQ(finished(*first, "transferring agent"), 0);
  EXPECT_EQ(finished(*second, "second agent"), 0);

  auto moved
    = events->wait_for(v1::EVENT_TYPE_CALL_TRANSFERRED, "refer-1@sipp");
  ASSERT_TRUE(moved) << "TransferCall did not reach the engine";
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "refer-1@sipp"));
  auto c = get_call("refer-1@sipp");
  EXPECT_EQ(c.agent_id(), "a2");
  EXPECT_EQ(c.queue_id(), "support");
}

TEST_F(sbc_gateway_test,
       an_agents_refer_to_an_outside_number_bridges_the_caller_there) {
  auto agent_port = free_port();
  auto outside_port = free_port();
  auto agent = sipp("agent_refer.xml", agent_port,
                    {"-m", "1", "-key", "refer_to",
                     "sip:+14255559999@127.0.0.1:"
                       + std::to_string(outside_port) + ";user=phone"});
  auto outside = sipp("party_answers_hangs_up.xml", outside_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller_transferred.xml", "outside"), 0);
  EXPECT_EQ(finished(*agent, "transferring agent"), 0);
  EXPECT_EQ(finished(*outside, "outside party"), 0);

  // The call left the contact center: the agent wraps up, no re-queue.
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "outside-1@sipp"));
  auto c = get_call("outside-1@sipp");
  EXPECT_EQ(c.agent_id(), "a1");
  for (auto& e : events->seen())
    EXPECT_NE(e.type(), v1::EVENT_TYPE_CALL_TRANSFERRED)
      << "the engine re-queued a call transferred outside";
  EXPECT_NE(gateway->wait_for_line("transfer leaves the contact center", 5s),
            std::nullopt);
}

TEST_F(sbc_gateway_test,
       a_transfer_from_the_api_moves_the_caller_to_the_agent) {
  support_queue("+14255550199");
  auto first_port = free_port();
  auto second_port = free_port();
  auto first = sipp("agent_answer.xml", first_port, {"-m", "1"});
  auto second = sipp("party_answers_hangs_up.xml", second_port, {"-m", "1"});
  sip_agent("a1", first_port);
  sip_agent("a2", second_port, "support");
  start_gateway();

  auto transferred
    = transferred_caller("api", [](v1::TransferCallRequest& req) {
        req.set_agent_id("a2");
      });

  EXPECT_EQ(finished(*transferred, "caller"), 0);
  EXPECT_EQ(finished(*first, "first agent"), 0);
  EXPECT_EQ(finished(*second, "second agent"), 0);
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "api-1@sipp"));
  EXPECT_EQ(get_call("api-1@sipp").agent_id(), "a2");
}

TEST_F(sbc_gateway_test,
       a_transfer_out_from_the_api_bridges_the_caller_to_that_number) {
  // The number outside is called as a callback's customer is
  // (--callback-uri); its answer takes the caller's session, the agent
  // leaves and wraps up.
  auto agent_port = free_port();
  auto outside_port = free_port();
  auto agent = sipp("agent_answer.xml", agent_port, {"-m", "1"});
  auto outside = sipp("party_answers_hangs_up.xml", outside_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway(
    {"--callback-uri",
     "sip:{number}@127.0.0.1:" + std::to_string(outside_port) + ";user=phone"});

  auto transferred
    = transferred_caller("out", [](v1::TransferCallRequest& req) {
        req.set_outside_number("+14255559999");
      });

  EXPECT_EQ(finished(*transferred, "caller"), 0);
  EXPECT_EQ(finished(*agent, "agent"), 0);
  EXPECT_EQ(finished(*outside, "outside party"), 0);
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "out-1@sipp"))
    << "the transfer out did not complete the call";
  EXPECT_EQ(get_call("out-1@sipp").agent_id(), "a1");
  EXPECT_TRUE(has_line(*gateway, "transfer leaves the contact center", 5s));
}

TEST_F(sbc_gateway_test,
       a_waiting_caller_is_answered_by_the_hold_media_server_until_the_agent) {
  auto hold_port = free_port();
  auto hold = sipp("media_hold.xml", hold_port, {"-m", "1"});
  auto agent_port = free_port();
  auto agent = sipp("party_answers_hangs_up.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port, "sales", false);
  start_gateway({"--hold-uri", "sip:annc@127.0.0.1:" + std::to_string(hold_port)
                                 + ";play=https://prompts.test/hold.wav;"
                                   "repeat=forever"});

  auto held_caller = caller(gateway_port, "caller_held.xml", "held");
  ASSERT_TRUE(
    gateway->wait_for_line("caller waits at the hold media server", 10s))
    << "the hold media server did not answer the caller";
  presence("a1", v1::PRESENCE_AVAILABLE);
  ready("a1", true);

  // The caller got the hold server's session, then the agent's by
  // re-INVITE; the hold server was hung up on.
  EXPECT_EQ(finished(*held_caller, "caller"), 0);
  EXPECT_EQ(finished(*agent, "agent"), 0);
  EXPECT_EQ(finished(*hold, "hold media server"), 0);
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "held-1@sipp"));
  EXPECT_EQ(get_call("held-1@sipp").agent_id(), "a1");
}

TEST_F(sbc_gateway_test,
       a_call_the_engine_ends_with_an_announcement_hears_it_then_is_hung_up) {
  queue("sales", [](v1::Queue& q) {
    *q.mutable_max_wait() = TimeUtil::SecondsToDuration(2);
    q.mutable_when_max_wait()->set_kind(v1::LimitAction::KIND_DISCONNECT);
    q.mutable_when_max_wait()->set_announcement("sorry");
  });
  auto hold_port = free_port();
  auto hold = sipp("media_hold.xml", hold_port, {"-m", "1"});
  auto annc_port = free_port();
  auto annc = sipp("media_announcement.xml", annc_port, {"-m", "1"});
  start_gateway( // no agent: the call waits until max_wait ends it
    {"--hold-uri",
     "sip:annc@127.0.0.1:" + std::to_string(hold_port)
       + ";play=https://prompts.test/hold.wav;repeat=forever",
     "--announcement-uri",
     "sip:annc@127.0.0.1:" + std::to_string(annc_port)
       + ";play=https://prompts.test/{prompt}.wav"});

  EXPECT_EQ(call(gateway_port, "caller_held_announced.xml", "sorry"), 0);
  EXPECT_EQ(finished(*hold, "hold media server"), 0);
  EXPECT_EQ(finished(*annc, "announcement server"), 0);
  auto ended = events->wait_for(v1::EVENT_TYPE_CALL_TIMED_OUT, "sorry-1@sipp");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->call().announcement(), "sorry");
  EXPECT_NE(gateway->wait_for_line("playing the engine's announcement", 5s),
            std::nullopt);
}

TEST_F(sbc_gateway_test, an_agent_who_hangs_up_ends_the_caller_and_completes) {
  auto agent_port = free_port();
  auto agent = sipp("agent_hangs_up.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller_hung_up_on.xml", "agentbye"), 0);
  EXPECT_EQ(agent->wait(), 0);

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "agentbye-1@sipp"))
    << "CompleteCall did not reach the engine";
  EXPECT_EQ(get_call("agentbye-1@sipp").agent_id(), "a1");
}

TEST_F(sbc_gateway_test, an_agent_who_is_busy_declines_and_the_next_answers) {
  auto busy_port = free_port();
  auto busy = sipp("agent_busy.xml", busy_port, {"-m", "1"});
  auto answer_port = free_port();
  auto answer = sipp("agent_answer.xml", answer_port, {"-m", "1"});
  // Longest idle first: a1 gets the first offer.
  sip_agent("a1", busy_port);
  sip_agent("a2", answer_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller.xml", "busy"), 0);
  EXPECT_EQ(busy->wait(), 0);
  EXPECT_EQ(answer->wait(), 0);

  auto declined
    = events->wait_for(v1::EVENT_TYPE_OFFER_DECLINED, "busy-1@sipp");
  ASSERT_TRUE(declined) << "DeclineOffer did not reach the engine";
  EXPECT_EQ(declined->offer().agent_id(), "a1");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "busy-1@sipp"));
  EXPECT_EQ(get_call("busy-1@sipp").agent_id(), "a2");
  // Each agent's ringing is timed, by what ended it.
  auto text = http_get(metrics_port, "/metrics");
  for (auto outcome : {"agent_declined", "agent_answered"})
    EXPECT_NE(text.find("switchboard_sbc_offer_ring_seconds_count{outcome=\""
                        + std::string{outcome} + "\"} 1"),
              std::string::npos)
      << outcome << "\n"
      << text;
}

TEST_F(sbc_gateway_test,
       an_agent_who_does_not_answer_is_cancelled_and_the_next_answers) {
  queue("sales", [](v1::Queue& q) {
    *q.mutable_offer_timeout() = TimeUtil::SecondsToDuration(2);
    *q.mutable_wrap_up() = TimeUtil::MillisecondsToDuration(500);
    q.set_max_missed_offers(1);
  });
  auto silent_port = free_port();
  auto silent = sipp("agent_no_answer.xml", silent_port, {"-m", "1"});
  auto answer_port = free_port();
  auto answer = sipp("agent_answer.xml", answer_port, {"-m", "1"});
  // Longest idle first: a1 gets the first offer.
  sip_agent("a1", silent_port);
  sip_agent("a2", answer_port);
  start_gateway();

  EXPECT_EQ(call(gateway_port, "caller.xml", "noanswer"), 0);
  EXPECT_EQ(silent->wait(), 0) << "the ringing agent was not cancelled";
  EXPECT_EQ(answer->wait(), 0);

  auto expired
    = events->wait_for(v1::EVENT_TYPE_OFFER_EXPIRED, "noanswer-1@sipp");
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->offer().agent_id(), "a1");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "noanswer-1@sipp"));
  EXPECT_EQ(get_call("noanswer-1@sipp").agent_id(), "a2");
}

TEST_F(sbc_gateway_test, a_call_the_full_queue_disconnects_gets_486) {
  queue("sales", [](v1::Queue& q) {
    q.set_max_length(1);
    q.mutable_when_full()->set_kind(v1::LimitAction::KIND_DISCONNECT);
  });
  start_gateway(); // no agent: the first call waits and fills the queue

  auto waiting
    = caller(gateway_port, "caller_cancel.xml", "first", {"-d", "3000"});
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "first-1@sipp"));
  EXPECT_EQ(call(gateway_port, "caller_refused_486.xml", "full"), 0);
  EXPECT_EQ(finished(*waiting, "waiting caller"), 0);

  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_DISCONNECTED, "full-1@sipp"));
  auto text = http_get(metrics_port, "/metrics");
  EXPECT_NE(text.find("switchboard_sbc_invites_total{code=\"486\",trunk=\""
                      + trunk + "\"} 1"),
            std::string::npos)
    << text;
}

TEST_F(sbc_gateway_test, a_caller_who_cancels_while_waiting_abandons) {
  start_gateway(); // no agent: the call waits

  EXPECT_EQ(call(gateway_port, "caller_cancel.xml", "cancel"), 0);

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ABANDONED, "cancel-1@sipp"))
    << "CancelCall did not reach the engine";
  EXPECT_EQ(get_call("cancel-1@sipp").state(), v1::CALL_STATE_ABANDONED);
}

TEST_F(sbc_gateway_test,
       a_caller_who_cancels_while_the_agent_rings_cancels_the_agent_too) {
  auto agent_port = free_port();
  auto agent = sipp("agent_no_answer.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  start_gateway();

  // The caller hangs up 1.5 s after its ringback starts: the offer went
  // to a1 at once and rings for up to 10 s.
  auto cancelling
    = caller(gateway_port, "caller_cancel.xml", "ringcancel", {"-d", "1500"});
  EXPECT_EQ(cancelling->wait(), 0);
  EXPECT_EQ(agent->wait(), 0) << "the ringing agent was not cancelled";

  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "ringcancel-1@sipp"))
    << "the agent was not offered the call";
  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_ABANDONED, "ringcancel-1@sipp"))
    << "CancelCall did not reach the engine";
  EXPECT_EQ(get_call("ringcancel-1@sipp").state(), v1::CALL_STATE_ABANDONED);
}

TEST_F(sbc_gateway_test, two_tenants_on_one_sbc_never_see_each_others_calls) {
  // fabrikam: its own trunk FQDN, number, queue and agent.
  const std::string other_trunk = "fabrikam.sbc.test";
  const std::string other_number = "+442071838750";
  sip_tenant(*n, "fabrikam", other_trunk, other_number, "helpdesk");
  auto other_port = free_port();
  auto other_agent = sipp("agent_answer.xml", other_port, {"-m", "1"});
  {
    v1::UpsertAgentRequest req;
    auto& a = *req.mutable_agent();
    a.set_tenant_id("fabrikam");
    a.set_agent_id("f1");
    a.set_sip_uri("sip:f1@127.0.0.1:" + std::to_string(other_port));
    a.add_queue_ids("helpdesk");
    v1::AgentView out;
    ASSERT_TRUE(n->admin->UpsertAgent(ctx().get(), req, &out).ok());
    v1::SetAgentPresenceRequest p;
    p.set_tenant_id("fabrikam");
    p.set_agent_id("f1");
    p.set_presence(v1::PRESENCE_AVAILABLE);
    ASSERT_TRUE(n->routing->SetAgentPresence(ctx().get(), p, &out).ok());
    v1::SetAgentReadyRequest r;
    r.set_tenant_id("fabrikam");
    r.set_agent_id("f1");
    r.set_ready(true);
    ASSERT_TRUE(n->routing->SetAgentReady(ctx().get(), r, &out).ok());
  }
  event_reader fabrikam_events{*n->events, "fabrikam"};
  auto agent_port = free_port();
  auto agent = sipp("agent_answer.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  std::ofstream{dir / "two-trunks"} << trunk << " contoso " << number << "\n"
                                    << other_trunk << " fabrikam "
                                    << other_number << "\n";
  start_gateway({"--trunks", dir / "two-trunks"});

  // One SBC (one source address) carries both customers' calls.
  EXPECT_EQ(call(gateway_port, "caller.xml", "c-contoso"), 0);
  EXPECT_EQ(
    call(gateway_port, "caller.xml", "c-fabrikam", other_trunk, other_number),
    0);
  // A fabrikam number on contoso's trunk is not contoso's: 404.
  EXPECT_EQ(call(gateway_port, "caller_refused_404.xml", "c-crossed", trunk,
                 other_number),
            0);
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_EQ(other_agent->wait(), 0);

  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "c-contoso-1@sipp"));
  ASSERT_TRUE(
    fabrikam_events.wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "c-fabrikam-1@sipp"));
  EXPECT_EQ(get_call("c-contoso-1@sipp").agent_id(), "a1");
  for (auto [reader, own, other] :
       {std::tuple{events.get(), "contoso", "c-fabrikam-1@sipp"},
        std::tuple{&fabrikam_events, "fabrikam", "c-contoso-1@sipp"}})
    for (auto& e : reader->seen()) {
      EXPECT_EQ(e.tenant_id(), own);
      EXPECT_NE(e.call().call().call_id(), other)
        << own << " saw the other tenant's call";
      EXPECT_NE(e.call().call().call_id(), "c-crossed-1@sipp");
    }
  for (auto [tenant, id] : {std::pair{"contoso", "c-fabrikam-1@sipp"},
                            {"fabrikam", "c-contoso-1@sipp"},
                            {"contoso", "c-crossed-1@sipp"},
                            {"fabrikam", "c-crossed-1@sipp"}}) {
    v1::GetCallRequest req;
    req.set_tenant_id(tenant);
    req.set_call_id(id);
    v1::CallView out;
    EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
              grpc::StatusCode::NOT_FOUND)
      << id << " in " << tenant;
  }
  v1::GetCallRequest req;
  req.set_tenant_id("fabrikam");
  req.set_call_id("c-fabrikam-1@sipp");
  v1::CallView out;
  ASSERT_TRUE(n->routing->GetCall(ctx().get(), req, &out).ok());
  EXPECT_EQ(out.agent_id(), "f1");
}

TEST_F(sbc_gateway_test,
       after_a_kill_the_restarted_gateway_ends_only_the_calls_it_had) {
  start_gateway(); // no agent: the call waits
  // The caller waits (its SIPp is killed with the test).
  auto orphan = caller(gateway_port, "caller.xml", "orphan");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "orphan-1@sipp"));
  // Calls this gateway does not own: another replica's, and one submitted
  // through the API.
  for (auto [id, owner] :
       {std::pair{"replica-1", "sbc-gateway-1"}, std::pair{"api-1", ""}}) {
    v1::SubmitCallRequest req;
    auto& c = *req.mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id(id);
    c.set_queue_id("sales");
    if (*owner != '\0')
      (*c.mutable_attributes())["sbc_gateway"] = owner;
    v1::SubmitCallResponse out;
    ASSERT_TRUE(n->routing->SubmitCall(ctx().get(), req, &out).ok());
  }
  EXPECT_EQ(get_call("orphan-1@sipp").call().attributes().at("sbc_gateway"),
            "sbc-gateway-0");

  gateway->stop(SIGKILL);
  gateway.reset();
  start_gateway();

  auto cancelled
    = events->wait_for(v1::EVENT_TYPE_CALL_CANCELLED, "orphan-1@sipp");
  ASSERT_TRUE(cancelled) << "the orphaned call was not ended";
  EXPECT_EQ(get_call("orphan-1@sipp").state(), v1::CALL_STATE_CANCELLED);
  // Logged before or after "router connected", which start_gateway read.
  auto logged = [&](const std::string& text) {
    for (auto& line : gateway->lines())
      if (line.find(text) != std::string::npos)
        return true;
    return gateway->wait_for_line(text, 10s).has_value();
  };
  EXPECT_TRUE(
    logged("\"msg\":\"cancelling a waiting call that has no SIP dialog"));
  EXPECT_TRUE(logged("\"msg\":\"reconciled\""));
  EXPECT_EQ(get_call("replica-1").state(), v1::CALL_STATE_QUEUED);
  EXPECT_EQ(get_call("api-1").state(), v1::CALL_STATE_QUEUED);
  orphan->stop(SIGKILL);
}

TEST_F(sbc_gateway_test, unknown_trunks_and_numbers_are_refused_and_counted) {
  start_gateway();

  EXPECT_EQ(
    call(gateway_port, "caller_refused_403.xml", "trunk", "other.sbc.test"), 0);
  EXPECT_EQ(call(gateway_port, "caller_refused_404.xml", "number", trunk,
                 "+14255559999"),
            0);

  for (auto id : {"trunk-1@sipp", "number-1@sipp"}) {
    v1::GetCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(id);
    v1::CallView out;
    EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
              grpc::StatusCode::NOT_FOUND)
      << id;
  }
  auto text = http_get(metrics_port, "/metrics");
  EXPECT_NE(text.find("switchboard_sbc_invites_total{code=\"403\",trunk="
                      "\"other.sbc.test\"} 1"),
            std::string::npos)
    << text;
  EXPECT_NE(
    text.find("switchboard_sbc_calls_refused_total{reason=\"number\"} 1"),
    std::string::npos)
    << text;
}

TEST_F(sbc_gateway_test, options_get_200_with_allow_accept_and_supported) {
  start_gateway();
  auto p = sipp("options.xml", free_port(),
                {"127.0.0.1:" + std::to_string(gateway_port), "-m", "1", "-key",
                 "trunk", trunk});
  EXPECT_EQ(p->wait(), 0);
}

TEST_F(sbc_gateway_test, sbcs_are_pinged_with_options_and_marked_up_or_down) {
  auto sbc_port = free_port();
  // Answers every ping of the test; ended with the test.
  auto sbc = sipp("sbc_options.xml", sbc_port, {"-m", "1000"});
  auto up = "127.0.0.1:" + std::to_string(sbc_port);
  auto down = "127.0.0.1:" + std::to_string(free_port()); // nobody there
  start_gateway({"--ping", up + "," + down, "--ping-interval", "1s",
                 "--sbc-transport", "udp"});

  // A line each time an SBC changes state, in whichever order the answers
  // come (the SBC's SIPp may bind after the first ping: down, then up).
  // Lines already read (before "router connected") count too.
  std::map<std::string, std::string> verdicts;
  for (auto& line : gateway->lines())
    if (line.find("\"msg\":\"sbc ") != std::string::npos)
      verdicts[json_field(line, "sbc")] = json_field(line, "msg");
  while (verdicts[up] != "sbc up" || verdicts[down] != "sbc down") {
    auto line = gateway->wait_for_line("\"msg\":\"sbc ", 40s);
    if (!line)
      break;
    verdicts[json_field(*line, "sbc")] = json_field(*line, "msg");
  }
  EXPECT_EQ(verdicts[up], "sbc up");
  EXPECT_EQ(verdicts[down], "sbc down");
  auto text = http_get(metrics_port, "/metrics");
  EXPECT_NE(text.find("switchboard_sbc_peer_up{sbc=\"" + up + "\"} 1"),
            std::string::npos)
    << text;
}

TEST_F(sbc_gateway_test, with_the_router_down_new_calls_get_503_retry_after) {
  start_gateway();
  n->kill();
  ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"router stream lost", 30s));

  EXPECT_EQ(call(gateway_port, "caller_refused_503.xml", "down"), 0);
}

TEST_F(sbc_gateway_test,
       twenty_calls_from_one_sbc_all_reach_agents_and_complete) {
  auto agents_port = free_port();
  auto agents = sipp("agent_answer.xml", agents_port, {"-m", "20"});
  for (int i = 1; i <= 10; ++i)
    sip_agent("a" + std::to_string(i), agents_port);
  start_gateway();

  auto callers = sipp("caller.xml", free_port(),
                      {"127.0.0.1:" + std::to_string(gateway_port), "-m", "20",
                       "-r", "10", "-l", "20", "-cid_str", "load-%u@sipp",
                       "-key", "trunk", trunk, "-key", "number", number});
  auto code = callers->wait();
  EXPECT_EQ(code, 0);
  for (auto& line : callers->lines())
    if (code != 0 || line.find(" call ") != std::string::npos
        || line.find("Response Time") != std::string::npos)
      std::cerr << "sipp callers: " << line << "\n";
  EXPECT_EQ(agents->wait(), 0);

  for (int i = 1; i <= 20; ++i) {
    auto id = "load-" + std::to_string(i) + "@sipp";
    EXPECT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, id)) << id;
  }
}

TEST_F(sbc_gateway_test,
       a_callback_rings_the_agent_then_calls_the_customer_and_bridges_them) {
  auto customer_port = free_port();
  auto customer = sipp("customer_callback.xml", customer_port, {"-m", "1"});
  // The agent is there but not ready (its SIPp listens before it rings).
  auto agent_port = free_port();
  auto agent = sipp("agent_callback.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port, "sales", false);
  start_gateway({"--callback-uri",
                 "sip:{number}@127.0.0.1:" + std::to_string(customer_port)});

  // No agent yet: the caller waits, then asks to be called back.
  ASSERT_NO_FATAL_FAILURE(caller_asks_for_a_callback("cb"));

  // The agent becomes ready: the callback is offered, the agent rung
  // first, then the customer, and the two talk until the agent hangs up.
  presence("a1", v1::PRESENCE_AVAILABLE);
  ready("a1", true);
  EXPECT_EQ(finished(*agent, "agent"), 0);
  EXPECT_EQ(finished(*customer, "customer"), 0);

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "cb-1@sipp"))
    << "the callback did not complete";
  auto call = get_call("cb-1@sipp");
  EXPECT_EQ(call.agent_id(), "a1");
  EXPECT_EQ(call.callback().number(),
            "sip:+14255551234@" + trunk + ";user=phone");
  EXPECT_EQ(call.call().attributes().at("sbc_trunk"), trunk);
  EXPECT_TRUE(gateway->wait_for_line("\"msg\":\"callback answered\"", 5s));
}

TEST_F(
  sbc_gateway_test,
  a_callback_outlives_a_gateway_restart_and_an_unreached_customer_ends_it) {
  auto customer_port = free_port();
  auto customer = sipp("customer_busy.xml", customer_port, {"-m", "1"});
  auto agent_port = free_port();
  auto agent = sipp("agent_callback_unreached.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port, "sales", false);
  std::vector<std::string> args{"--callback-uri",
                                "sip:{number}@127.0.0.1:"
                                  + std::to_string(customer_port)};
  start_gateway(args);
  ASSERT_NO_FATAL_FAILURE(caller_asks_for_a_callback("cbr"));

  // A restart: the waiting callback has no dialog, and must not have one.
  EXPECT_EQ(gateway->stop(), 0);
  gateway.reset();
  start_gateway(args);
  auto reconciled = gateway->wait_for_line("\"msg\":\"reconciled\"", 30s);
  ASSERT_TRUE(reconciled);
  EXPECT_EQ(json_field(*reconciled, "ended"), "0") << *reconciled;
  EXPECT_EQ(get_call("cbr-1@sipp").state(), v1::CALL_STATE_QUEUED);

  // The customer is busy: the agent, who answered, is hung up on and
  // wraps up.
  presence("a1", v1::PRESENCE_AVAILABLE);
  ready("a1", true);
  EXPECT_EQ(finished(*customer, "customer"), 0);
  EXPECT_EQ(finished(*agent, "agent"), 0);
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "cbr-1@sipp"));
  EXPECT_EQ(get_call("cbr-1@sipp").agent_id(), "a1");
  EXPECT_TRUE(gateway->wait_for_line(
    "\"msg\":\"callback: the customer was not reached\"", 5s));
}

/// One RFC 4475 message: its file, RFC section and class (SOURCES.md).
struct torture_message {
  std::string file;
  std::string section;
  std::string kind; // "valid", "invalid" or "semantics"
  std::string bytes;
  std::string call_id;
};

std::vector<torture_message> torture_messages() {
  std::vector<torture_message> out;
  std::ifstream sources{torture_dir + "/SOURCES.md"};
  for (std::string line; std::getline(sources, line);) {
    // | wsinv.dat | 3.1.1.1 | VALID (parser: ...) | ...
    if (line.rfind("| ", 0) != 0 || line.find(".dat |") == std::string::npos)
      continue;
    std::vector<std::string> cells;
    size_t at = 1;
    while (at < line.size()) {
      auto bar = line.find('|', at);
      if (bar == std::string::npos)
        break;
      auto cell = line.substr(at, bar - at);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
      at = bar + 1;
    }
    if (cells.size() < 3)
      continue;
    torture_message m;
    m.file = cells[0];
    m.section = cells[1].substr(0, cells[1].find(' '));
    m.kind = cells[2].rfind("VALID", 0) == 0     ? "valid"
             : cells[2].rfind("INVALID", 0) == 0 ? "invalid"
                                                 : "semantics";
    std::ifstream in{torture_dir + "/" + m.file, std::ios::binary};
    m.bytes.assign(std::istreambuf_iterator<char>(in), {});
    for (auto* header : {"\r\nCall-ID:", "\r\ni:", "\r\nCall-Id:"}) {
      auto h = m.bytes.find(header);
      if (h == std::string::npos)
        continue;
      auto start = m.bytes.find_first_not_of(' ', h + std::strlen(header));
      m.call_id = m.bytes.substr(start, m.bytes.find('\r', start) - start);
      break;
    }
    out.push_back(std::move(m));
  }
  return out;
}

/// What came back on one socket: the final status ("400"), else the last
/// provisional one ("180"), else "none" (the message was dropped).
std::string verdict_of(const std::string& received) {
  std::string final_code;
  std::string provisional;
  for (size_t at = received.find("SIP/2.0 "); at != std::string::npos;
       at = received.find("SIP/2.0 ", at + 1)) {
    if (at != 0 && received[at - 1] != '\n')
      continue;
    auto code = received.substr(at + 8, 3);
    (code[0] == '1' ? provisional : final_code) = code;
  }
  return !final_code.empty()    ? final_code
         : !provisional.empty() ? provisional
                                : std::string{"none"};
}

/// `bytes` with the transport of its top Via set to `transport`, as a
/// client sending over that transport writes it (several messages name
/// TCP while the test sends them over UDP, or the reverse, and the answer
/// would then go where the test is not listening). A Via written with
/// folded whitespace is left as it is.
std::string with_top_via_transport(std::string bytes,
                                   const std::string& transport) {
  for (auto* header : {"\r\nVia: SIP/2.0/", "\r\nv: SIP/2.0/"}) {
    auto at = bytes.find(header);
    if (at == std::string::npos)
      continue;
    at += std::strlen(header);
    if (bytes.compare(at, 3, "UDP") == 0 || bytes.compare(at, 3, "TCP") == 0)
      bytes.replace(at, 3, transport);
    break;
  }
  return bytes;
}

/// Sends each message on a socket of its own (UDP datagrams, or a TCP
/// connection each) and returns what came back on each within `wait`.
std::vector<std::string> send_each(const std::vector<torture_message>& all,
                                   uint16_t port, bool tcp,
                                   std::chrono::milliseconds wait) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  std::vector<int> fds;
  for (auto& message : all) {
    auto m = message;
    m.bytes = with_top_via_transport(m.bytes, tcp ? "TCP" : "UDP");
    int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    EXPECT_GE(fd, 0);
    if (tcp) {
      EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0)
        << m.file;
      EXPECT_EQ(send(fd, m.bytes.data(), m.bytes.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(m.bytes.size()))
        << m.file;
    } else {
      sockaddr_in self{};
      self.sin_family = AF_INET;
      self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self), 0);
      EXPECT_EQ(sendto(fd, m.bytes.data(), m.bytes.size(), 0,
                       reinterpret_cast<sockaddr*>(&to), sizeof to),
                static_cast<ssize_t>(m.bytes.size()))
        << m.file;
    }
    fds.push_back(fd);
  }
  std::vector<std::string> received(all.size());
  auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    std::vector<pollfd> polls;
    for (int fd : fds)
      polls.push_back({fd, POLLIN, 0});
    if (poll(polls.data(), polls.size(), 100) <= 0)
      continue;
    for (size_t i = 0; i < polls.size(); ++i) {
      if ((polls[i].revents & POLLIN) == 0)
        continue;
      char buffer[65536];
      auto n = recv(fds[i], buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0)
        received[i].append(buffer, static_cast<size_t>(n));
      else if (n == 0) {
        // The gateway closed the connection: nothing more will come.
        close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  std::vector<std::string> verdicts;
  for (size_t i = 0; i < all.size(); ++i) {
    if (fds[i] >= 0)
      close(fds[i]);
    verdicts.push_back(verdict_of(received[i]));
  }
  return verdicts;
}

TEST_F(sbc_gateway_test, the_rfc_4475_torture_messages_get_the_rfcs_verdicts) {
  // Every host the messages address is a trunk of contoso, so a valid
  // INVITE reaches the engine and waits (180), and only parsing decides.
  std::ofstream{dir / "torture-trunks"}
    << "example.com contoso\nexample.net contoso\nexample.org contoso\n"
    << "company.com contoso\nchair-dnrc.example.com contoso\n"
    << "registrar.example.com contoso\n";
  start_gateway({"--trunks", dir / "torture-trunks"});
  // Where sofia-sip's parser departs from RFC 4475 (docs/sip-torture.md
  // says why each is harmless here): invalid OPTIONS it answers 200, and
  // valid requests it does not answer where the test listens.
  const std::set<std::string> tolerated{"trws.dat", "badaspec.dat"};
  const std::set<std::string> unanswered{"intmeth.dat/udp", "intmeth.dat/tcp",
                                         "wsinv.dat/tcp"};
  auto all = torture_messages();
  ASSERT_EQ(all.size(), 49u) << "SOURCES.md lists 49 messages";
  auto udp = send_each(all, gateway_port, false, 5s);
  auto tcp = send_each(all, gateway_port, true, 5s);

  std::ostringstream table;
  table << "| message | RFC 4475 | class | UDP | TCP |\n"
        << "|---|---|---|---|---|\n";
  for (size_t i = 0; i < all.size(); ++i) {
    auto& m = all[i];
    table << "| " << m.file << " | " << m.section << " | " << m.kind << " | "
          << udp[i] << " | " << tcp[i] << " |\n";
    bool is_request = m.bytes.rfind("SIP/2.0 ", 0) != 0;
    for (auto [v, transport] : {std::pair{udp[i], "udp"}, {tcp[i], "tcp"}}) {
      auto where = m.file + " over " + transport;
      bool refused_or_dropped = v == "none" || v[0] >= '3';
      if (tolerated.count(m.file) > 0) {
        EXPECT_EQ(v, "200") << where << ": see docs/sip-torture.md";
      } else if (m.kind == "invalid") {
        // Refused (400, or 403/505 before anything else is looked at) or
        // dropped; never taken as well-formed.
        EXPECT_TRUE(refused_or_dropped) << where << " is invalid, got " << v;
      } else if (m.kind == "valid" && is_request) {
        // Well-formed: answered, and not as malformed.
        if (unanswered.count(m.file + "/" + transport) > 0) {
          EXPECT_EQ(v, "none") << where << ": see docs/sip-torture.md";
        } else {
          EXPECT_TRUE(v != "none" && v != "400")
            << where << " is valid, got " << v;
        }
      } else if (!is_request) {
        // A stray response matches no transaction: dropped.
        EXPECT_EQ(v, "none") << where;
      }
    }
    if (m.kind == "invalid" && !m.call_id.empty()) {
      v1::GetCallRequest req;
      req.set_tenant_id("contoso");
      req.set_call_id(m.call_id);
      v1::CallView out;
      EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
                grpc::StatusCode::NOT_FOUND)
        << m.file << " reached the engine as call " << m.call_id;
    }
  }
  // The table in docs/ is the one this run produced.
  std::ifstream doc_in{SWITCHBOARD_TORTURE_TABLE};
  std::string doc{std::istreambuf_iterator<char>(doc_in), {}};
  auto start = doc.find("| message | RFC 4475 |");
  auto end = doc.find("\n\n", start);
  auto in_doc
    = start == std::string::npos
        ? std::string{}
        : doc.substr(start, end == std::string::npos ? std::string::npos
                                                     : end - start + 1);
  EXPECT_EQ(in_doc, table.str())
    << "docs/sip-torture.md does not show what the gateway does now; the "
       "table of this run:\n"
    << table.str();

  // Still answering, and (TearDown) stops cleanly under the sanitizers.
  auto p = sipp("options.xml", free_port(),
                {"127.0.0.1:" + std::to_string(gateway_port), "-m", "1", "-key",
                 "trunk", trunk});
  EXPECT_EQ(p->wait(), 0);
}

} // namespace
} // namespace switchboard::testing
