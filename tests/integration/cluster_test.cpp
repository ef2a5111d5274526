// Three switchboard-router nodes on loopback forming one cluster, each on
// its own ports and data folder: tenants spread over them, every node
// answers for every tenant, a tenant's events stream from any node, and a
// node killed with kill -9 under traffic makes only its own tenants
// UNAVAILABLE, at once, and brings them back intact when it restarts. The
// cluster port runs on TLS, each node with a certificate of the test's
// authority; a peer without one is refused.

#include "tests/support/certificates.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/router_fixture.hpp"

#include "switchboard/v1/cluster.grpc.pb.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <netinet/in.h>
#include <random>
#include <set>
#include <sys/socket.h>

using namespace switchboard;
using namespace switchboard::testing;
using namespace std::chrono_literals;

namespace {

class cluster_test : public ::testing::Test {
 protected:
  static constexpr size_t size = 3;
  /// Room for a fourth node that joins later.
  static constexpr size_t room = 4;

  void SetUp() override {
    authority = std::make_unique<test_authority>(certs.path(), "cluster-ca");
    ASSERT_TRUE(authority->ok());
    for (size_t i = 0; i < room; ++i) {
      names.push_back("router-" + std::to_string(i));
      ports.push_back(free_port());
      ASSERT_TRUE(authority->sign(names.back()));
    }
    for (size_t i = 0; i < size; ++i)
      start(i);
    for (size_t i = 0; i < size; ++i)
      wait_until_all_up(i);
  }

  /// The flags of node `name` on the cluster's TLS.
  std::vector<std::string> certified(const std::string& name) {
    return {"--cluster-tls-certificate", certs / (name + ".pem"),
            "--cluster-tls-private-key", certs / (name + ".key"),
            "--cluster-tls-ca",          authority->certificate()};
  }

  /// Node i's flags in a cluster of the first `members` nodes; `security`
  /// replaces its certificate flags.
  std::vector<std::string>
  flags_of(size_t i, size_t members = size,
           std::optional<std::vector<std::string>> security = std::nullopt) {
    std::string peers;
    for (size_t j = 0; j < members; ++j)
      if (j != i)
        peers += (peers.empty() ? "" : ",") + names[j]
                 + "=127.0.0.1:" + std::to_string(ports[j]);
    std::vector<std::string> flags{
      "--node-name",      names[i],
      "--cluster-listen", "0.0.0.0:" + std::to_string(ports[i]),
      "--peers",          peers};
    auto tls = security ? *security : certified(names[i]);
    flags.insert(flags.end(), tls.begin(), tls.end());
    // A node the others do not list must say where they can dial it: its
    // listen address is a wildcard.
    if (i >= size) {
      flags.push_back("--cluster-advertise");
      flags.push_back("127.0.0.1:" + std::to_string(ports[i]));
    }
    return flags;
  }

  void start(size_t i, size_t members = size) {
    nodes[i] = std::make_unique<node>(dirs[i], flags_of(i, members));
    clusters[i] = v1::ClusterService::NewStub(grpc::CreateChannel(
      nodes[i]->address, grpc::InsecureChannelCredentials()));
  }

  std::vector<v1::Member> members(size_t i) {
    v1::ListMembersResponse resp;
    auto st = clusters[i]->ListMembers(ctx().get(), {}, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.members().begin(), resp.members().end()};
  }

  /// Waits until node i sees every member up (or 10 s pass).
  void wait_until_all_up(size_t i, size_t expected = size) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      size_t up = 0;
      for (auto& m : members(i))
        up += m.up() ? 1 : 0;
      if (up == expected)
        return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << names[i] << " does not see " << expected << " members up";
  }

  std::string owner_of(const std::string& tenant, size_t asked = 0) {
    v1::LocateTenantRequest req;
    req.set_tenant_id(tenant);
    v1::TenantLocation where;
    EXPECT_TRUE(clusters[asked]->LocateTenant(ctx().get(), req, &where).ok());
    return where.owner();
  }

  size_t index_of(const std::string& name) {
    return static_cast<size_t>(std::find(names.begin(), names.end(), name)
                               - names.begin());
  }

  /// A tenant with a queue and an available agent, set up through nodes
  /// other than its owner where possible.
  void make_tenant(const std::string& id, size_t via, uint32_t chats = 100) {
    auto& n = *nodes[via % size];
    v1::UpsertTenantRequest t;
    t.mutable_tenant()->set_tenant_id(id);
    v1::Tenant out_t;
    auto st = n.admin->UpsertTenant(ctx().get(), t, &out_t);
    ASSERT_TRUE(st.ok()) << id << ": " << st.error_message();
    auto& m = *nodes[(via + 1) % size];
    v1::UpsertQueueRequest q;
    q.mutable_queue()->set_tenant_id(id);
    q.mutable_queue()->set_queue_id("sales");
    *q.mutable_queue()->mutable_offer_timeout()
      = TimeUtil::SecondsToDuration(60);
    v1::Queue out_q;
    st = m.admin->UpsertQueue(ctx().get(), q, &out_q);
    ASSERT_TRUE(st.ok()) << id << ": " << st.error_message();
    auto& k = *nodes[(via + 2) % size];
    v1::UpsertAgentRequest a;
    a.mutable_agent()->set_tenant_id(id);
    a.mutable_agent()->set_agent_id("ann");
    a.mutable_agent()->add_queue_ids("sales");
    auto& chat = *a.mutable_agent()->add_capacity();
    chat.set_channel(v1::CHANNEL_CHAT);
    chat.set_max_concurrent(chats);
    chat.set_cost(0);
    v1::AgentView out_a;
    st = k.admin->UpsertAgent(ctx().get(), a, &out_a);
    ASSERT_TRUE(st.ok()) << id << ": " << st.error_message();
    v1::SetAgentPresenceRequest p;
    p.set_tenant_id(id);
    p.set_agent_id("ann");
    p.set_presence(v1::PRESENCE_AVAILABLE);
    ASSERT_TRUE(m.routing->SetAgentPresence(ctx().get(), p, &out_a).ok());
    v1::SetAgentReadyRequest r;
    r.set_tenant_id(id);
    r.set_agent_id("ann");
    r.set_ready(true);
    ASSERT_TRUE(n.routing->SetAgentReady(ctx().get(), r, &out_a).ok());
  }

