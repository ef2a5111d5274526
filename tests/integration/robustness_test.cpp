// Hostile and extreme input against the real node: every answer is OK or
// a documented error naming what is wrong, the node keeps serving, and a
// stored record it cannot apply never keeps it from starting.

#include "storage/keys.hpp"
#include "storage/records.hpp"
#include "storage/rocksdb_store.hpp"
#include "tests/support/router_fixture.hpp"

#include "proto/convert.hpp"
#include "proto/status_names.hpp"

#include <grpcpp/generic/generic_stub.h>

#include <cctype>
#include <iterator>
#include <limits>
#include <random>
#include <set>

namespace switchboard::testing {
namespace {

constexpr auto int32_min = std::numeric_limits<int32_t>::min();
constexpr auto int32_max = std::numeric_limits<int32_t>::max();
constexpr auto int64_max = std::numeric_limits<int64_t>::max();
constexpr auto int64_min = std::numeric_limits<int64_t>::min();

/// "field.path[0]: what is wrong": how every INVALID_ARGUMENT reads.
bool names_a_field(const std::string& message) {
  auto colon = message.find(": ");
  if (colon == 0 || colon == std::string::npos || colon + 2 == message.size())
    return false;
  auto path = std::string_view{message}.substr(0, colon);
  if (!std::isalpha(static_cast<unsigned char>(path[0])))
    return false;
  // A path: names, dots and [index] or [key]; a key may hold anything.
  int depth = 0;
  for (char ch : path) {
    if (ch == '[')
      ++depth;
    else if (ch == ']')
      --depth;
    else if (depth == 0 && !std::isalnum(static_cast<unsigned char>(ch))
             && ch != '_' && ch != '.')
      return false;
  }
  return depth == 0;
}

/// Sends `bytes` as the request of `method` and returns the status.
grpc::Status raw_call(const std::string& address, const std::string& method,
                      const std::string& bytes) {
  auto channel
    = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub{channel};
  grpc::Slice slice{bytes};
  grpc::ByteBuffer request{&slice, 1};
  grpc::ByteBuffer response;
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 10s);
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<grpc::Status> result;
  stub.UnaryCall(&c, method, grpc::StubOptions{}, &request, &response,
                 [&](grpc::Status st) {
                   std::lock_guard guard{mtx};
                   result = std::move(st);
                   cv.notify_all();
                 });
  std::unique_lock guard{mtx};
  cv.wait(guard, [&] {
    return result.has_value();
  });
  return *result;
}

/// Ingest items written together on one stream, and their answers.
std::vector<v1::IngestResponse>
ingest(v1::EventService::Stub& stub, const std::vector<v1::IngestRequest>& xs) {
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub.Ingest(&c);
  for (auto& x : xs)
    EXPECT_TRUE(stream->Write(x));
  stream->WritesDone();
  std::vector<v1::IngestResponse> out;
  v1::IngestResponse r;
  while (stream->Read(&r))
    out.push_back(r);
  EXPECT_TRUE(stream->Finish().ok());
  return out;
}

class robustness_test : public routing_test {
 protected:
  using routing_test::get_call;

  void restart() {
    n->kill();
    n = std::make_unique<node>(dir);
  }

  grpc::Status get_call(const std::string& id, v1::CallView& out) {
    v1::GetCallRequest req;
    req.set_tenant_id("contoso");
    req.set_call_id(id);
    return n->routing->GetCall(ctx().get(), req, &out);
  }

  double metric(const std::string& name) {
    auto text = http_get(n->metrics_port, "/metrics");
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);)
      if (line.rfind(name + " ", 0) == 0)
        return std::stod(line.substr(name.size() + 1));
    return -1;
  }
};

