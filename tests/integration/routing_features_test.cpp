// The routing features of a full contact center, through the real
// switchboard-router binary over gRPC: limit actions (overflow, disconnect,
// callback), callbacks keeping their place, priority aging, stepwise
// relaxation, wrap-up and the agent audit, business hours, preferred and
// last agent, history retention, statistics, consult transfer and
// conference, omni-channel capacity. Each test restarts the node
// (kill -9) and checks the feature's state came back.

#include "tests/support/router_fixture.hpp"

using namespace switchboard;
using namespace switchboard::testing;
using namespace std::chrono_literals;

namespace {

v1::LimitAction action(v1::LimitAction::Kind kind, const std::string& queue_id,
                       const std::string& announcement) {
  v1::LimitAction a;
  a.set_kind(kind);
  a.set_queue_id(queue_id);
  a.set_announcement(announcement);
  return a;
}

class features_test : public routing_test {
 protected:
  grpc::Status upsert_queue(const v1::Queue& q) {
    v1::UpsertQueueRequest req;
    *req.mutable_queue() = q;
    req.mutable_queue()->set_tenant_id("contoso");
    v1::Queue out;
    return n->admin->UpsertQueue(ctx().get(), req, &out);
  }

  v1::CallView submit_from(const std::string& id, const std::string& queue_id,
                           const std::string& from, int32_t priority = 0) {
    v1::SubmitCallRequest req;
    auto& c = *req.mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id(id);
    c.set_queue_id(queue_id);
    c.set_from(from);
    c.set_priority(priority);
    v1::SubmitCallResponse out;
    auto st = n->routing->SubmitCall(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out.call();
  }

  v1::QueueStats queue_stats(const std::string& id) {
    v1::GetQueueStatsRequest req;
    req.set_tenant_id("contoso");
    req.set_queue_id(id);
    v1::QueueStats out;
    auto st = n->stats->GetQueueStats(ctx().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  void restart(std::vector<std::string> flags = {}) {
    n->kill();
    n = std::make_unique<node>(dir, std::move(flags));
  }

  /// The value of an unlabelled metric, or -1 if the node has none.
  double metric(const std::string& name) {
    auto text = http_get(n->metrics_port, "/metrics");
    auto at = text.find("\n" + name + " ");
    if (at == std::string::npos)
      return -1;
    return std::stod(text.substr(at + name.size() + 2));
  }
};

} // namespace

TEST_F(features_test, limit_actions_overflow_disconnect_and_call_back) {
  queue("backup");
  queue("sales", [](v1::Queue& q) {
    q.set_max_length(1);
    *q.mutable_when_full()
      = action(v1::LimitAction::KIND_OVERFLOW, "backup", "busy-transfer");
  });
  queue("hotline", [](v1::Queue& q) {
    *q.mutable_when_no_agents()
      = action(v1::LimitAction::KIND_CALLBACK, "", "we-will-call-you");
  });
  queue("small", [](v1::Queue& q) {
    q.set_max_length(1);
    *q.mutable_when_full()
      = action(v1::LimitAction::KIND_DISCONNECT, "", "all-lines-busy");
  });
  agent("alice", {"hotline"}, false);
  event_reader events{*n->events, "contoso"};

  // Bad settings are named.
  v1::Queue bad;
  bad.set_queue_id("bad");
  *bad.mutable_when_full() = action(v1::LimitAction::KIND_CALLBACK, "", "");
  auto st = upsert_queue(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "queue.when_full: needs max_length: without it the queue is never "
            "full");
  bad.set_max_length(3);
  *bad.mutable_when_full()
    = action(v1::LimitAction::KIND_OVERFLOW, "nowhere", "");
  st = upsert_queue(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "queue.when_full.queue_id: queue 'nowhere' "
                                "does not exist in tenant 'contoso'");

  // A full queue overflows a new call, which keeps its arrival time.
  auto s1 = submit_from("s1", "sales", "+14255550101");
  EXPECT_EQ(s1.state(), v1::CALL_STATE_QUEUED);
  auto s2 = submit_from("s2", "sales", "+14255550102");
  EXPECT_EQ(s2.queue_id(), "backup");
  EXPECT_EQ(s2.limit_reason(), "queue_full");
  EXPECT_EQ(s2.announcement(), "busy-transfer");
  EXPECT_EQ(s2.enqueued_at(), s2.created_at());
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_OVERFLOWED, "s2"));

