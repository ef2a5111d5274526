#include "nodes/sbc_gateway/call_fsm.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace switchboard::sbc;
using a = call_action;
using e = call_event;
using s = call_state;

namespace {

std::vector<call_action> actions(call_state st, call_event ev) {
  return transition(st, ev).actions;
}

} // namespace

TEST(call_fsm, an_admitted_invite_is_submitted_and_rings_once_queued) {
  auto step = transition(s::submitting, e::invite);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::submit_call});
  EXPECT_EQ(step.next, s::submitting);
  // Ringback, and the hold media server when one is configured.
  step = transition(s::submitting, e::submitted);
  EXPECT_EQ(step.actions,
            (std::vector<call_action>{a::send_ringing, a::hold_caller}));
  EXPECT_EQ(step.next, s::waiting);
}

TEST(call_fsm, a_refused_submit_ends_the_caller_with_a_final_response) {
  auto step = transition(s::submitting, e::submit_refused);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::refuse_caller});
  EXPECT_EQ(step.next, s::ended);
}

TEST(call_fsm, an_offer_rings_the_agent_after_looking_up_its_uri) {
  EXPECT_EQ(transition(s::waiting, e::offered).next, s::looking_up);
  EXPECT_EQ(actions(s::waiting, e::offered),
            std::vector<call_action>{a::lookup_agent});
  auto step = transition(s::looking_up, e::agent_found);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::invite_agent});
  EXPECT_EQ(step.next, s::ringing);
}

TEST(call_fsm, an_offer_before_the_submit_answer_is_taken_and_rings_later) {
  EXPECT_EQ(transition(s::submitting, e::offered).next, s::looking_up);
  auto step = transition(s::ringing, e::submitted);
  EXPECT_EQ(step.next, s::ringing);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::send_ringing});
}

TEST(call_fsm, the_agents_answer_is_accepted_then_the_caller_answered) {
  auto step = transition(s::ringing, e::agent_answered);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::accept_offer});
  EXPECT_EQ(step.next, s::accepting);
  step = transition(s::accepting, e::accepted);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::answer_caller});
  EXPECT_EQ(step.next, s::talking);
}

TEST(call_fsm, an_accept_the_engine_refuses_hangs_up_on_the_agent) {
  auto step = transition(s::accepting, e::accept_refused);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::bye_agent});
  EXPECT_EQ(step.next, s::waiting);
}

TEST(call_fsm, a_busy_or_declining_agent_declines_the_offer) {
  auto step = transition(s::ringing, e::agent_declined);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::decline_offer});
  EXPECT_EQ(step.next, s::waiting);
}

TEST(call_fsm, other_agent_failures_wait_for_the_engines_expiry) {
  auto step = transition(s::ringing, e::agent_failed);
  EXPECT_TRUE(step.actions.empty());
  EXPECT_EQ(step.next, s::ringing);
  step = transition(s::ringing, e::offer_closed);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::cancel_agent});
  EXPECT_EQ(step.next, s::waiting);
}

TEST(call_fsm, a_caller_who_hangs_up_before_the_answer_is_cancelled) {
  for (auto st : {s::submitting, s::waiting, s::looking_up}) {
    auto step = transition(st, e::caller_cancel);
    EXPECT_EQ(step.actions, std::vector<call_action>{a::cancel_call})
      << to_string(st);
    EXPECT_EQ(step.next, s::ended);
  }
  auto step = transition(s::ringing, e::caller_cancel);
  EXPECT_EQ(step.actions,
            (std::vector<call_action>{a::cancel_call, a::cancel_agent}));
  EXPECT_EQ(step.next, s::ended);
}

TEST(call_fsm, a_bye_from_either_side_ends_the_other_and_completes) {
  auto step = transition(s::talking, e::caller_bye);
  EXPECT_EQ(step.actions,
            (std::vector<call_action>{a::bye_agent, a::complete_call}));
  EXPECT_EQ(step.next, s::ended);
  step = transition(s::talking, e::agent_bye);
  EXPECT_EQ(step.actions,
            (std::vector<call_action>{a::bye_caller, a::complete_call}));
  EXPECT_EQ(step.next, s::ended);
}

