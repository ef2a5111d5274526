// Every published Graph payload of tests/fixtures/graph (see its
// SOURCES.md) read as the gateway reads traffic.

#include "nodes/graph_gateway/notifications.hpp"
#include "nodes/json/json.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace switchboard::graph;
namespace json = switchboard::json;
namespace fs = std::filesystem;

namespace {

const fs::path fixtures{SWITCHBOARD_GRAPH_FIXTURES};

// The published samples that are not strict JSON, as SOURCES.md lists them:
// four with a trailing comma, one with a `//` comment line.
const std::set<std::string> not_strict{
  "call-redirect_incoming-notification_ex1.json",
  "call-redirect_incoming-notification_pstn-app-instance.json",
  "call-redirect_notification_terminated.json",
  "presence_change-notification_basic.json",
  "rich-notification_change-notification_encrypted-chatmessage.json",
};

std::string text_of(const std::string& name) {
  std::ifstream in{fixtures / name};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

boost::json::value sample(const std::string& name) {
  auto r = json::parse(text_of(name), json::syntax::published_sample);
  EXPECT_TRUE(r.value) << name << ": " << r.error;
  return r.value ? *r.value : boost::json::value{};
}

call_notification only_call_notification(const std::string& name) {
  auto r = read_call_notifications(sample(name));
  EXPECT_TRUE(r.error.empty()) << name << ": " << r.error;
  EXPECT_EQ(r.value.size(), 1u) << name;
  return r.value.empty() ? call_notification{} : r.value.front();
}

} // namespace

TEST(graph_fixtures,
     every_sample_is_strict_json_except_the_five_published_otherwise) {
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(fixtures)) {
    if (entry.path().extension() != ".json")
      continue;
    ++files;
    auto name = entry.path().filename().string();
    auto text = text_of(name);
    auto strict = json::parse(text, json::syntax::strict);
    auto tolerant = json::parse(text, json::syntax::published_sample);
    EXPECT_TRUE(tolerant.value) << name << ": " << tolerant.error;
    if (not_strict.count(name) != 0) {
      EXPECT_FALSE(strict.value) << name << " parsed strictly";
      EXPECT_FALSE(strict.error.empty());
    } else {
      EXPECT_TRUE(strict.value) << name << ": " << strict.error;
    }
  }
  EXPECT_EQ(files, 55u);
}

TEST(json_parse, refuses_documents_too_deep_or_too_large) {
  EXPECT_FALSE(
    json::parse(std::string(100, '[') + std::string(100, ']')).value);
  auto big = json::parse("[1,2,3]", json::syntax::strict, 4);
  EXPECT_FALSE(big.value);
  EXPECT_NE(big.error.find("above the limit"), std::string::npos);
}

TEST(call_notifications, an_incoming_peer_to_peer_call) {
  auto n = only_call_notification("call-answer_incoming-notification_p2p.json");
  EXPECT_EQ(n.kind, call_notification::about::call);
  EXPECT_EQ(n.change_type, "created");
  EXPECT_EQ(n.call_id, "57DAB8B1894C409AB240BD8BEAE78896");
  EXPECT_EQ(n.call.state, "incoming");
  EXPECT_EQ(n.call.direction, "incoming");
  ASSERT_TRUE(n.call.source);
  EXPECT_EQ(n.call.source->kind, "user");
  EXPECT_EQ(n.call.source->display_name, "Test User");
  ASSERT_EQ(n.call.targets.size(), 1u);
  EXPECT_EQ(n.call.targets[0].kind, "application");
}

TEST(call_notifications,
     an_incoming_call_to_an_application_instance_with_its_tenant) {
  auto n = only_call_notification(
    "call-redirect_incoming-notification_pstn-app-instance.json");
  EXPECT_EQ(n.call.tenant_id, "632899f8-2ea1-4604-8413-27bd2892079f");
  EXPECT_EQ(n.call.my_participant_id, "c339cede-4bd6-4f20-ab9f-3a13e65f6d00");
  ASSERT_EQ(n.call.targets.size(), 1u);
  EXPECT_EQ(n.call.targets[0].kind, "applicationInstance");
  EXPECT_EQ(n.call.targets[0].id, "7629bdce-046c-4903-86b4-a8f718277e1a");
  EXPECT_EQ(n.call.targets[0].display_name, "PstnAppInstance");
}

TEST(call_notifications, the_incoming_context_and_call_chain_of_a_call) {
  auto n = only_call_notification(
    "call-answer_incoming-notification_policy-recording.json");
  EXPECT_EQ(n.call.call_chain_id, "05f2f70f-3a9c-47c1-80a9-cc79e91d8cec");
  EXPECT_EQ(n.call.observed_participant_id,
            "30fad2ce-8989-41a1-8a66-f6636e629a2a");
  EXPECT_EQ(n.call.source_participant_id,
            "30fad2ce-8989-41a1-8a66-f6636e629a2a");
  EXPECT_EQ(n.call.tenant_id, "932899f8-2ea1-4604-8413-27bd2892079f");
}