TEST_F(robustness_test, an_empty_id_is_invalid_argument_naming_the_field) {
  using C = grpc::StatusCode;
  auto expect = [](const grpc::Status& st, const std::string& field) {
    EXPECT_EQ(st.error_code(), C::INVALID_ARGUMENT) << field;
    EXPECT_EQ(st.error_message(), field + ": is required");
  };
  v1::AgentView agent_view;
  v1::GetAgentRequest get_agent;
  get_agent.set_tenant_id("contoso");
  expect(n->admin->GetAgent(ctx().get(), get_agent, &agent_view), "agent_id");
  v1::DeleteAgentRequest delete_agent;
  delete_agent.set_tenant_id("contoso");
  v1::DeleteAgentResponse deleted_agent;
  expect(n->admin->DeleteAgent(ctx().get(), delete_agent, &deleted_agent),
         "agent_id");
  v1::DeleteQueueRequest delete_queue;
  delete_queue.set_tenant_id("contoso");
  v1::DeleteQueueResponse deleted_queue;
  expect(n->admin->DeleteQueue(ctx().get(), delete_queue, &deleted_queue),
         "queue_id");
  v1::GetAgentStatsRequest agent_stats;
  agent_stats.set_tenant_id("contoso");
  v1::AgentStats as;
  expect(n->stats->GetAgentStats(ctx().get(), agent_stats, &as), "agent_id");
  v1::GetQueueStatsRequest queue_stats;
  queue_stats.set_tenant_id("contoso");
  v1::QueueStats qs;
  expect(n->stats->GetQueueStats(ctx().get(), queue_stats, &qs), "queue_id");

  // An offer is accepted or declined by its id: never "whatever is open".
  agent("alice");
  auto offered = submit("call-1");
  ASSERT_TRUE(offered.has_offer());
  v1::AcceptOfferRequest accept;
  accept.set_tenant_id("contoso");
  accept.set_call_id("call-1");
  accept.set_agent_id("alice");
  v1::CallView view;
  expect(n->routing->AcceptOffer(ctx().get(), accept, &view), "offer_id");
  v1::DeclineOfferRequest decline;
  decline.set_tenant_id("contoso");
  decline.set_call_id("call-1");
  decline.set_agent_id("alice");
  expect(n->routing->DeclineOffer(ctx().get(), decline, &view), "offer_id");
  decline.set_offer_id(offered.offer().offer_id());
  decline.clear_agent_id();
  expect(n->routing->DeclineOffer(ctx().get(), decline, &view), "agent_id");
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_OFFERED);
}

TEST_F(robustness_test,
       extreme_priorities_are_refused_and_aging_stays_bounded) {
  queue("aging", [](v1::Queue& q) {
    auto& pa = *q.mutable_priority_aging();
    pa.mutable_interval()->set_seconds(1);
    pa.set_step(1000);
    pa.set_max_boost(1'000'000);
  });
  for (int32_t bad : {int32_min, int32_max}) {
    v1::SubmitCallRequest req;
    auto& c = *req.mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id("bad");
    c.set_queue_id("aging");
    c.set_priority(bad);
    v1::SubmitCallResponse out;
    auto st = n->routing->SubmitCall(ctx().get(), req, &out);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message().rfind("call.priority: must be between "
                                       "-1000000 and 1000000",
                                       0),
              0u)
      << st.error_message();
  }
  // The highest priority accepted, aged to the highest boost: no overflow
  // now or after a restart.
  v1::SubmitCallRequest req;
  auto& c = *req.mutable_call();
  c.set_tenant_id("contoso");
  c.set_call_id("urgent");
  c.set_queue_id("aging");
  c.set_priority(routing::max_priority);
  v1::SubmitCallResponse out;
  ASSERT_TRUE(n->routing->SubmitCall(ctx().get(), req, &out).ok());
  c.set_call_id("low");
  c.set_priority(routing::min_priority);
  ASSERT_TRUE(n->routing->SubmitCall(ctx().get(), req, &out).ok());
  // Aging raises the effective priority a step each second.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  v1::CallView urgent;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(get_call("urgent", urgent).ok());
    if (urgent.effective_priority() > routing::max_priority)
      break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(urgent.effective_priority(), routing::max_priority);
  EXPECT_EQ(get_call("urgent").position(), 1u);
  restart();
  ASSERT_TRUE(get_call("urgent", urgent).ok());
  EXPECT_EQ(urgent.state(), v1::CALL_STATE_QUEUED);
  EXPECT_GE(urgent.effective_priority(), routing::max_priority);
  EXPECT_EQ(urgent.position(), 1u);
  EXPECT_EQ(get_call("low").position(), 2u);
}