TEST(call_fsm, the_engine_ending_a_waiting_call_ends_the_caller) {
  auto step = transition(s::waiting, e::engine_ended);
  EXPECT_EQ(step.actions, std::vector<call_action>{a::end_caller});
  step = transition(s::ringing, e::engine_ended);
  EXPECT_EQ(step.actions,
            (std::vector<call_action>{a::cancel_agent, a::end_caller}));
}

TEST(call_fsm, an_ended_call_takes_no_event) {
  for (int i = 0; i <= static_cast<int>(e::outside_bye); ++i)
    EXPECT_FALSE(transition(s::ended, static_cast<call_event>(i)).handled)
      << to_string(static_cast<call_event>(i));
}

TEST(call_fsm, events_that_mean_nothing_in_a_state_change_nothing) {
  auto step = transition(s::waiting, e::agent_answered);
  EXPECT_FALSE(step.handled);
  EXPECT_EQ(step.next, s::waiting);
  EXPECT_TRUE(step.actions.empty());
}

TEST(call_ids, a_valid_call_id_is_kept_and_others_are_hashed_stably) {
  EXPECT_EQ(engine_call_id("1-2345@127.0.0.1"), "1-2345@127.0.0.1");
  auto odd = engine_call_id("has space");
  EXPECT_EQ(odd.rfind("sip-", 0), 0u);
  EXPECT_EQ(odd, engine_call_id("has space"));
  EXPECT_NE(odd, engine_call_id("has  space"));
  EXPECT_EQ(engine_call_id(std::string(300, 'a')).size(), 20u);
}

TEST(call_ids, command_event_ids_are_derived_from_the_call_and_command) {
  EXPECT_EQ(command_event_id("c1", "submit"), "sbc/c1/submit");
  EXPECT_EQ(command_event_id("c1", "accept/o9"), "sbc/c1/accept/o9");
  auto long_id = command_event_id(std::string(250, 'x'), "complete");
  EXPECT_LE(long_id.size(), 256u);
  EXPECT_EQ(long_id, command_event_id(std::string(250, 'x'), "complete"));
  EXPECT_NE(long_id, command_event_id(std::string(250, 'x'), "cancel"));
}

TEST(call_ids, engine_refusals_map_to_sip_final_responses) {
  EXPECT_EQ(refusal_for(5).status, 404);
  EXPECT_EQ(refusal_for(9).status, 404);
  EXPECT_EQ(refusal_for(8).status, 486);
  EXPECT_EQ(refusal_for(14).status, 503);
  EXPECT_TRUE(refusal_for(14).retry_after);
  EXPECT_EQ(refusal_for(13).status, 500);
}

TEST(call_fsm, a_refer_to_a_known_target_re_queues_with_the_caller_on_line) {
  auto refer = transition(s::talking, e::refer);
  EXPECT_EQ(refer.next, s::transferring);
  EXPECT_EQ(refer.actions, std::vector<a>{a::transfer_call});
  auto moved = transition(s::transferring, e::transferred);
  EXPECT_EQ(moved.next, s::waiting);
  EXPECT_EQ(moved.actions, (std::vector<a>{a::notify_transfer_ok, a::bye_agent,
                                           a::hold_caller}));
  // The agent may hang up right after its REFER: the transfer goes on.
  EXPECT_EQ(transition(s::transferring, e::agent_bye).next, s::transferring);
}

TEST(call_fsm, a_refer_to_an_unknown_target_goes_outside) {
  auto unknown = transition(s::transferring, e::transfer_unknown);
  EXPECT_EQ(unknown.next, s::referring);
  EXPECT_EQ(unknown.actions, std::vector<a>{a::invite_outside});
  auto answered = transition(s::referring, e::outside_answered);
  EXPECT_EQ(answered.next, s::outside);
  EXPECT_EQ(answered.actions,
            (std::vector<a>{a::bridge_outside, a::notify_transfer_ok,
                            a::bye_agent, a::complete_call}));
  EXPECT_EQ(transition(s::referring, e::outside_failed).next, s::talking);
  EXPECT_EQ(transition(s::referring, e::outside_failed_alone).next, s::ended);
  EXPECT_EQ(transition(s::outside, e::outside_bye).actions,
            std::vector<a>{a::bye_caller});
  EXPECT_EQ(transition(s::outside, e::caller_bye).actions,
            std::vector<a>{a::bye_outside});
}

