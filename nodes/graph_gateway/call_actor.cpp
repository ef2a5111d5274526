#include "nodes/graph_gateway/call_actor.hpp"

#include "nodes/http/message.hpp"
#include "nodes/json/json.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <optional>

namespace switchboard::graph {

namespace {

using self_ptr = call_actor::stateful_pointer<call_data>;

std::string json_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  return out + "\"";
}

void post(self_ptr self, const call_env* env, const std::string& method,
          const std::string& path, const std::string& body,
          call_event on_failure, const char* what,
          const std::string& leg_offer = {}) {
  auto handle = caf::actor_cast<call_actor>(self);
  auto call_id = self->state.call.call_id;
  const auto& graph_id = self->state.graph_call_id;
  // A callback's call is the one the bot places; until Graph has said
  // its id there is none to address (placed() hangs up a call placed
  // for an actor that has gone).
  if (self->state.call.is_callback && graph_id.empty())
    return;
  env->graph->send(
    self->state.call.microsoft_tenant_id, method,
    "/communications/calls/" + (graph_id.empty() ? call_id : graph_id) + path,
    body,
    [handle, env, on_failure, what, call_id, leg_offer,
     life = env->life](http::reply r) {
      std::lock_guard<std::mutex> guard{life->m};
      if (!life->alive)
        return;
      bool ok = r.ok() && r.value.status >= 200 && r.value.status < 300;
      if (ok && on_failure != call_event::answer_failed)
        return;
      call_input x;
      x.status = static_cast<int>(r.value.status);
      x.text = r.ok() ? r.value.body.substr(0, 300) : r.error;
      if (!ok)
        env->log->warn("Graph refused a request for a call",
                       {{"call", call_id},
                        {"request", what},
                        {"status", std::to_string(r.value.status)},
                        {"error", x.text}});
      // call_event::incoming: nothing waits for this request's outcome.
      if (!ok && on_failure == call_event::incoming)
        return;
      x.event = ok ? call_event::answered : on_failure;
      if (!leg_offer.empty()) {
        // The consult leg's invite, failed.
        x.for_leg = true;
        x.leg = leg_event::invite_failed;
        x.offer_id = leg_offer;
      }
      caf::anon_send(handle, std::move(x));
    });
}

// An invitationParticipantInfo for a Teams user of tenant `tenant`, or
// for a telephone number.
std::string invitee(const std::string& id, const std::string& tenant) {
  // A number is "+" and digits, or digits alone; a Teams user is an
  // object id (a GUID, which may begin with a digit).
  bool phone = !id.empty()
               && std::all_of(id.begin() + (id[0] == '+' ? 1 : 0), id.end(),
                              [](char c) {
                                return c >= '0' && c <= '9';
                              })
               && id.size() > (id[0] == '+' ? 1u : 0u);
  return "{\"@odata.type\":\"#microsoft.graph.invitationParticipantInfo\","
         "\"identity\":{\"@odata.type\":\"#microsoft.graph.identitySet\",\""
         + std::string{phone ? "phone" : "user"}
         + "\":{\"@odata.type\":\"#microsoft.graph.identity\",\"id\":"
         + json_text(id)
         + (phone ? std::string{} : ",\"tenantId\":" + json_text(tenant))
         + "}}}";
}

// GetAgent for the offered agent (of the call, or of its consult leg):
// agent_found with their Teams user id, or agent_unknown saying why.
void look_up(self_ptr self, const call_env* env, const call_input& in,
             bool for_leg) {
  auto handle = caf::actor_cast<call_actor>(self);
  env->router->get_agent(
    self->state.call.tenant_id, in.agent_id,
    [handle, for_leg, offer = in.offer_id, id = in.leg_id,
     agent = in.agent_id](const gateway::agent_lookup& r) {
      call_input x;
      bool reachable = r.found && !r.teams_user_id.empty();
      x.event = reachable ? call_event::agent_found : call_event::agent_unknown;
      x.for_leg = for_leg;
      x.leg = reachable ? leg_event::agent_found : leg_event::agent_unknown;
      x.teams_user_id = r.teams_user_id;
      x.text = reachable ? ""
               : r.found ? "the agent has no teams_user_id"
                         : r.error;
      x.leg_id = id;
      x.offer_id = offer;
      x.agent_id = agent;
      caf::anon_send(handle, std::move(x));
    });
}

// What the actor hears of an engine command's answer: `ok` when it was
// applied, `refused` (with the engine's code and message) when not; none
// of either, nothing. `warning`, when set, is logged on a refusal.
struct command_answer {
  std::optional<call_input> ok;
  std::optional<call_input> refused;
  const char* warning = nullptr;
};

call_input input(call_event e) {
  call_input x;
  x.event = e;
  return x;
}

call_input leg_input(leg_event e, const leg_data& leg) {
  call_input x;
  x.for_leg = true;
  x.leg = e;
  x.leg_id = leg.call_id;
  x.offer_id = leg.offer_id;
  return x;
}

// An engine command for the engine's call `call_id` (the call's, or its
// consult leg's). Its event id is unique per call, kind and `key` (the
// offer it answers, or a count), so a retry is applied once.
void to_engine(self_ptr self, const call_env* env,
               gateway::engine_command::kind_t kind, const std::string& call_id,
               const std::string& key, command_answer answer,
               gateway::engine_command cmd = {}) {
  static const char* names[]
    = {"submit",  "cancel",   "withdraw", "complete", "accept",
       "decline", "transfer", "presence", "callback", "complete_consult"};
  cmd.kind = kind;
  cmd.tenant_id = self->state.call.tenant_id;
  cmd.call_id = call_id;
  cmd.event_id = env->name + ":" + call_id + ":" + names[kind] + ":" + key;
  auto handle = caf::actor_cast<call_actor>(self);
  env->router->send(std::move(cmd), [handle, env, call_id,
                                     answer = std::move(answer)](
                                      const gateway::command_result& r) {
    if (r.code != 0 && answer.warning != nullptr)
      env->log->warn(answer.warning, {{"call", call_id}, {"error", r.message}});
    auto& next = r.code == 0 ? answer.ok : answer.refused;
    if (!next)
      return;
    auto x = *next;
    x.status = r.code;
    x.text = r.message;
    caf::anon_send(handle, std::move(x));
  });
}

// An engine command for the call and its open offer; its answer, when it
// matters, comes back as `ok` or `refused`.
void command(self_ptr self, const call_env* env,
             gateway::engine_command::kind_t kind, call_event ok,
             call_event refused) {
  auto& st = self->state;
  gateway::engine_command cmd;
  cmd.agent_id = st.agent_id;
  cmd.offer_id = st.offer_id;
  if (kind == gateway::engine_command::submit) {
    cmd.from = st.call.from;
    cmd.to = st.call.to;
    cmd.attributes[owner_attribute] = env->name;
    cmd.attributes[microsoft_tenant_attribute] = st.call.microsoft_tenant_id;
    if (!st.call.app_instance.empty())
      cmd.attributes[app_instance_attribute] = st.call.app_instance;
  }
  command_answer answer;
  // call_event::incoming: the state machine waits for no answer.
  if (ok != call_event::incoming) {
    answer.ok = input(ok);
    answer.refused = input(refused);
  }
  to_engine(self, env, kind, st.call.call_id, st.offer_id, std::move(answer),
            std::move(cmd));
}

// `user` was invited for an offer that is over: should they join yet,
// they are removed (at most a few are remembered).
void note_late(call_data& st, const std::string& user) {
  if (user.empty()
      || std::find(st.late_invitees.begin(), st.late_invitees.end(), user)
           != st.late_invitees.end())
    return;
  if (st.late_invitees.size() >= 8)
    st.late_invitees.erase(st.late_invitees.begin());
  st.late_invitees.push_back(user);
}

// Invited again: no longer late.
void drop_late(call_data& st, const std::string& user) {
  st.late_invitees.erase(
    std::remove(st.late_invitees.begin(), st.late_invitees.end(), user),
    st.late_invitees.end());
}

void act(self_ptr self, const call_env* env, call_action a,
         const call_input& in) {
  auto& st = self->state;
  auto& c = st.call;
  using k = gateway::engine_command;
  switch (a) {
    case call_action::answer_call:
      return post(self, env, "POST", "/answer",
                  "{\"callbackUri\":" + json_text(env->callback_url)
                    + ",\"acceptedModalities\":[\"audio\"],\"mediaConfig\":{"
                      "\"@odata.type\":\"#microsoft.graph."
                      "serviceHostedMediaConfig\"}}",
                  call_event::answer_failed, "answer");
    case call_action::reject_call:
      return post(self, env, "POST", "/reject", "{\"reason\":\"busy\"}",
                  call_event::incoming, "reject");
    case call_action::submit_call:
      return command(self, env, k::submit, call_event::submitted,
                     call_event::submit_refused);
    case call_action::play_hold:
      if (env->hold_prompt.empty())
        return;
      return post(self, env, "POST", "/playPrompt",
                  "{\"clientContext\":" + json_text(c.call_id)
                    + ",\"prompts\":[{\"@odata.type\":\"#microsoft.graph."
                      "mediaPrompt\",\"mediaInfo\":{\"@odata.type\":\"#"
                      "microsoft.graph.mediaInfo\",\"uri\":"
                    + json_text(env->hold_prompt) + "}}]}",
                  call_event::incoming, "playPrompt");
    case call_action::announce: {
      auto uri = env->announcement_url;
      static const std::string slot = "{prompt}";
      if (auto at = uri.find(slot); at != std::string::npos)
        uri.replace(at, slot.size(), http::url_encode(in.text));
      env->log->info("playing the engine's announcement, then hanging up",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"announcement", in.text}});
      call_input done;
      done.event = call_event::announcement_done;
      self->delayed_send(caf::actor_cast<call_actor>(self),
                         env->announcement_limit, std::move(done));
      return post(self, env, "POST", "/playPrompt",
                  "{\"clientContext\":" + json_text("announcement:" + c.call_id)
                    + ",\"prompts\":[{\"@odata.type\":\"#microsoft.graph."
                      "mediaPrompt\",\"mediaInfo\":{\"@odata.type\":\"#"
                      "microsoft.graph.mediaInfo\",\"uri\":"
                    + json_text(uri) + "}}]}",
                  call_event::announcement_done, "playPrompt announcement");
    }
    case call_action::lookup_agent: {
      st.offer_id = in.offer_id;
      st.agent_id = in.agent_id;
      return look_up(self, env, in, false);
    }
    case call_action::invite_agent:
      if (st.agent_participant.empty() && st.teams_user_id != in.teams_user_id)
        note_late(st, st.teams_user_id);
      drop_late(st, in.teams_user_id);
      st.teams_user_id = in.teams_user_id;
      if (!st.previous_user.empty() && st.previous_user == st.teams_user_id) {
        // The transfer came back to the agent still in the call: they
        // are there already.
        call_input joined;
        joined.event = call_event::agent_joined;
        joined.text = st.previous_participant;
        st.previous_user.clear();
        st.previous_participant.clear();
        caf::anon_send(caf::actor_cast<call_actor>(self), std::move(joined));
        return;
      }
      env->log->info("inviting the agent into the call",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"agent", st.agent_id},
                      {"offer", st.offer_id}});
      return post(self, env, "POST", "/participants/invite",
                  "{\"clientContext\":" + json_text(st.offer_id)
                    + ",\"participants\":["
                    + invitee(st.teams_user_id, c.microsoft_tenant_id) + "]}",
                  call_event::invite_failed, "participants/invite");
    case call_action::hand_off:
      env->log->info(
        "call transferred: the agent stays with the caller "
        "until the next agent joins",
        {{"call", c.call_id}, {"tenant", c.tenant_id}, {"agent", st.agent_id}});
      st.previous_user = std::move(st.teams_user_id);
      st.previous_participant = std::move(st.agent_participant);
      st.teams_user_id.clear();
      st.agent_participant.clear();
      return;
    case call_action::remove_previous_agent: {
      auto pid = std::move(st.previous_participant);
      st.previous_participant.clear();
      st.previous_user.clear();
      if (pid.empty())
        return;
      env->log->info("the next agent joined; removing the agent who "
                     "transferred the call",
                     {{"call", c.call_id}, {"tenant", c.tenant_id}});
      return post(self, env, "DELETE", "/participants/" + pid, "",
                  call_event::incoming, "remove the previous agent");
    }
    case call_action::end_handoff:
      if (st.previous_participant.empty())
        return;
      st.previous_participant.clear();
      st.previous_user.clear();
      return post(self, env, "DELETE", "", "", call_event::incoming,
                  "hang up after a transfer");
    case call_action::listen_for_tones:
      if (env->callback_tone.empty())
        return;
      return post(self, env, "POST", "/subscribeToTone",
                  "{\"clientContext\":" + json_text("tones:" + c.call_id) + "}",
                  call_event::incoming, "subscribeToTone");
    case call_action::request_callback: {
      env->log->info("the caller asks to be called back",
                     {{"call", c.call_id}, {"tenant", c.tenant_id}});
      // Each press its own command: a request the engine refused (the
      // call was being offered) may be made again. Applied, the engine's
      // CALL_CALLBACK_REQUESTED ends the call here.
      command_answer answer;
      answer.warning = "the engine refused the caller's callback request; "
                       "the caller stays in line";
      return to_engine(self, env, k::callback, c.call_id,
                       std::to_string(++st.callback_requests), answer);
    }
    case call_action::complete_consult: {
      env->log->info("the consulting agent left; the consulted agent takes "
                     "the call",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"agent", st.agent_id},
                      {"leg", st.leg.call_id}});
      st.agent_participant.clear();
      command_answer answer;
      answer.warning = "the engine refused to complete the consult; the call "
                       "ends as its agent left";
      answer.refused = input(call_event::consult_refused);
      return to_engine(self, env, k::complete_consult, c.call_id,
                       st.leg.offer_id, answer);
    }
    case call_action::forget_previous_agent:
      st.previous_user.clear();
      st.previous_participant.clear();
      return;
    case call_action::requeue_callback: {
      env->log->warn("callback: the agent hung up as the engine accepted; "
                     "the callback goes back in line",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"agent", st.agent_id},
                      {"number", c.to}});
      gateway::engine_command cmd;
      cmd.dialled_number = c.to;
      command_answer answer;
      answer.warning = "the engine refused to put the callback back in line; "
                       "the agent completes it";
      to_engine(self, env, k::transfer, c.call_id, st.offer_id, answer,
                std::move(cmd));
      // Applied after the transfer: refused if the callback is back in
      // line, the agent's wrap-up if the transfer was refused.
      return to_engine(self, env, k::complete, c.call_id, st.offer_id, {});
    }
    case call_action::place_call: {
      st.teams_user_id = in.teams_user_id;
      env->log->info("callback: calling the agent", {{"call", c.call_id},
                                                     {"tenant", c.tenant_id},
                                                     {"agent", st.agent_id},
                                                     {"offer", st.offer_id}});
      std::string source;
      if (!c.app_instance.empty())
        source = ",\"source\":{\"@odata.type\":\"#microsoft.graph."
                 "participantInfo\",\"identity\":{\"@odata.type\":\"#"
                 "microsoft.graph.identitySet\",\"applicationInstance\":{"
                 "\"@odata.type\":\"#microsoft.graph.identity\",\"id\":"
                 + json_text(c.app_instance)
                 + ",\"tenantId\":" + json_text(c.microsoft_tenant_id) + "}}}";
      auto handle = caf::actor_cast<call_actor>(self);
      auto offer = st.offer_id;
      env->registry->placing();
      env->graph->send(
        c.microsoft_tenant_id, "POST", "/communications/calls",
        "{\"@odata.type\":\"#microsoft.graph.call\",\"callbackUri\":"
          + json_text(env->callback_url) + ",\"targets\":["
          + invitee(st.teams_user_id, c.microsoft_tenant_id) + "]" + source
          + ",\"requestedModalities\":[\"audio\"],\"mediaConfig\":{\"@"
            "odata.type\":\"#microsoft.graph.serviceHostedMediaConfig\"},"
            "\"tenantId\":"
          + json_text(c.microsoft_tenant_id) + "}",
        [handle, env, offer, call = c.call_id, ms = c.microsoft_tenant_id,
         life = env->life](http::reply r) {
          std::lock_guard<std::mutex> guard{life->m};
          if (!life->alive)
            return;
          call_input x;
          x.offer_id = offer;
          auto doc = r.ok() && (r.value.status == 200 || r.value.status == 201)
                       ? json::parse(r.value.body)
                       : json::parse_result{};
          auto id = doc.value ? json::string_at(*doc.value, "id") : "";
          if (id.empty() || id.size() > 256) {
            env->log->warn(
              "Graph did not place the callback's call to the "
              "agent",
              {{"call", call},
               {"status", std::to_string(r.value.status)},
               {"error", r.ok() ? r.value.body.substr(0, 300) : r.error}});
            env->registry->not_placed();
            x.event = call_event::invite_failed;
          } else if (!env->registry->placed(handle, call, id)) {
            // (placed() before the actor hears of the call: notifications
            // may come first.) Refused, the offer closed meanwhile: the
            // call must not ring on.
            env->log->info("callback: the offer closed while Graph placed "
                           "the call to the agent; hanging it up",
                           {{"call", call}, {"graph_call", id}});
            env->graph->send(ms, "DELETE", "/communications/calls/" + id, "",
                             [](http::reply) {});
            x.event = call_event::invite_failed;
          } else {
            x.event = call_event::call_placed;
            x.text = id;
          }
          caf::anon_send(handle, std::move(x));
        });
      return;
    }
    case call_action::transfer_out: {
      env->log->info("transferring the caller out of the contact center",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"agent", st.agent_id},
                      {"to", in.text}});
      // From a group call (bot, caller, agent) Graph needs the transferee.
      std::string transferee;
      if (!st.caller_participant.empty())
        transferee = ",\"transferee\":{\"@odata.type\":\"#microsoft.graph."
                     "participantInfo\",\"participantId\":"
                     + json_text(st.caller_participant) + "}";
      return post(
        self, env, "POST", "/transfer",
        "{\"clientContext\":" + json_text("transfer:" + c.call_id)
          + ",\"transferTarget\":{\"@odata.type\":\"#microsoft.graph."
            "invitationParticipantInfo\",\"endpointType\":\"default\","
            "\"identity\":{\"@odata.type\":\"#microsoft.graph."
            "identitySet\",\"phone\":{\"@odata.type\":\"#microsoft."
            "graph.identity\",\"id\":"
          + json_text(in.text) + "}}}" + transferee + "}",
        call_event::transfer_failed, "transfer");
    }
    case call_action::invite_customer:
      env->log->info(
        "callback: the agent answered; calling the customer",
        {{"call", c.call_id}, {"tenant", c.tenant_id}, {"agent", st.agent_id}});
      return post(self, env, "POST", "/participants/invite",
                  "{\"clientContext\":" + json_text(st.offer_id)
                    + ",\"participants\":["
                    + invitee(c.callback_number, c.microsoft_tenant_id) + "]}",
                  call_event::invite_failed, "participants/invite customer");
    case call_action::remove_agent:
      if (st.agent_participant.empty())
        return;
      return post(self, env, "DELETE", "/participants/" + st.agent_participant,
                  "", call_event::incoming, "remove participant");
    case call_action::accept_offer:
      return command(self, env, k::accept, call_event::accepted,
                     call_event::accept_refused);
    case call_action::decline_offer:
      return command(self, env, k::decline, call_event::incoming,
                     call_event::incoming);
    case call_action::cancel_call:
      return command(self, env, k::cancel, call_event::incoming,
                     call_event::incoming);
    case call_action::complete_call:
      return command(self, env, k::complete, call_event::incoming,
                     call_event::incoming);
    case call_action::hang_up:
      return post(self, env, "DELETE", "", "", call_event::incoming, "hang up");
  }
}

