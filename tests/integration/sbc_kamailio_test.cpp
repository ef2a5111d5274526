// The SBC gateway behind a real SBC: Kamailio started from
// examples/kamailio/kamailio.cfg, talking SIP over TLS to the real gateway
// binary (certificates made for the test with openssl), and UDP to SIPp
// callers and agents (this SIPp has no TLS); the real router behind the
// gateway. All on 127.0.0.1. Both TLS ends check each other's certificate
// (the gateway with --tls-verify peer), as a provider would run them.

#include "tests/support/router_fixture.hpp"
#include "tests/support/sip_peers.hpp"

#include <algorithm>
#include <fstream>
#include <thread>

namespace switchboard::testing {
namespace {

const std::string gateway_binary = SWITCHBOARD_SBC_GATEWAY_PATH;
const std::string scenarios = SWITCHBOARD_SIP_SCENARIOS;
const std::string kamailio_config = SWITCHBOARD_KAMAILIO_CONFIG;
const std::string trunk = "contoso.sbc.test";
const std::string number = "+14255550100";

class sbc_kamailio_test : public routing_test {
 protected:
  void SetUp() override {
    n = std::make_unique<node>(dir);
    sip_tenant(*n, "contoso", trunk, number, "sales");
    events = std::make_unique<event_reader>(*n->events, "contoso");

    ca = std::make_unique<test_authority>(dir.path(), "test-ca");
    ASSERT_TRUE(ca->ok()) << "openssl could not make the test CA";
    ASSERT_TRUE(ca->sign("gateway.test"));
    ASSERT_TRUE(ca->sign("sbc.test"));
    sbc_port = free_port();
    sbc_tls_port = free_port();
    gateway_port = free_port();
    gateway_tls_port = free_port();
  }

  void TearDown() override {
    if (gateway) {
      EXPECT_EQ(gateway->stop(), 0) << "the gateway did not stop cleanly";
      if (HasFailure())
        for (auto& line : gateway->lines())
          std::cerr << "gateway: " << line << "\n";
      gateway.reset();
    }
    if (sbc) {
      sbc->stop();
      if (HasFailure())
        for (auto& line : sbc->proc().lines())
          std::cerr << "kamailio: " << line << "\n";
      sbc.reset();
    }
    events.reset();
  }

  std::string sbc_tls() const {
    return "127.0.0.1:" + std::to_string(sbc_tls_port);
  }
  std::string gateway_tls() const {
    return "127.0.0.1:" + std::to_string(gateway_tls_port);
  }

  /// The gateway with TLS on, trusting `authority` for the SBC's
  /// certificate, ringing agents through the SBC over TLS.
  void start_gateway(const std::string& authority,
                     std::vector<std::string> extra = {}) {
    std::ofstream{dir / "trunks"} << trunk << " contoso " << number << "\n";
    std::vector<std::string> args{
      "--sip-listen",      "127.0.0.1:" + std::to_string(gateway_port),
      "--tls-listen",      gateway_tls(),
      "--tls-certificate", dir / "gateway.test.pem",
      "--tls-private-key", dir / "gateway.test.key",
      "--tls-verify",      "peer",
      "--tls-ca-file",     authority,
      "--router",          n->address,
      "--trunks",          dir / "trunks",
      "--agent-route",     sbc_tls(),
      "--ring-refresh",    "1s",
      "--metrics-listen",  "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    gateway = std::make_unique<process>(gateway_binary, args);
    auto serving = gateway->wait_for_line("\"msg\":\"serving\"", 30s);
    ASSERT_TRUE(serving) << "the gateway did not start";
    EXPECT_EQ(json_field(*serving, "tls"), gateway_tls());
    EXPECT_EQ(json_field(*serving, "sbc_transport"), "tls");
    metrics_port = port_of(json_field(*serving, "metrics"));
    ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"router connected\"", 30s))
      << "the gateway did not reach the router";
  }

  void start_sbc() {
    kamailio_sbc::options o;
    o.config = kamailio_config;
    o.dir = dir.path();
    o.public_port = sbc_port;
    o.internal_tls_port = sbc_tls_port;
    o.gateways = {gateway_tls()};
    o.certificate = dir / "sbc.test.pem";
    o.key = dir / "sbc.test.key";
    o.ca = ca->certificate();
    sbc = std::make_unique<kamailio_sbc>(o);
    ASSERT_TRUE(sbc->proc().started());
  }