TEST(call_fsm, a_transfer_from_the_api_releases_the_agent_in_any_state) {
  EXPECT_EQ(transition(s::talking, e::transferred).actions,
            (std::vector<a>{a::bye_agent, a::hold_caller}));
  EXPECT_EQ(transition(s::ringing, e::transferred).actions,
            std::vector<a>{a::cancel_agent});
  for (auto state : {s::talking, s::ringing, s::accepting, s::looking_up})
    EXPECT_EQ(transition(state, e::transferred).next, s::waiting)
      << to_string(state);
}

TEST(refer_to, an_e164_user_part_is_the_number) {
  auto t = parse_refer_to("<sip:+14255550199@sbc.example.net;user=phone>");
  EXPECT_EQ(t.number, "+14255550199");
  EXPECT_EQ(t.teams_user_id, "");
  EXPECT_EQ(t.uri, "sip:+14255550199@sbc.example.net;user=phone");
}

TEST(refer_to, teams_x_m_parameters_name_a_user_or_a_number) {
  auto user = parse_refer_to(
    "<sip:sip.pstnhub.microsoft.com;x-m=8:orgid:6a1b2c3d-0000-4000-8000-"
    "000000000001;x-t=11111111-2222-3333-4444-555555555555>");
  EXPECT_EQ(user.teams_user_id, "6a1b2c3d-0000-4000-8000-000000000001");
  EXPECT_EQ(user.number, "");
  auto pstn = parse_refer_to(
    "<sip:sip.pstnhub.microsoft.com;x-m=+14255550123;x-t=t1?Replaces=x>");
  EXPECT_EQ(pstn.number, "+14255550123");
  EXPECT_EQ(pstn.uri, "sip:sip.pstnhub.microsoft.com;x-m=+14255550123;x-t=t1");
}

TEST(refer_to, other_targets_are_only_an_address) {
  auto t = parse_refer_to("\"Desk\" <sip:desk@pbx.example.net>");
  EXPECT_EQ(t.number, "");
  EXPECT_EQ(t.teams_user_id, "");
  EXPECT_EQ(t.uri, "sip:desk@pbx.example.net");
  EXPECT_EQ(parse_refer_to("sip:+1abc@h").number, "");
  EXPECT_EQ(parse_refer_to("tel:+14255550100").number, "+14255550100");
  EXPECT_EQ(parse_refer_to("").uri, "");
}

TEST(call_ids, engine_endings_map_to_sip_final_responses) {
  EXPECT_EQ(ending_for("queue_full").status, 486);
  EXPECT_EQ(ending_for("closed").status, 480);
  EXPECT_EQ(ending_for("max_wait").status, 480);
  EXPECT_EQ(ending_for("EVENT_TYPE_CALL_CANCELLED").status, 480);
}

TEST(call_fsm, the_hold_media_server_answers_a_waiting_caller_until_the_agent) {
  for (auto state :
       {s::submitting, s::waiting, s::looking_up, s::ringing, s::accepting}) {
    auto up = transition(state, e::media_answered);
    EXPECT_EQ(up.actions, std::vector<a>{a::connect_media}) << to_string(state);
    EXPECT_EQ(up.next, state);
    // A media server that fails leaves the caller to ringback.
    auto down = transition(state, e::media_failed);
    EXPECT_EQ(down.actions, std::vector<a>{a::send_ringing})
      << to_string(state);
    EXPECT_EQ(down.next, state);
  }
  // Once the agent talks, a late answer from it changes nothing.
  EXPECT_FALSE(transition(s::talking, e::media_answered).handled);
}

TEST(call_fsm, an_ending_with_an_announcement_plays_it_then_hangs_up) {
  auto waiting = transition(s::waiting, e::ended_with_announcement);
  EXPECT_EQ(waiting.actions, std::vector<a>{a::announce});
  EXPECT_EQ(waiting.next, s::announcing);
  EXPECT_EQ(transition(s::ringing, e::ended_with_announcement).actions,
            (std::vector<a>{a::cancel_agent, a::announce}));
  EXPECT_EQ(transition(s::announcing, e::announcement_answered).actions,
            std::vector<a>{a::connect_announcement});
  auto done = transition(s::announcing, e::announcement_done);
  EXPECT_EQ(done.actions, std::vector<a>{a::bye_caller});
  EXPECT_EQ(done.next, s::ended);
  // A caller who hangs up meanwhile: the engine has ended the call.
  auto gone = transition(s::announcing, e::caller_cancel);
  EXPECT_TRUE(gone.actions.empty());
  EXPECT_EQ(gone.next, s::ended);
}

