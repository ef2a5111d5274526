// Routes calls through the real switchboard-router binary over gRPC: the
// public API as integrators and gateways use it. Timers are real but short
// (queues with offer timeouts of a second); tests wait
// for events, never for fixed times.

#include "tests/support/router_fixture.hpp"

#include <atomic>

using namespace switchboard;
using namespace switchboard::testing;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;

TEST_F(routing_test, a_call_goes_through_its_whole_lifecycle) {
  agent("alice");
  event_reader events{*n->events, "contoso"};
  auto c = submit("call-1");
  ASSERT_EQ(c.state(), v1::CALL_STATE_OFFERED);
  EXPECT_EQ(c.offer().agent_id(), "alice");
  EXPECT_EQ(get_agent("alice").state().activity(), v1::AGENT_ACTIVITY_OFFERED);
  v1::CallView out;
  ASSERT_TRUE(accept(c.offer(), out).ok());
  EXPECT_EQ(out.state(), v1::CALL_STATE_ASSIGNED);
  EXPECT_EQ(out.agent_id(), "alice");
  EXPECT_EQ(get_agent("alice").state().activity(), v1::AGENT_ACTIVITY_BUSY);
  ASSERT_TRUE(complete("call-1", out).ok());
  EXPECT_EQ(out.state(), v1::CALL_STATE_WRAP_UP);
  ASSERT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_COMPLETED, "call-1"));
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_COMPLETED);
  EXPECT_EQ(get_agent("alice").state().activity(), v1::AGENT_ACTIVITY_IDLE);

  v1::ListCallHistoryRequest hreq;
  hreq.set_tenant_id("contoso");
  v1::ListCallHistoryResponse history;
  ASSERT_TRUE(n->stats->ListCallHistory(ctx().get(), hreq, &history).ok());
  ASSERT_EQ(history.records_size(), 1);
  EXPECT_EQ(history.records(0).outcome(), v1::CALL_STATE_COMPLETED);
  EXPECT_EQ(history.records(0).agent_id(), "alice");
  ASSERT_EQ(history.records(0).offers_size(), 1);
  EXPECT_EQ(history.records(0).offers(0).outcome(), "accepted");

  v1::GetQueueStatsRequest sreq;
  sreq.set_tenant_id("contoso");
  sreq.set_queue_id("sales");
  v1::QueueStats s;
  ASSERT_TRUE(n->stats->GetQueueStats(ctx().get(), sreq, &s).ok());
  EXPECT_EQ(s.offered(), 1u);
  EXPECT_EQ(s.answered(), 1u);
  EXPECT_EQ(s.service_level_percent(), 100.0);

  auto metrics = http_get(n->metrics_port, "/metrics");
  for (auto* expected :
       {"switchboard_routing_latency_seconds_count 1",
        "switchboard_offers_total{outcome=\"accepted\"} 1",
        "switchboard_grpc_requests_total{code=\"OK\",method=\"SubmitCall\"} 1",
        "switchboard_store_write_seconds_count"})
    EXPECT_NE(metrics.find(expected), std::string::npos)
      << expected << " not in\n"
      << metrics;
}

TEST_F(routing_test, a_declined_or_expired_offer_goes_back_in_line) {
  agent("alice");
  event_reader events{*n->events, "contoso"};
  auto c = submit("call-1");
  ASSERT_EQ(c.offer().agent_id(), "alice");
  agent("bob");
  v1::CallView out;
  ASSERT_TRUE(decline(c.offer(), out).ok());
  // Bob has been idle longer than Alice, who just declined.
  EXPECT_EQ(out.state(), v1::CALL_STATE_OFFERED);
  EXPECT_EQ(out.offer().agent_id(), "bob");
  EXPECT_EQ(out.enqueued_at(), c.enqueued_at());
  // Bob lets it ring out: expired, and offered again.
  auto expired = events.wait_for(v1::EVENT_TYPE_OFFER_EXPIRED, "call-1");
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->offer().agent_id(), "bob");
  EXPECT_EQ(get_agent("alice").state().missed_offers_in_a_row(), 1u);
  // A stale offer id is refused.
  auto st = accept(c.offer(), out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("no longer open"), std::string::npos)
    << st.error_message();
}

