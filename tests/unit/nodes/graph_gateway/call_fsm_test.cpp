#include "nodes/graph_gateway/call_fsm.hpp"

#include <gtest/gtest.h>

using namespace switchboard::graph;
using a = call_action;
using e = call_event;
using s = call_state;

namespace {

using actions = std::vector<call_action>;

// Feeds `events` from `state`; the actions of every step, in order. For
// the call's table and its consult leg's alike.
template<class State, class Event>
auto walk(State& state, std::initializer_list<Event> events) {
  decltype(transition(state, *events.begin()).actions) all;
  for (auto ev : events) {
    auto step = transition(state, ev);
    EXPECT_TRUE(step.handled) << to_string(ev) << " in " << to_string(state);
    all.insert(all.end(), step.actions.begin(), step.actions.end());
    state = step.next;
  }
  return all;
}

} // namespace

TEST(graph_call_fsm, an_incoming_call_is_answered_queued_offered_and_talked) {
  auto st = s::answering;
  EXPECT_EQ(walk(st, {e::incoming}), actions{a::answer_call});
  EXPECT_EQ(walk(st, {e::answered, e::established}), actions{a::submit_call});
  EXPECT_EQ(st, s::submitting);
  EXPECT_EQ(walk(st, {e::submitted}),
            (actions{a::play_hold, a::listen_for_tones}));
  EXPECT_EQ(st, s::waiting);
  EXPECT_EQ(walk(st, {e::offered, e::agent_found}),
            (actions{a::lookup_agent, a::invite_agent}));
  EXPECT_EQ(st, s::inviting);
  EXPECT_EQ(walk(st, {e::agent_joined, e::accepted}),
            (actions{a::accept_offer, a::remove_previous_agent}));
  EXPECT_EQ(st, s::talking);
  EXPECT_EQ(walk(st, {e::caller_left}),
            (actions{a::complete_call, a::hang_up}));
  EXPECT_EQ(st, s::ended);
}

TEST(graph_call_fsm, established_before_the_answers_202_is_taken) {
  auto st = s::answering;
  walk(st, {e::incoming});
  EXPECT_EQ(walk(st, {e::established}), actions{a::submit_call});
  EXPECT_EQ(st, s::submitting);
  // The 202 seen afterwards changes nothing.
  EXPECT_EQ(walk(st, {e::answered}), actions{});
  EXPECT_EQ(st, s::submitting);
  // Establishing is not an event: a second `established` means nothing.
  EXPECT_FALSE(transition(s::submitting, e::established).handled);
}

TEST(graph_call_fsm, an_offer_before_the_submit_answer_is_taken) {
  auto st = s::submitting;
  EXPECT_EQ(walk(st, {e::offered, e::submitted}), actions{a::lookup_agent});
  EXPECT_EQ(st, s::looking_up);
}

TEST(graph_call_fsm,
     a_refused_answer_rejects_the_call_and_nothing_reaches_the_engine) {
  auto st = s::answering;
  walk(st, {e::incoming});
  EXPECT_EQ(walk(st, {e::answer_failed}), actions{a::reject_call});
  EXPECT_EQ(st, s::ended);
}

TEST(graph_call_fsm, a_refused_submit_hangs_up) {
  auto st = s::submitting;
  EXPECT_EQ(walk(st, {e::submit_refused}), actions{a::hang_up});
  EXPECT_EQ(st, s::ended);
}

TEST(graph_call_fsm, an_agent_who_does_not_join_gives_the_call_to_the_next) {
  auto st = s::waiting;
  walk(st, {e::offered, e::agent_found});
  EXPECT_EQ(walk(st, {e::invite_failed}), actions{a::decline_offer});
  EXPECT_EQ(st, s::waiting);
  // The engine's expiry of an invite nobody answered.
  walk(st, {e::offered, e::agent_found});
  EXPECT_EQ(walk(st, {e::offer_closed}), actions{});
  EXPECT_EQ(st, s::waiting);
  // That agent joining afterwards is removed from the call.
  EXPECT_EQ(walk(st, {e::agent_joined}), actions{a::remove_agent});
  EXPECT_EQ(walk(st, {e::offered, e::agent_found, e::agent_joined}),
            (actions{a::lookup_agent, a::invite_agent, a::accept_offer}));
}

TEST(graph_call_fsm, an_agent_without_a_teams_id_is_declined) {
  auto st = s::looking_up;
  EXPECT_EQ(walk(st, {e::agent_unknown}), actions{a::decline_offer});
  EXPECT_EQ(st, s::waiting);
}

TEST(graph_call_fsm, an_accept_the_engine_refuses_removes_the_agent) {
  auto st = s::accepting;
  EXPECT_EQ(walk(st, {e::accept_refused}), actions{a::remove_agent});
  EXPECT_EQ(st, s::waiting);
}