  /// Kamailio's dispatcher has had 200 to its OPTIONS over TLS from the
  /// gateway: calls may flow.
  bool gateway_up_at_sbc() {
    return sbc->proc()
      .wait_for_line("dispatcher: gateway sip:" + gateway_tls()
                       + ";transport=tls is up",
                     30s)
      .has_value();
  }

  /// The gateway trusting the test's authority, then Kamailio, until
  /// Kamailio's dispatcher has the gateway up.
  void bring_up(std::vector<std::string> gateway_extra = {}) {
    ASSERT_NO_FATAL_FAILURE(
      start_gateway(ca->certificate(), std::move(gateway_extra)));
    ASSERT_NO_FATAL_FAILURE(start_sbc());
    ASSERT_TRUE(gateway_up_at_sbc())
      << "Kamailio's OPTIONS over TLS got no 200 from the gateway";
  }

  /// SIPp callers sending to the SBC over UDP (one call unless `extra`
  /// says -m); -d (caller_via_sbc.xml's talk time) is 500 ms unless
  /// `extra` says otherwise.
  std::unique_ptr<process> start_caller(const std::string& scenario,
                                        const std::string& call_id_prefix,
                                        std::vector<std::string> extra = {},
                                        const std::string& dialled = number,
                                        const std::string& trunk_fqdn = trunk) {
    auto args = caller_args("127.0.0.1:" + std::to_string(sbc_port),
                            call_id_prefix, trunk_fqdn, dialled);
    if (std::find(extra.begin(), extra.end(), "-m") == extra.end())
      args.insert(args.end(), {"-m", "1"});
    if (std::find(extra.begin(), extra.end(), "-d") == extra.end())
      args.insert(args.end(), {"-d", "500"});
    args.insert(args.end(), extra.begin(), extra.end());
    return sipp(scenarios + "/" + scenario, free_port(), args);
  }

  /// A SIPp caller sending to the SBC over UDP; its exit code.
  int call(const std::string& scenario, const std::string& call_id_prefix,
           const std::string& dialled = number,
           const std::string& trunk_fqdn = trunk) {
    auto p = start_caller(scenario, call_id_prefix, {}, dialled, trunk_fqdn);
    return finished(*p, scenario);
  }

  /// Waits for a SIPp to end; its exit code, and its output in the
  /// test's log when it is not 0.
  static int finished(process& p, const std::string& what) {
    auto code = p.wait();
    if (code != 0)
      for (auto& line : p.lines())
        std::cerr << "sipp " << what << ": " << line << "\n";
    return code;
  }

  std::string metrics() { return http_get(metrics_port, "/metrics"); }

  /// True once the gateway's /metrics has `line`, waiting up to `timeout`
  /// (a gauge follows the calls' state a little later than the engine).
  bool metric_reaches(const std::string& line,
                      std::chrono::milliseconds timeout = 60s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (metrics().find(line) != std::string::npos)
        return true;
      if (std::chrono::steady_clock::now() > until)
        return false;
      std::this_thread::sleep_for(100ms);
    }
  }

  /// The gateway's log line with `text`, logged before now (lines
  /// start_gateway already read) or within 10 s.
  std::optional<std::string> gateway_logged(const std::string& text) {
    for (auto& line : gateway->lines())
      if (line.find(text) != std::string::npos)
        return line;
    return gateway->wait_for_line(text, 10s);
  }

  /// How many engine events of `type` there are once there are
  /// `count_wanted`, or when a minute has passed.
  size_t wait_for_events(v1::EventType type, size_t count_wanted) {
    auto until = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto seen = events->seen();
      auto count = static_cast<size_t>(
        std::count_if(seen.begin(), seen.end(), [type](const v1::Event& e) {
          return e.type() == type;
        }));
      if (count >= count_wanted || std::chrono::steady_clock::now() > until)
        return count;
      std::this_thread::sleep_for(100ms);
    }
  }

  std::unique_ptr<event_reader> events;
  std::unique_ptr<test_authority> ca;
  std::unique_ptr<process> gateway;
  std::unique_ptr<kamailio_sbc> sbc;
  uint16_t sbc_port = 0;
  uint16_t sbc_tls_port = 0;
  uint16_t gateway_port = 0;
  uint16_t gateway_tls_port = 0;
  uint16_t metrics_port = 0;
};

