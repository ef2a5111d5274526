#include "nodes/graph_gateway/call_actor.hpp"

#include "nodes/http/message.hpp"

#include <caf/all.hpp>

#include <algorithm>

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
          call_event on_failure, const char* what) {
  auto handle = caf::actor_cast<call_actor>(self);
  auto call_id = self->state.call.call_id;
  env->graph->send(
    self->state.call.microsoft_tenant_id, method,
    "/communications/calls/" + call_id + path, body,
    [handle, env, on_failure, what, call_id](http::reply r) {
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
      caf::anon_send(handle, std::move(x));
    });
}

void command(self_ptr self, const call_env* env,
             gateway::engine_command::kind_t kind, call_event ok,
             call_event refused) {
  auto& st = self->state;
  gateway::engine_command cmd;
  cmd.kind = kind;
  cmd.tenant_id = st.call.tenant_id;
  cmd.call_id = st.call.call_id;
  cmd.agent_id = st.agent_id;
  cmd.offer_id = st.offer_id;
  static const char* names[] = {"submit", "cancel",  "withdraw", "complete",
                                "accept", "decline", "transfer", "presence"};
  cmd.event_id
    = env->name + ":" + st.call.call_id + ":" + names[kind] + ":" + st.offer_id;
  if (kind == gateway::engine_command::submit) {
    cmd.from = st.call.from;
    cmd.to = st.call.to;
    cmd.attributes[owner_attribute] = env->name;
    cmd.attributes[microsoft_tenant_attribute] = st.call.microsoft_tenant_id;
  }
  auto handle = caf::actor_cast<call_actor>(self);
  env->router->send(std::move(cmd),
                    [handle, ok, refused](const gateway::command_result& r) {
                      // Only the commands whose answer matters to the state
                      // machine.
                      if (ok == call_event::incoming)
                        return;
                      call_input x;
                      x.event = r.code == 0 ? ok : refused;
                      x.status = r.code;
                      x.text = r.message;
                      caf::anon_send(handle, std::move(x));
                    });
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
      auto handle = caf::actor_cast<call_actor>(self);
      env->router->get_agent(
        c.tenant_id, in.agent_id,
        [handle, offer = in.offer_id,
         agent = in.agent_id](const gateway::agent_lookup& r) {
          call_input x;
          bool reachable = r.found && !r.teams_user_id.empty();
          x.event
            = reachable ? call_event::agent_found : call_event::agent_unknown;
          x.teams_user_id = r.teams_user_id;
          x.text = reachable ? ""
                   : r.found ? "the agent has no teams_user_id"
                             : r.error;
          x.offer_id = offer;
          x.agent_id = agent;
          caf::anon_send(handle, std::move(x));
        });
      return;
    }
    case call_action::invite_agent:
      st.teams_user_id = in.teams_user_id;
      env->log->info("inviting the agent into the call",
                     {{"call", c.call_id},
                      {"tenant", c.tenant_id},
                      {"agent", st.agent_id},
                      {"offer", st.offer_id}});
      return post(self, env, "POST", "/participants/invite",
                  "{\"clientContext\":" + json_text(st.offer_id)
                    + ",\"participants\":[{\"@odata.type\":\"#microsoft."
                      "graph.invitationParticipantInfo\",\"identity\":{\"@"
                      "odata.type\":\"#microsoft.graph.identitySet\",\"user\""
                      ":{\"@odata.type\":\"#microsoft.graph.identity\",\"id\":"
                    + json_text(st.teams_user_id) + ",\"tenantId\":"
                    + json_text(c.microsoft_tenant_id) + "}}}]}",
                  call_event::invite_failed, "participants/invite");
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

// A roster update as the state machine's events: the invited agent there
// (joined) or gone (left), the caller gone (left).
std::vector<call_input> from_roster(const call_data& st, const call_input& in) {
  std::vector<call_input> out;
  bool agent_in = false;
  bool caller_in = false;
  std::string agent_participant;
  for (std::size_t i = 0; i + 1 < in.roster.size(); i += 2) {
    if (!st.teams_user_id.empty() && in.roster[i] == st.teams_user_id) {
      agent_in = true;
      agent_participant = in.roster[i + 1];
    }
    if (!st.call.caller_id.empty() && in.roster[i] == st.call.caller_id)
      caller_in = true;
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
  if (!caller_in && !st.call.caller_id.empty() && !in.roster.empty()) {
    call_input x;
    x.event = call_event::caller_left;
    out.push_back(std::move(x));
  }
  return out;
}

void handle(self_ptr self, const call_env* env, const call_input& in) {
  auto& st = self->state;
  if (in.is_roster) {
    for (auto& x : from_roster(st, in))
      handle(self, env, x);
    return;
  }
  // The close or failure of an earlier offer says nothing of this one.
  if ((in.event == call_event::offer_closed
       || in.event == call_event::invite_failed)
      && !in.offer_id.empty() && in.offer_id != st.offer_id)
    return;
  if (in.event == call_event::agent_joined)
    st.agent_participant = in.text;
  auto step = transition(st.state, in.event);
  if (!step.handled)
    return;
  if (env->log->enabled(router::log_level::debug))
    env->log->write(router::log_level::debug, "call step",
                    {{"call", st.call.call_id},
                     {"event", to_string(in.event)},
                     {"from", to_string(st.state)},
                     {"to", to_string(step.next)}});
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
  if (previous == call_state::accepting && step.next == call_state::talking)
    env->log->info("agent joined; caller and agent talk",
                   {{"call", st.call.call_id},
                    {"tenant", st.call.tenant_id},
                    {"agent", st.agent_id}});
  if (step.next == call_state::ended) {
    env->log->info("call ended", {{"call", st.call.call_id},
                                  {"tenant", st.call.tenant_id},
                                  {"event", to_string(in.event)}});
    env->registry->forget(caf::actor_cast<call_actor>(self), st.call.call_id);
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
  st.call = std::move(setup);
  return {
    [self, env](call_input& in) {
      handle(self, env, in);
    },
  };
}

} // namespace switchboard::graph