  grpc::Status submit(size_t via, const std::string& tenant,
                      const std::string& call_id, v1::CallView* out = nullptr) {
    v1::SubmitCallRequest req;
    req.mutable_call()->set_tenant_id(tenant);
    req.mutable_call()->set_call_id(call_id);
    req.mutable_call()->set_queue_id("sales");
    req.mutable_call()->set_channel(v1::CHANNEL_CHAT);
    v1::SubmitCallResponse resp;
    auto st = nodes[via]->routing->SubmitCall(ctx().get(), req, &resp);
    if (out != nullptr)
      *out = resp.call();
    return st;
  }

  grpc::Status get_call(size_t via, const std::string& tenant,
                        const std::string& call_id, v1::CallView& out) {
    v1::GetCallRequest req;
    req.set_tenant_id(tenant);
    req.set_call_id(call_id);
    return nodes[via]->routing->GetCall(ctx().get(), req, &out);
  }

  /// Calls submitted for every tenant through some nodes, each sender in
  /// turn over the tenants, until stop(); the outcomes sorted.
  struct traffic {
    std::atomic<bool> running{true};
    std::mutex mtx;
    std::map<std::string, std::set<std::string>> acknowledged;
    /// Per tenant.
    std::map<std::string, size_t> unavailable;
    /// The messages of the UNAVAILABLE refusals.
    std::map<std::string, size_t> unavailable_messages;
    /// Any other refusal, as "tenant: message".
    std::map<std::string, size_t> other_errors;
    std::vector<std::thread> senders;

    void stop() {
      running = false;
      for (auto& s : senders)
        s.join();
      senders.clear();
    }

    size_t count(const std::map<std::string, size_t>& of) {
      size_t n = 0;
      for (auto& [k, v] : of)
        n += v;
      return n;
    }

    size_t acknowledged_calls() {
      size_t n = 0;
      for (auto& [t, ids] : acknowledged)
        n += ids.size();
      return n;
    }
  };

  void drive(traffic& tr, const std::vector<std::string>& tenants,
             const std::vector<size_t>& via) {
    for (auto v : via)
      tr.senders.emplace_back([this, &tr, &tenants, v] {
        for (int n = 0; tr.running; ++n)
          for (auto& t : tenants) {
            auto id = names[v] + "-" + std::to_string(n);
            auto st = submit(v, t, id);
            std::lock_guard guard{tr.mtx};
            if (st.ok())
              tr.acknowledged[t].insert(id);
            else if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
              tr.unavailable[t]++;
              tr.unavailable_messages[st.error_message()]++;
            } else
              tr.other_errors[t + ": " + st.error_message()]++;
          }
      });
  }

  /// Ends a waiting or offered call: it moves to the tenant's history.
  grpc::Status cancel(size_t via, const std::string& tenant,
                      const std::string& call_id) {
    v1::CancelCallRequest req;
    req.set_tenant_id(tenant);
    req.set_call_id(call_id);
    req.set_reason(v1::CancelCallRequest::REASON_CALLER_HUNG_UP);
    v1::CallView out;
    return nodes[via]->routing->CancelCall(ctx().get(), req, &out);
  }

  /// Every page of a tenant's history through node `via`: the call ids in
  /// the order listed, and the largest page in bytes.
  std::vector<std::string> history(size_t via, const std::string& tenant,
                                   uint32_t page_size = 0,
                                   size_t* pages = nullptr,
                                   size_t* largest = nullptr) {
    std::vector<std::string> ids;
    v1::ListCallHistoryRequest req;
    req.set_tenant_id(tenant);
    req.set_page_size(page_size);
    for (size_t page = 0; page < 10'000; ++page) {
      v1::ListCallHistoryResponse resp;
      auto st = nodes[via]->stats->ListCallHistory(ctx().get(), req, &resp);
      EXPECT_TRUE(st.ok()) << tenant << " via " << names[via] << ": "
                           << st.error_message();
      if (!st.ok())
        break;
      for (auto& r : resp.records())
        ids.push_back(r.call_id());
      if (pages != nullptr)
        *pages = page + 1;
      if (largest != nullptr)
        *largest = std::max(*largest, resp.ByteSizeLong());
      if (resp.next_page_token().empty())
        break;
      // A token from one node is good on any other.
      req.set_page_token(resp.next_page_token());
      via = (via + 1) % size;
    }
    return ids;
  }

  temp_dir certs;
  std::unique_ptr<test_authority> authority;
  std::vector<std::string> names;
  std::vector<uint16_t> ports;
  temp_dir dirs[room];
  std::unique_ptr<node> nodes[room];
  std::unique_ptr<v1::ClusterService::Stub> clusters[room];
};

} // namespace