// An engine command for the call's consult leg and its offer.
void leg_command(self_ptr self, const call_env* env,
                 gateway::engine_command::kind_t kind,
                 command_answer answer = {}) {
  const auto& leg = self->state.leg;
  gateway::engine_command cmd;
  cmd.agent_id = leg.agent_id;
  cmd.offer_id = leg.offer_id;
  to_engine(self, env, kind, leg.call_id, leg.offer_id, std::move(answer),
            std::move(cmd));
}

void act_on_leg(self_ptr self, const call_env* env, leg_action a,
                const call_input& in) {
  auto& st = self->state;
  auto& c = st.call;
  auto& leg = st.leg;
  using k = gateway::engine_command;
  switch (a) {
    case leg_action::lookup_agent: {
      leg.call_id = in.leg_id;
      leg.offer_id = in.offer_id;
      leg.agent_id = in.agent_id;
      return look_up(self, env, in, true);
    }
    case leg_action::invite_agent:
      leg.teams_user_id = in.teams_user_id;
      drop_late(st, leg.teams_user_id);
      env->log->info("consult: inviting the consulted agent into the call",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"leg", leg.call_id},
                      {"agent", leg.agent_id}});
      return post(
        self, env, "POST", "/participants/invite",
        "{\"clientContext\":" + json_text(leg.offer_id) + ",\"participants\":["
          + invitee(leg.teams_user_id, c.microsoft_tenant_id) + "]}",
        call_event::invite_failed, "participants/invite consult", leg.offer_id);
    case leg_action::accept_offer: {
      command_answer answer;
      answer.ok = leg_input(leg_event::accepted, leg);
      answer.refused = leg_input(leg_event::accept_refused, leg);
      return leg_command(self, env, k::accept, std::move(answer));
    }
    case leg_action::decline_offer: return leg_command(self, env, k::decline);
    case leg_action::complete_leg:
      env->log->info("consult: the consulted agent left the call",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"leg", leg.call_id},
                      {"agent", leg.agent_id}});
      return leg_command(self, env, k::complete);
    case leg_action::remove_agent:
      if (leg.participant.empty())
        return;
      return post(self, env, "DELETE", "/participants/" + leg.participant, "",
                  call_event::incoming, "remove the consulted agent");
    case leg_action::take_over: {
      env->log->info("consult completed: the consulted agent takes the call",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"from", st.agent_id},
                      {"to", leg.agent_id}});
      auto first = std::move(st.agent_participant);
      st.agent_id = leg.agent_id;
      st.offer_id = leg.offer_id;
      st.teams_user_id = leg.teams_user_id;
      st.agent_participant = leg.participant;
      if (!first.empty())
        post(self, env, "DELETE", "/participants/" + first, "",
             call_event::incoming, "remove the consulting agent");
      return;
    }
  }
}