TEST(graph_call_fsm,
     the_caller_leaving_ends_the_call_in_the_engine_in_every_state) {
  EXPECT_EQ(transition(s::answering, e::caller_left).actions, actions{});
  EXPECT_EQ(transition(s::establishing, e::caller_left).actions, actions{});
  EXPECT_EQ(transition(s::submitting, e::caller_left).actions,
            actions{a::cancel_call});
  // end_handoff hangs up only while a transferring agent is in the call.
  for (auto st : {s::waiting, s::looking_up, s::inviting})
    EXPECT_EQ(transition(st, e::caller_left).actions,
              (actions{a::cancel_call, a::end_handoff}))
      << to_string(st);
  EXPECT_EQ(transition(s::accepting, e::caller_left).actions,
            (actions{a::cancel_call, a::complete_call}));
  EXPECT_EQ(transition(s::talking, e::caller_left).actions,
            (actions{a::complete_call, a::hang_up}));
  for (auto st : {s::answering, s::establishing, s::submitting, s::waiting,
                  s::looking_up, s::inviting, s::accepting, s::talking})
    EXPECT_EQ(transition(st, e::caller_left).next, s::ended) << to_string(st);
}

TEST(graph_call_fsm, the_agent_leaving_wraps_up_and_the_bot_hangs_up) {
  EXPECT_EQ(transition(s::talking, e::agent_left).actions,
            (actions{a::complete_call, a::hang_up}));
  EXPECT_EQ(transition(s::talking, e::agent_left).next, s::ended);
}

TEST(graph_call_fsm, the_engine_ending_the_call_hangs_up_once_answered) {
  for (auto st : {s::submitting, s::waiting, s::looking_up, s::inviting,
                  s::accepting, s::talking}) {
    EXPECT_EQ(transition(st, e::engine_ended).actions, actions{a::hang_up})
      << to_string(st);
    EXPECT_EQ(transition(st, e::engine_ended).next, s::ended);
  }
}

TEST(graph_call_fsm,
     a_waiting_caller_the_engine_ends_hears_the_announcement_then_is_hung_up) {
  for (auto st : {s::submitting, s::waiting, s::looking_up, s::inviting}) {
    EXPECT_EQ(transition(st, e::ended_with_announcement).actions,
              actions{a::announce})
      << to_string(st);
    EXPECT_EQ(transition(st, e::ended_with_announcement).next, s::announcing);
  }
  EXPECT_EQ(transition(s::announcing, e::announcement_done).actions,
            actions{a::hang_up});
  EXPECT_EQ(transition(s::announcing, e::announcement_done).next, s::ended);
  // The caller hanging up meanwhile: nothing left to tell the engine.
  EXPECT_TRUE(transition(s::announcing, e::caller_left).actions.empty());
  EXPECT_EQ(transition(s::announcing, e::caller_left).next, s::ended);
  // A late agent is let go; another engine end changes nothing.
  EXPECT_EQ(transition(s::announcing, e::agent_joined).actions,
            actions{a::remove_agent});
  EXPECT_FALSE(transition(s::announcing, e::engine_ended).handled);
  // A caller already talking to an agent is not told.
  EXPECT_EQ(transition(s::talking, e::ended_with_announcement).actions,
            actions{a::hang_up});
}

TEST(graph_call_fsm, nothing_happens_to_an_ended_call) {
  for (int ev = 0; ev <= static_cast<int>(e::announcement_done); ++ev) {
    auto step = transition(s::ended, static_cast<e>(ev));
    EXPECT_FALSE(step.handled) << to_string(static_cast<e>(ev));
    EXPECT_EQ(step.next, s::ended);
  }
}

TEST(graph_call_fsm, every_state_event_and_action_has_a_name) {
  for (int x = 0; x <= static_cast<int>(s::ended); ++x)
    EXPECT_STRNE(to_string(static_cast<s>(x)), "unknown");
  for (int x = 0; x <= static_cast<int>(e::consult_refused); ++x)
    EXPECT_STRNE(to_string(static_cast<e>(x)), "unknown");
  for (int x = 0; x <= static_cast<int>(a::requeue_callback); ++x)
    EXPECT_STRNE(to_string(static_cast<a>(x)), "unknown");
  for (int x = 0; x <= static_cast<int>(leg_state::conference); ++x)
    EXPECT_STRNE(to_string(static_cast<leg_state>(x)), "unknown");
  for (int x = 0; x <= static_cast<int>(leg_event::ended); ++x)
    EXPECT_STRNE(to_string(static_cast<leg_event>(x)), "unknown");
  for (int x = 0; x <= static_cast<int>(leg_action::take_over); ++x)
    EXPECT_STRNE(to_string(static_cast<leg_action>(x)), "unknown");
}