TEST_F(sbc_kamailio_test,
       a_call_through_the_sbc_is_answered_by_the_agent_and_completes) {
  auto agent_port = free_port();
  auto agent
    = sipp(scenarios + "/agent_answer_via_sbc.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  ASSERT_NO_FATAL_FAILURE(bring_up());

  EXPECT_EQ(call("caller_via_sbc.xml", "life"), 0);
  EXPECT_EQ(finished(*agent, "agent_answer_via_sbc.xml"), 0)
    << "the agent's SIPp saw something unexpected (no INVITE through the "
       "SBC, or no ACK and BYE along its Record-Route)";

  auto wrap_up = events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "life-1@sipp");
  ASSERT_TRUE(wrap_up) << "CompleteCall did not reach the engine";
  auto call = get_call("life-1@sipp");
  EXPECT_TRUE(call.state() == v1::CALL_STATE_WRAP_UP
              || call.state() == v1::CALL_STATE_COMPLETED)
    << v1::CallState_Name(call.state());
  EXPECT_EQ(call.agent_id(), "a1");
  EXPECT_EQ(call.call().to(), number);
  EXPECT_EQ(call.call().from(), "sip:+14255551234@" + trunk + ";user=phone");
  // The INVITE came over TLS: the gateway saw the SBC's TLS connection.
  auto admitted = gateway->wait_for_line("\"msg\":\"call admitted\"", 1s);
  for (auto& line : gateway->lines())
    if (line.find("\"msg\":\"call admitted\"") != std::string::npos)
      admitted = line;
  ASSERT_TRUE(admitted);
  EXPECT_EQ(json_field(*admitted, "trunk"), trunk);
}

TEST_F(sbc_kamailio_test,
       an_agents_refer_via_sbc_moves_the_caller_to_the_queue_it_names) {
  const std::string support_number = "+14255550199";
  support_queue(support_number);
  auto first_port = free_port();
  auto second_port = free_port();
  // The REFER, its NOTIFYs, the caller's re-INVITE and every BYE cross
  // Kamailio along the dialogs' route sets.
  auto first = sipp(scenarios + "/agent_refer_via_sbc.xml", first_port,
                    {"-m", "1", "-key", "refer_to",
                     "sip:" + support_number + "@" + trunk + ";user=phone"});
  auto second = sipp(scenarios + "/party_answers_hangs_up_via_sbc.xml",
                     second_port, {"-m", "1"});
  sip_agent("a1", first_port);
  sip_agent("a2", second_port, "support");
  ASSERT_NO_FATAL_FAILURE(bring_up());

  EXPECT_EQ(call("caller_transferred_via_sbc.xml", "refer"), 0);
  EXPECT_EQ(finished(*first, "agent_refer_via_sbc.xml"), 0);
  EXPECT_EQ(finished(*second, "party_answers_hangs_up_via_sbc.xml"), 0);

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_TRANSFERRED, "refer-1@sipp"))
    << "TransferCall did not reach the engine";
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "refer-1@sipp"));
  auto c = get_call("refer-1@sipp");
  EXPECT_EQ(c.agent_id(), "a2");
  EXPECT_EQ(c.queue_id(), "support");
}