void handle_leg(self_ptr self, const call_env* env, const call_input& in) {
  auto& st = self->state;
  auto& leg = st.leg;
  // Another leg's, or an earlier offer's, news says nothing of this one.
  if (in.leg != leg_event::offered && !in.leg_id.empty() && !leg.call_id.empty()
      && in.leg_id != leg.call_id)
    return;
  if ((in.leg == leg_event::offer_closed || in.leg == leg_event::invite_failed
       || in.leg == leg_event::agent_found
       || in.leg == leg_event::agent_unknown)
      && in.offer_id != leg.offer_id)
    return;
  if (in.leg == leg_event::agent_joined)
    leg.participant = in.text;
  auto step = transition(leg.state, in.leg);
  if (!step.handled)
    return;
  if (env->log->enabled(router::log_level::debug))
    env->log->write(router::log_level::debug, "consult step",
                    {{"call", st.call.call_id},
                     {"event", to_string(in.leg)},
                     {"from", to_string(leg.state)},
                     {"to", to_string(step.next)}});
  auto previous = leg.state;
  leg.state = step.next;
  for (auto a : step.actions)
    act_on_leg(self, env, a, in);
  if (leg.state == leg_state::none && previous == leg_state::inviting) {
    note_late(st, leg.teams_user_id);
    env->log->info("consult: the leg's offer closed before the consulted "
                   "agent joined",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"leg", leg.call_id},
                    {"agent", leg.agent_id},
                    {"event", to_string(in.leg)}});
  }
  if (leg.state == leg_state::none)
    leg = leg_data{};
  else if (step.next == leg_state::consulting)
    env->log->info("consult: the consulted agent joined",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"leg", leg.call_id},
                    {"agent", leg.agent_id}});
}