TEST_F(routing_test, missed_offers_in_a_row_make_an_agent_not_ready) {
  agent("alice");
  event_reader events{*n->events, "contoso"};
  submit("call-1");
  // Two expiries in a row (max_missed_offers 2): "not responding".
  auto changed = events.wait_until([](const v1::Event& e) {
    return e.type() == v1::EVENT_TYPE_AGENT_STATE_CHANGED
           && e.agent().state().not_ready_reason() == "not responding";
  });
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->agent().state().not_ready_reason(), "not responding");
  auto a = get_agent("alice");
  EXPECT_FALSE(a.state().ready());
  EXPECT_EQ(a.state().not_ready_reason(), "not responding");
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_QUEUED);
}

TEST_F(routing_test, presence_and_readiness_gate_offers) {
  agent("alice", {"sales"}, false);
  auto c = submit("call-1");
  EXPECT_EQ(c.state(), v1::CALL_STATE_QUEUED);
  EXPECT_EQ(c.position(), 1u);
  ready("alice", true); // still Offline
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_QUEUED);
  presence("alice", v1::PRESENCE_AWAY);
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_QUEUED);
  presence("alice", v1::PRESENCE_DO_NOT_DISTURB);
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_QUEUED);
  ready("alice", false);
  presence("alice", v1::PRESENCE_AVAILABLE);
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_QUEUED);
  ready("alice", true);
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_OFFERED);
}

TEST_F(routing_test, wrap_up_holds_the_agent_then_releases_it) {
  agent("alice");
  event_reader events{*n->events, "contoso"};
  auto c = submit("call-1");
  v1::CallView out;
  ASSERT_TRUE(accept(c.offer(), out).ok());
  ASSERT_TRUE(complete("call-1", out).ok());
  EXPECT_EQ(get_agent("alice").state().activity(), v1::AGENT_ACTIVITY_WRAP_UP);
  auto waiting = submit("call-2");
  EXPECT_EQ(waiting.state(), v1::CALL_STATE_QUEUED);
  auto offered = events.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "call-2");
  ASSERT_TRUE(offered);
  auto completed = events.wait_for(v1::EVENT_TYPE_CALL_COMPLETED, "call-1");
  ASSERT_TRUE(completed);
  EXPECT_GE(offered->sequence(), completed->sequence());
}

TEST_F(routing_test, a_call_waiting_too_long_overflows) {
  queue("backup");
  queue("sales", [](v1::Queue& q) {
    *q.mutable_max_wait() = TimeUtil::MillisecondsToDuration(300);
    q.set_overflow_queue_id("backup");
  });
  event_reader events{*n->events, "contoso"};
  auto c = submit("call-1");
  ASSERT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_OVERFLOWED, "call-1"));
  auto moved = get_call("call-1");
  EXPECT_EQ(moved.queue_id(), "backup");
  EXPECT_EQ(moved.enqueued_at(), c.enqueued_at());
  agent("bob", {"backup"});
  EXPECT_EQ(get_call("call-1").offer().agent_id(), "bob");
}

TEST_F(routing_test, repeated_submits_and_ingest_items_apply_once) {
  agent("alice");
  auto first = submit("call-1");
  v1::SubmitCallResponse again;
  ASSERT_TRUE(submit("call-1", again).ok());
  EXPECT_TRUE(again.already_submitted());
  EXPECT_EQ(again.call().offer().offer_id(), first.offer().offer_id());

  grpc::ClientContext c;
  auto stream = n->events->Ingest(&c);
  v1::IngestRequest req;
  req.set_event_id("sbc-1-decline");
  auto& d = *req.mutable_decline_offer();
  d.set_tenant_id("contoso");
  d.set_call_id("call-1");
  d.set_agent_id("alice");
  d.set_offer_id(first.offer().offer_id());
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Write(req)); // a gateway retrying
  v1::IngestRequest bad;
  bad.set_event_id("sbc-2");
  bad.mutable_complete_call()->set_tenant_id("contoso");
  bad.mutable_complete_call()->set_call_id("nope");
  ASSERT_TRUE(stream->Write(bad));
  stream->WritesDone();
  std::vector<v1::IngestResponse> responses;
  v1::IngestResponse r;
  while (stream->Read(&r))
    responses.push_back(r);
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].event_id(), "sbc-1-decline");
  EXPECT_EQ(responses[0].code(), 0);
  EXPECT_FALSE(responses[0].duplicate());
  EXPECT_EQ(responses[1].code(), 0);
  EXPECT_TRUE(responses[1].duplicate());
  EXPECT_EQ(responses[2].code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(responses[2].message(),
            "call 'nope' does not exist in tenant 'contoso'");
  EXPECT_EQ(get_agent("alice").state().missed_offers_in_a_row(), 1u);
}