  // No agent signed in: the caller is called back and keeps its place.
  auto h1 = submit_from("h1", "hotline", "+14255550103");
  EXPECT_EQ(h1.state(), v1::CALL_STATE_QUEUED);
  EXPECT_EQ(h1.callback().number(), "+14255550103");
  EXPECT_EQ(h1.limit_reason(), "no_agents");
  EXPECT_EQ(h1.announcement(), "we-will-call-you");
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_CALLBACK_REQUESTED, "h1"));

  // A full queue that disconnects ends the call and keeps its record.
  submit_from("d1", "small", "+14255550104");
  auto d2 = submit_from("d2", "small", "+14255550105");
  EXPECT_EQ(d2.state(), v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(d2.limit_reason(), "queue_full");
  EXPECT_EQ(d2.announcement(), "all-lines-busy");
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_DISCONNECTED, "d2"));

  // A waiting caller asks for a callback: same place, new number.
  v1::CallView cb;
  ASSERT_TRUE(request_callback("s1", "+14255550199", cb).ok());
  EXPECT_EQ(cb.callback().number(), "+14255550199");
  EXPECT_EQ(cb.position(), 1u);
  EXPECT_EQ(request_callback("nope", "", cb).error_code(),
            grpc::StatusCode::NOT_FOUND);
  submit("anonymous", "backup");
  st = request_callback("anonymous", "", cb);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "number: call 'anonymous' has no from number "
                                "to call back; give one");

  auto sales = queue_stats("sales");
  EXPECT_EQ(sales.callbacks_waiting(), 1u);
  EXPECT_EQ(sales.overflowed(), 1u);
  EXPECT_EQ(queue_stats("small").disconnected(), 1u);

  restart();
  // Everything came back: the settings, the callbacks and their places,
  // the record of the disconnected call.
  v1::GetQueueRequest gq;
  gq.set_tenant_id("contoso");
  gq.set_queue_id("sales");
  v1::Queue stored;
  ASSERT_TRUE(n->admin->GetQueue(ctx().get(), gq, &stored).ok());
  EXPECT_EQ(stored.when_full().kind(), v1::LimitAction::KIND_OVERFLOW);
  EXPECT_EQ(stored.when_full().queue_id(), "backup");
  EXPECT_EQ(stored.when_full().announcement(), "busy-transfer");
  EXPECT_EQ(get_call("s1").callback().number(), "+14255550199");
  EXPECT_EQ(get_call("s1").position(), 1u);
  EXPECT_EQ(get_call("h1").callback().number(), "+14255550103");
  EXPECT_EQ(get_call("s2").enqueued_at(), s2.created_at());
  EXPECT_EQ(get_call("d2").state(), v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(queue_stats("sales").callbacks_waiting(), 1u);
  v1::ListCallHistoryRequest hreq;
  hreq.set_tenant_id("contoso");
  v1::ListCallHistoryResponse history;
  ASSERT_TRUE(n->stats->ListCallHistory(ctx().get(), hreq, &history).ok());
  ASSERT_EQ(history.records_size(), 1);
  EXPECT_EQ(history.records(0).call_id(), "d2");
  EXPECT_EQ(history.records(0).outcome(), v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(history.records(0).limit_reason(), "queue_full");

  // An agent signs in: the callback is offered as a callback task.
  event_reader after{*n->events, "contoso"};
  presence("alice", v1::PRESENCE_AVAILABLE);
  ready("alice", true);
  auto offered = after.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "h1");
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->offer().agent_id(), "alice");
  EXPECT_EQ(offered->call().callback().number(), "+14255550103");
}