TEST(call_notifications, the_states_of_an_answered_and_ended_call) {
  EXPECT_EQ(only_call_notification("call-answer_notification_establishing.json")
              .call.state,
            "establishing");
  EXPECT_EQ(only_call_notification("call-answer_notification_established.json")
              .call.state,
            "established");
  auto ended
    = only_call_notification("call-delete_notification_terminated.json");
  EXPECT_EQ(ended.change_type, "deleted");
  EXPECT_EQ(ended.call.state, "terminated");
  ASSERT_TRUE(ended.call.result);
  EXPECT_EQ(ended.call.result->code, 0); // published as the string "0"
  auto rejected
    = only_call_notification("call-reject_notification_deleted.json");
  EXPECT_EQ(rejected.change_type, "deleted");
  EXPECT_EQ(rejected.call.state, ""); // a reject's deletion carries no state
}

TEST(call_notifications, result_codes_whichever_way_subcode_is_spelled) {
  auto done = only_call_notification(
    "call-transfer_notification_completed-terminated.json");
  ASSERT_TRUE(done.call.result);
  EXPECT_EQ(done.call.result->code, 0);
  EXPECT_EQ(done.call.result->subcode, 7015);
  auto failed = only_call_notification(
    "call-transfer_notification_failed-established.json");
  EXPECT_EQ(failed.call.state, "established");
  ASSERT_TRUE(failed.call.result);
  EXPECT_EQ(failed.call.result->code, 500);
  EXPECT_EQ(failed.call.result->subcode, 7000);
}

TEST(call_notifications, transfer_states) {
  EXPECT_EQ(
    only_call_notification("call-transfer_notification_transferring.json")
      .call.state,
    "transferring");
  EXPECT_EQ(
    only_call_notification("call-transfer_notification_transferAccepted.json")
      .call.state,
    "transferAccepted");
}

TEST(call_notifications, a_dtmf_tone) {
  auto n
    = only_call_notification("call-subscribetotone_notification_tone1.json");
  EXPECT_EQ(n.call.tone, "tone1");
  EXPECT_EQ(n.call.tone_sequence, 1);
}

TEST(call_notifications, operations_with_their_status_context_and_result) {
  auto prompt
    = only_call_notification("call-playprompt_notification_completed.json");
  EXPECT_EQ(prompt.kind, call_notification::about::operation);
  EXPECT_EQ(prompt.call_id, "57DAB8B1894C409AB240BD8BEAE78896");
  EXPECT_EQ(prompt.op.kind, "playPromptOperation");
  EXPECT_EQ(prompt.op.status, "completed");
  EXPECT_EQ(prompt.op.client_context, "d45324c1-fcb5-430a-902c-f20af696537c");
  ASSERT_TRUE(prompt.op.result);
  EXPECT_EQ(prompt.op.result->code, 200);
  auto invite = only_call_notification(
    "participant-invite_notification_single-user-operation-completed.json");
  EXPECT_EQ(invite.op.kind, "inviteParticipantsOperation");
  EXPECT_EQ(invite.op.id, "eec3812a-fdc3-4fb4-825c-a06c9f35414e");
  EXPECT_EQ(invite.op.client_context, "f2fa86af-3c51-4bc2-8fc0-475452d9764f");
}

TEST(call_notifications, roster_updates_of_every_invite_sample) {
  for (const char* name :
       {"participant-invite_notification_single-user-roster-added.json",
        "participant-invite_notification_multiple-roster-added.json",
        "participant-invite_notification_pstn-roster-added.json",
        "participant-invite_notification_replaces-p2p-roster-added.json"}) {
    auto n = only_call_notification(name);
    EXPECT_EQ(n.kind, call_notification::about::participants) << name;
    EXPECT_EQ(
      n.resource_url.rfind("/communications/calls/" + n.call_id + "/", 0), 0u)
      << name;
    EXPECT_FALSE(n.roster.empty()) << name;
    for (const auto& p : n.roster)
      EXPECT_TRUE(p.who) << name;
  }
  auto pstn = only_call_notification(
    "participant-invite_notification_pstn-roster-added.json");
  ASSERT_TRUE(pstn.roster.at(0).who);
  EXPECT_EQ(pstn.roster[0].who->kind, "phone");
  EXPECT_EQ(pstn.roster[0].who->id, "+12345678901");
  EXPECT_EQ(pstn.roster[0].id, ""); // published as null
}