TEST(graph_call_fsm, a_transfer_keeps_the_first_agent_until_the_next_joins) {
  auto st = s::talking;
  // The agent in the call becomes the previous agent; the call waits.
  EXPECT_EQ(walk(st, {e::transferred}), actions{a::hand_off});
  EXPECT_EQ(st, s::waiting);
  EXPECT_EQ(walk(st, {e::offered, e::agent_found, e::agent_joined}),
            (actions{a::lookup_agent, a::invite_agent, a::accept_offer}));
  // Only once the engine has the next agent's accept is the first
  // removed.
  EXPECT_EQ(walk(st, {e::accepted}), actions{a::remove_previous_agent});
  EXPECT_EQ(st, s::talking);
}

TEST(graph_call_fsm, a_caller_who_leaves_during_a_handoff_ends_the_call) {
  for (auto from : {s::waiting, s::looking_up, s::inviting}) {
    auto st = from;
    EXPECT_EQ(walk(st, {e::caller_left}),
              (actions{a::cancel_call, a::end_handoff}))
      << to_string(from);
    EXPECT_EQ(st, s::ended);
  }
}

TEST(graph_call_fsm, a_transfer_during_an_accept_removes_the_joined_agent) {
  auto st = s::accepting;
  EXPECT_EQ(walk(st, {e::transferred}), actions{a::remove_agent});
  EXPECT_EQ(st, s::waiting);
  st = s::inviting;
  EXPECT_EQ(walk(st, {e::transferred}), actions{});
  EXPECT_EQ(st, s::waiting);
  // Should the agent join after all, they are removed.
  EXPECT_EQ(walk(st, {e::agent_joined}), actions{a::remove_agent});
}

TEST(graph_call_fsm, the_callback_digit_asks_only_while_waiting) {
  auto st = s::waiting;
  EXPECT_EQ(walk(st, {e::callback_digit}), actions{a::request_callback});
  EXPECT_EQ(st, s::waiting);
  // The engine's CALL_CALLBACK_REQUESTED ends the call here.
  EXPECT_EQ(walk(st, {e::engine_ended}), actions{a::hang_up});
  for (auto other : {s::looking_up, s::inviting, s::accepting, s::talking})
    EXPECT_FALSE(transition(other, e::callback_digit).handled)
      << to_string(other);
}

TEST(graph_call_fsm, a_callback_calls_the_agent_then_the_customer) {
  auto st = s::waiting;
  EXPECT_EQ(walk(st, {e::offered, e::callback_agent_found}),
            (actions{a::lookup_agent, a::place_call}));
  EXPECT_EQ(st, s::calling_agent);
  EXPECT_EQ(walk(st, {e::call_placed, e::established}),
            actions{a::accept_offer});
  EXPECT_EQ(walk(st, {e::callback_accepted}), actions{a::invite_customer});
  EXPECT_EQ(st, s::dialling);
  EXPECT_EQ(walk(st, {e::caller_joined}), actions{});
  EXPECT_EQ(st, s::talking);
  // The customer in, it is a call like any other (the actor no longer
  // turns the agent's events into a callback's).
  EXPECT_EQ(walk(st, {e::agent_left}), (actions{a::complete_call, a::hang_up}));
}

TEST(graph_call_fsm, a_callback_agent_who_hangs_up_during_the_accept_requeues) {
  // The bot leaves at once and waits for the engine's answer: accepted,
  // the callback goes back in line; refused, the engine offers it again.
  auto st = s::accepting;
  EXPECT_EQ(walk(st, {e::callback_agent_left}), actions{a::hang_up});
  EXPECT_EQ(st, s::leaving);
  EXPECT_EQ(walk(st, {e::callback_accepted}), actions{a::requeue_callback});
  EXPECT_EQ(st, s::ended);
  st = s::leaving;
  EXPECT_EQ(walk(st, {e::callback_lost}), actions{});
  EXPECT_EQ(st, s::ended);
  // Ringing the customer, the agent leaving ends the callback.
  st = s::dialling;
  EXPECT_EQ(walk(st, {e::callback_agent_left}),
            (actions{a::complete_call, a::hang_up}));
}

TEST(graph_call_fsm, the_consulting_agent_leaving_hands_the_call_over) {
  auto st = s::talking;
  EXPECT_EQ(walk(st, {e::consulting_agent_left}), actions{a::complete_consult});
  EXPECT_EQ(st, s::talking);
  // Refused (the leg ended meanwhile): the call ends as its agent left.
  EXPECT_EQ(walk(st, {e::consult_refused}),
            (actions{a::complete_call, a::hang_up}));
  EXPECT_EQ(st, s::ended);
}