TEST_F(features_test, priority_aging_passes_newer_urgent_calls_across_restart) {
  // One more priority level per second waited, up to 100: a call that
  // waited three seconds stays ahead of a priority-2 call that arrives
  // then, however long both wait.
  queue("aged", [](v1::Queue& q) {
    auto& pa = *q.mutable_priority_aging();
    *pa.mutable_interval() = TimeUtil::MillisecondsToDuration(1000);
    pa.set_step(1);
    pa.set_max_boost(100);
  });
  v1::Queue bad;
  bad.set_queue_id("bad");
  *bad.mutable_priority_aging()->mutable_interval()
    = TimeUtil::MillisecondsToDuration(1000);
  auto st = upsert_queue(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "queue.priority_aging.max_boost: must be "
                                "between 1 and 1000000: aging needs a ceiling");

  submit_from("old", "aged", "+14255550101");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (get_call("old").effective_priority() < 3
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  ASSERT_GE(get_call("old").effective_priority(), 3);
  auto urgent = submit_from("urgent", "aged", "+14255550102", 2);
  EXPECT_EQ(urgent.effective_priority(), 2);
  EXPECT_EQ(urgent.position(), 2u);
  EXPECT_EQ(get_call("old").position(), 1u);

  restart();
  EXPECT_GE(get_call("old").effective_priority(), 3);
  EXPECT_EQ(get_call("old").position(), 1u);
  EXPECT_EQ(get_call("urgent").position(), 2u);
  agent("alice", {"aged"});
  EXPECT_EQ(get_call("old").offer().agent_id(), "alice");
  EXPECT_EQ(get_call("urgent").state(), v1::CALL_STATE_QUEUED);
}

TEST_F(features_test, stepwise_relaxation_widens_on_time_across_a_restart) {
  auto billing_at_least = [](v1::SelectorStep& step, int level, int ms) {
    auto& s = *step.add_selectors();
    s.set_key("skill.billing");
    s.set_op(v1::SELECTOR_OP_GE);
    s.add_values(std::to_string(level));
    *step.mutable_timeout() = TimeUtil::MillisecondsToDuration(ms);
  };
  // Billing experts for 1 s, then anyone with billing 50 for 2 s, then
  // anyone in the queue.
  queue("tiered", [&](v1::Queue& q) {
    billing_at_least(*q.add_steps(), 80, 1000);
    billing_at_least(*q.add_steps(), 50, 2000);
    q.add_steps();
  });
  v1::Queue bad;
  bad.set_queue_id("bad");
  billing_at_least(*bad.add_steps(), 80, 0);
  bad.add_steps();
  auto st = upsert_queue(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "queue.steps[0].timeout: must be longer than zero: the step "
            "before the last needs a time after which the next one applies");

  v1::UpsertAgentRequest req;
  auto& mid = *req.mutable_agent();
  mid.set_tenant_id("contoso");
  mid.set_agent_id("mid");
  mid.add_queue_ids("tiered");
  (*mid.mutable_skills())["billing"] = 60;
  v1::AgentView view;
  ASSERT_TRUE(n->admin->UpsertAgent(ctx().get(), req, &view).ok());
  presence("mid", v1::PRESENCE_AVAILABLE);
  ready("mid", true);
  agent("novice", {"tiered"});

  event_reader events{*n->events, "contoso"};
  auto c1 = submit("c1", "tiered");
  EXPECT_EQ(c1.state(), v1::CALL_STATE_QUEUED);
  auto offered = events.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "c1");
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->offer().agent_id(), "mid");
  auto waited = TimeUtil::DurationToMilliseconds(offered->offer().offered_at()
                                                 - c1.enqueued_at());
  EXPECT_GE(waited, 1000);
  EXPECT_LT(waited, 3000);
  v1::CallView out;
  ASSERT_TRUE(accept(offered->offer(), out).ok());

  // mid is busy; c2 waits for the last step, through a crash.
  auto c2 = submit("c2", "tiered");
  restart();
  v1::GetQueueRequest gq;
  gq.set_tenant_id("contoso");
  gq.set_queue_id("tiered");
  v1::Queue stored;
  ASSERT_TRUE(n->admin->GetQueue(ctx().get(), gq, &stored).ok());
  ASSERT_EQ(stored.steps_size(), 3);
  EXPECT_EQ(stored.steps(1).selectors(0).values(0), "50");
  event_reader after{*n->events, "contoso"};
  auto second = after.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "c2");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->offer().agent_id(), "novice");
  EXPECT_GE(TimeUtil::DurationToMilliseconds(second->offer().offered_at()
                                             - c2.enqueued_at()),
            3000);
}