TEST_F(robustness_test, a_stored_record_that_cannot_be_applied_is_set_aside) {
  agent("alice", {"sales"}, false);
  submit("good");
  tenant("other");
  n->kill();
  {
    auto store = storage::rocksdb_store::open({dir / "data", false});
    ASSERT_TRUE(store) << caf::to_string(store.error());
    storage::batch b;
    // Bytes that are no call at all.
    b.put(storage::family::live, storage::record_key("contoso", 'C', "junk"),
          "\xff\x01 not a call");
    // A call stored by an older version with a priority no longer
    // accepted: the one that made recovery overflow.
    routing::live_call old;
    old.data.id = "old";
    old.data.queue_id = "sales";
    old.data.priority = int32_max;
    old.data.state = routing::call_state::queued;
    b.put(storage::family::live, storage::record_key("contoso", 'C', "old"),
          storage::encode_call(old, "contoso"));
    // A tenant record that does not decode.
    b.put(storage::family::config, storage::tenant_key("other"), "\x0a\xff");
    ASSERT_FALSE((*store)->write(b));
  }
  n = std::make_unique<node>(dir);
  EXPECT_EQ(get_call("good").state(), v1::CALL_STATE_QUEUED);
  v1::CallView view;
  EXPECT_EQ(get_call("junk", view).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(get_call("old", view).error_code(), grpc::StatusCode::NOT_FOUND);
  // The tenant whose record was bad runs on default settings.
  v1::ListQueuesRequest lq;
  lq.set_tenant_id("other");
  v1::ListQueuesResponse queues;
  EXPECT_TRUE(n->admin->ListQueues(ctx().get(), lq, &queues).ok());
  EXPECT_EQ(metric("switchboard_recovery_records_set_aside_total"), 3);
  // Routing goes on: the waiting call reaches an agent.
  presence("alice", v1::PRESENCE_AVAILABLE);
  ready("alice", true);
  EXPECT_EQ(get_call("good").state(), v1::CALL_STATE_OFFERED);
  // The records are kept under the set-aside keys, not deleted, and the
  // next start does not meet them again.
  n->kill();
  {
    auto store = storage::rocksdb_store::open({dir / "data", false});
    ASSERT_TRUE(store);
    for (auto& [f, key] : std::vector<std::pair<storage::family, std::string>>{
           {storage::family::live, storage::record_key("contoso", 'C', "junk")},
           {storage::family::live, storage::record_key("contoso", 'C', "old")},
           {storage::family::config, storage::tenant_key("other")}}) {
      auto tenant = key == storage::tenant_key("other") ? "" : "contoso";
      auto kept = (*store)->get(storage::family::config,
                                storage::set_aside_key(tenant, f, key));
      ASSERT_TRUE(kept);
      EXPECT_TRUE(kept->has_value()) << storage::printable(key);
    }
  }
  n = std::make_unique<node>(dir);
  EXPECT_EQ(metric("switchboard_recovery_records_set_aside_total"), 0);
  EXPECT_TRUE(get_call("good", view).ok());
}

TEST_F(robustness_test, a_refused_ingest_command_keeps_its_first_outcome) {
  auto bad = [](const std::string& event_id) {
    v1::IngestRequest x;
    x.set_event_id(event_id);
    auto& c = *x.mutable_submit_call()->mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id("call-1");
    c.set_queue_id("sales");
    c.set_priority(int32_min);
    return x;
  };
  auto good = [](const std::string& event_id) {
    v1::IngestRequest x;
    x.set_event_id(event_id);
    auto& c = *x.mutable_submit_call()->mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id("call-1");
    c.set_queue_id("sales");
    return x;
  };
  auto invalid = static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT);
  // Two copies in one batch: the second has the first's outcome.
  auto first = ingest(*n->events, {bad("e1"), bad("e1")});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].code(), invalid);
  EXPECT_FALSE(first[0].duplicate());
  EXPECT_EQ(first[0].message().rfind("submit_call.call.priority: ", 0), 0u)
    << first[0].message();
  EXPECT_EQ(first[1].code(), invalid);
  EXPECT_TRUE(first[1].duplicate());
  EXPECT_EQ(first[1].message(), first[0].message());
  // The same id later, on another stream, with a valid command: the
  // refusal stands and nothing is applied.
  auto later = ingest(*n->events, {good("e1")});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].code(), invalid);
  EXPECT_TRUE(later[0].duplicate());
  v1::CallView view;
  EXPECT_EQ(get_call("call-1", view).error_code(), grpc::StatusCode::NOT_FOUND);
  // A command refused for a bad field of its own kind, then a restart.
  v1::IngestRequest accept;
  accept.set_event_id("e2");
  accept.mutable_accept_offer()->set_tenant_id("contoso");
  accept.mutable_accept_offer()->set_call_id("call-1");
  auto refused = ingest(*n->events, {accept});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].message(), "accept_offer.agent_id: is required");
  restart();
  auto after = ingest(*n->events, {good("e1"), good("e3")});
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].code(), invalid);
  EXPECT_TRUE(after[0].duplicate());
  EXPECT_EQ(after[1].code(), 0);
  EXPECT_FALSE(after[1].duplicate());
  EXPECT_EQ(get_call("call-1").state(), v1::CALL_STATE_QUEUED);
}

TEST_F(robustness_test, a_request_that_does_not_decode_is_invalid_argument) {
  // GetCallRequest{tenant_id: "contoso", call_id: "\xff"}: not UTF-8.
  std::string not_utf8 = std::string{"\x0a\x07"} + "contoso" + "\x12\x01\xff";
  auto st
    = raw_call(n->address, "/switchboard.v1.RoutingService/GetCall", not_utf8);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("request: does not decode as "
                                     "switchboard.v1.GetCallRequest",
                                     0),
            0u)
    << st.error_message();
  for (auto method : {"/switchboard.v1.AdminService/UpsertQueue",
                      "/switchboard.v1.StatsService/ListCallHistory",
                      "/switchboard.v1.RoutingService/SubmitCall",
                      "/switchboard.v1.ClusterService/ListMembers"}) {
    st = raw_call(n->address, method, "\xff\xff\xff\xff garbage");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_NE(st.error_message().find("does not decode"), std::string::npos)
      << method;
  }
  // A well-formed request through the same path still works.
  v1::GetCallRequest req;
  req.set_tenant_id("contoso");
  req.set_call_id("nope");
  st = raw_call(n->address, "/switchboard.v1.RoutingService/GetCall",
                req.SerializeAsString());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  submit("still-serving");
}