TEST_F(sbc_kamailio_test,
       a_callback_via_sbc_rings_the_agent_then_the_customer_over_tls) {
  auto customer_port = free_port();
  auto customer
    = sipp(scenarios + "/customer_callback.xml", customer_port, {"-m", "1"});
  auto agent_port = free_port();
  auto agent = sipp(scenarios + "/agent_callback.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port, "sales", false);
  // The customer's INVITE goes out through the SBC, as agents' do.
  ASSERT_NO_FATAL_FAILURE(
    bring_up({"--callback-uri",
              "sip:{number}@127.0.0.1:" + std::to_string(customer_port)}));

  auto caller = start_caller("caller_called_back.xml", "cbsbc");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "cbsbc-1@sipp"));
  v1::CallView view;
  auto asked = request_callback("cbsbc-1@sipp", "", view);
  ASSERT_TRUE(asked.ok()) << asked.error_message();
  EXPECT_EQ(finished(*caller, "caller_called_back.xml"), 0);

  // The agent's INVITE, the customer's, the agent's re-INVITE and every
  // BYE cross Kamailio (TLS to the gateway, UDP to the SIPp peers).
  presence("a1", v1::PRESENCE_AVAILABLE);
  ready("a1", true);
  EXPECT_EQ(finished(*agent, "agent_callback.xml"), 0);
  EXPECT_EQ(finished(*customer, "customer_callback.xml"), 0);
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "cbsbc-1@sipp"));
  EXPECT_EQ(get_call("cbsbc-1@sipp").agent_id(), "a1");
  EXPECT_TRUE(gateway_logged("\"msg\":\"callback answered\""));
}

TEST_F(sbc_kamailio_test, options_go_both_ways_over_tls) {
  start_gateway(ca->certificate(),
                {"--ping", sbc_tls(), "--ping-interval", "1s"});
  start_sbc();

  // Kamailio's dispatcher pings the gateway: the gateway answers 200.
  EXPECT_TRUE(gateway_up_at_sbc())
    << "Kamailio's OPTIONS over TLS got no 200 from the gateway";
  // The gateway pings Kamailio: Kamailio answers 200.
  bool up = false;
  for (auto& line : gateway->lines())
    up = up || line.find("\"msg\":\"sbc up\"") != std::string::npos;
  if (!up)
    up = gateway->wait_for_line("\"msg\":\"sbc up\"", 30s).has_value();
  EXPECT_TRUE(up) << "the gateway's OPTIONS over TLS got no 200 from Kamailio";
  auto text = http_get(metrics_port, "/metrics");
  EXPECT_NE(text.find("switchboard_sbc_peer_up{sbc=\"" + sbc_tls() + "\"} 1"),
            std::string::npos)
    << text;
}

TEST_F(sbc_kamailio_test, a_number_the_tenant_does_not_have_gets_404_via_sbc) {
  ASSERT_NO_FATAL_FAILURE(bring_up());

  // The scenario checks the 404 and its Reason header, relayed by
  // Kamailio.
  EXPECT_EQ(call("caller_refused_404.xml", "number", "+14255559999"), 0);

  v1::GetCallRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id("number-1@sipp");
  v1::CallView out;
  EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto text = metrics();
  EXPECT_NE(
    text.find("switchboard_sbc_calls_refused_total{reason=\"number\"} 1"),
    std::string::npos)
    << text;
}

TEST_F(sbc_kamailio_test,
       a_gateway_that_does_not_trust_the_sbc_certificate_gets_no_call) {
  // Another authority than the one that signed Kamailio's certificate.
  test_authority other{dir.path(), "other-ca"};
  ASSERT_TRUE(other.ok());
  start_gateway(other.certificate());
  start_sbc();

  // Kamailio's OPTIONS never get through the TLS handshake: the gateway
  // refuses its certificate (the TLS alert Kamailio logs is the gateway's:
  // only Kamailio opens connections here), so the dispatcher never marks
  // it up...
  auto refused = sbc->proc().wait_for_line("alert unknown ca", 30s);
  ASSERT_TRUE(refused) << "the gateway did not refuse the SBC's certificate";
  // ... and a caller gets Kamailio's 503, with nothing reaching the engine.
  EXPECT_EQ(call("caller_refused_503.xml", "untrusted"), 0);
  for (auto& line : sbc->proc().lines())
    EXPECT_EQ(line.find("dispatcher: gateway sip:" + gateway_tls()
                        + ";transport=tls is up"),
              std::string::npos)
      << line;
  for (auto& line : gateway->lines())
    EXPECT_EQ(line.find("\"msg\":\"call admitted\""), std::string::npos)
      << line;
}