TEST_F(routing_test, bad_input_and_unknown_ids_get_their_status_codes) {
  v1::SubmitCallResponse out;
  auto st = submit("call 1", out); // a space
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("call.call_id: ", 0), 0u)
    << st.error_message();

  v1::UpsertQueueRequest qreq;
  qreq.mutable_queue()->set_tenant_id("contoso");
  qreq.mutable_queue()->set_queue_id("q");
  auto* sel = qreq.mutable_queue()->add_selectors();
  sel->set_key("skill.billing");
  sel->set_op(v1::SELECTOR_OP_GE);
  sel->add_values("lots");
  v1::Queue qout;
  st = n->admin->UpsertQueue(ctx().get(), qreq, &qout);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("queue.selectors[0].values[0]: ", 0), 0u)
    << st.error_message();

  v1::GetCallRequest greq;
  greq.set_tenant_id("fabrikam");
  greq.set_call_id("x");
  v1::CallView cout_;
  st = n->routing->GetCall(ctx().get(), greq, &cout_);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(),
            "tenant 'fabrikam' does not exist (create it with UpsertTenant)");
  greq.set_tenant_id("contoso");
  st = n->routing->GetCall(ctx().get(), greq, &cout_);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "call 'x' does not exist in tenant 'contoso'");
  st = submit("call-2", out, "nowhere");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(),
            "call.queue_id: queue 'nowhere' does not exist in tenant "
            "'contoso'");

  queue("small", [](v1::Queue& q) {
    q.set_max_length(1);
  });
  ASSERT_TRUE(submit("call-3", out, "small").ok());
  st = submit("call-4", out, "small");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(st.error_message(), "queue 'small' of tenant 'contoso' is full: "
                                "1 calls wait, its max_length");

  v1::CallView done;
  st = complete("call-3", done);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(routing_test, tenants_are_isolated) {
  tenant("fabrikam");
  agent("alice");
  submit("call-1");
  v1::GetCallRequest req;
  req.set_tenant_id("fabrikam");
  req.set_call_id("call-1");
  v1::CallView out;
  EXPECT_EQ(n->routing->GetCall(ctx().get(), req, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListAgentsRequest lreq;
  lreq.set_tenant_id("fabrikam");
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(n->admin->ListAgents(ctx().get(), lreq, &agents).ok());
  EXPECT_EQ(agents.agents_size(), 0);
  event_reader fab{*n->events, "fabrikam"};
  event_reader con{*n->events, "contoso"};
  ASSERT_FALSE(con.wait_for_count(2).empty());
  EXPECT_TRUE(fab.wait_for_count(0).empty());
}

TEST_F(routing_test, a_tenants_settings_are_read_back) {
  v1::UpsertTenantRequest up;
  auto& t = *up.mutable_tenant();
  t.set_tenant_id("fabrikam");
  t.set_display_name("Fabrikam");
  t.set_microsoft_tenant_id("632899f8-2ea1-4604-8413-27bd2892079f");
  t.add_dialled_numbers("+14255550100");
  v1::Tenant stored;
  ASSERT_TRUE(n->admin->UpsertTenant(ctx().get(), up, &stored).ok());
  v1::GetTenantRequest req;
  req.set_tenant_id("fabrikam");
  v1::Tenant out;
  auto st = n->admin->GetTenant(ctx().get(), req, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(out.display_name(), "Fabrikam");
  EXPECT_EQ(out.microsoft_tenant_id(), "632899f8-2ea1-4604-8413-27bd2892079f");
  ASSERT_EQ(out.dialled_numbers_size(), 1);
  req.set_tenant_id("northwind");
  st = n->admin->GetTenant(ctx().get(), req, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(),
            "tenant 'northwind' does not exist (create it with UpsertTenant)");
  req.set_tenant_id("");
  EXPECT_EQ(n->admin->GetTenant(ctx().get(), req, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(routing_test, subscribe_resumes_without_gap_or_duplicate) {
  agent("alice", {"sales"}, false);
  for (int i = 0; i < 5; ++i)
    submit("call-" + std::to_string(i));
  uint64_t resume_after = 0;
  {
    event_reader first{*n->events, "contoso"};
    auto seen = first.wait_for_count(5);
    ASSERT_GE(seen.size(), 5u);
    resume_after = seen[2].sequence();
  } // disconnected
  for (int i = 5; i < 8; ++i)
    submit("call-" + std::to_string(i));
  presence("alice", v1::PRESENCE_AVAILABLE);
  ready("alice", true); // an offer follows
  event_reader everything{*n->events, "contoso"};
  auto all = everything.wait_for(v1::EVENT_TYPE_CALL_OFFERED);
  ASSERT_TRUE(all);
  auto full = everything.wait_for_count(0);
  event_reader resumed{*n->events, "contoso", resume_after};
  auto rest = resumed.wait_for_count(full.size() - 3);
  ASSERT_EQ(rest.size(), full.size() - 3);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].sequence(), resume_after + 1 + i);
    EXPECT_EQ(rest[i].SerializeAsString(), full[i + 3].SerializeAsString());
  }
}

TEST_F(routing_test, state_survives_a_crash_under_traffic) {
  for (int i = 0; i < 6; ++i)
    agent("agent-" + std::to_string(i));
  // Traffic: callers submit, agents accept and complete, from threads;
  // every acknowledged answer is recorded.
  std::mutex mtx;
  std::map<std::string, v1::CallState> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w)
    workers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        auto id = "w" + std::to_string(w) + "-" + std::to_string(i);
        v1::SubmitCallResponse out;
        if (!submit(id, out).ok())
          return; // the node is gone
        auto state = out.call().state();
        if (state == v1::CALL_STATE_OFFERED && i % 3 != 0) {
          v1::CallView view;
          if (accept(out.call().offer(), view).ok()) {
            state = view.state();
            if (i % 2 == 0 && complete(id, view).ok())
              state = view.state();
          }
        }
        std::lock_guard guard{mtx};
        acknowledged[id] = state;
      }
    });
  std::this_thread::sleep_for(1500ms);
  n->kill();
  stop = true;
  for (auto& t : workers)
    t.join();
  ASSERT_GT(acknowledged.size(), 20u);

  n = std::make_unique<node>(dir);
  // Every acknowledged call is back, at least as far along as it was.
  for (auto& [id, state] : acknowledged) {
    auto now = get_call(id);
    EXPECT_EQ(now.call().call_id(), id);
    if (state == v1::CALL_STATE_ASSIGNED) {
      EXPECT_TRUE(now.state() == v1::CALL_STATE_ASSIGNED
                  || now.state() == v1::CALL_STATE_WRAP_UP
                  || now.state() == v1::CALL_STATE_COMPLETED)
        << id;
    }
    if (state == v1::CALL_STATE_WRAP_UP) {
      EXPECT_TRUE(now.state() == v1::CALL_STATE_WRAP_UP
                  || now.state() == v1::CALL_STATE_COMPLETED)
        << id;
    }
  }
  // No agent holds more than its capacity: one voice call each.
  v1::ListAgentsRequest lreq;
  lreq.set_tenant_id("contoso");
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(n->admin->ListAgents(ctx().get(), lreq, &agents).ok());
  ASSERT_EQ(agents.agents_size(), 6);
  for (auto& a : agents.agents()) {
    // Back with its state: presence as set, work within capacity.
    EXPECT_EQ(a.state().presence(), v1::PRESENCE_AVAILABLE);
    for (auto& l : a.state().load())
      EXPECT_LE(l.items(), 1u) << a.agent().agent_id();
  }
  // Routing goes on: finish what is assigned, and a new call is offered.
  // Every call left is listed (page by page): answered ones end, waiting
  // ones are withdrawn.
  std::vector<v1::CallView> live;
  v1::ListCallsRequest creq;
  creq.set_tenant_id("contoso");
  creq.set_page_size(1000);
  do {
    v1::ListCallsResponse page;
    ASSERT_TRUE(n->routing->ListCalls(ctx().get(), creq, &page).ok());
    live.insert(live.end(), page.calls().begin(), page.calls().end());
    creq.set_page_token(page.next_page_token());
  } while (!creq.page_token().empty());
  size_t waiting = 0;
  for (auto& [id, state] : acknowledged)
    if (state == v1::CALL_STATE_QUEUED)
      ++waiting;
  EXPECT_GE(live.size(), waiting);
  for (auto& c : live) {
    v1::CallView out;
    if (c.state() == v1::CALL_STATE_ASSIGNED) {
      EXPECT_TRUE(complete(c.call().call_id(), out).ok());
    }
    if (c.state() == v1::CALL_STATE_QUEUED
        || c.state() == v1::CALL_STATE_OFFERED) {
      v1::CancelCallRequest cancel;
      cancel.set_tenant_id("contoso");
      cancel.set_call_id(c.call().call_id());
      EXPECT_TRUE(n->routing->CancelCall(ctx().get(), cancel, &out).ok());
    }
  }
  // Offers that rang out made some agents "not responding".
  for (int i = 0; i < 6; ++i)
    ready("agent-" + std::to_string(i), true);
  event_reader events{*n->events, "contoso"};
  submit("after-restart");
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "after-restart"))
    << get_call("after-restart").DebugString() << [&] {
         v1::ListAgentsResponse now;
         n->admin->ListAgents(ctx().get(), lreq, &now);
         return now.DebugString();
       }();
}