TEST_F(robustness_test, stream_requests_that_do_not_decode_are_answered) {
  auto channel
    = grpc::CreateChannel(n->address, grpc::InsecureChannelCredentials());
  auto bytes_of = [](const std::string& text) {
    grpc::Slice slice{text};
    return grpc::ByteBuffer{&slice, 1};
  };
  auto submit_item = [](const std::string& event_id, const std::string& id) {
    v1::IngestRequest x;
    x.set_event_id(event_id);
    auto& c = *x.mutable_submit_call()->mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id(id);
    c.set_queue_id("sales");
    return x.SerializeAsString();
  };
  // Ingest: bytes that are not an IngestRequest between two good items
  // are answered in their place; the items around them are applied.
  {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + 10s);
    grpc::internal::RpcMethod method{"/switchboard.v1.EventService/Ingest",
                                     grpc::internal::RpcMethod::BIDI_STREAMING};
    std::unique_ptr<
      grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
      stream{grpc::internal::ClientReaderWriterFactory<
        grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel.get(), method, &c)};
    for (auto& item : {submit_item("raw-1", "raw-call-1"),
                       std::string{"\xff\xff\xff\xff garbage"},
                       submit_item("raw-2", "raw-call-2")}) {
      auto buffer = bytes_of(item);
      EXPECT_TRUE(stream->Write(buffer));
    }
    stream->WritesDone();
    std::vector<v1::IngestResponse> answers;
    grpc::ByteBuffer buffer;
    while (stream->Read(&buffer)) {
      v1::IngestResponse r;
      ASSERT_TRUE(
        grpc::SerializationTraits<v1::IngestResponse>::Deserialize(&buffer, &r)
          .ok());
      answers.push_back(r);
    }
    EXPECT_TRUE(stream->Finish().ok());
    ASSERT_EQ(answers.size(), 3u);
    EXPECT_EQ(answers[0].event_id(), "raw-1");
    EXPECT_EQ(answers[0].code(), 0) << answers[0].message();
    EXPECT_EQ(answers[1].event_id(), "");
    EXPECT_EQ(answers[1].code(),
              static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    EXPECT_EQ(answers[1].message().rfind("request: does not decode as "
                                         "switchboard.v1.IngestRequest",
                                         0),
              0u)
      << answers[1].message();
    EXPECT_EQ(answers[2].event_id(), "raw-2");
    EXPECT_EQ(answers[2].code(), 0) << answers[2].message();
    EXPECT_EQ(get_call("raw-call-2").state(), v1::CALL_STATE_QUEUED);
  }
  // Subscribe: refused with INVALID_ARGUMENT naming the message.
  grpc::internal::RpcMethod subscribe{
    "/switchboard.v1.EventService/Subscribe",
    grpc::internal::RpcMethod::SERVER_STREAMING};
  {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + 10s);
    auto request = bytes_of("\x0a\x01\xff");
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> stream{
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
        channel.get(), subscribe, &c, request)};
    grpc::ByteBuffer event;
    EXPECT_FALSE(stream->Read(&event));
    auto st = stream->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message().rfind("request: does not decode as "
                                       "switchboard.v1.SubscribeRequest",
                                       0),
              0u)
      << st.error_message();
  }
  // A good Subscribe through the same path streams the tenant's events.
  {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::SubscribeRequest req;
    req.set_tenant_id("contoso");
    auto request = bytes_of(req.SerializeAsString());
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> stream{
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
        channel.get(), subscribe, &c, request)};
    grpc::ByteBuffer buffer;
    ASSERT_TRUE(stream->Read(&buffer));
    v1::Event event;
    ASSERT_TRUE(
      grpc::SerializationTraits<v1::Event>::Deserialize(&buffer, &event).ok());
    EXPECT_EQ(event.tenant_id(), "contoso");
    EXPECT_GT(event.sequence(), 0u);
    c.TryCancel();
  }
}