TEST(call_notifications, every_call_notification_sample_is_read) {
  for (const auto& entry : fs::directory_iterator(fixtures)) {
    auto name = entry.path().filename().string();
    bool about_calls
      = name.rfind("call-", 0) == 0 || name.rfind("participant-", 0) == 0;
    if (name.find("_notification_") == std::string::npos || !about_calls)
      continue;
    auto r = read_call_notifications(sample(name));
    EXPECT_TRUE(r.error.empty()) << name << ": " << r.error;
    ASSERT_FALSE(r.value.empty()) << name;
    EXPECT_FALSE(r.value[0].call_id.empty()) << name;
  }
}

TEST(call_notifications, documentation_skeletons_are_refused_with_a_reason) {
  auto one = read_call_notifications(
    sample("commsnotification_resource_json-representation.json"));
  EXPECT_NE(one.error.find("names no call"), std::string::npos) << one.error;
  auto many = read_call_notifications(
    sample("commsnotifications_resource_json-representation.json"));
  EXPECT_NE(many.error.find("names no call"), std::string::npos) << many.error;
  EXPECT_FALSE(read_call_notifications(boost::json::value{1}).error.empty());
}

TEST(change_notifications, an_encrypted_presence_change) {
  auto r = read_change_notifications(
    sample("presence_change-notification_encrypted-resource-data.json"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.value.size(), 1u);
  const auto& n = r.value[0];
  EXPECT_EQ(n.subscription_id, "{Subscription id}");
  EXPECT_EQ(n.client_state, "{secret client state}");
  EXPECT_EQ(n.change_type, "updated");
  EXPECT_EQ(n.resource, "communications/presences/{id}");
  EXPECT_EQ(n.resource_id, "{User Id}");
  ASSERT_TRUE(n.encrypted);
  EXPECT_EQ(n.encrypted->data, "{Encrypted content}");
  EXPECT_EQ(n.encrypted->certificate_id,
            "{User specified id of encryption certificate}");
  EXPECT_EQ(r.validation_tokens,
            std::vector<std::string>{"{Validation Tokens}"});
}

TEST(change_notifications, a_basic_presence_change_with_a_trailing_comma) {
  auto r = read_change_notifications(
    sample("presence_change-notification_basic.json"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.value.size(), 1u);
  EXPECT_FALSE(r.value[0].encrypted);
  EXPECT_EQ(r.value[0].tenant_id, "{Organization/Tenant id}");
}

TEST(change_notifications, a_rich_notification_with_a_comment_line) {
  auto r = read_change_notifications(
    sample("rich-notification_change-notification_encrypted-chatmessage.json"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.value.size(), 1u);
  ASSERT_TRUE(r.value[0].encrypted);
  EXPECT_EQ(r.value[0].encrypted->certificate_thumbprint,
            "07293748CC064953A3052FB978C735FB89E61C3D");
  EXPECT_EQ(r.validation_tokens.size(), 1u);
}

TEST(change_notifications, lifecycle_events) {
  for (auto [name, event] : std::vector<std::pair<std::string, std::string>>{
         {"lifecycle-notification_missed.json", "missed"},
         {"lifecycle-notification_reauthorizationRequired.json",
          "reauthorizationRequired"},
         {"lifecycle-notification_subscriptionRemoved.json",
          "subscriptionRemoved"}}) {
    auto r = read_change_notifications(sample(name));
    ASSERT_TRUE(r.error.empty()) << name << ": " << r.error;
    ASSERT_EQ(r.value.size(), 1u) << name;
    EXPECT_EQ(r.value[0].lifecycle_event, event) << name;
    EXPECT_FALSE(r.value[0].client_state.empty()) << name;
  }
}

TEST(change_notifications, a_notification_without_subscription_is_refused) {
  auto doc = json::parse("{\"value\":[{\"changeType\":\"updated\"}]}");
  EXPECT_NE(read_change_notifications(*doc.value).error.find("subscriptionId"),
            std::string::npos);
}

TEST(presences, the_presences_of_get_presences_by_user_id) {
  auto p = read_presences(
    sample("cloudcommunications-getpresencesbyuserid_response_two-users.json"));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].user_id, "fa8bf3dc-eca7-46b7-bad1-db199b62afc3");
  EXPECT_EQ(p[0].availability, "Busy");
  EXPECT_EQ(p[0].activity, "InAMeeting");
  EXPECT_EQ(p[1].availability, "Away");
  auto one = read_presence(
    sample("presence_change-notification_decrypted-resource-data.json"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->user_id, "{User Id}");
  auto get = read_presence(sample("presence_get-response_user.json"));
  ASSERT_TRUE(get);
  EXPECT_FALSE(get->availability.empty());
}