TEST(prompts, a_prompt_id_fills_the_announcement_uri_or_nothing) {
  const std::string pattern
    = "sip:annc@ms.example.com;play=https://prompts.example.com/{prompt}.wav";
  EXPECT_EQ(prompt_uri(pattern, "all-busy_2.en"),
            "sip:annc@ms.example.com;play=https://prompts.example.com/"
            "all-busy_2.en.wav");
  // An id that would rewrite the URI is refused, as is none at all.
  for (auto bad : {"", "a;b", "x>y", "a b", "../../x?y=1", "a@b"})
    EXPECT_EQ(prompt_uri(pattern, bad), "") << bad;
  EXPECT_EQ(prompt_uri(pattern, std::string(65, 'a')), "");
  EXPECT_NE(prompt_uri(pattern, std::string(64, 'a')), "");
  EXPECT_EQ(prompt_uri("sip:annc@ms.example.com", "busy"), "");
}

TEST(call_fsm, a_callback_calls_the_customer_once_its_agent_is_accepted) {
  // The agent is rung as for any call; once the engine has the accept,
  // the customer is called, and their answer reaches the agent.
  auto dial = transition(s::accepting, e::callback_accepted);
  EXPECT_EQ(dial.actions, std::vector<a>{a::dial_customer});
  EXPECT_EQ(dial.next, s::dialling);
  auto answered = transition(s::dialling, e::customer_answered);
  EXPECT_EQ(answered.actions, std::vector<a>{a::connect_agent});
  EXPECT_EQ(answered.next, s::talking);
  // From then on the agent's BYE ends it as any call's does.
  EXPECT_EQ(actions(s::talking, e::agent_bye),
            (std::vector<a>{a::bye_caller, a::complete_call}));
}

TEST(call_fsm, a_callback_whose_customer_is_not_reached_ends_and_wraps_up) {
  auto failed = transition(s::dialling, e::customer_failed);
  EXPECT_EQ(failed.actions, (std::vector<a>{a::cancel_customer, a::bye_agent,
                                            a::complete_call}));
  EXPECT_EQ(failed.next, s::ended);
  // The agent gives up while the customer rings.
  EXPECT_EQ(actions(s::dialling, e::agent_bye),
            (std::vector<a>{a::cancel_customer, a::complete_call}));
  EXPECT_EQ(actions(s::dialling, e::engine_ended),
            (std::vector<a>{a::cancel_customer, a::bye_agent}));
  // A late no-answer timer changes nothing once the customer answered.
  EXPECT_FALSE(transition(s::talking, e::customer_failed).handled);
}

TEST(callbacks, the_number_is_taken_from_a_number_or_the_callers_uri) {
  EXPECT_EQ(callback_number("+14255551234"), "+14255551234");
  EXPECT_EQ(callback_number("+1 (425) 555-1234"), "+14255551234");
  EXPECT_EQ(callback_number("sip:+14255551234@contoso.sbc.test;user=phone"),
            "+14255551234");
  EXPECT_EQ(callback_number("SIP:+14255551234;npdi@sbc.test"), "+14255551234");
  EXPECT_EQ(callback_number("tel:+442071234567"), "+442071234567");
  EXPECT_EQ(callback_number("4711"), "4711");
  // Nothing that is not a telephone number, and nothing that would
  // rewrite the URI it is put in.
  for (auto bad : {"", "+", "12", "sip:alice@contoso.test", "+1425;x=y",
                   "+1425>sip:evil", "1+2345", "+123456789012345678901"})
    EXPECT_EQ(callback_number(bad), "") << bad;
}

TEST(callbacks, the_uri_pattern_takes_the_number_and_the_trunk) {
  EXPECT_EQ(callback_uri("sip:{number}@{trunk};user=phone", "+14255551234",
                         "contoso.sbc.test"),
            "sip:+14255551234@contoso.sbc.test;user=phone");
  EXPECT_EQ(callback_uri("sip:{number}@127.0.0.1:5099", "+1425", "x"),
            "sip:+1425@127.0.0.1:5099");
  EXPECT_EQ(callback_uri("sip:{number}@{trunk}", "", "x"), "");
}