TEST_F(robustness_test, list_pages_fit_the_default_message_size) {
  // 150 waiting calls of about 30 KB each: 4.5 MB in all.
  for (int i = 0; i < 150; ++i) {
    v1::SubmitCallRequest req;
    auto& c = *req.mutable_call();
    c.set_tenant_id("contoso");
    c.set_call_id("big-" + std::to_string(1000 + i));
    c.set_queue_id("sales");
    for (int k = 0; k < 8; ++k)
      (*c.mutable_attributes())["ivr" + std::to_string(k)]
        = std::string(3800, static_cast<char>('a' + k));
    v1::SubmitCallResponse out;
    auto st = n->routing->SubmitCall(ctx().get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListCallsRequest req;
    req.set_tenant_id("contoso");
    req.set_page_size(1000);
    req.set_page_token(token);
    v1::ListCallsResponse out;
    auto st = n->routing->ListCalls(ctx().get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_LT(out.ByteSizeLong(), 4u * 1024 * 1024);
    for (auto& c : out.calls())
      EXPECT_TRUE(seen.insert(c.call().call_id()).second);
    token = out.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 150u);
  EXPECT_GE(pages, 2);
}

// -- property-based: every request type with random and extreme values ------

/// Values that break naive code: empty, long, unprintable, extremes.
class hostile {
 public:
  explicit hostile(uint32_t seed) : rng_(seed) {}

  /// How often a field gets a hostile value. Set per request: most
  /// requests are nearly valid, so that they reach deep into the engine;
  /// some are hostile throughout.
  double rate = 0.05;

  bool coin(double p = 0.5) {
    return std::uniform_real_distribution<>{0, 1}(rng_) < p;
  }

  size_t below(size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng_);
  }

  bool bad() { return coin(rate); }

  std::string id(const std::vector<std::string>& known) {
    if (!bad())
      return known[below(known.size())];
    switch (below(5)) {
      case 0: return "";
      case 1: return std::string(257 + below(100), 'x');
      case 2: return "has space";
      case 3: return "ünïcode";
      default: return std::string{"ctl\x01"};
    }
  }

  std::string text() {
    if (bad())
      return coin() ? std::string{} : std::string(1025 + below(5000), 'y');
    switch (below(3)) {
      case 0: return "+14255550100";
      case 1: return "sip:alice@contoso.com;transport=tls";
      default: return "note " + std::to_string(below(1000));
    }
  }

  int32_t i32() {
    static const int32_t extreme[]
      = {int32_min, -1'000'001, -1'000'000, 1'000'000, 1'000'001, int32_max};
    if (bad())
      return extreme[below(std::size(extreme))];
    return static_cast<int32_t>(below(20)) - 5;
  }

  uint32_t u32(uint32_t sane = 3) {
    static const uint32_t extreme[] = {1000, 1'000'001, 0xffffffffu};
    if (bad())
      return extreme[below(std::size(extreme))];
    return static_cast<uint32_t>(below(sane + 1));
  }

  void duration(google::protobuf::Duration& d) {
    if (!bad()) {
      d.set_seconds(static_cast<int64_t>(1 + below(60)));
      return;
    }
    static const int64_t secs[] = {int64_min, -1, 0, 86400 * 400LL, int64_max};
    static const int32_t nanos[] = {-1, 0, 1000, 999'999'999, 1'000'000'000};
    d.set_seconds(secs[below(std::size(secs))]);
    d.set_nanos(nanos[below(std::size(nanos))]);
  }

  void timestamp(google::protobuf::Timestamp& t) {
    if (!bad()) {
      t.set_seconds(1'700'000'000 + static_cast<int64_t>(below(1'000'000'000)));
      return;
    }
    static const int64_t secs[]
      = {int64_min, -62'135'596'801, 253'402'300'800, int64_max};
    t.set_seconds(secs[below(std::size(secs))]);
    t.set_nanos(coin() ? 0 : -1);
  }

  /// A valid value of an enum in [first, last], or (when hostile) 0 or a
  /// number past the last.
  template<class Enum>
  Enum pick(int first, int last) {
    if (bad())
      return static_cast<Enum>(coin() ? 0
                                      : last + 1 + static_cast<int>(below(50)));
    return static_cast<Enum>(
      first + static_cast<int>(below(static_cast<size_t>(last - first + 1))));
  }

  void selector(v1::Selector& s) {
    static const char* keys[] = {"skill.billing", "label.language"};
    static const char* bad_keys[] = {"", "bogus", "skill.", "x.y"};
    s.set_key(bad() ? bad_keys[below(std::size(bad_keys))]
                    : keys[below(std::size(keys))]);
    s.set_op(pick<v1::SelectorOp>(v1::SELECTOR_OP_EQ, v1::SELECTOR_OP_IN));
    for (size_t i = 1 + below(2); i > 0; --i)
      s.add_values(std::to_string(int64_t{i32()} + 50));
    if (coin(0.3))
      duration(*s.mutable_relax_after());
  }

  std::mt19937 rng_;
};