TEST_F(cluster_test, every_node_answers_for_every_tenant) {
  // Every node computes the same owner, and tenants spread out.
  std::set<std::string> owners;
  for (int i = 0; i < 9; ++i) {
    auto id = "tenant-" + std::to_string(i);
    auto owner = owner_of(id, 0);
    EXPECT_EQ(owner_of(id, 1), owner) << id;
    EXPECT_EQ(owner_of(id, 2), owner) << id;
    owners.insert(owner);
    make_tenant(id, static_cast<size_t>(i));
  }
  EXPECT_EQ(owners.size(), size);

  // A call submitted through any node is routed by its tenant's owner and
  // read back through any other; accepted through a third.
  for (int i = 0; i < 9; ++i) {
    auto id = "tenant-" + std::to_string(i);
    for (size_t via = 0; via < size; ++via) {
      auto call_id = "c" + std::to_string(via);
      v1::CallView c;
      auto st = submit(via, id, call_id, &c);
      ASSERT_TRUE(st.ok()) << id << " via " << names[via] << ": "
                           << st.error_message();
      ASSERT_EQ(c.state(), v1::CALL_STATE_OFFERED) << id;
      v1::AcceptOfferRequest acc;
      acc.set_tenant_id(id);
      acc.set_call_id(call_id);
      acc.set_agent_id("ann");
      acc.set_offer_id(c.offer().offer_id());
      v1::CallView accepted;
      ASSERT_TRUE(nodes[(via + 2) % size]
                    ->routing->AcceptOffer(ctx().get(), acc, &accepted)
                    .ok());
      v1::CallView read;
      ASSERT_TRUE(get_call((via + 1) % size, id, call_id, read).ok());
      EXPECT_EQ(read.state(), v1::CALL_STATE_ASSIGNED) << id;
    }
  }

  // Each node shows the others up, with the tenants they own.
  for (size_t i = 0; i < size; ++i) {
    auto seen = members(i);
    ASSERT_EQ(seen.size(), size);
    EXPECT_TRUE(seen[0].self());
    EXPECT_EQ(seen[0].name(), names[i]);
    size_t tenants = 0;
    for (auto& m : seen) {
      EXPECT_TRUE(m.up()) << m.name();
      tenants += m.tenants();
    }
    EXPECT_EQ(tenants, 9u) << names[i];
  }

  // Every node gives every tenant's settings (a gateway reads them from
  // whichever node it reaches).
  for (size_t i = 0; i < size; ++i)
    for (int t = 0; t < 9; ++t) {
      v1::GetTenantRequest req;
      req.set_tenant_id("tenant-" + std::to_string(t));
      v1::Tenant out;
      auto got = nodes[i]->admin->GetTenant(ctx().get(), req, &out);
      EXPECT_TRUE(got.ok()) << req.tenant_id() << " via " << names[i] << ": "
                            << got.error_message();
      EXPECT_EQ(out.tenant_id(), req.tenant_id());
    }

  // Unknown tenants are NOT_FOUND wherever they would live.
  v1::CallView none;
  auto st = get_call(1, "nobody", "x", none);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::GetTenantRequest nobody;
  nobody.set_tenant_id("nobody");
  v1::Tenant out;
  EXPECT_EQ(nodes[2]->admin->GetTenant(ctx().get(), nobody, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(cluster_test, call_history_is_the_same_through_every_node) {
  make_tenant("contoso", 0);
  auto owner = index_of(owner_of("contoso"));
  std::vector<std::string> ended;
  for (size_t i = 0; i < 12; ++i) {
    auto id = "h" + std::to_string(10 + i);
    ASSERT_TRUE(submit(i % size, "contoso", id).ok()) << id;
    ASSERT_TRUE(cancel((i + 1) % size, "contoso", id).ok()) << id;
    ended.push_back(id);
  }
  // GetCall finds a finished call through every node, and so does the
  // history: the owner's, whichever node answers.
  for (size_t via = 0; via < size; ++via) {
    v1::CallView c;
    ASSERT_TRUE(get_call(via, "contoso", "h10", c).ok()) << names[via];
    EXPECT_EQ(history(via, "contoso"), ended) << "via " << names[via];
    // In pages of five, the token passing from node to node.
    size_t pages = 0;
    EXPECT_EQ(history(via, "contoso", 5, &pages), ended)
      << "via " << names[via];
    EXPECT_EQ(pages, 3u);
  }

  // Times no Timestamp can hold are refused, naming the field; the node
  // goes on serving.
  auto far = [](int64_t seconds, int32_t nanos) {
    google::protobuf::Timestamp t;
    t.set_seconds(seconds);
    t.set_nanos(nanos);
    return t;
  };
  struct bad_range {
    const char* field;
    google::protobuf::Timestamp at;
  };
  std::vector<bad_range> bad{
    {"from", far(std::numeric_limits<int64_t>::max(), 0)},
    {"from", far(std::numeric_limits<int64_t>::min(), 0)},
    {"from", far(253'402'300'800, 0)},
    {"from", far(0, -1)},
    {"to", far(std::numeric_limits<int64_t>::max(), 0)},
    {"to", far(-62'135'596'801, 0)},
    {"to", far(0, 1'000'000'000)}};
  for (size_t via = 0; via < size; ++via)
    for (auto& b : bad) {
      v1::ListCallHistoryRequest req;
      req.set_tenant_id("contoso");
      *(std::string{b.field} == "from" ? req.mutable_from() : req.mutable_to())
        = b.at;
      v1::ListCallHistoryResponse resp;
      auto st = nodes[via]->stats->ListCallHistory(ctx().get(), req, &resp);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << b.field << " " << b.at.seconds() << " via " << names[via];
      EXPECT_EQ(st.error_message().rfind(std::string{b.field} + ": ", 0), 0u)
        << st.error_message();
      EXPECT_NE(st.error_message().find("0001-01-01T00:00:00Z"),
                std::string::npos)
        << st.error_message();
    }
  // The extremes that are allowed work, and every node still answers.
  v1::ListCallHistoryRequest req;
  req.set_tenant_id("contoso");
  *req.mutable_from() = far(-62'135'596'800, 0);
  *req.mutable_to() = far(253'402'300'799, 999'999'999);
  for (size_t via = 0; via < size; ++via) {
    v1::ListCallHistoryResponse resp;
    auto st = nodes[via]->stats->ListCallHistory(ctx().get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.records_size(), 12);
  }
  EXPECT_TRUE(submit(owner, "contoso", "after").ok());
}

TEST_F(cluster_test, call_history_pages_stay_under_two_mebibytes) {
  make_tenant("contoso", 0);
  // 4 KiB of what the IVR gathered on each call: 600 calls hold 2.4 MiB.
  constexpr size_t calls = 600;
  std::vector<std::string> ended;
  for (size_t i = 0; i < calls; ++i) {
    auto id = "big" + std::to_string(1000 + i);
    v1::SubmitCallRequest req;
    req.mutable_call()->set_tenant_id("contoso");
    req.mutable_call()->set_call_id(id);
    req.mutable_call()->set_queue_id("sales");
    req.mutable_call()->set_channel(v1::CHANNEL_CHAT);
    for (int k = 0; k < 16; ++k)
      (*req.mutable_call()->mutable_attributes())["field" + std::to_string(k)]
        = std::string(256, static_cast<char>('a' + k));
    v1::SubmitCallResponse resp;
    ASSERT_TRUE(
      nodes[i % size]->routing->SubmitCall(ctx().get(), req, &resp).ok())
      << id;
    ASSERT_TRUE(cancel((i + 1) % size, "contoso", id).ok()) << id;
    ended.push_back(id);
  }
  // One page of 1,000 would pass 2 MiB: it ends early, and the next
  // continues where it ended, each record once, in order.
  size_t pages = 0, largest = 0;
  EXPECT_EQ(history(1, "contoso", 1000, &pages, &largest), ended);
  EXPECT_GE(pages, 2u);
  EXPECT_LE(largest, size_t{2} * 1024 * 1024);
}

TEST_F(cluster_test, events_stream_from_a_node_that_does_not_own_the_tenant) {
  make_tenant("contoso", 0);
  auto owner = index_of(owner_of("contoso"));
  auto other = (owner + 1) % size;
  // The stream's sink lives on `other`; the tenant's actor on `owner`.
  event_reader events{*nodes[other]->events, "contoso"};
  ASSERT_TRUE(submit(owner, "contoso", "e1").ok());
  auto offered = events.wait_for(v1::EVENT_TYPE_CALL_OFFERED, "e1");
  ASSERT_TRUE(offered);
  EXPECT_EQ(offered->call().offer().agent_id(), "ann");

  // Resuming after the agent's events, on the third node, starts with the
  // call's.
  auto last_agent_event = offered->sequence() - 2; // before QUEUED, OFFERED
  event_reader resumed{*nodes[(owner + 2) % size]->events, "contoso",
                       last_agent_event};
  auto all = resumed.wait_for_count(2);
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[0].sequence(), last_agent_event + 1);
  EXPECT_EQ(all[0].type(), v1::EVENT_TYPE_CALL_QUEUED);
  EXPECT_EQ(all[1].type(), v1::EVENT_TYPE_CALL_OFFERED);
}

TEST_F(cluster_test, a_killed_node_fails_only_its_tenants_fast_and_returns) {
  std::vector<std::string> tenants;
  for (int i = 0; i < 9; ++i) {
    tenants.push_back("tenant-" + std::to_string(i));
    make_tenant(tenants.back(), static_cast<size_t>(i));
  }
  auto victim = index_of(owner_of("tenant-0"));
  auto survivor = (victim + 1) % size;
  std::set<std::string> lost_tenants;
  for (auto& t : tenants)
    if (owner_of(t) == names[victim])
      lost_tenants.insert(t);

  // Traffic through the survivors while the victim dies.
  traffic tr;
  std::vector<size_t> survivors;
  for (size_t i = 0; i < size; ++i)
    if (i != victim)
      survivors.push_back(i);
  drive(tr, tenants, survivors);
  std::this_thread::sleep_for(500ms);
  nodes[victim]->kill();
  std::this_thread::sleep_for(2s);
  tr.stop();
  std::cout << "under the kill: " << tr.acknowledged_calls()
            << " calls acknowledged, " << tr.count(tr.unavailable)
            << " UNAVAILABLE for the " << lost_tenants.size() << " tenants of "
            << names[victim] << "\n";

  // Only the victim's tenants failed, and only with UNAVAILABLE, which
  // came at once: a hung request would have ended DEADLINE_EXCEEDED.
  EXPECT_TRUE(tr.other_errors.empty()) << tr.other_errors.begin()->first;
  for (auto& t : tenants) {
    if (lost_tenants.count(t) > 0) {
      EXPECT_GT(tr.unavailable[t], 0u) << t;
    } else {
      EXPECT_EQ(tr.unavailable[t], 0u) << t;
      EXPECT_GT(tr.acknowledged[t].size(), 0u) << t;
    }
  }
  v1::CallView c;
  auto st = get_call(survivor, "tenant-0", "x", c);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_message().find("is served by node '" + names[victim]
                                    + "', which is down"),
            std::string::npos)
    << st.error_message();
  auto seen = members(survivor);
  for (auto& m : seen)
    EXPECT_EQ(m.up(), m.name() != names[victim]) << m.name();

  // Back from its own store: every acknowledged call of its tenants is
  // there, readable from any node.
  start(victim);
  for (size_t i = 0; i < size; ++i)
    wait_until_all_up(i);
  for (auto& t : lost_tenants)
    for (auto& id : tr.acknowledged[t]) {
      auto read = get_call(survivor, t, id, c);
      ASSERT_TRUE(read.ok()) << t << "/" << id << ": " << read.error_message();
      EXPECT_TRUE(c.state() == v1::CALL_STATE_OFFERED
                  || c.state() == v1::CALL_STATE_QUEUED)
        << t << "/" << id << " came back " << v1::CallState_Name(c.state());
    }
  EXPECT_TRUE(submit(survivor, "tenant-0", "after-restart").ok());
}

TEST_F(cluster_test, every_node_stops_cleanly_on_sigterm_and_keeps_its_data) {
  std::vector<std::string> tenants;
  std::map<std::string, std::vector<std::string>> ended;
  std::map<std::string, std::set<std::string>> live;
  for (int i = 0; i < 9; ++i) {
    auto t = "tenant-" + std::to_string(i);
    tenants.push_back(t);
    make_tenant(t, static_cast<size_t>(i));
    for (size_t k = 0; k < 6; ++k) {
      auto id = "c" + std::to_string(k);
      ASSERT_TRUE(submit(k % size, t, id).ok()) << t << "/" << id;
      if (k % 2 == 0) {
        ASSERT_TRUE(cancel((k + 1) % size, t, id).ok()) << t << "/" << id;
        ended[t].push_back(id);
      } else {
        live[t].insert(id);
      }
    }
  }
  {
    // Streams whose sink is on another node than the tenant's actor, and
    // traffic through every node, while the nodes stop one by one.
    std::vector<std::unique_ptr<event_reader>> readers;
    for (size_t i = 0; i < size; ++i)
      readers.push_back(std::make_unique<event_reader>(
        *nodes[(index_of(owner_of(tenants[i])) + 1) % size]->events,
        tenants[i]));
    traffic tr;
    drive(tr, tenants, {0, 1, 2});
    std::this_thread::sleep_for(300ms);
    std::vector<int> statuses;
    for (size_t i = 0; i < size; ++i) {
      if (i == size - 1)
        tr.stop();
      auto status = nodes[i]->terminate();
      EXPECT_EQ(status, 0) << names[i] << " exited with " << status;
      std::this_thread::sleep_for(200ms);
    }
    tr.stop();
    for (auto& [t, ids] : tr.acknowledged)
      live[t].insert(ids.begin(), ids.end());
  }

  // Back from their stores: every acknowledged call, live or ended, is
  // there through every node.
  for (size_t i = 0; i < size; ++i)
    start(i);
  for (size_t i = 0; i < size; ++i)
    wait_until_all_up(i);
  for (auto& t : tenants) {
    for (size_t via = 0; via < size; ++via)
      EXPECT_EQ(history(via, t), ended[t]) << t << " via " << names[via];
    size_t k = 0;
    for (auto& id : live[t]) {
      v1::CallView c;
      auto st = get_call(k++ % size, t, id, c);
      ASSERT_TRUE(st.ok()) << t << "/" << id << ": " << st.error_message();
      EXPECT_TRUE(c.state() == v1::CALL_STATE_OFFERED
                  || c.state() == v1::CALL_STATE_QUEUED)
        << t << "/" << id << " came back " << v1::CallState_Name(c.state());
    }
    EXPECT_TRUE(submit(0, t, "after-restart").ok()) << t;
  }
}

TEST_F(cluster_test, a_node_that_is_down_is_not_removed_and_its_tenants_wait) {
  std::vector<std::string> tenants;
  for (int i = 0; i < 9; ++i) {
    tenants.push_back("tenant-" + std::to_string(i));
    make_tenant(tenants.back(), static_cast<size_t>(i));
    ASSERT_TRUE(submit(0, tenants.back(), "c1").ok());
  }
  std::set<std::string> on_2;
  for (auto& t : tenants)
    if (owner_of(t) == names[2])
      on_2.insert(t);
  ASSERT_FALSE(on_2.empty());
  nodes[2]->kill();
  // Seen down by both others (slow under the sanitizers and a busy
  // machine; the checks below depend on it).
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline
         && (members(0)[2].up() || members(1)[2].up()))
    std::this_thread::sleep_for(50ms);
  ASSERT_FALSE(members(0)[2].up()) << names[0] << " still sees it up";
  ASSERT_FALSE(members(1)[2].up()) << names[1] << " still sees it up";

  // Its tenants' data is on its volume: removing it is refused, saying
  // why and what to do, through either node.
  for (size_t via = 0; via < 2; ++via) {
    v1::RemoveMemberRequest req;
    req.set_name(names[2]);
    v1::RemoveMemberResponse out;
    auto st = clusters[via]->RemoveMember(ctx().get(), req, &out);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << st.error_message();
    EXPECT_NE(st.error_message().find("'" + names[2] + "' is down"),
              std::string::npos)
      << st.error_message();
    EXPECT_NE(st.error_message().find("Start it again"), std::string::npos)
      << st.error_message();
  }
  // ... and its tenants are unavailable, never missing; nor can they be
  // created again elsewhere.
  for (auto& t : on_2)
    for (size_t via = 0; via < 2; ++via) {
      v1::CallView c;
      auto st = get_call(via, t, "c1", c);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
        << t << " via " << names[via] << ": " << st.error_message();
      EXPECT_NE(st.error_message().find("node '" + names[2] + "'"),
                std::string::npos)
        << st.error_message();
      v1::UpsertTenantRequest again;
      again.mutable_tenant()->set_tenant_id(t);
      v1::Tenant out;
      st = nodes[via]->admin->UpsertTenant(ctx().get(), again, &out);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
        << t << " via " << names[via] << ": " << st.error_message();
    }
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(members(i).size(), size);

  // Back, it is removed and hands its tenants over with their calls.
  start(2);
  for (size_t i = 0; i < size; ++i)
    wait_until_all_up(i);
  v1::RemoveMemberRequest req;
  req.set_name(names[2]);
  v1::RemoveMemberResponse out;
  auto st = clusters[0]->RemoveMember(ctx().get(), req, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline
         && members(2)[0].tenants() > 0)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(members(2)[0].tenants(), 0u);
  nodes[2]->kill();
  for (auto& t : tenants) {
    v1::CallView c;
    auto read = get_call(1, t, "c1", c);
    ASSERT_TRUE(read.ok()) << t << ": " << read.error_message();
    EXPECT_EQ(c.state(), v1::CALL_STATE_OFFERED) << t;
  }
}

TEST_F(cluster_test, a_peer_without_the_clusters_certificate_cannot_join) {
  ASSERT_EQ(json_field(nodes[0]->serving, "cluster_tls"), "on");
  // One without a certificate (anonymous ciphers), one with a certificate
  // of another authority: each dials every member and is refused.
  temp_dir elsewhere;
  test_authority stranger_ca{elsewhere.path(), "stranger-ca"};
  ASSERT_TRUE(stranger_ca.ok());
  ASSERT_TRUE(stranger_ca.sign(names[3]));
  for (auto security :
       {std::vector<std::string>{"--cluster-allow-insecure", "true"},
        std::vector<std::string>{
          "--cluster-tls-certificate", elsewhere / (names[3] + ".pem"),
          "--cluster-tls-private-key", elsewhere / (names[3] + ".key"),
          "--cluster-tls-ca", stranger_ca.certificate()}}) {
    nodes[3] = std::make_unique<node>(dirs[3], flags_of(3, size + 1, security));
    clusters[3] = v1::ClusterService::NewStub(grpc::CreateChannel(
      nodes[3]->address, grpc::InsecureChannelCredentials()));
    // It keeps failing to connect to each member, and no member lists it.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    bool refused_everywhere = false;
    while (!refused_everywhere && std::chrono::steady_clock::now() < deadline) {
      size_t refused = 0;
      for (auto& m : members(3))
        refused += !m.self() && !m.up() && !m.last_error().empty() ? 1 : 0;
      refused_everywhere = refused == size;
      if (!refused_everywhere)
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(refused_everywhere)
      << "a node without the cluster's certificate reached a member";
    for (size_t i = 0; i < size; ++i)
      for (auto& m : members(i))
        EXPECT_NE(m.name(), names[3]) << names[i] << " let it join";
    nodes[3]->terminate();
    nodes[3].reset();
  }
  // The members still see each other.
  for (size_t i = 0; i < size; ++i)
    wait_until_all_up(i);
}

TEST_F(cluster_test, a_fourth_node_takes_its_tenants_with_their_state) {
  // Each tenant: ann (one chat at a time) on c1, c2 and c3 waiting.
  std::vector<std::string> tenants;
  std::map<std::string, v1::CallView> waiting;
  for (int i = 0; i < 30; ++i) {
    auto id = "tenant-" + std::to_string(i);
    tenants.push_back(id);
    make_tenant(id, static_cast<size_t>(i), 1);
    v1::CallView c1;
    ASSERT_TRUE(submit(0, id, "c1", &c1).ok());
    ASSERT_EQ(c1.state(), v1::CALL_STATE_OFFERED) << id;
    v1::AcceptOfferRequest acc;
    acc.set_tenant_id(id);
    acc.set_call_id("c1");
    acc.set_agent_id("ann");
    acc.set_offer_id(c1.offer().offer_id());
    v1::CallView accepted;
    ASSERT_TRUE(
      nodes[1]->routing->AcceptOffer(ctx().get(), acc, &accepted).ok());
    ASSERT_TRUE(submit(1, id, "c2", &waiting[id]).ok());
    ASSERT_TRUE(submit(2, id, "c3").ok());
    ASSERT_EQ(waiting[id].state(), v1::CALL_STATE_QUEUED) << id;
  }

  // router-3 starts knowing all four; the others learn of it when it
  // connects, and hand over the tenants it now owns.
  start(3, room);
  std::set<std::string> movers;
  for (auto& t : tenants)
    if (owner_of(t, 3) == names[3])
      movers.insert(t);
  ASSERT_FALSE(movers.empty());
  ASSERT_LT(movers.size(), tenants.size());
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto seen = members(3);
    if (!seen.empty() && seen[0].tenants() == movers.size())
      break;
    std::this_thread::sleep_for(50ms);
  }
  for (size_t i = 0; i < room; ++i)
    wait_until_all_up(i, room);
  // Each node's view of the others' tenants settles as their moves'
  // announcements arrive.
  for (size_t i = 0; i < room; ++i) {
    auto settled = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < settled) {
      size_t total = 0;
      for (auto& m : members(i))
        total += m.tenants();
      if (total == tenants.size())
        break;
      std::this_thread::sleep_for(50ms);
    }
  }

  // Every node agrees on the owner, and each tenant runs in one place.
  for (size_t i = 0; i < room; ++i) {
    size_t total = 0;
    for (auto& m : members(i)) {
      total += m.tenants();
      if (m.name() == names[3]) {
        EXPECT_EQ(m.tenants(), movers.size()) << "as " << names[i] << " sees";
      }
    }
    EXPECT_EQ(total, tenants.size()) << "as " << names[i] << " sees";
    for (auto& t : tenants)
      EXPECT_EQ(owner_of(t, i), owner_of(t, 3)) << t;
  }

  // The state came along: the answered call, the line in its order with
  // its original times, the agent's load; and routing goes on there.
  for (size_t k = 0; k < tenants.size(); ++k) {
    auto& t = tenants[k];
    auto via = k % room;
    v1::CallView c;
    ASSERT_TRUE(get_call(via, t, "c1", c).ok()) << t;
    EXPECT_EQ(c.state(), v1::CALL_STATE_ASSIGNED) << t;
    EXPECT_EQ(c.agent_id(), "ann") << t;
    ASSERT_TRUE(get_call(via, t, "c2", c).ok()) << t;
    EXPECT_EQ(c.state(), v1::CALL_STATE_QUEUED) << t;
    EXPECT_EQ(c.position(), 1u) << t;
    EXPECT_EQ(c.enqueued_at(), waiting[t].enqueued_at()) << t;
    ASSERT_TRUE(get_call(via, t, "c3", c).ok()) << t;
    EXPECT_EQ(c.position(), 2u) << t;
    // One chat at a time: c2 waits for c1 to end, then goes to ann.
    v1::CompleteCallRequest done;
    done.set_tenant_id(t);
    done.set_call_id("c1");
    ASSERT_TRUE(nodes[(via + 1) % room]
                  ->routing->CompleteCall(ctx().get(), done, &c)
                  .ok())
      << t;
    v1::EndWrapUpRequest end;
    end.set_tenant_id(t);
    end.set_agent_id("ann");
    v1::AgentView ann;
    ASSERT_TRUE(
      nodes[(via + 2) % room]->routing->EndWrapUp(ctx().get(), end, &ann).ok())
      << t;
    ASSERT_TRUE(get_call(via, t, "c2", c).ok()) << t;
    EXPECT_EQ(c.state(), v1::CALL_STATE_OFFERED) << t;
    EXPECT_EQ(c.offer().agent_id(), "ann") << t;
    // A repeated submit of a moved call is still recognised.
    v1::CallView again;
    ASSERT_TRUE(submit(via, t, "c3", &again).ok()) << t;
    EXPECT_EQ(again.position(), 1u) << t;
  }
  // Each move is counted once, by the node it left, with its pause.
  double moves = 0, paused_s = 0;
  auto value = [](const std::string& text, const std::string& name) {
    auto at = text.find("\n" + name + " ");
    return at == std::string::npos
             ? 0.0
             : std::stod(text.substr(at + name.size() + 2));
  };
  for (size_t i = 0; i < room; ++i) {
    auto text = http_get(nodes[i]->metrics_port, "/metrics");
    moves += value(text, "switchboard_tenant_moves_total");
    paused_s += value(text, "switchboard_tenant_move_pause_seconds_sum");
  }
  EXPECT_EQ(moves, static_cast<double>(movers.size()));
  std::cout << movers.size() << " of " << tenants.size() << " tenants moved to "
            << names[3] << ", each paused "
            << paused_s * 1000 / std::max(1.0, moves) << " ms on average\n";
}

TEST_F(cluster_test, requests_refused_during_a_move_say_the_tenant_moves) {
  // Rendezvous hashing puts tenant-9 on router-1 among three nodes and on
  // router-3 once it joins.
  const std::vector<std::string> moving{"tenant-9"};
  const auto& t = moving.front();
  make_tenant(t, 0);
  ASSERT_EQ(owner_of(t), names[1]);
  // Some megabytes of records, so that its pause is long enough for the
  // traffic to meet it.
  for (size_t i = 0; i < 200; ++i) {
    auto id = "big" + std::to_string(1000 + i);
    v1::SubmitCallRequest req;
    req.mutable_call()->set_tenant_id(t);
    req.mutable_call()->set_call_id(id);
    req.mutable_call()->set_queue_id("sales");
    req.mutable_call()->set_channel(v1::CHANNEL_CHAT);
    for (int k = 0; k < 16; ++k)
      (*req.mutable_call()->mutable_attributes())["field" + std::to_string(k)]
        = std::string(256, static_cast<char>('a' + k));
    v1::SubmitCallResponse resp;
    ASSERT_TRUE(
      nodes[i % size]->routing->SubmitCall(ctx().get(), req, &resp).ok())
      << id;
    ASSERT_TRUE(cancel((i + 1) % size, t, id).ok()) << id;
  }

  traffic tr;
  drive(tr, moving, {0, 1, 2, 0, 1, 2});
  std::this_thread::sleep_for(200ms);
  start(3, room);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline
         && members(3)[0].tenants() < 1)
    std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(200ms);
  tr.stop();
  ASSERT_EQ(owner_of(t, 3), names[3]);
  ASSERT_EQ(members(3)[0].tenants(), 1u);

  // No node went down: every refusal says the tenant is moving, from
  // where, and to retry.
  EXPECT_TRUE(tr.other_errors.empty()) << tr.other_errors.begin()->first;
  for (auto& [message, n] : tr.unavailable_messages) {
    EXPECT_EQ(message.rfind("tenant '" + t + "' is moving from node '"
                              + names[1] + "' to ",
                            0),
              0u)
      << message;
    EXPECT_NE(message.find("retry"), std::string::npos) << message;
  }
  // Its pause, with megabytes to hand over, meets hundreds of submits.
  EXPECT_GT(tr.count(tr.unavailable), 0u);
  std::cout << tr.count(tr.unavailable) << " of "
            << tr.count(tr.unavailable) + tr.acknowledged_calls()
            << " submits refused while " << t << " moved:\n";
  for (auto& [message, n] : tr.unavailable_messages)
    std::cout << "  " << n << " x " << message << "\n";
}

TEST_F(cluster_test, a_removed_node_hands_over_its_tenants_before_it_stops) {
  std::vector<std::string> tenants;
  for (int i = 0; i < 12; ++i) {
    tenants.push_back("tenant-" + std::to_string(i));
    make_tenant(tenants.back(), static_cast<size_t>(i), 1);
    ASSERT_TRUE(submit(0, tenants.back(), "c1").ok());
    ASSERT_TRUE(submit(0, tenants.back(), "c2").ok());
  }
  size_t on_2 = 0;
  for (auto& t : tenants)
    on_2 += owner_of(t) == names[2] ? 1 : 0;
  ASSERT_GT(on_2, 0u);

  v1::RemoveMemberRequest bad;
  bad.set_name("router-9");
  v1::RemoveMemberResponse out;
  auto st = clusters[0]->RemoveMember(ctx().get(), bad, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(),
            "name: 'router-9' is not a member of the cluster");

  v1::RemoveMemberRequest req;
  req.set_name(names[2]);
  ASSERT_TRUE(clusters[0]->RemoveMember(ctx().get(), req, &out).ok());
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline
         && members(2)[0].tenants() > 0)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(members(2)[0].tenants(), 0u);
  for (auto& t : tenants)
    for (size_t i = 0; i < size; ++i)
      EXPECT_NE(owner_of(t, i), names[2]) << t;

  // Stopped for good: every tenant still answers, with its calls.
  nodes[2]->kill();
  for (auto& t : tenants) {
    v1::CallView c;
    auto read = get_call(1, t, "c1", c);
    ASSERT_TRUE(read.ok()) << t << ": " << read.error_message();
    EXPECT_EQ(c.state(), v1::CALL_STATE_OFFERED) << t;
    ASSERT_TRUE(get_call(0, t, "c2", c).ok()) << t;
    EXPECT_EQ(c.state(), v1::CALL_STATE_QUEUED) << t;
    EXPECT_TRUE(submit(1, t, "c3").ok()) << t;
  }
  // Once it is gone the others stop showing it.
  deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline
         && members(0).size() == size)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(members(0).size(), size - 1);
}

TEST_F(cluster_test, tenants_move_under_traffic_without_losing_a_call) {
  std::vector<std::string> tenants;
  for (int i = 0; i < 30; ++i) {
    tenants.push_back("tenant-" + std::to_string(i));
    make_tenant(tenants.back(), static_cast<size_t>(i), 3);
  }

  traffic tr;
  drive(tr, tenants, {0, 1, 2});
  std::this_thread::sleep_for(300ms);
  start(3, room);
  std::set<std::string> movers;
  for (auto& t : tenants)
    if (owner_of(t, 3) == names[3])
      movers.insert(t);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline
         && members(3)[0].tenants() < movers.size())
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(300ms);
  tr.stop();
  ASSERT_EQ(members(3)[0].tenants(), movers.size());

  // Refusals only for moving tenants, as UNAVAILABLE, while they paused,
  // saying so: no node went down.
  EXPECT_TRUE(tr.other_errors.empty()) << tr.other_errors.begin()->first;
  for (auto& [t, n] : tr.unavailable)
    EXPECT_EQ(movers.count(t), 1u) << t << " was refused " << n << " times";
  for (auto& [message, n] : tr.unavailable_messages) {
    EXPECT_NE(message.find("is moving"), std::string::npos) << message;
    EXPECT_EQ(message.find("went down"), std::string::npos) << message;
  }

  // Every acknowledged call is there once, wherever its tenant now runs;
  // ann never holds more than her three chats.
  size_t calls = 0;
  for (auto& t : tenants) {
    v1::ListCallsRequest req;
    req.set_tenant_id(t);
    req.set_page_size(1000);
    v1::ListCallsResponse resp;
    auto st = nodes[0]->routing->ListCalls(ctx().get(), req, &resp);
    ASSERT_TRUE(st.ok()) << t << ": " << st.error_message();
    ASSERT_TRUE(resp.next_page_token().empty()) << t;
    std::set<std::string> live;
    size_t offered = 0;
    for (auto& c : resp.calls()) {
      EXPECT_TRUE(live.insert(c.call().call_id()).second)
        << t << "/" << c.call().call_id() << " twice";
      offered += c.state() == v1::CALL_STATE_OFFERED ? 1 : 0;
    }
    EXPECT_EQ(live, tr.acknowledged[t]) << t;
    EXPECT_EQ(offered, 3u) << t;
    v1::GetAgentRequest get;
    get.set_tenant_id(t);
    get.set_agent_id("ann");
    v1::AgentView ann;
    ASSERT_TRUE(nodes[1]->admin->GetAgent(ctx().get(), get, &ann).ok());
    for (auto& l : ann.state().load())
      EXPECT_LE(l.items(), 3u) << t;
    calls += live.size();
  }
  std::cout << calls << " calls acknowledged while " << movers.size()
            << " tenants moved; " << tr.count(tr.unavailable)
            << " submits refused UNAVAILABLE during their pauses\n";
}