TEST_F(sbc_kamailio_test,
       an_agent_who_does_not_answer_via_sbc_is_cancelled_and_the_next_answers) {
  queue("sales", [](v1::Queue& q) {
    *q.mutable_offer_timeout() = TimeUtil::SecondsToDuration(2);
    *q.mutable_wrap_up() = TimeUtil::MillisecondsToDuration(500);
    q.set_max_missed_offers(1);
  });
  auto silent_port = free_port();
  auto silent = sipp(scenarios + "/agent_no_answer_via_sbc.xml", silent_port,
                     {"-m", "1"});
  auto answer_port = free_port();
  auto answer
    = sipp(scenarios + "/agent_answer_via_sbc.xml", answer_port, {"-m", "1"});
  // Longest idle first: a1 gets the first offer.
  sip_agent("a1", silent_port);
  sip_agent("a2", answer_port);
  ASSERT_NO_FATAL_FAILURE(bring_up());

  EXPECT_EQ(call("caller_via_sbc.xml", "noanswer"), 0);
  // a1's SIPp rang, got the gateway's CANCEL through Kamailio, answered
  // 487 and had Kamailio's ACK.
  EXPECT_EQ(finished(*silent, "agent_no_answer_via_sbc.xml"), 0)
    << "the ringing agent was not cancelled through the SBC";
  EXPECT_EQ(finished(*answer, "agent_answer_via_sbc.xml"), 0);

  auto expired
    = events->wait_for(v1::EVENT_TYPE_OFFER_EXPIRED, "noanswer-1@sipp");
  ASSERT_TRUE(expired) << "the offer to a1 did not expire";
  EXPECT_EQ(expired->offer().agent_id(), "a1");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "noanswer-1@sipp"));
  EXPECT_EQ(get_call("noanswer-1@sipp").agent_id(), "a2");
  EXPECT_NE(metrics().find("switchboard_sbc_invites_total{code=\"200\",trunk=\""
                           + trunk + "\"} 1"),
            std::string::npos)
    << metrics();
}

TEST_F(sbc_kamailio_test,
       an_agent_who_is_busy_via_sbc_declines_and_the_next_answers) {
  auto busy_port = free_port();
  auto busy = sipp(scenarios + "/agent_busy.xml", busy_port, {"-m", "1"});
  auto answer_port = free_port();
  auto answer
    = sipp(scenarios + "/agent_answer_via_sbc.xml", answer_port, {"-m", "1"});
  // Longest idle first: a1 gets the first offer.
  sip_agent("a1", busy_port);
  sip_agent("a2", answer_port);
  ASSERT_NO_FATAL_FAILURE(bring_up());

  EXPECT_EQ(call("caller_via_sbc.xml", "busy"), 0);
  // a1's 486 had Kamailio's ACK.
  EXPECT_EQ(finished(*busy, "agent_busy.xml"), 0);
  EXPECT_EQ(finished(*answer, "agent_answer_via_sbc.xml"), 0);

  auto declined
    = events->wait_for(v1::EVENT_TYPE_OFFER_DECLINED, "busy-1@sipp");
  ASSERT_TRUE(declined) << "the agent's 486 did not decline the offer";
  EXPECT_EQ(declined->offer().agent_id(), "a1");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "busy-1@sipp"));
  EXPECT_EQ(get_call("busy-1@sipp").agent_id(), "a2");
}

TEST_F(sbc_kamailio_test, a_caller_who_cancels_via_sbc_while_waiting_abandons) {
  ASSERT_NO_FATAL_FAILURE(bring_up()); // no agent: the call waits

  // The scenario checks the 200 to its CANCEL and the 487 to its INVITE,
  // both through Kamailio.
  EXPECT_EQ(call("caller_cancel.xml", "cancel"), 0);

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_ABANDONED, "cancel-1@sipp"))
    << "CancelCall did not reach the engine";
  EXPECT_EQ(get_call("cancel-1@sipp").state(), v1::CALL_STATE_ABANDONED);
  EXPECT_TRUE(metric_reaches("switchboard_sbc_invites_total{code=\"487\","
                             "trunk=\""
                               + trunk + "\"} 1",
                             10s))
    << metrics();
}