/// What eight clients asking ListQueues of `tenant` 50 times each at once
/// got: served, refused with RESOURCE_EXHAUSTED, and the last refusal.
struct flood_result {
  int served = 0;
  int refused = 0;
  std::string message;
};

flood_result flood(node& target, const std::string& tenant) {
  std::atomic<int> refused{0};
  std::atomic<int> served{0};
  std::string message;
  std::mutex mtx;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        v1::ListQueuesRequest req;
        req.set_tenant_id(tenant);
        v1::ListQueuesResponse out;
        auto st = target.admin->ListQueues(ctx().get(), req, &out);
        if (st.ok()) {
          served++;
        } else if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          refused++;
          std::lock_guard guard{mtx};
          message = st.error_message();
        }
      }
    });
  for (auto& c : clients)
    c.join();
  return {served.load(), refused.load(), message};
}

TEST_F(routing_test, an_overloaded_node_sheds_requests) {
  n.reset();
  n = std::make_unique<node>(
    dir, std::vector<std::string>{"--grpc-max-in-flight", "1"});
  // Eight clients at once against a limit of one request in progress.
  auto f = flood(*n, "contoso");
  EXPECT_GT(f.refused, 0);
  EXPECT_GT(f.served, 0);
  EXPECT_EQ(f.refused + f.served, 400);
  EXPECT_EQ(f.message.rfind("node overloaded: ", 0), 0u) << f.message;
}