TEST(graph_call_fsm, the_previous_agent_leaving_forgets_the_handoff) {
  for (auto from : {s::waiting, s::looking_up, s::inviting, s::accepting}) {
    auto st = from;
    EXPECT_EQ(walk(st, {e::previous_agent_left}),
              actions{a::forget_previous_agent})
      << to_string(from);
    EXPECT_EQ(st, from);
  }
}

TEST(graph_call_fsm, a_callback_agent_who_does_not_answer_is_declined) {
  for (auto ev : {e::caller_left, e::invite_failed}) {
    auto st = s::calling_agent;
    EXPECT_EQ(walk(st, {ev}), actions{a::decline_offer}) << to_string(ev);
    EXPECT_EQ(st, s::ended);
  }
  auto st = s::calling_agent;
  EXPECT_EQ(walk(st, {e::offer_closed}), actions{a::hang_up});
}

TEST(graph_call_fsm, a_blind_transfer_out_ends_when_the_caller_leaves) {
  auto st = s::talking;
  EXPECT_EQ(walk(st, {e::transferred_out}), actions{a::transfer_out});
  EXPECT_EQ(st, s::transferring);
  // The agent hanging up after asking does not stop it.
  EXPECT_EQ(walk(st, {e::agent_left}), actions{});
  EXPECT_EQ(walk(st, {e::caller_left}),
            (actions{a::complete_call, a::hang_up}));
  EXPECT_EQ(st, s::ended);
  // A failed transfer: caller and agent talk on.
  st = s::transferring;
  EXPECT_EQ(walk(st, {e::transfer_failed}), actions{});
  EXPECT_EQ(st, s::talking);
}

TEST(graph_call_fsm, a_customer_not_reached_ends_the_callback) {
  auto st = s::dialling;
  EXPECT_EQ(walk(st, {e::invite_failed}),
            (actions{a::complete_call, a::hang_up}));
  EXPECT_EQ(st, s::ended);
  st = s::accepting;
  EXPECT_EQ(walk(st, {e::callback_lost}), actions{a::hang_up});
}

namespace {

using leg_actions = std::vector<leg_action>;
using ls = leg_state;
using le = leg_event;
using la = leg_action;

} // namespace

TEST(graph_consult_leg, a_consult_invites_accepts_and_hands_over) {
  auto st = ls::none;
  EXPECT_EQ(
    walk(st, {le::offered, le::agent_found, le::agent_joined}),
    (leg_actions{la::lookup_agent, la::invite_agent, la::accept_offer}));
  EXPECT_EQ(walk(st, {le::accepted}), leg_actions{});
  EXPECT_EQ(st, ls::consulting);
  EXPECT_EQ(walk(st, {le::completed}), leg_actions{la::take_over});
  EXPECT_EQ(st, ls::none);
}

TEST(graph_consult_leg, a_consulted_agent_who_does_not_join_is_declined) {
  auto st = ls::inviting;
  EXPECT_EQ(walk(st, {le::invite_failed}), leg_actions{la::decline_offer});
  EXPECT_EQ(st, ls::none);
  // The engine offers the leg again, or ends it.
  EXPECT_EQ(walk(st, {le::offered}), leg_actions{la::lookup_agent});
  EXPECT_EQ(walk(st, {le::ended}), leg_actions{});
  EXPECT_EQ(st, ls::none);
}

TEST(graph_consult_leg, a_conference_lasts_until_the_consulted_agent_leaves) {
  auto st = ls::consulting;
  EXPECT_EQ(walk(st, {le::conferenced}), leg_actions{});
  EXPECT_EQ(st, ls::conference);
  EXPECT_EQ(walk(st, {le::agent_left}), leg_actions{la::complete_leg});
  EXPECT_EQ(st, ls::none);
  // The first agent leaving hands the call to the conference's agent.
  st = ls::conference;
  EXPECT_EQ(walk(st, {le::completed}), leg_actions{la::take_over});
  EXPECT_EQ(st, ls::none);
}

TEST(graph_consult_leg, a_complete_or_join_before_the_accepts_answer_holds) {
  auto st = ls::accepting;
  EXPECT_EQ(walk(st, {le::conferenced}), leg_actions{});
  EXPECT_EQ(st, ls::conference);
  st = ls::accepting;
  EXPECT_EQ(walk(st, {le::completed}), leg_actions{la::take_over});
  EXPECT_EQ(st, ls::none);
}

TEST(graph_consult_leg, a_leg_the_engine_ends_removes_its_agent) {
  for (auto from : {ls::accepting, ls::consulting, ls::conference}) {
    auto st = from;
    EXPECT_EQ(walk(st, {le::ended}), leg_actions{la::remove_agent})
      << to_string(from);
  }
}