// A roster update as the state machine's events: the invited agent there
// (joined) or gone (left), the caller gone (left).
std::vector<call_input> from_roster(const call_data& st, const call_input& in) {
  std::vector<call_input> out;
  bool agent_in = false;
  bool caller_in = false;
  std::string agent_participant;
  bool previous_in = false;
  std::string caller_participant;
  bool leg_in = false;
  std::string leg_participant;
  for (std::size_t i = 0; i + 1 < in.roster.size(); i += 2) {
    if (!st.leg.teams_user_id.empty() && in.roster[i] == st.leg.teams_user_id) {
      leg_in = true;
      leg_participant = in.roster[i + 1];
    }
    if (!st.previous_user.empty() && in.roster[i] == st.previous_user)
      previous_in = true;
    if (!st.teams_user_id.empty() && in.roster[i] == st.teams_user_id) {
      agent_in = true;
      agent_participant = in.roster[i + 1];
    }
    if (!st.call.caller_id.empty() && in.roster[i] == st.call.caller_id) {
      caller_in = true;
      caller_participant = in.roster[i + 1];
    }
  }
  if (agent_in) {
    call_input x;
    x.event = call_event::agent_joined;
    x.text = agent_participant;
    out.push_back(std::move(x));
  } else if (!st.agent_participant.empty()) {
    call_input x;
    x.event = call_event::agent_left;
    out.push_back(std::move(x));
  }
  if (leg_in && st.leg.participant.empty()) {
    call_input x;
    x.for_leg = true;
    x.leg = leg_event::agent_joined;
    x.text = leg_participant;
    out.push_back(std::move(x));
  } else if (!leg_in && !st.leg.participant.empty()) {
    call_input x;
    x.for_leg = true;
    x.leg = leg_event::agent_left;
    out.push_back(std::move(x));
  }
  if (!previous_in && !st.previous_user.empty()) {
    // The agent who transferred the call hung up before the next joined.
    call_input x;
    x.event = call_event::previous_agent_left;
    out.push_back(std::move(x));
  }
  if (caller_in && !st.caller_seen) {
    call_input x;
    x.event = call_event::caller_joined;
    x.text = caller_participant;
    out.push_back(std::move(x));
  }
  if (!caller_in && st.caller_seen) {
    call_input x;
    x.event = call_event::caller_left;
    out.push_back(std::move(x));
  }
  return out;
}