TEST_F(routing_test, a_flooding_tenant_is_refused_while_others_go_on) {
  n.reset();
  n = std::make_unique<node>(
    dir, std::vector<std::string>{"--grpc-max-in-flight-per-tenant", "1"});
  tenant("fabrikam");
  // Eight clients of contoso at once against a share of one request in
  // progress, while fabrikam asks one request at a time.
  std::atomic<bool> flooding{true};
  int others = 0;
  std::thread other([&] {
    while (flooding) {
      v1::ListQueuesRequest req;
      req.set_tenant_id("fabrikam");
      v1::ListQueuesResponse out;
      auto st = n->admin->ListQueues(ctx().get(), req, &out);
      EXPECT_TRUE(st.ok()) << st.error_message();
      ++others;
    }
  });
  auto f = flood(*n, "contoso");
  flooding = false;
  other.join();
  EXPECT_GT(f.refused, 0);
  EXPECT_GT(f.served, 0);
  EXPECT_EQ(f.refused + f.served, 400);
  EXPECT_GT(others, 0);
  EXPECT_EQ(f.message.rfind("tenant 'contoso' has ", 0), 0u) << f.message;
}

TEST_F(routing_test,
       classification_rules_choose_the_queue_and_survive_a_restart) {
  queue("spanish");
  queue("vip");
  agent("alice", {"spanish"}, false);
  v1::UpsertClassificationRulesRequest req;
  req.set_tenant_id("contoso");
  auto rule = [&](const std::string& id, const std::string& field,
                  v1::Condition::Match match, std::vector<std::string> values,
                  const std::string& queue_id, int32_t priority = 0) {
    auto& r = *req.add_rules();
    r.set_rule_id(id);
    auto& c = *r.add_conditions();
    c.set_field(field);
    c.set_match(match);
    for (auto& v : values)
      c.add_values(v);
    r.set_queue_id(queue_id);
    r.set_priority(priority);
    return &r;
  };
  rule("spanish", "attribute.language", v1::Condition::MATCH_EQUALS, {"es"},
       "spanish");
  auto* vip
    = rule("vip", "from", v1::Condition::MATCH_PREFIX, {"+4420"}, "vip", 7);
  auto* sel = vip->add_selectors();
  sel->set_key("label.tier");
  sel->set_op(v1::SELECTOR_OP_IN);
  sel->add_values("lead");
  rule("sales-menu", "attribute.ivr", v1::Condition::MATCH_IN, {"1", "sales"},
       "sales");
  v1::ClassificationRules stored;
  auto st = n->admin->UpsertClassificationRules(ctx().get(), req, &stored);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(stored.rules_size(), 3);
  // Read back as stored, in their order, with their selectors.
  auto read_rules = [&] {
    v1::GetClassificationRulesRequest greq;
    greq.set_tenant_id("contoso");
    v1::ClassificationRules got;
    auto gst = n->admin->GetClassificationRules(ctx().get(), greq, &got);
    EXPECT_TRUE(gst.ok()) << gst.error_message();
    return got;
  };
  {
    auto got = read_rules();
    ASSERT_EQ(got.rules_size(), 3);
    EXPECT_EQ(got.tenant_id(), "contoso");
    EXPECT_EQ(got.rules(0).rule_id(), "spanish");
    EXPECT_EQ(got.rules(1).rule_id(), "vip");
    EXPECT_EQ(got.rules(1).priority(), 7);
    ASSERT_EQ(got.rules(1).selectors_size(), 1);
    EXPECT_EQ(got.rules(1).selectors(0).key(), "label.tier");
    EXPECT_EQ(got.rules(2).conditions(0).values_size(), 2);
    EXPECT_EQ(got.default_queue_id(), "");
  }

  // A queue a rule names stays while the rule does.
  v1::DeleteQueueRequest dreq;
  dreq.set_tenant_id("contoso");
  dreq.set_queue_id("vip");
  v1::DeleteQueueResponse dout;
  st = n->admin->DeleteQueue(ctx().get(), dreq, &dout);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "queue 'vip' of tenant 'contoso' is the queue "
                                "of classification rule 'vip'");

  auto classify
    = [&](const std::string& id, const std::function<void(v1::Call&)>& edit,
          v1::SubmitCallResponse& out) {
        v1::SubmitCallRequest sreq;
        auto& c = *sreq.mutable_call();
        c.set_tenant_id("contoso");
        c.set_call_id(id);
        edit(c);
        return n->routing->SubmitCall(ctx().get(), sreq, &out);
      };
  v1::SubmitCallResponse out;
  ASSERT_TRUE(classify(
                "c1",
                [](v1::Call& c) {
                  (*c.mutable_attributes())["language"] = "es";
                },
                out)
                .ok());
  EXPECT_EQ(out.call().call().queue_id(), "spanish");
  ASSERT_TRUE(classify(
                "c2",
                [](v1::Call& c) {
                  c.set_from("+442071838750");
                },
                out)
                .ok());
  EXPECT_EQ(out.call().call().queue_id(), "vip");
  EXPECT_EQ(out.call().call().priority(), 7);
  ASSERT_EQ(out.call().call().selectors_size(), 1);
  EXPECT_EQ(out.call().call().selectors(0).key(), "label.tier");
  // Matches nothing, and there is no default queue: refused, saying why.
  st = classify(
    "c3",
    [](v1::Call& c) {
      c.set_to("+14255550100");
    },
    out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "call 'c3' (to '+14255550100', from '', voice) names no queue, "
            "matches none of tenant 'contoso''s 3 classification rules, and "
            "the tenant has no default queue");
  // Bad rules name their field; unknown queues are NOT_FOUND.
  auto bad = req;
  bad.mutable_rules(1)->mutable_conditions(0)->set_field("caller");
  st = n->admin->UpsertClassificationRules(ctx().get(), bad, &stored);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("rules[1].conditions[0].field: ", 0), 0u)
    << st.error_message();
  bad = req;
  bad.set_default_queue_id("nowhere");
  st = n->admin->UpsertClassificationRules(ctx().get(), bad, &stored);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "default_queue_id: queue 'nowhere' does not "
                                "exist in tenant 'contoso'");

  // A default queue, then a restart: the rules and the default are back.
  req.set_default_queue_id("sales");
  ASSERT_TRUE(
    n->admin->UpsertClassificationRules(ctx().get(), req, &stored).ok());
  n->kill();
  n = std::make_unique<node>(dir);
  {
    auto got = read_rules();
    EXPECT_EQ(got.rules_size(), 3);
    EXPECT_EQ(got.default_queue_id(), "sales");
  }
  ASSERT_TRUE(classify(
                "c4",
                [](v1::Call& c) {
                  (*c.mutable_attributes())["ivr"] = "sales";
                  c.set_from("+4420");
                },
                out)
                .ok());
  // The first matching rule wins: vip comes before sales-menu.
  EXPECT_EQ(out.call().call().queue_id(), "vip");
  ASSERT_TRUE(classify(
                "c5", [](v1::Call&) {}, out)
                .ok());
  EXPECT_EQ(out.call().call().queue_id(), "sales");
  // A call with its own queue is not classified.
  EXPECT_EQ(submit("c6", "spanish").call().queue_id(), "spanish");
  // c1 waits in spanish for alice, and is offered to her once she is.
  presence("alice", v1::PRESENCE_AVAILABLE);
  ready("alice", true);
  EXPECT_EQ(get_call("c1").state(), v1::CALL_STATE_OFFERED);
}