TEST_F(features_test, wrap_up_is_extended_and_ended_early_without_phantoms) {
  restart({"--audit-interval", "200ms"});
  agent("alice");
  agent("bob", {"sales"}, false);
  auto c1 = submit("c1");
  v1::CallView out;
  ASSERT_TRUE(accept(c1.offer(), out).ok());
  ASSERT_TRUE(complete("c1", out).ok());
  auto until = get_agent("alice").state().wrap_up_until();

  v1::ExtendWrapUpRequest ext;
  ext.set_tenant_id("contoso");
  ext.set_agent_id("alice");
  v1::AgentView view;
  auto st = n->routing->ExtendWrapUp(ctx().get(), ext, &view);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "extend_by: must be longer than zero and at most 1h");
  *ext.mutable_extend_by() = TimeUtil::SecondsToDuration(30);
  ASSERT_TRUE(n->routing->ExtendWrapUp(ctx().get(), ext, &view).ok());
  EXPECT_EQ(view.state().wrap_up_until(),
            until + TimeUtil::SecondsToDuration(30));
  EXPECT_EQ(view.state().activity(), v1::AGENT_ACTIVITY_WRAP_UP);
  v1::EndWrapUpRequest end;
  end.set_tenant_id("contoso");
  end.set_agent_id("bob");
  st = n->routing->EndWrapUp(ctx().get(), end, &view);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "agent 'bob' of tenant 'contoso' is not in wrap-up");

  // The extension survives a crash; the queue's 800 ms are long past.
  restart({"--audit-interval", "200ms"});
  EXPECT_EQ(get_agent("alice").state().activity(), v1::AGENT_ACTIVITY_WRAP_UP);
  EXPECT_EQ(get_call("c1").state(), v1::CALL_STATE_WRAP_UP);
  auto c2 = submit("c2");
  EXPECT_EQ(c2.state(), v1::CALL_STATE_QUEUED);

  event_reader events{*n->events, "contoso"};
  end.set_agent_id("alice");
  ASSERT_TRUE(n->routing->EndWrapUp(ctx().get(), end, &view).ok());
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_COMPLETED, "c1"));
  auto offered = events.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "c2");
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->offer().agent_id(), "alice");
  EXPECT_TRUE(events.wait_until([](const v1::Event& e) {
    return e.type() == v1::EVENT_TYPE_AGENT_STATE_CHANGED
           && e.agent().agent().agent_id() == "alice";
  }));

  // The periodic audit ran and found every agent's state in line with
  // its work.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (metric("switchboard_agent_audits_total") < 2
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_GE(metric("switchboard_agent_audits_total"), 2);
  EXPECT_EQ(metric("switchboard_agent_inconsistencies_total"), 0);
}

TEST_F(features_test, business_hours_close_a_queue_in_its_time_zone) {
  // Open every day all day, except on holidays around today: closed now
  // (also if the test runs across midnight).
  auto day = [](int offset) {
    auto t = std::chrono::system_clock::to_time_t(
      std::chrono::system_clock::now() + std::chrono::hours{24 * offset});
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[16];
    std::strftime(text, sizeof(text), "%Y-%m-%d", &tm);
    return std::string{text};
  };
  auto hours = [&](v1::Queue& q, bool holidays) {
    auto& h = *q.mutable_hours();
    h.set_time_zone("Etc/UTC");
    auto& open = *h.add_open();
    for (auto* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
      open.add_days(d);
    open.set_from("00:00");
    open.set_to("24:00");
    if (holidays)
      for (int offset : {-1, 0, 1})
        h.add_holidays(day(offset));
    *q.mutable_when_closed()
      = action(v1::LimitAction::KIND_CALLBACK, "", "we-are-closed");
  };
  queue("support", [&](v1::Queue& q) {
    hours(q, true);
  });
  v1::Queue bad;
  bad.set_queue_id("bad");
  bad.mutable_hours()->set_time_zone("Mars/Base");
  auto st = upsert_queue(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "queue.hours.time_zone: expected an IANA time zone such as "
            "Europe/London or America/New_York, found 'Mars/Base'");
  bad.mutable_hours()->set_time_zone("Europe/Paris");
  auto& open = *bad.mutable_hours()->add_open();
  open.add_days("monday");
  open.set_from("18:00");
  open.set_to("08:00");
  st = upsert_queue(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "queue.hours.open[0].to: must be after from (18:00); for hours "
            "past midnight, add the next day from 00:00");

  auto c = submit_from("night", "support", "+14255550101");
  EXPECT_EQ(c.state(), v1::CALL_STATE_QUEUED);
  EXPECT_EQ(c.limit_reason(), "closed");
  EXPECT_EQ(c.announcement(), "we-are-closed");
  EXPECT_EQ(c.callback().number(), "+14255550101");
  EXPECT_FALSE(queue_stats("support").open());

  restart();
  v1::GetQueueRequest gq;
  gq.set_tenant_id("contoso");
  gq.set_queue_id("support");
  v1::Queue stored;
  ASSERT_TRUE(n->admin->GetQueue(ctx().get(), gq, &stored).ok());
  EXPECT_EQ(stored.hours().time_zone(), "Etc/UTC");
  EXPECT_EQ(stored.hours().holidays_size(), 3);
  ASSERT_EQ(stored.hours().open_size(), 1);
  EXPECT_EQ(stored.hours().open(0).days_size(), 7);
  EXPECT_EQ(stored.hours().open(0).to(), "24:00");
  EXPECT_EQ(get_call("night").callback().number(), "+14255550101");

  // Opening again: the callback waiting overnight goes to the first agent.
  queue("support", [&](v1::Queue& q) {
    hours(q, false);
  });
  EXPECT_TRUE(queue_stats("support").open());
  agent("alice", {"support"});
  EXPECT_EQ(get_call("night").offer().agent_id(), "alice");
}

TEST_F(features_test, a_returning_caller_gets_its_last_agent_across_restart) {
  queue("care", [](v1::Queue& q) {
    *q.mutable_last_agent_window() = TimeUtil::SecondsToDuration(3600);
    *q.mutable_preferred_wait() = TimeUtil::MillisecondsToDuration(1000);
    *q.mutable_wrap_up() = TimeUtil::MillisecondsToDuration(0);
  });
  agent("alice", {"care"});
  agent("bob", {"care"});
  auto first = submit_from("first", "care", "+14255550142");
  ASSERT_EQ(first.state(), v1::CALL_STATE_OFFERED);
  auto served_by = first.offer().agent_id();
  auto other = served_by == "alice" ? "bob" : "alice";
  v1::CallView out;
  ASSERT_TRUE(accept(first.offer(), out).ok());
  ASSERT_TRUE(complete("first", out).ok());

  // Remembered across a crash.
  restart();
  ready(served_by, false);
  event_reader events{*n->events, "contoso"};
  auto again = submit_from("again", "care", "+14255550142");
  EXPECT_EQ(again.state(), v1::CALL_STATE_QUEUED);
  EXPECT_EQ(again.call().preferred_agent_id(), served_by);
  EXPECT_TRUE(again.preferred_by_last_agent());
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(again.preferred_until()
                                             - again.enqueued_at()),
            1000);
  // The agent does not come back in time: the other one takes it.
  auto offered = events.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "again");
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->offer().agent_id(), other);
  EXPECT_GE(TimeUtil::DurationToMilliseconds(offered->offer().offered_at()
                                             - again.enqueued_at()),
            1000);
  // Back and ready, the agent gets the caller's next call at once.
  ready(served_by, true);
  auto third = submit_from("third", "care", "+14255550142");
  EXPECT_EQ(third.state(), v1::CALL_STATE_OFFERED);
  EXPECT_EQ(third.offer().agent_id(), served_by);
}