// Agents in the roster who were invited for an offer that closed: they
// leave the call again.
void remove_late_joiners(self_ptr self, const call_env* env,
                         const call_input& in) {
  auto& st = self->state;
  if (st.late_invitees.empty())
    return;
  for (std::size_t i = 0; i + 1 < in.roster.size(); i += 2) {
    const auto& user = in.roster[i];
    if (user == st.teams_user_id || user == st.leg.teams_user_id
        || user == st.previous_user
        || std::find(st.late_invitees.begin(), st.late_invitees.end(), user)
             == st.late_invitees.end())
      continue;
    drop_late(st, user);
    env->log->info("an agent joined after their offer closed; removing them",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"user", user}});
    post(self, env, "DELETE", "/participants/" + in.roster[i + 1], "",
         call_event::incoming, "remove a late agent");
  }
}

void handle(self_ptr self, const call_env* env, const call_input& in) {
  auto& st = self->state;
  if (in.is_roster) {
    remove_late_joiners(self, env, in);
    for (auto& x : from_roster(st, in))
      handle(self, env, x);
    return;
  }
  // The consult leg's invite failing comes as the call's invite_failed
  // with the leg's offer as its context.
  if (in.event == call_event::invite_failed && !in.for_leg
      && !st.leg.offer_id.empty() && in.offer_id == st.leg.offer_id) {
    call_input x = in;
    x.for_leg = true;
    x.leg = leg_event::invite_failed;
    return handle_leg(self, env, x);
  }
  if (in.for_leg) {
    // A consult only while the call talks.
    if (st.state == call_state::talking)
      handle_leg(self, env, in);
    return;
  }
  if (in.event == call_event::transferred && !in.agent_id.empty()) {
    // The consult completed: the call is the consulted agent's now.
    if (st.leg.state != leg_state::none)
      handle_leg(self, env, leg_input(leg_event::completed, st.leg));
    return;
  }
  // The close or failure of an earlier offer says nothing of this one.
  if ((in.event == call_event::offer_closed
       || in.event == call_event::invite_failed)
      && !in.offer_id.empty() && in.offer_id != st.offer_id)
    return;
  if (in.event == call_event::agent_joined)
    st.agent_participant = in.text;
  if (in.event == call_event::caller_joined) {
    st.caller_seen = true;
    st.caller_participant = in.text;
    // From now on the callback is a call like any other: should it be
    // transferred, the engine's next offer is this actor's.
    if (st.call.is_callback)
      env->registry->customer_joined(caf::actor_cast<call_actor>(self),
                                     st.call.call_id);
  }
  if (in.event == call_event::call_placed)
    st.graph_call_id = in.text;
  // A digit while the previous agent still talks with the caller is
  // theirs, not a request.
  if (in.event == call_event::callback_digit && !st.previous_user.empty())
    return;
  auto event = in.event;
  // The call's agent leaving with a consult leg answered (or being
  // accepted: the accept reaches the engine first) or a conference.
  if (event == call_event::agent_left
      && (st.leg.state == leg_state::accepting
          || st.leg.state == leg_state::consulting
          || st.leg.state == leg_state::conference))
    event = call_event::consulting_agent_left;
  else if (st.call.is_callback && !st.caller_seen) {
    if (event == call_event::agent_found)
      event = call_event::callback_agent_found;
    else if (event == call_event::accepted)
      event = call_event::callback_accepted;
    else if (event == call_event::accept_refused)
      event = call_event::callback_lost;
    else if (event == call_event::agent_left)
      event = call_event::callback_agent_left;
  }
  auto step = transition(st.state, event);
  if (!step.handled)
    return;
  // A callback that has not reached its customer lives for one offer:
  // where a call would wait for the next offer, it hangs up its call to
  // the agent and ends (the engine's next offer gets an actor of its
  // own).
  if (st.call.is_callback && !st.caller_seen && step.next == call_state::waiting
      && st.state != call_state::waiting) {
    step.next = call_state::ended;
    step.actions.push_back(call_action::hang_up);
  }
  if (env->log->enabled(router::log_level::debug))
    env->log->write(router::log_level::debug, "call step",
                    {{"call", st.call.call_id},
                     {"event", to_string(event)},
                     {"from", to_string(st.state)},
                     {"to", to_string(step.next)}});
  if (event == call_event::transfer_failed
      && st.state == call_state::transferring)
    env->log->warn("the transfer out of the contact center failed; caller "
                   "and agent talk on",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"agent", st.agent_id},
                    {"reason", in.text}});
  if (in.event == call_event::submit_refused
      || in.event == call_event::agent_unknown)
    env->log->warn(in.event == call_event::submit_refused
                     ? "the engine refused the call; hanging up"
                     : "the offered agent cannot be invited; declining",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"agent", in.agent_id},
                    {"reason", in.text}});
  auto previous = st.state;
  st.state = step.next;
  for (auto a : step.actions)
    act(self, env, a, in);
  if (previous == call_state::dialling && step.next == call_state::talking)
    env->log->info("callback: the customer answered; customer and agent talk",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"agent", st.agent_id}});
  if (previous == call_state::accepting && step.next == call_state::talking)
    env->log->info("agent joined; caller and agent talk",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"agent", st.agent_id}});
  if (step.next == call_state::ended) {
    env->log->info("call ended", {{"call", st.call.call_id},
                                  {"tenant", st.call.tenant_id},
                                  {"event", to_string(event)}});
    env->registry->forget(caf::actor_cast<call_actor>(self), st);
    self->quit();
  }
}

} // namespace

call_actor::behavior_type call_behavior(self_ptr self, call_setup setup,
                                        const call_env* env) {
  auto& st = self->state;
  st.state = setup.resume;
  st.agent_id = setup.agent_id;
  st.teams_user_id = setup.teams_user_id;
  st.agent_participant = setup.agent_participant;
  // A call rejoined after a restart has its caller in the call.
  st.caller_seen = setup.resume != call_state::answering && !setup.is_callback;
  st.call = std::move(setup);
  return {
    [self, env](call_input& in) {
      handle(self, env, in);
    },
  };
}

} // namespace switchboard::graph
