#include "nodes/sbc_gateway/call_actor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <optional>

namespace switchboard::sbc {

namespace {

using self_ptr = call_actor::stateful_pointer<call_data>;

router::logger::fields call_fields(const call_data& st) {
  return {{"tenant", st.call.tenant_id},
          {"call_id", st.call.call_id},
          {"sip_call_id", st.call.sip_call_id}};
}

/// Sends a command; the answer comes back to the actor as `ok` or
/// `refused` (when given), else refusals are only logged.
void command(self_ptr self, const call_env* env, engine_command cmd,
             std::optional<call_event> ok = std::nullopt,
             std::optional<call_event> refused = std::nullopt) {
  cmd.tenant_id = self->state.call.tenant_id;
  cmd.call_id = self->state.call.call_id;
  auto offer_id = cmd.offer_id;
  auto handle = caf::actor_cast<call_actor>(self);
  auto fields = call_fields(self->state);
  auto* log = env->log;
  env->router->send(std::move(cmd), [handle, ok, refused, offer_id, fields,
                                     log](const command_result& r) {
    if (r.code != 0 && !refused) {
      auto xs = fields;
      xs.emplace_back("event_id", r.event_id);
      xs.emplace_back("code", std::to_string(r.code));
      xs.emplace_back("message", r.message);
      log->info("engine refused a command", xs);
    }
    auto event = r.code == 0 ? ok : refused;
    if (!event)
      return;
    call_input in;
    in.event = *event;
    in.status = r.code;
    in.text = r.message;
    in.offer_id = offer_id;
    caf::anon_send(handle, std::move(in));
  });
}

/// A new leg of this call's, bound to it so that its events come here.
leg_id open_leg(self_ptr self, const call_env* env) {
  auto leg = env->sip->new_leg();
  env->registry->bind_leg(leg, caf::actor_cast<call_actor>(self));
  self->state.legs.push_back(leg);
  return leg;
}

/// Ends an outgoing leg (CANCEL before its answer, BYE after) if the call
/// still has one there, and forgets it.
void end_leg(const call_env* env, leg_id& leg, bool answered) {
  if (leg != 0) {
    if (answered)
      env->sip->bye(leg);
    else
      env->sip->cancel(leg);
  }
  leg = 0;
}

/// The caller talks with the agent (while a transfer is asked for, too).
bool with_agent(call_state x) {
  return x == call_state::talking || x == call_state::transferring
         || x == call_state::referring;
}

/// An INVITE the call places (an agent's leg, a transfer's target), sent
/// the way env->agent_route says.
outgoing_invite invite_to(const call_env* env, const call_setup& c,
                          const std::string& uri) {
  outgoing_invite x;
  x.request_uri = uri;
  x.from_uri = c.from;
  x.sdp = c.caller_sdp;
  if (env->agent_route == "source") {
    x.next_hop = c.source_host + ":" + std::to_string(c.source_port);
    if (c.source_host.find(':') != std::string::npos)
      x.next_hop = "[" + c.source_host + "]:" + std::to_string(c.source_port);
    // Back the way the INVITE came; over UDP the stack still moves to TCP
    // for an INVITE too large for a datagram.
    x.transport = c.source_transport == "udp" ? "" : c.source_transport;
  } else if (env->agent_route != "direct") {
    x.next_hop = env->agent_route;
    x.transport = env->sbc_transport;
  }
  // Through an SBC, the Contact names the customer's trunk FQDN, as Teams
  // Direct Routing tells tenants apart by it; the SBC's Record-Route
  // brings in-dialog requests back here.
  auto port = x.transport == "tls" ? env->tls_port : env->sip_port;
  if (env->agent_route != "direct" && !c.trunk.empty() && port != 0)
    x.contact = "<sip:switchboard@" + c.trunk + ":" + std::to_string(port)
                + (x.transport.empty() ? "" : ";transport=" + x.transport)
                + ">";
  return x;
}

/// An INVITE to a media server (hold, announcement): straight to its
/// URI, with the caller's SDP.
outgoing_invite media_invite(const call_setup& c, const std::string& uri) {
  outgoing_invite x;
  x.request_uri = uri;
  x.from_uri = c.from;
  x.sdp = c.caller_sdp;
  return x;
}

/// Gives the caller `sdp` (the agent's, the hold media server's): the
/// 200 to its INVITE, or a re-INVITE once it has had that.
void connect_caller(call_data& st, const call_env* env,
                    const std::string& sdp) {
  auto& c = st.call;
  if (st.caller_answered) {
    env->sip->send(c.caller_leg, dialog_method::reinvite, {}, sdp);
    return;
  }
  if (env->probe != nullptr)
    env->probe->invite_final(200, c.trunk);
  env->sip->respond(c.caller_leg, {200, "OK", {}, {}, sdp});
  st.caller_answered = true;
}

void run(self_ptr self, const call_env* env, call_action action,
         const call_input& in) {
  auto& st = self->state;
  auto& c = st.call;
  switch (action) {
    case call_action::submit_call: {
      engine_command cmd;
      cmd.kind = engine_command::submit;
      cmd.event_id = command_event_id(c.call_id, "submit");
      cmd.from = c.from;
      cmd.to = c.to;
      cmd.attributes = c.attributes;
      cmd.attributes[owner_attribute] = env->name;
      cmd.attributes[trunk_attribute] = c.trunk;
      cmd.attributes[route_attribute] = c.source_transport + ":" + c.source_host
                                        + ":" + std::to_string(c.source_port);
      command(self, env, std::move(cmd), call_event::submitted,
              call_event::submit_refused);
      return;
    }
    case call_action::send_ringing:
      // A caller back in the queue after a transfer is answered already.
      // The SIP stack sends the 180 again every ring_refresh while the
      // INVITE is unanswered (sip_options::ring_refresh).
      if (!st.caller_answered)
        env->sip->respond(c.caller_leg, {180, "Ringing", {}, {}, {}});
      return;
    case call_action::refuse_caller: {
      auto r = refusal_for(in.status);
      if (env->probe != nullptr)
        env->probe->invite_final(r.status, c.trunk);
      response out{r.status,
                   r.phrase,
                   "switchboard: " + in.text,
                   r.retry_after ? env->retry_after : std::string{},
                   {}};
      env->sip->respond(c.caller_leg, std::move(out));
      return;
    }
    case call_action::end_caller:
      if (c.caller_leg == 0)
        return; // a callback's customer, not called yet
      if (st.caller_answered) {
        env->sip->bye(c.caller_leg);
        return;
      }
      {
        auto why = in.text.empty() ? std::string{"ended"} : in.text;
        auto r = ending_for(why);
        if (env->probe != nullptr)
          env->probe->invite_final(r.status, c.trunk);
        env->sip->respond(
          c.caller_leg,
          {r.status,
           r.phrase,
           why == "callback"
             ? "switchboard: the caller is called back when an agent is free"
             : "switchboard: the call ended in the engine (" + why + ")",
           {},
           {}});
      }
      return;
    case call_action::lookup_agent: {
      st.offer_id = in.offer_id;
      st.agent_id = in.agent_id;
      auto handle = caf::actor_cast<call_actor>(self);
      env->router->get_agent(c.tenant_id, in.agent_id,
                             [handle, offer = in.offer_id,
                              agent = in.agent_id](const agent_lookup& r) {
                               call_input x;
                               bool reachable = r.found && !r.sip_uri.empty();
                               x.event = reachable ? call_event::agent_found
                                                   : call_event::agent_unknown;
                               x.text = reachable ? r.sip_uri
                                        : r.found ? "the agent has no sip_uri"
                                                  : r.error;
                               x.offer_id = offer;
                               x.agent_id = agent;
                               caf::anon_send(handle, std::move(x));
                             });
      return;
    }
    case call_action::invite_agent: {
      st.agent_uri = in.text;
      st.agent_sdp.clear();
      auto leg = open_leg(self, env);
      st.agent_leg = leg;
      auto x = invite_to(env, c, st.agent_uri);
      auto fields = call_fields(st);
      fields.emplace_back("agent_id", st.agent_id);
      fields.emplace_back("offer_id", st.offer_id);
      fields.emplace_back("agent_uri", st.agent_uri);
      env->log->info("ringing agent", fields);
      env->sip->place_call(leg, std::move(x));
      return;
    }
    case call_action::accept_offer: {
      engine_command cmd;
      cmd.kind = engine_command::accept;
      cmd.event_id = command_event_id(c.call_id, "accept/" + st.offer_id);
      cmd.agent_id = st.agent_id;
      cmd.offer_id = st.offer_id;
      command(self, env, std::move(cmd), call_event::accepted,
              call_event::accept_refused);
      return;
    }
    case call_action::decline_offer: {
      engine_command cmd;
      cmd.kind = engine_command::decline;
      cmd.event_id = command_event_id(c.call_id, "decline/" + st.offer_id);
      cmd.agent_id = st.agent_id;
      cmd.offer_id = st.offer_id;
      command(self, env, std::move(cmd));
      st.agent_leg = 0;
      return;
    }
    case call_action::answer_caller:
      connect_caller(st, env, st.agent_sdp);
      env->log->info("call answered", [&] {
        auto xs = call_fields(st);
        xs.emplace_back("agent_id", st.agent_id);
        return xs;
      }());
      return;
    case call_action::cancel_agent: end_leg(env, st.agent_leg, false); return;
    case call_action::bye_agent: end_leg(env, st.agent_leg, true); return;
    case call_action::bye_caller: env->sip->bye(c.caller_leg); return;
    case call_action::cancel_call: {
      engine_command cmd;
      cmd.kind = engine_command::cancel;
      cmd.event_id = command_event_id(c.call_id, "cancel");
      command(self, env, std::move(cmd));
      return;
    }
    case call_action::complete_call: {
      engine_command cmd;
      cmd.kind = engine_command::complete;
      cmd.event_id = command_event_id(c.call_id, "complete");
      command(self, env, std::move(cmd));
      return;
    }
    case call_action::transfer_call: {
      engine_command cmd;
      cmd.kind = engine_command::transfer;
      cmd.event_id = command_event_id(
        c.call_id, "transfer/" + std::to_string(++st.transfers));
      cmd.teams_user_id = st.refer.teams_user_id;
      cmd.dialled_number = st.refer.number;
      env->log->info("agent transfers the call", [&] {
        auto xs = call_fields(st);
        xs.emplace_back("agent_id", st.agent_id);
        xs.emplace_back("refer_to", st.refer.uri);
        return xs;
      }());
      command(self, env, std::move(cmd), call_event::transferred,
              call_event::transfer_refused);
      return;
    }
    case call_action::notify_transfer_ok:
      if (st.refer_leg != 0)
        env->sip->notify_refer(st.refer_leg, 200);
      return;
    case call_action::notify_transfer_failed:
      if (st.refer_leg != 0)
        env->sip->notify_refer(
          st.refer_leg, in.status >= 300 && in.status < 700 ? in.status : 603);
      return;
    case call_action::invite_outside: {
      auto leg = open_leg(self, env);
      st.outside_leg = leg;
      st.outside_sdp.clear();
      env->log->info("transfer leaves the contact center", [&] {
        auto xs = call_fields(st);
        xs.emplace_back("agent_id", st.agent_id);
        xs.emplace_back("target", st.refer.uri);
        return xs;
      }());
      env->sip->place_call(leg, invite_to(env, c, st.refer.uri));
      return;
    }
    case call_action::bridge_outside:
      env->sip->send(c.caller_leg, dialog_method::reinvite, {}, st.outside_sdp);
      return;
    case call_action::cancel_outside:
      end_leg(env, st.outside_leg, false);
      return;
    case call_action::bye_outside: end_leg(env, st.outside_leg, true); return;
    case call_action::hold_caller: {
      if (env->hold_uri.empty() || st.media_leg != 0)
        return;
      st.media_up = false;
      st.media_sdp.clear();
      st.media_leg = open_leg(self, env);
      env->sip->place_call(st.media_leg, media_invite(c, env->hold_uri));
      return;
    }
    case call_action::connect_media:
      connect_caller(st, env, st.media_sdp);
      env->log->info("caller waits at the hold media server", call_fields(st));
      return;
    case call_action::announce: {
      auto uri = prompt_uri(env->announcement_uri, st.announcement);
      st.announcement_up = false;
      st.announcement_leg = open_leg(self, env);
      env->log->info("playing the engine's announcement", [&] {
        auto xs = call_fields(st);
        xs.emplace_back("announcement", st.announcement);
        xs.emplace_back("uri", uri);
        return xs;
      }());
      env->sip->place_call(st.announcement_leg, media_invite(c, uri));
      call_input limit;
      limit.event = call_event::announcement_done;
      self->delayed_send(self, env->announcement_limit, std::move(limit));
      return;
    }
    case call_action::connect_announcement:
      env->sip->send(c.caller_leg, dialog_method::reinvite, {},
                     st.announcement_sdp);
      end_leg(env, st.media_leg, st.media_up);
      return;
    case call_action::dial_customer: {
      auto uri = callback_uri(env->callback_uri, c.callback, c.trunk);
      auto fields = call_fields(st);
      fields.emplace_back("agent_id", st.agent_id);
      if (uri.empty()) {
        env->log->warn("callback not placed: the engine's callback number "
                       "is not a telephone number",
                       fields);
        call_input failed;
        failed.event = call_event::customer_failed;
        failed.status = 404;
        caf::anon_send(caf::actor_cast<call_actor>(self), std::move(failed));
        return;
      }
      auto x = invite_to(env, c, uri);
      // The customer sees the number they had called.
      x.from_uri = "sip:" + (c.to.empty() ? std::string{"switchboard"} : c.to)
                   + "@" + c.trunk + ";user=phone";
      x.sdp = st.agent_sdp;
      c.caller_leg = open_leg(self, env);
      fields.emplace_back("uri", uri);
      env->log->info("calling the customer back", fields);
      env->sip->place_call(c.caller_leg, std::move(x));
      call_input limit;
      limit.event = call_event::customer_failed;
      limit.status = 408;
      self->delayed_send(self, env->callback_answer_limit, std::move(limit));
      return;
    }
    case call_action::connect_agent:
      st.caller_answered = true;
      env->sip->send(st.agent_leg, dialog_method::reinvite, {}, c.caller_sdp);
      env->log->info("callback answered", [&] {
        auto xs = call_fields(st);
        xs.emplace_back("agent_id", st.agent_id);
        return xs;
      }());
      return;
    case call_action::cancel_customer:
      end_leg(env, c.caller_leg, false);
      return;
  }
}

/// While the call is in the queue, from the caller's INVITE to the
/// agent's answer: the hold media server serves it only then.
bool in_queue(call_state x) {
  switch (x) {
    case call_state::submitting:
    case call_state::waiting:
    case call_state::looking_up:
    case call_state::ringing:
    case call_state::accepting: return true;
    default: return false;
  }
}

/// The leg a peer's in-dialog request on `leg` is passed on to: the
/// other end of the bridge, or 0 when the call bridges nothing now.
leg_id peer_of(const call_data& st, leg_id leg) {
  auto bridged = with_agent(st.state) && st.agent_leg != 0;
  if (leg == st.call.caller_leg) {
    if (st.state == call_state::outside)
      return st.outside_leg;
    return bridged ? st.agent_leg : 0;
  }
  if (bridged && leg == st.agent_leg)
    return st.call.caller_leg;
  if (st.state == call_state::outside && leg == st.outside_leg)
    return st.call.caller_leg;
  return 0;
}

/// A peer's re-INVITE, UPDATE or INFO: passed on to the other leg, whose
/// answer goes back (see answered_request); with nothing bridged, an
/// offer is refused and an INFO taken.
void relay_request(self_ptr self, const call_env* env, const call_input& in) {
  auto& st = self->state;
  auto method = static_cast<dialog_method>(in.method);
  auto peer = peer_of(st, in.leg);
  if (peer == 0) {
    if (method == dialog_method::info)
      env->sip->answer(in.leg, in.request, {200, "OK", {}, {}, {}});
    else
      env->sip->answer(in.leg, in.request,
                       {488,
                        "Not Acceptable Here",
                        "no party to pass the offer to now",
                        {},
                        {}});
    return;
  }
  if (in.leg == st.call.caller_leg && method != dialog_method::info)
    st.call.caller_sdp = in.sdp; // what the next agent is offered
  st.relayed.push_back({in.leg, in.request, peer, method});
  env->sip->send(peer, method, in.content_type, in.sdp);
}

/// The answer to a request the call sent on a leg: back to the peer whose
/// request it passed on, if it did.
void answered_request(self_ptr self, const call_env* env,
                      const call_input& in) {
  auto& st = self->state;
  auto method = static_cast<dialog_method>(in.method);
  auto i = std::find_if(st.relayed.begin(), st.relayed.end(),
                        [&](const relayed_request& r) {
                          return r.to == in.leg && r.method == method;
                        });
  if (i == st.relayed.end()) {
    // The call's own re-INVITE, moving the caller to an agent or a
    // transfer's target, or a callback's agent to the customer.
    if (in.status >= 300) {
      auto xs = call_fields(st);
      xs.emplace_back("status", std::to_string(in.status));
      env->log->warn(in.leg == st.call.caller_leg
                       ? "the caller refused the re-INVITE to the new party"
                       : "the agent refused the re-INVITE to the customer",
                     xs);
    }
    return;
  }
  auto r = *i;
  st.relayed.erase(i);
  response out{in.status, in.text, {}, {}, in.sdp, in.content_type};
  if (in.status == 481 || in.status == 408) {
    // The other leg is gone, not this one's dialog.
    out = {488, {}, "the other party's dialog is gone", {}, {}, {}};
  }
  env->sip->answer(r.from, r.request, std::move(out));
}

/// Turns a leg's SIP event into the call's event, or nothing when it is
/// about a leg the call no longer cares for.
std::optional<call_event> leg_event_of(self_ptr self, const call_env* env,
                                       call_input& in) {
  auto& st = self->state;
  auto kind = static_cast<leg_event::kind_t>(in.leg_kind);
  switch (kind) {
    case leg_event::request: relay_request(self, env, in); return std::nullopt;
    case leg_event::request_answered:
      answered_request(self, env, in);
      return std::nullopt;
    case leg_event::refer:
      if (in.leg == st.agent_leg && st.state == call_state::talking) {
        st.refer = parse_refer_to(in.text);
        st.refer_leg = in.leg;
        if (!st.refer.number.empty() || !st.refer.teams_user_id.empty())
          return call_event::refer;
        if (!st.refer.uri.empty())
          return call_event::refer_outside;
      }
      // Only the agent transfers, and only a call it talks on.
      env->sip->notify_refer(in.leg, 603);
      return std::nullopt;
    default: break;
  }
  auto bridged = with_agent(st.state) || st.state == call_state::outside;
  if (in.leg == st.call.caller_leg && st.state == call_state::dialling) {
    // A callback's INVITE to the customer.
    switch (kind) {
      case leg_event::answered:
        st.call.caller_sdp = in.sdp;
        return call_event::customer_answered;
      case leg_event::failed:
      case leg_event::bye:
      case leg_event::terminated:
        st.call.caller_leg = 0;
        return call_event::customer_failed;
      default: return std::nullopt;
    }
  }
  if (in.leg == st.call.caller_leg) {
    switch (kind) {
      case leg_event::cancelled:
        if (env->probe != nullptr && !st.caller_answered)
          env->probe->invite_final(487, st.call.trunk);
        return call_event::caller_cancel;
      case leg_event::bye:
      case leg_event::terminated:
        return bridged ? call_event::caller_bye : call_event::caller_cancel;
      default: return std::nullopt;
    }
  }
  if (in.leg != 0 && in.leg == st.outside_leg) {
    switch (kind) {
      case leg_event::answered:
        st.outside_sdp = in.sdp;
        return call_event::outside_answered;
      case leg_event::failed:
        st.outside_leg = 0;
        return st.agent_leg != 0 ? call_event::outside_failed
                                 : call_event::outside_failed_alone;
      case leg_event::bye: return call_event::outside_bye;
      case leg_event::terminated:
        if (st.state == call_state::outside)
          return call_event::outside_bye;
        return std::nullopt;
      default: return std::nullopt;
    }
  }
  if (in.leg != 0 && in.leg == st.media_leg) {
    switch (kind) {
      case leg_event::answered:
        st.media_up = true;
        st.media_sdp = in.sdp;
        return call_event::media_answered;
      case leg_event::failed:
      case leg_event::bye:
      case leg_event::terminated: {
        auto xs = call_fields(st);
        xs.emplace_back("uri", env->hold_uri);
        xs.emplace_back("status", std::to_string(in.status));
        env->log->warn(kind == leg_event::failed
                         ? "the hold media server refused the caller; "
                           "ringback instead"
                         : "the hold media server hung up on a waiting caller",
                       xs);
        st.media_leg = 0;
        st.media_up = false;
        return call_event::media_failed;
      }
      default: return std::nullopt;
    }
  }
  if (in.leg != 0 && in.leg == st.announcement_leg) {
    switch (kind) {
      case leg_event::answered:
        st.announcement_up = true;
        st.announcement_sdp = in.sdp;
        return call_event::announcement_answered;
      case leg_event::failed:
      case leg_event::bye:
      case leg_event::terminated:
        st.announcement_leg = 0;
        st.announcement_up = false;
        return call_event::announcement_done;
      default: return std::nullopt;
    }
  }
  if (in.leg != st.agent_leg || in.leg == 0) {
    // A leg the call gave up on answered after all: hang it up.
    if (kind == leg_event::answered)
      env->sip->bye(in.leg);
    return std::nullopt;
  }
  switch (kind) {
    case leg_event::provisional: return call_event::agent_ringing;
    case leg_event::answered:
      st.agent_sdp = in.sdp;
      return call_event::agent_answered;
    case leg_event::failed:
      if (in.status == 486 || in.status == 600 || in.status == 603)
        return call_event::agent_declined;
      return call_event::agent_failed;
    case leg_event::bye:
    case leg_event::terminated:
      if (st.state == call_state::transferring
          || st.state == call_state::referring) {
        // The agent left after asking for the transfer, which goes on.
        st.agent_leg = 0;
        return call_event::agent_bye;
      }
      if (kind == leg_event::bye || st.state == call_state::talking
          || st.state == call_state::accepting
          || st.state == call_state::dialling)
        return call_event::agent_bye;
      return std::nullopt;
    default: return std::nullopt;
  }
}

void on_input(self_ptr self, const call_env* env, call_input& in) {
  auto& st = self->state;
  if (st.state == call_state::ended)
    return;
  auto event = in.event;
  if (in.leg != 0) {
    auto mapped = leg_event_of(self, env, in);
    if (!mapped)
      return;
    event = *mapped;
  }
  // A transfer out from the API: the number is called the way a
  // callback's customer is (callback_uri).
  if (event == call_event::transferred_out) {
    if (st.state != call_state::talking) {
      auto xs = call_fields(st);
      xs.emplace_back("number", in.text);
      xs.emplace_back("state", to_string(st.state));
      env->log->warn("transfer out not placed: the caller and agent are not "
                     "talking here yet",
                     xs);
      return;
    }
    auto uri = callback_uri(env->callback_uri, callback_number(in.text),
                            st.call.trunk);
    if (uri.empty()) {
      auto xs = call_fields(st);
      xs.emplace_back("number", in.text);
      env->log->warn("transfer out not placed: the number is not a telephone "
                     "number; caller and agent talk on",
                     xs);
      return;
    }
    st.refer = refer_target{};
    st.refer.uri = uri;
    st.refer_leg = 0;
  }
  if (event == call_event::outside_failed
      || event == call_event::outside_failed_alone) {
    auto xs = call_fields(st);
    xs.emplace_back("target", st.refer.uri);
    xs.emplace_back("status", std::to_string(in.status));
    env->log->warn(event == call_event::outside_failed
                     ? "the transfer out failed; caller and agent talk on"
                     : "the transfer out failed and the agent has left; "
                       "ending the call",
                   xs);
  }
  // A transfer to a number or Teams user the tenant does not have goes
  // outside the contact center.
  if (event == call_event::transfer_refused && in.status == 5)
    event = call_event::transfer_unknown;
  // An ending with an announcement, for a caller the hold media server
  // answered: played before the caller is hung up.
  if (event == call_event::engine_ended && !in.announcement.empty()
      && st.media_up && !env->announcement_uri.empty()) {
    if (!prompt_uri(env->announcement_uri, in.announcement).empty()) {
      st.announcement = in.announcement;
      event = call_event::ended_with_announcement;
    } else {
      auto xs = call_fields(st);
      xs.emplace_back("announcement", in.announcement);
      env->log->warn("announcement not played: a prompt id is letters, "
                     "digits, '.', '_' and '-', at most 64",
                     xs);
    }
  }
  // Answers about an offer that is no longer the open one change nothing.
  switch (event) {
    case call_event::agent_found:
    case call_event::agent_unknown:
    case call_event::accepted:
    case call_event::accept_refused:
    case call_event::offer_closed:
      if (in.offer_id != st.offer_id)
        return;
      break;
    default: break;
  }
  if (event == call_event::accepted && st.call.is_callback)
    event = call_event::callback_accepted;
  if (event == call_event::customer_failed
      && st.state == call_state::dialling) {
    auto xs = call_fields(st);
    xs.emplace_back("agent_id", st.agent_id);
    xs.emplace_back("status", std::to_string(in.status));
    env->log->warn(in.status == 408 && in.leg == 0
                     ? "callback: the customer did not answer in time"
                     : "callback: the customer was not reached",
                   xs);
  }
  auto step = transition(st.state, event);
  if (!step.handled)
    return;
  auto from = st.state;
  st.state = step.next;
  if (step.next == call_state::ringing && from != call_state::ringing)
    st.ring_started = std::chrono::steady_clock::now();
  if (from == call_state::ringing && step.next != call_state::ringing
      && env->probe != nullptr)
    env->probe->offer_rang(std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - st.ring_started)
                             .count(),
                           to_string(event));
  if (env->probe != nullptr && from != step.next)
    env->probe->dialog_state(to_string(from), to_string(step.next));
  // Every step of every call: a debug line. At hundreds of calls a
  // second, six more info lines per call (each a write and a flush) are
  // CPU and log volume spent on steps an operator does not read; the
  // call's admission, its agent and its answer stay info lines.
  if (env->log->enabled(router::log_level::debug)) {
    auto xs = call_fields(st);
    xs.emplace_back("event", to_string(event));
    xs.emplace_back("from", to_string(from));
    xs.emplace_back("to", to_string(step.next));
    env->log->write(router::log_level::debug, "call state", xs);
  }
  for (auto action : step.actions)
    run(self, env, action, in);
  // The hold media server's leg ends once the call leaves the queue (an
  // announcement ends it once it plays instead).
  if (!in_queue(st.state) && st.state != call_state::announcing)
    end_leg(env, st.media_leg, st.media_up);
  if (st.state == call_state::ended) {
    end_leg(env, st.announcement_leg, st.announcement_up);
    env->registry->forget(caf::actor_cast<call_actor>(self), st.call.tenant_id,
                          st.call.call_id, st.legs);
    self->quit();
  }
}

} // namespace

call_actor::behavior_type call_behavior(self_ptr self, call_setup setup,
                                        const call_env* env) {
  if (setup.caller_leg != 0)
    self->state.legs.push_back(setup.caller_leg);
  // A callback starts waiting for the offer that made it.
  if (setup.is_callback)
    self->state.state = call_state::waiting;
  if (env->probe != nullptr)
    env->probe->dialog_state("", to_string(self->state.state));
  self->state.call = std::move(setup);
  return {
    [self, env](call_input& in) {
      on_input(self, env, in);
    },
  };
}

} // namespace switchboard::sbc