TEST_F(sbc_kamailio_test,
       a_caller_who_cancels_via_sbc_while_the_agent_rings_cancels_the_agent) {
  auto agent_port = free_port();
  auto agent
    = sipp(scenarios + "/agent_no_answer_via_sbc.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);
  ASSERT_NO_FATAL_FAILURE(bring_up());

  // The caller hangs up 3 s after its ringback starts: the offer went to
  // a1 at once and rings for up to 10 s.
  auto caller = start_caller("caller_cancel.xml", "ringcancel", {"-d", "3000"});
  EXPECT_EQ(finished(*caller, "caller_cancel.xml"), 0);
  // a1's SIPp had the INVITE, then the CANCEL through Kamailio, answered
  // 487 and had Kamailio's ACK.
  EXPECT_EQ(finished(*agent, "agent_no_answer_via_sbc.xml"), 0)
    << "the ringing agent was not cancelled through the SBC";

  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_OFFERED, "ringcancel-1@sipp"))
    << "the agent was not offered the call";
  ASSERT_TRUE(
    events->wait_for(v1::EVENT_TYPE_CALL_ABANDONED, "ringcancel-1@sipp"))
    << "CancelCall did not reach the engine";
  EXPECT_EQ(get_call("ringcancel-1@sipp").state(), v1::CALL_STATE_ABANDONED);
}

TEST_F(sbc_kamailio_test, an_unknown_trunk_gets_403_via_sbc) {
  ASSERT_NO_FATAL_FAILURE(bring_up());

  // The scenario checks the 403 and its Reason header, relayed by
  // Kamailio.
  EXPECT_EQ(call("caller_refused_403.xml", "trunk", number, "other.sbc.test"),
            0);

  v1::GetCallRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id("trunk-1@sipp");
  v1::CallView out;
  EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto text = metrics();
  EXPECT_NE(text.find("switchboard_sbc_invites_total{code=\"403\",trunk="
                      "\"other.sbc.test\"} 1"),
            std::string::npos)
    << text;
  EXPECT_NE(
    text.find("switchboard_sbc_calls_refused_total{reason=\"trunk\"} 1"),
    std::string::npos)
    << text;
}

TEST_F(sbc_kamailio_test,
       with_the_router_down_the_sbc_caller_gets_503_then_calls_flow_again) {
  ASSERT_NO_FATAL_FAILURE(bring_up());
  auto address = n->address;
  events.reset();
  n->kill();
  ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"router stream lost", 30s));

  // The scenario checks the 503, its Retry-After and its Reason header,
  // through Kamailio.
  EXPECT_EQ(call("caller_refused_503.xml", "down"), 0);
  EXPECT_TRUE(sbc->proc().wait_for_line("no gateway left for down-1@sipp", 10s))
    << "Kamailio did not answer the gateway's 503 itself";
  auto text = metrics();
  EXPECT_NE(
    text.find("switchboard_sbc_calls_refused_total{reason=\"router_down\"} 1"),
    std::string::npos)
    << text;

  // The router comes back at the same address, with its data.
  n->start(dir, {"--grpc-listen", address});
  ASSERT_EQ(n->address, address);
  events = std::make_unique<event_reader>(*n->events, "contoso");
  ASSERT_TRUE(gateway->wait_for_line("\"msg\":\"router connected\"", 60s))
    << "the gateway did not reconnect to the router";
  auto agent_port = free_port();
  auto agent
    = sipp(scenarios + "/agent_answer_via_sbc.xml", agent_port, {"-m", "1"});
  sip_agent("a1", agent_port);

  EXPECT_EQ(call("caller_via_sbc.xml", "back"), 0);
  EXPECT_EQ(finished(*agent, "agent_answer_via_sbc.xml"), 0);
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_WRAP_UP, "back-1@sipp"));
  EXPECT_EQ(get_call("back-1@sipp").agent_id(), "a1");
}

