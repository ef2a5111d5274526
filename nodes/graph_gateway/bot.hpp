#pragma once

// The contact-center bot: the tenants it serves (each Switchboard
// tenant's Microsoft tenant, read from the router), one actor per call,
// and the dispatch of call notifications and engine events to them. CAF
// stays behind this header.

#include "nodes/gateway/router_link.hpp"
#include "nodes/graph_gateway/graph_api.hpp"
#include "nodes/graph_gateway/notifications.hpp"
#include "nodes/identity/token.hpp"
#include "nodes/router/log.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::graph {

struct bot_options {
  /// This gateway's name: on every call it submits.
  std::string name;
  /// The URL Graph posts call notifications to (the bot's callback URL).
  std::string callback_url;
  /// Played to waiting callers when set (an audio file's URL).
  std::string hold_prompt;
  /// The engine's announcements ("{prompt}" for the prompt id); empty:
  /// none are played and such calls are hung up at once.
  std::string announcement_url;
  /// The tone (tone0..tone9, star, pound) a waiting caller presses to be
  /// called back; empty: callers cannot ask.
  std::string callback_tone;
  /// How long an incoming call rings unanswered while the router cannot
  /// be reached, before it is rejected as busy (Graph gives up at 15 s).
  std::chrono::seconds router_wait{10};
  /// After each reading of the agents: the Teams user ids of a Microsoft
  /// tenant's agents (whose presence then matters).
  std::function<void(const std::string& microsoft_tenant,
                     std::vector<std::string> users)>
    on_agents;
};

class bot {
 public:
  bot(bot_options options, switchboard::gateway::router_link& router,
      graph_api& graph, router::logger& log);
  ~bot();
  bot(const bot&) = delete;
  bot& operator=(const bot&) = delete;

  /// The tenants served, with their Microsoft tenant ids.
  void serve(const std::vector<switchboard::gateway::tenant_settings>& tenants);

  /// Call notifications of one POST, whose verified token named `claims`.
  void on_calls(std::vector<call_notification> batch,
                const identity::token_claims& claims);

  /// Reads the served tenants' agents that have a Teams user id now, and
  /// again every `every` until the bot goes (agents added later get their
  /// presence from then on).
  void watch_agents(std::chrono::seconds every);

  /// A Teams presence change (decrypted) of a subscription in Microsoft
  /// tenant `n.tenant_id`: SetAgentPresence for the agent with that
  /// Teams user id, if the user is an agent of a served tenant of that
  /// Microsoft tenant.
  /// With `only_changes`, a presence equal to the last one sent for the
  /// user is not sent again (the periodic reconcile's case).
  void on_presence(const presence& p, const change_notification& n,
                   bool only_changes = false);

  /// After a restart: the calls this gateway (by its name) left in the
  /// engine. Each that Graph still has is rejoined (waiting, or talking
  /// with its agent); each that Graph no longer has ends in the engine
  /// (completed if answered, else withdrawn). Runs in the background once
  /// the router is reachable.
  void rejoin(const std::vector<std::string>& tenants);

  /// An event of a served tenant's stream.
  void on_engine_event(const switchboard::gateway::engine_event& e);

  std::size_t live_calls() const;

 private:
  void on_leg_event(const switchboard::gateway::engine_event& e);

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::graph