TEST_F(features_test, history_past_its_retention_is_deleted) {
  std::vector<std::string> flags{"--history-retention", "2s",
                                 "--audit-interval", "200ms"};
  restart(flags);
  queue("sales");
  auto cancel = [&](const std::string& id) {
    submit(id);
    v1::CancelCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(id);
    v1::CallView out;
    ASSERT_TRUE(n->routing->CancelCall(ctx().get(), req, &out).ok());
  };
  auto history = [&] {
    v1::ListCallHistoryRequest req;
    req.set_tenant_id("contoso");
    v1::ListCallHistoryResponse resp;
    EXPECT_TRUE(n->stats->ListCallHistory(ctx().get(), req, &resp).ok());
    std::vector<std::string> ids;
    for (auto& r : resp.records())
      ids.push_back(r.call_id());
    return ids;
  };
  cancel("old");
  EXPECT_EQ(history(), std::vector<std::string>{"old"});
  restart(flags);
  // Two seconds after it ended the old call is gone, a newer one stays.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!history().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  cancel("new");
  EXPECT_EQ(history(), std::vector<std::string>{"new"});
  v1::GetCallRequest get;
  get.set_tenant_id("contoso");
  get.set_call_id("old");
  v1::CallView out;
  auto st = n->routing->GetCall(ctx().get(), get, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
}

TEST_F(features_test, a_tenant_keeps_its_history_as_long_as_it_says) {
  // The node keeps history for 90 days; contoso only for two seconds.
  std::vector<std::string> flags{"--audit-interval", "200ms"};
  restart(flags);
  v1::UpsertTenantRequest req;
  req.mutable_tenant()->set_tenant_id("contoso");
  *req.mutable_tenant()->mutable_history_retention()
    = TimeUtil::SecondsToDuration(2);
  v1::Tenant stored;
  ASSERT_TRUE(n->admin->UpsertTenant(ctx().get(), req, &stored).ok());
  EXPECT_EQ(stored.history_retention().seconds(), 2);
  tenant("fabrikam");
  v1::UpsertQueueRequest q;
  q.mutable_queue()->set_tenant_id("fabrikam");
  q.mutable_queue()->set_queue_id("sales");
  v1::Queue out_q;
  ASSERT_TRUE(n->admin->UpsertQueue(ctx().get(), q, &out_q).ok());

  auto cancel = [&](const std::string& tenant_id, const std::string& id) {
    v1::SubmitCallRequest submit_req;
    submit_req.mutable_call()->set_tenant_id(tenant_id);
    submit_req.mutable_call()->set_call_id(id);
    submit_req.mutable_call()->set_queue_id("sales");
    v1::SubmitCallResponse submitted;
    ASSERT_TRUE(
      n->routing->SubmitCall(ctx().get(), submit_req, &submitted).ok());
    v1::CancelCallRequest cancel_req;
    cancel_req.set_tenant_id(tenant_id);
    cancel_req.set_call_id(id);
    v1::CallView out;
    ASSERT_TRUE(n->routing->CancelCall(ctx().get(), cancel_req, &out).ok());
  };
  auto history = [&](const std::string& tenant_id) {
    v1::ListCallHistoryRequest list;
    list.set_tenant_id(tenant_id);
    v1::ListCallHistoryResponse resp;
    EXPECT_TRUE(n->stats->ListCallHistory(ctx().get(), list, &resp).ok());
    return resp.records_size();
  };
  cancel("contoso", "c-old");
  cancel("fabrikam", "f-old");
  // Within the two seconds: the setting must come back from the store.
  restart(flags);

  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (history("contoso") > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(history("contoso"), 0);
  EXPECT_EQ(history("fabrikam"), 1);
}

TEST_F(features_test,
       queue_windows_estimated_wait_and_agent_day_survive_restart) {
  std::vector<std::string> flags{"--audit-interval", "200ms"};
  restart(flags);
  agent("alice");
  event_reader events{*n->events, "contoso"};
  auto c1 = submit("c1");
  v1::CallView out;
  ASSERT_TRUE(accept(c1.offer(), out).ok());
  ASSERT_TRUE(complete("c1", out).ok());
  ASSERT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_COMPLETED, "c1"));
  ready("alice", false);
  auto c2 = submit("c2");
  EXPECT_EQ(c2.position(), 1u);
  ASSERT_TRUE(c2.has_estimated_wait());
  // One call handled in at least its 800 ms of wrap-up, one agent signed in.
  EXPECT_GE(TimeUtil::DurationToMilliseconds(c2.estimated_wait()), 800);

  auto check = [&] {
    auto s = queue_stats("sales");
    ASSERT_EQ(s.windows_size(), 3);
    EXPECT_EQ(TimeUtil::DurationToSeconds(s.windows(0).window()), 900);
    EXPECT_EQ(s.windows(0).offered(), 2u);
    EXPECT_EQ(s.windows(0).answered(), 1u);
    EXPECT_EQ(s.windows(0).handled(), 1u);
    EXPECT_GE(
      TimeUtil::DurationToMilliseconds(s.windows(0).average_handle_time()),
      800);
    EXPECT_TRUE(s.has_estimated_wait());
    v1::GetAgentStatsRequest req;
    req.set_tenant_id("contoso");
    req.set_agent_id("alice");
    v1::AgentStats a;
    auto st = n->stats->GetAgentStats(ctx().get(), req, &a);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(a.handled(), 1u);
    EXPECT_EQ(a.missed(), 0u);
    EXPECT_GE(TimeUtil::DurationToMilliseconds(a.average_handle_time()), 800);
    EXPECT_GT(a.occupancy_percent(), 0.0);
    EXPECT_EQ(a.date().size(), 10u);
  };
  check();
  // After two more audits have stored the minutes, a crash keeps them.
  auto audits = metric("switchboard_agent_audits_total");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (metric("switchboard_agent_audits_total") < audits + 2
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  restart(flags);
  check();
  v1::GetAgentStatsRequest req;
  req.set_tenant_id("contoso");
  req.set_agent_id("nobody");
  v1::AgentStats a;
  EXPECT_EQ(n->stats->GetAgentStats(ctx().get(), req, &a).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(features_test, consult_transfer_and_conference_across_restart) {
  agent("alice");
  agent("bob", {"sales"}, false);
  agent("carol", {"sales"}, false);
  auto c1 = submit("c1");
  ASSERT_EQ(c1.offer().agent_id(), "alice");
  v1::CallView out;
  ASSERT_TRUE(accept(c1.offer(), out).ok());
  presence("bob", v1::PRESENCE_AVAILABLE);
  ready("bob", true);

  v1::ConsultCallRequest consult;
  consult.set_tenant_id("contoso");
  consult.set_call_id("c1");
  v1::CallView leg;
  auto st = n->routing->ConsultCall(ctx().get(), consult, &leg);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "target: set queue_id or agent_id");
  consult.set_agent_id("bob");
  ASSERT_TRUE(n->routing->ConsultCall(ctx().get(), consult, &leg).ok());
  EXPECT_EQ(leg.parent_call_id(), "c1");
  EXPECT_EQ(leg.leg(), "consult");
  ASSERT_EQ(leg.state(), v1::CALL_STATE_OFFERED);
  EXPECT_EQ(leg.offer().agent_id(), "bob");
  v1::ConsultActionRequest action;
  action.set_tenant_id("contoso");
  action.set_call_id("c1");
  st = n->routing->CompleteConsult(ctx().get(), action, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(accept(leg.offer(), out).ok());

  // Both agents on the line through a crash; then bob takes the call.
  restart();
  EXPECT_EQ(get_call(leg.call().call_id()).state(), v1::CALL_STATE_ASSIGNED);
  EXPECT_EQ(get_call(leg.call().call_id()).parent_call_id(), "c1");
  event_reader events{*n->events, "contoso"};
  ASSERT_TRUE(n->routing->CompleteConsult(ctx().get(), action, &out).ok());
  EXPECT_EQ(out.agent_id(), "bob");
  EXPECT_EQ(out.state(), v1::CALL_STATE_ASSIGNED);
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_TRANSFERRED, "c1"));
  EXPECT_EQ(get_agent("alice").state().activity(), v1::AGENT_ACTIVITY_WRAP_UP);

  // bob brings carol in: a conference until the call ends.
  presence("carol", v1::PRESENCE_AVAILABLE);
  ready("carol", true);
  consult.set_agent_id("carol");
  ASSERT_TRUE(n->routing->ConsultCall(ctx().get(), consult, &leg).ok());
  ASSERT_TRUE(accept(leg.offer(), out).ok());
  v1::CallView joined;
  ASSERT_TRUE(n->routing->JoinConsult(ctx().get(), action, &joined).ok());
  EXPECT_EQ(joined.leg(), "conference");
  EXPECT_EQ(joined.agent_id(), "carol");
  EXPECT_TRUE(events.wait_for(v1::EVENT_TYPE_CALL_CONFERENCED));
  ASSERT_TRUE(complete("c1", out).ok());
  EXPECT_EQ(get_call(leg.call().call_id()).state(), v1::CALL_STATE_WRAP_UP);
  EXPECT_EQ(get_agent("carol").state().activity(), v1::AGENT_ACTIVITY_WRAP_UP);
}

TEST_F(features_test, a_voice_call_blocks_chats_unless_the_agent_says_not) {
  // maria's voice costs nothing, so her chats go on during a call; tom has
  // the defaults, where a call fills him up.
  v1::UpsertAgentRequest req;
  auto& a = *req.mutable_agent();
  a.set_tenant_id("contoso");
  a.set_agent_id("maria");
  a.add_queue_ids("sales");
  auto& voice = *a.add_capacity();
  voice.set_channel(v1::CHANNEL_VOICE);
  voice.set_max_concurrent(1);
  voice.set_cost(0);
  auto& chat = *a.add_capacity();
  chat.set_channel(v1::CHANNEL_CHAT);
  chat.set_max_concurrent(3);
  chat.set_cost(33);
  v1::AgentView view;
  ASSERT_TRUE(n->admin->UpsertAgent(ctx().get(), req, &view).ok());
  presence("maria", v1::PRESENCE_AVAILABLE);
  ready("maria", true);
  agent("tom");

  auto submit_on = [&](const std::string& id, v1::Channel channel) {
    v1::SubmitCallRequest r;
    auto& c = *r.mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id(id);
    c.set_queue_id("sales");
    c.set_channel(channel);
    v1::SubmitCallResponse out;
    auto st = n->routing->SubmitCall(ctx().get(), r, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out.call();
  };
  auto load = [&](const std::string& agent_id, v1::Channel channel) {
    auto agent = get_agent(agent_id);
    for (auto& l : agent.state().load())
      if (l.channel() == channel)
        return l.items();
    return 0u;
  };

  // One voice call each.
  v1::CallView out;
  std::string toms_call;
  for (auto id : {"v1", "v2"}) {
    auto c = submit_on(id, v1::CHANNEL_VOICE);
    ASSERT_EQ(c.state(), v1::CALL_STATE_OFFERED) << id;
    ASSERT_TRUE(accept(c.offer(), out).ok());
    if (c.offer().agent_id() == "tom")
      toms_call = id;
  }
  ASSERT_FALSE(toms_call.empty());
  EXPECT_EQ(load("maria", v1::CHANNEL_VOICE), 1u);
  EXPECT_EQ(load("tom", v1::CHANNEL_VOICE), 1u);

  // Chats go to maria only: tom's call blocks them.
  for (auto id : {"chat1", "chat2"}) {
    auto c = submit_on(id, v1::CHANNEL_CHAT);
    ASSERT_EQ(c.state(), v1::CALL_STATE_OFFERED) << id;
    EXPECT_EQ(c.offer().agent_id(), "maria") << id;
    ASSERT_TRUE(accept(c.offer(), out).ok());
  }

  // Her load and her capacity come back after a crash.
  restart();
  EXPECT_EQ(load("maria", v1::CHANNEL_CHAT), 2u);
  EXPECT_EQ(load("maria", v1::CHANNEL_VOICE), 1u);
  auto c3 = submit_on("chat3", v1::CHANNEL_CHAT);
  ASSERT_EQ(c3.state(), v1::CALL_STATE_OFFERED);
  EXPECT_EQ(c3.offer().agent_id(), "maria");
  ASSERT_TRUE(accept(c3.offer(), out).ok());

  // Three chats fill her chat capacity: the fourth waits.
  auto c4 = submit_on("chat4", v1::CHANNEL_CHAT);
  EXPECT_EQ(c4.state(), v1::CALL_STATE_QUEUED);
  EXPECT_EQ(load("maria", v1::CHANNEL_CHAT), 3u);

  // When tom's call ends and his wrap-up is over, the chat goes to him.
  event_reader events{*n->events, "contoso"};
  ASSERT_TRUE(complete(toms_call, out).ok());
  auto offered = events.wait_until([](const v1::Event& e) {
    return e.type() == v1::EVENT_TYPE_CALL_OFFERED
           && e.call().call().call_id() == "chat4";
  });
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->call().offer().agent_id(), "tom");
}

TEST_F(features_test,
       the_last_agent_signing_out_disconnects_the_waiting_calls) {
  queue("support", [](v1::Queue& q) {
    *q.mutable_when_no_agents()
      = action(v1::LimitAction::KIND_DISCONNECT, "", "support-closed");
  });
  agent("bob", {"support"}, false);
  presence("bob", v1::PRESENCE_BUSY); // signed in, in a meeting
  auto w = submit("w1", "support");
  EXPECT_EQ(w.state(), v1::CALL_STATE_QUEUED);

  // Still waiting after a crash; bob signing out ends it with its reason.
  restart();
  EXPECT_EQ(get_call("w1").state(), v1::CALL_STATE_QUEUED);
  event_reader events{*n->events, "contoso"};
  presence("bob", v1::PRESENCE_OFFLINE);
  auto ended = events.wait_for(v1::EVENT_TYPE_CALL_DISCONNECTED, "w1");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->call().limit_reason(), "no_agents");
  EXPECT_EQ(ended->call().announcement(), "support-closed");
  auto after = get_call("w1");
  EXPECT_EQ(after.state(), v1::CALL_STATE_DISCONNECTED);
}