TEST_F(sbc_kamailio_test,
       after_a_kill_the_restarted_gateway_cancels_the_call_it_had_via_sbc) {
  ASSERT_NO_FATAL_FAILURE(bring_up()); // no agent: the call waits
  // The caller waits at Kamailio (its SIPp is killed with the test).
  auto caller = start_caller("caller_via_sbc.xml", "orphan");
  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_QUEUED, "orphan-1@sipp"));
  auto attributes = get_call("orphan-1@sipp").call().attributes();
  EXPECT_EQ(attributes["sbc_gateway"], "sbc-gateway-0");

  gateway->stop(SIGKILL);
  gateway.reset();
  ASSERT_NO_FATAL_FAILURE(start_gateway(ca->certificate()));

  ASSERT_TRUE(events->wait_for(v1::EVENT_TYPE_CALL_CANCELLED, "orphan-1@sipp"))
    << "the orphaned call was not ended";
  EXPECT_EQ(get_call("orphan-1@sipp").state(), v1::CALL_STATE_CANCELLED);
  auto why = gateway_logged(
    "\"msg\":\"cancelling a waiting call that has no SIP dialog since this "
    "gateway restarted\"");
  ASSERT_TRUE(why) << "the gateway did not say why it ended the call";
  EXPECT_EQ(json_field(*why, "call_id"), "orphan-1@sipp");
  auto reconciled = gateway_logged("\"msg\":\"reconciled\"");
  ASSERT_TRUE(reconciled);
  EXPECT_EQ(json_field(*reconciled, "ended"), "1");
  caller->stop(SIGKILL);
}

TEST_F(sbc_kamailio_test,
       two_hundred_calls_wait_at_once_then_all_reach_agents_and_complete) {
  constexpr int calls = 200;
  auto agents_port = free_port();
  auto agents = sipp(scenarios + "/agent_answer_via_sbc.xml", agents_port,
                     {"-m", std::to_string(calls)});
  // Nobody is ready yet: the calls pile up, all waiting at once.
  for (int i = 1; i <= calls; ++i)
    ASSERT_NO_FATAL_FAILURE(
      sip_agent("a" + std::to_string(i), agents_port, "sales", false));
  ASSERT_NO_FATAL_FAILURE(bring_up());

  auto callers
    = start_caller("caller_via_sbc.xml", "load",
                   {"-m", std::to_string(calls), "-l", std::to_string(calls),
                    "-r", "50", "-d", "1000"});
  {
    // The gateway and Kamailio log every call: read them meanwhile.
    output_drain drain{{gateway.get(), &sbc->proc(), agents.get()}};
    EXPECT_EQ(wait_for_events(v1::EVENT_TYPE_CALL_QUEUED, calls),
              size_t{calls});
    EXPECT_TRUE(metric_reaches("switchboard_sbc_dialogs{state=\"waiting\"} "
                               + std::to_string(calls)))
      << metrics();

    for (int i = 1; i <= calls; ++i) {
      presence("a" + std::to_string(i), v1::PRESENCE_AVAILABLE);
      ready("a" + std::to_string(i), true);
    }
    EXPECT_EQ(finished(*callers, "caller_via_sbc.xml (200 calls)"), 0);
  }
  EXPECT_EQ(finished(*agents, "agent_answer_via_sbc.xml (200 calls)"), 0);

  EXPECT_EQ(wait_for_events(v1::EVENT_TYPE_CALL_WRAP_UP, calls), size_t{calls});
  for (int i = 1; i <= calls; ++i) {
    auto c = get_call("load-" + std::to_string(i) + "@sipp");
    EXPECT_TRUE(c.state() == v1::CALL_STATE_WRAP_UP
                || c.state() == v1::CALL_STATE_COMPLETED)
      << c.call().call_id() << " " << v1::CallState_Name(c.state());
    EXPECT_FALSE(c.agent_id().empty()) << c.call().call_id();
  }
  auto text = metrics();
  EXPECT_NE(text.find("switchboard_sbc_invites_total{code=\"200\",trunk=\""
                      + trunk + "\"} " + std::to_string(calls)),
            std::string::npos)
    << text;
  for (auto* state : {"submitting", "waiting", "looking_up", "ringing",
                      "accepting", "talking"})
    EXPECT_TRUE(metric_reaches(
      "switchboard_sbc_dialogs{state=\"" + std::string{state} + "\"} 0", 10s))
      << metrics();
  for (auto& line : gateway->lines()) {
    EXPECT_EQ(line.find("\"level\":\"error\""), std::string::npos) << line;
    EXPECT_EQ(line.find("engine refused a command"), std::string::npos) << line;
  }
  for (auto& line : sbc->proc().lines()) {
    EXPECT_EQ(line.find("gateway failed"), std::string::npos) << line;
    EXPECT_EQ(line.find("no gateway up"), std::string::npos) << line;
    EXPECT_EQ(line.find("no gateway left"), std::string::npos) << line;
  }
}

} // namespace
} // namespace switchboard::testing