TEST_F(routing_test, history_pages_filters_and_exports) {
  // Five calls end (callers hang up), in order, a little apart.
  for (int i = 1; i <= 5; ++i) {
    submit("h" + std::to_string(i));
    v1::CancelCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id("h" + std::to_string(i));
    req.set_reason(v1::CancelCallRequest::REASON_CALLER_HUNG_UP);
    v1::CallView out;
    ASSERT_TRUE(n->routing->CancelCall(ctx().get(), req, &out).ok());
    std::this_thread::sleep_for(5ms);
  }
  // Two at a time: every call once, oldest first.
  v1::ListCallHistoryRequest req;
  req.set_tenant_id("contoso");
  req.set_page_size(2);
  std::vector<std::string> seen;
  google::protobuf::Timestamp third_ended;
  do {
    v1::ListCallHistoryResponse page;
    auto st = n->stats->ListCallHistory(ctx().get(), req, &page);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_LE(page.records_size(), 2);
    for (auto& r : page.records()) {
      seen.push_back(r.call_id());
      EXPECT_EQ(r.outcome(), v1::CALL_STATE_ABANDONED);
      if (r.call_id() == "h3")
        third_ended = r.ended_at();
    }
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"h1", "h2", "h3", "h4", "h5"}));

  // From the third call's end on.
  req.clear_page_token();
  req.set_page_size(0);
  *req.mutable_from() = third_ended;
  v1::ListCallHistoryResponse later;
  ASSERT_TRUE(n->stats->ListCallHistory(ctx().get(), req, &later).ok());
  ASSERT_EQ(later.records_size(), 3);
  EXPECT_EQ(later.records(0).call_id(), "h3");

  // A token the node did not issue is refused.
  req.set_page_token("not-a-token");
  auto st = n->stats->ListCallHistory(ctx().get(), req, &later);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("page_token: ", 0), 0u);

  // The CLI exports every page as CSV.
  process cli{
    cli_binary,
    {"--server", n->address, "history", "-t", "contoso", "--format", "csv"},
    true};
  ASSERT_EQ(cli.wait(), 0);
  auto lines = cli.lines();
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "call_id,channel,outcome,queue_path,agent_id,"
                      "arrived_at,answered_at,ended_at,wait_s,talk_s,offers");
  EXPECT_EQ(lines[1].rfind("h1,voice,ABANDONED,sales,,", 0), 0u) << lines[1];
}