TEST_F(robustness_test, random_and_extreme_requests_get_documented_answers) {
  agent("alice");
  agent("bob");
  queue("support");
  hostile h{20261128};
  std::vector<std::string> tenants{"contoso", "contoso", "contoso", "other"};
  std::vector<std::string> queues{"sales", "support", "overflow"};
  std::vector<std::string> agents{"alice", "bob", "carol"};
  std::vector<std::string> calls;
  for (int i = 0; i < 20; ++i)
    calls.push_back("c" + std::to_string(i));
  std::set<std::string> acknowledged;
  std::map<std::string, size_t> answers;

  auto check = [&](const char* method, const grpc::Status& st) {
    using C = grpc::StatusCode;
    auto code = st.error_code();
    answers[std::string{method} + " " + api::status_code_name(code)]++;
    EXPECT_TRUE(code == C::OK || code == C::INVALID_ARGUMENT
                || code == C::NOT_FOUND || code == C::FAILED_PRECONDITION
                || code == C::RESOURCE_EXHAUSTED)
      << method << ": " << code << " " << st.error_message();
    if (code == C::INVALID_ARGUMENT) {
      EXPECT_TRUE(names_a_field(st.error_message()))
        << method << ": " << st.error_message();
    }
    return code == C::OK;
  };

  for (int i = 0; i < 4000; ++i) {
    h.rate = h.coin(0.2) ? 0.5 : 0.02;
    auto tenant = h.id(tenants);
    switch (h.below(22)) {
      case 0: {
        v1::SubmitCallRequest req;
        auto& c = *req.mutable_call();
        c.set_tenant_id(tenant);
        c.set_call_id(h.id(calls));
        c.set_queue_id(h.coin(0.9) ? h.id(queues) : "");
        c.set_priority(h.i32());
        c.set_channel(
          h.pick<v1::Channel>(v1::CHANNEL_VOICE, v1::CHANNEL_MESSAGE));
        c.set_from(h.text());
        c.set_to(h.text());
        for (size_t k = h.below(3); k > 0; --k)
          (*c.mutable_attributes())[h.bad() ? "" : "ivr"] = h.text();
        for (size_t k = h.below(3); k > 0; --k)
          h.selector(*c.add_selectors());
        if (h.coin(0.1))
          c.set_preferred_agent_id(h.id(agents));
        v1::SubmitCallResponse out;
        if (check("SubmitCall", n->routing->SubmitCall(ctx().get(), req, &out))
            && tenant == "contoso")
          acknowledged.insert(c.call_id());
        break;
      }
      case 1: {
        v1::UpsertQueueRequest req;
        auto& q = *req.mutable_queue();
        q.set_tenant_id(tenant);
        q.set_queue_id(h.id(queues));
        q.set_mode(h.pick<v1::DistributionMode>(0, 3));
        if (h.coin())
          h.duration(*q.mutable_offer_timeout());
        if (h.coin())
          h.duration(*q.mutable_wrap_up());
        if (h.coin(0.3))
          h.duration(*q.mutable_max_wait());
        q.set_max_length(h.coin(0.3) ? h.u32() : 0);
        q.set_max_missed_offers(h.u32());
        q.mutable_offer_timeout()->set_seconds(h.bad() ? 0 : 20);
        if (h.coin(0.3))
          q.set_overflow_queue_id(h.id(queues));
        for (size_t k = h.below(3); k > 0; --k)
          h.selector(*q.add_selectors());
        if (h.coin(0.3)) {
          auto& pa = *q.mutable_priority_aging();
          h.duration(*pa.mutable_interval());
          pa.set_step(h.i32());
          pa.set_max_boost(h.i32());
        }
        v1::Queue out;
        check("UpsertQueue", n->admin->UpsertQueue(ctx().get(), req, &out));
        break;
      }
      case 2: {
        v1::UpsertAgentRequest req;
        auto& a = *req.mutable_agent();
        a.set_tenant_id(tenant);
        a.set_agent_id(h.id(agents));
        a.set_display_name(h.text());
        (*a.mutable_skills())[h.bad() ? "" : "billing"] = h.u32(100);
        (*a.mutable_labels())["language"] = h.text();
        a.set_total_capacity(h.bad() ? h.u32() : 0);
        for (size_t k = h.below(3); k > 0; --k) {
          auto& c = *a.add_capacity();
          c.set_channel(
            h.pick<v1::Channel>(v1::CHANNEL_VOICE, v1::CHANNEL_MESSAGE));
          c.set_max_concurrent(h.u32());
          c.set_cost(h.bad() ? h.u32() : 0);
        }
        for (size_t k = h.below(3); k > 0; --k)
          a.add_queue_ids(h.id(queues));
        v1::AgentView out;
        check("UpsertAgent", n->admin->UpsertAgent(ctx().get(), req, &out));
        break;
      }
      case 3: {
        v1::SetAgentPresenceRequest req;
        req.set_tenant_id(tenant);
        req.set_agent_id(h.id(agents));
        req.set_presence(
          h.pick<v1::Presence>(v1::PRESENCE_AVAILABLE, v1::PRESENCE_UNKNOWN));
        v1::AgentView out;
        check("SetAgentPresence",
              n->routing->SetAgentPresence(ctx().get(), req, &out));
        break;
      }
      case 4: {
        v1::SetAgentReadyRequest req;
        req.set_tenant_id(tenant);
        req.set_agent_id(h.id(agents));
        req.set_ready(h.coin(0.7));
        req.set_reason(h.text());
        v1::AgentView out;
        check("SetAgentReady",
              n->routing->SetAgentReady(ctx().get(), req, &out));
        break;
      }
      case 5: {
        // An offer as the engine made it, or a forged one.
        v1::CallView view;
        v1::GetCallRequest g;
        g.set_tenant_id("contoso");
        g.set_call_id(h.id(calls));
        (void)n->routing->GetCall(ctx().get(), g, &view);
        v1::AcceptOfferRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(g.call_id());
        req.set_agent_id(h.coin(0.8) ? view.offer().agent_id() : h.id(agents));
        req.set_offer_id(h.coin(0.8) ? view.offer().offer_id() : h.text());
        v1::CallView out;
        check("AcceptOffer", n->routing->AcceptOffer(ctx().get(), req, &out));
        break;
      }
      case 6: {
        v1::DeclineOfferRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls));
        req.set_agent_id(h.id(agents));
        req.set_offer_id(h.text());
        v1::CallView out;
        check("DeclineOffer", n->routing->DeclineOffer(ctx().get(), req, &out));
        break;
      }
      case 7: {
        v1::CompleteCallRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls));
        v1::CallView out;
        check("CompleteCall", n->routing->CompleteCall(ctx().get(), req, &out));
        break;
      }
      case 8: {
        v1::CancelCallRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls));
        req.set_reason(h.pick<v1::CancelCallRequest::Reason>(0, 2));
        v1::CallView out;
        check("CancelCall", n->routing->CancelCall(ctx().get(), req, &out));
        break;
      }
      case 9: {
        v1::TransferCallRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls));
        if (h.coin(0.45))
          req.set_queue_id(h.id(queues));
        else if (h.coin(0.8))
          req.set_agent_id(h.id(agents));
        v1::CallView out;
        check("TransferCall", n->routing->TransferCall(ctx().get(), req, &out));
        break;
      }
      case 10: {
        v1::RequestCallbackRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls));
        req.set_number(h.text());
        v1::CallView out;
        check("RequestCallback",
              n->routing->RequestCallback(ctx().get(), req, &out));
        break;
      }
      case 11: {
        v1::ConsultCallRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls));
        if (h.coin())
          req.set_queue_id(h.id(queues));
        else
          req.set_agent_id(h.id(agents));
        v1::CallView out;
        check("ConsultCall", n->routing->ConsultCall(ctx().get(), req, &out));
        break;
      }
      case 12: {
        v1::ConsultActionRequest req;
        req.set_tenant_id(tenant);
        req.set_call_id(h.id(calls) + (h.coin() ? "#consult" : ""));
        v1::CallView out;
        if (h.coin())
          check("CompleteConsult",
                n->routing->CompleteConsult(ctx().get(), req, &out));
        else
          check("JoinConsult", n->routing->JoinConsult(ctx().get(), req, &out));
        break;
      }
      case 13: {
        v1::ExtendWrapUpRequest req;
        req.set_tenant_id(tenant);
        req.set_agent_id(h.id(agents));
        h.duration(*req.mutable_extend_by());
        v1::AgentView out;
        check("ExtendWrapUp", n->routing->ExtendWrapUp(ctx().get(), req, &out));
        v1::EndWrapUpRequest end;
        end.set_tenant_id(tenant);
        end.set_agent_id(h.id(agents));
        check("EndWrapUp", n->routing->EndWrapUp(ctx().get(), end, &out));
        break;
      }
      case 14: {
        v1::ListCallHistoryRequest req;
        req.set_tenant_id(tenant);
        if (h.coin())
          h.timestamp(*req.mutable_from());
        if (h.coin())
          h.timestamp(*req.mutable_to());
        req.set_page_size(h.u32());
        req.set_page_token(h.coin(0.8) ? "" : h.text());
        v1::ListCallHistoryResponse out;
        check("ListCallHistory",
              n->stats->ListCallHistory(ctx().get(), req, &out));
        break;
      }
      case 15: {
        v1::ListCallsRequest req;
        req.set_tenant_id(tenant);
        req.set_page_size(h.u32());
        req.set_page_token(h.coin(0.8) ? "" : h.text());
        v1::ListCallsResponse out;
        check("ListCalls", n->routing->ListCalls(ctx().get(), req, &out));
        v1::ListAgentsRequest la;
        la.set_tenant_id(tenant);
        la.set_page_size(h.u32());
        v1::ListAgentsResponse agents_out;
        check("ListAgents", n->admin->ListAgents(ctx().get(), la, &agents_out));
        break;
      }
      case 16: {
        v1::GetQueueStatsRequest req;
        req.set_tenant_id(tenant);
        req.set_queue_id(h.id(queues));
        v1::QueueStats out;
        check("GetQueueStats", n->stats->GetQueueStats(ctx().get(), req, &out));
        v1::GetAgentStatsRequest a;
        a.set_tenant_id(tenant);
        a.set_agent_id(h.id(agents));
        v1::AgentStats aout;
        check("GetAgentStats", n->stats->GetAgentStats(ctx().get(), a, &aout));
        break;
      }
      case 17: {
        v1::UpsertClassificationRulesRequest req;
        req.set_tenant_id(tenant);
        auto& r = *req.add_rules();
        r.set_rule_id(h.id(calls));
        r.set_queue_id(h.id(queues));
        r.set_priority(h.i32());
        auto& c = *r.add_conditions();
        c.set_field(h.coin() ? "to" : h.text());
        c.set_match(h.pick<v1::Condition::Match>(1, 3));
        c.add_values(h.text());
        if (h.coin())
          req.set_default_queue_id(h.id(queues));
        v1::ClassificationRules out;
        check("UpsertClassificationRules",
              n->admin->UpsertClassificationRules(ctx().get(), req, &out));
        break;
      }
      case 18: {
        v1::UpsertTenantRequest req;
        auto& t = *req.mutable_tenant();
        // Not contoso: a short history retention there would delete the
        // calls this test reads back at the end.
        t.set_tenant_id(h.coin(0.8) ? "other" : std::string(300, 'z'));
        t.set_display_name(h.text());
        if (h.coin())
          t.add_sip_trunk_fqdns(h.text());
        if (h.coin())
          t.add_dialled_numbers(h.text());
        if (h.coin())
          h.duration(*t.mutable_history_retention());
        v1::Tenant out;
        check("UpsertTenant", n->admin->UpsertTenant(ctx().get(), req, &out));
        break;
      }
      case 19: {
        v1::DeleteQueueRequest req;
        req.set_tenant_id(tenant);
        req.set_queue_id(h.coin(0.8) ? "overflow" : h.id(queues));
        v1::DeleteQueueResponse out;
        check("DeleteQueue", n->admin->DeleteQueue(ctx().get(), req, &out));
        v1::DeleteAgentRequest a;
        a.set_tenant_id(tenant);
        a.set_agent_id(h.coin(0.8) ? "carol" : h.id(agents));
        v1::DeleteAgentResponse aout;
        check("DeleteAgent", n->admin->DeleteAgent(ctx().get(), a, &aout));
        break;
      }
      default: {
        // The same commands through Ingest: every answer in order, with
        // the same codes.
        std::vector<v1::IngestRequest> items;
        for (size_t k = 1 + h.below(4); k > 0; --k) {
          v1::IngestRequest x;
          x.set_event_id(h.coin(0.9) ? "ev-" + std::to_string(h.below(300))
                                     : h.id(calls));
          switch (h.below(5)) {
            case 0: {
              auto& c = *x.mutable_submit_call()->mutable_call();
              c.set_tenant_id(tenant);
              c.set_call_id(h.id(calls));
              c.set_queue_id(h.id(queues));
              c.set_priority(h.i32());
              break;
            }
            case 1: {
              auto& c = *x.mutable_cancel_call();
              c.set_tenant_id(tenant);
              c.set_call_id(h.id(calls));
              break;
            }
            case 2: {
              auto& c = *x.mutable_accept_offer();
              c.set_tenant_id(tenant);
              c.set_call_id(h.id(calls));
              c.set_agent_id(h.id(agents));
              c.set_offer_id(h.text());
              break;
            }
            case 3: {
              auto& c = *x.mutable_extend_wrap_up();
              c.set_tenant_id(tenant);
              c.set_agent_id(h.id(agents));
              h.duration(*c.mutable_extend_by());
              break;
            }
            default: break; // no command at all
          }
          items.push_back(x);
        }
        auto answers_of = ingest(*n->events, items);
        ASSERT_EQ(answers_of.size(), items.size());
        for (size_t k = 0; k < items.size(); ++k) {
          EXPECT_EQ(answers_of[k].event_id(), items[k].event_id());
          check("Ingest", grpc::Status{
                            static_cast<grpc::StatusCode>(answers_of[k].code()),
                            answers_of[k].message()});
          if (answers_of[k].code() == 0 && !answers_of[k].duplicate()
              && items[k].has_submit_call() && tenant == "contoso")
            acknowledged.insert(items[k].submit_call().call().call_id());
        }
        break;
      }
    }
    if (HasFatalFailure())
      return;
  }
  for (auto& [what, count] : answers)
    std::cout << "  " << what << ": " << count << "\n";
  EXPECT_GT(acknowledged.size(), 5u);
  // Every acknowledged call can be read back, before and after a crash.
  for (int round = 0; round < 2; ++round) {
    for (auto& id : acknowledged) {
      v1::CallView view;
      auto st = get_call(id, view);
      EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
    }
    if (round == 0)
      restart();
  }
}

} // namespace
} // namespace switchboard::testing