TEST_F(features_test, a_resume_from_events_past_their_retention_is_refused) {
  std::vector<std::string> flags{"--event-retention", "2s", "--audit-interval",
                                 "200ms"};
  restart(flags);
  // Its configuration (with the queue's), presence and readiness: the
  // tenant's first events.
  agent("alice");
  restart(flags);

  // Reads the first event from `from`, or the status the stream ended with.
  auto first_from = [&](uint64_t from, v1::Event& e) {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + 2s);
    v1::SubscribeRequest req;
    req.set_tenant_id("contoso");
    req.set_from_sequence(from);
    auto stream = n->events->Subscribe(&c, req);
    if (stream->Read(&e)) {
      c.TryCancel();
      stream->Finish();
      return grpc::Status::OK;
    }
    return stream->Finish();
  };
  // The sequence of the last event so far: every event is read until the
  // stream has nothing more for a second.
  uint64_t last = 0;
  {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + 1s);
    v1::SubscribeRequest req;
    req.set_tenant_id("contoso");
    auto stream = n->events->Subscribe(&c, req);
    v1::Event e;
    while (stream->Read(&e))
      last = e.sequence();
    stream->Finish();
  }
  ASSERT_GE(last, 2u);
  v1::Event e;
  ASSERT_TRUE(first_from(1, e).ok());
  EXPECT_EQ(e.sequence(), 2u);
  // The events made at different times expire at different audits: wait
  // until all of them have.
  auto refusal = "from_sequence 1: tenant 'contoso' keeps events from "
                 "sequence "
                 + std::to_string(last + 1)
                 + " on; older ones are past the node's --event-retention. "
                   "Read the current state (ListCalls, ListAgents), then "
                   "subscribe with from_sequence "
                 + std::to_string(last);
  grpc::Status st;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    std::this_thread::sleep_for(200ms);
    st = first_from(1, e);
  } while ((st.ok() || st.error_message() != refusal)
           && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(st.error_message(), refusal);

  // Numbering goes on where it was, and the resume it names works.
  ready("alice", false);
  ASSERT_TRUE(first_from(last, e).ok());
  EXPECT_EQ(e.sequence(), last + 1);
  EXPECT_EQ(e.type(), v1::EVENT_TYPE_AGENT_STATE_CHANGED);
}
