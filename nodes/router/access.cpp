#include "nodes/router/access.hpp"

#include "nodes/identity/token.hpp"

#include <algorithm>
#include <array>

namespace switchboard::router::access {

namespace {

constexpr role_set A = bit(role::agent);
constexpr role_set S = bit(role::supervisor);
constexpr role_set D = bit(role::admin);
constexpr role_set G = bit(role::gateway);
constexpr role_set P = bit(role::platform);

/// Every method of switchboard.v1, with who may call it. An admin may do
/// what a supervisor may; the platform may do everything.
constexpr std::array<rule, 38> rules{{
  // AdminService
  {"UpsertTenant", P, own::none, true},
  {"GetTenant", S | D | G | P, own::tenant},
  {"UpsertQueue", D | P, own::none},
  {"GetQueue", S | D | G | P, own::tenant},
  {"ListQueues", S | D | G | P, own::tenant},
  {"DeleteQueue", D | P, own::none},
  {"UpsertAgent", D | P, own::none},
  {"GetAgent", S | D | G | P, own::agent},
  {"ListAgents", S | D | G | P, own::none},
  {"DeleteAgent", D | P, own::none},
  {"UpsertClassificationRules", D | P, own::none},
  {"GetClassificationRules", S | D | G | P, own::none},
  {"ListConfigurationChanges", S | D | P, own::none},
  // ClusterService
  {"ListMembers", P, own::none, true},
  {"LocateTenant", G | P, own::none},
  {"RemoveMember", P, own::none, true},
  // EventService
  {"Subscribe", S | D | G | P, own::events},
  {"Ingest", G | P, own::none},
  // RoutingService
  {"SubmitCall", G | P, own::none},
  {"GetCall", S | D | G | P, own::call},
  {"ListCalls", S | D | G | P, own::none},
  {"CancelCall", G | P, own::leg},
  {"CompleteCall", S | D | G | P, own::call},
  {"TransferCall", S | D | G | P, own::call},
  {"AcceptOffer", G | P, own::agent},
  {"SetCallDisposition", S | D | G | P, own::call},
  {"DeclineOffer", G | P, own::agent},
  {"RequestCallback", G | P, own::none},
  {"SetAgentPresence", S | D | G | P, own::agent},
  {"SetAgentReady", S | D | G | P, own::agent},
  {"ConsultCall", S | D | G | P, own::call},
  {"CompleteConsult", S | D | G | P, own::call},
  {"JoinConsult", S | D | G | P, own::call},
  {"EndWrapUp", S | D | G | P, own::agent},
  {"ExtendWrapUp", S | D | G | P, own::agent},
  // StatsService
  {"GetQueueStats", S | D | G | P, own::tenant},
  {"GetAgentStats", S | D | P, own::agent},
  {"ListCallHistory", S | D | P, own::history},
}};

constexpr std::array<std::pair<role, const char*>, 5> app_roles{{
  {role::agent, "Switchboard.Agent"},
  {role::supervisor, "Switchboard.Supervisor"},
  {role::admin, "Switchboard.Admin"},
  {role::gateway, "Switchboard.Gateway"},
  {role::platform, "Switchboard.Platform"},
}};

const char* short_name(role r) {
  switch (r) {
    case role::agent: return "agent";
    case role::supervisor: return "supervisor";
    case role::admin: return "admin";
    case role::gateway: return "gateway";
    case role::platform: return "platform";
  }
  return "?";
}

std::optional<role> role_named(std::string_view name) {
  for (auto& [r, value] : app_roles)
    if (name == short_name(r))
      return r;
  return std::nullopt;
}

/// The app roles that open `roles`, for a message: "Switchboard.Admin or
/// Switchboard.Platform".
std::string app_roles_of(role_set roles) {
  std::string out;
  for (auto& [r, value] : app_roles)
    if ((roles & bit(r)) != 0) {
      if (!out.empty())
        out += " or ";
      out += value;
    }
  return out;
}

} // namespace

const char* app_role(role r) noexcept {
  for (auto& [x, value] : app_roles)
    if (x == r)
      return value;
  return "?";
}

std::string describe(role_set roles) {
  std::string out;
  for (auto& [r, value] : app_roles)
    if ((roles & bit(r)) != 0) {
      if (!out.empty())
        out += ", ";
      out += short_name(r);
    }
  return out.empty() ? std::string{"none"} : out;
}

principal of_token(const identity::token_claims& claims,
                   const std::string& platform_tenant) {
  principal p;
  p.microsoft_tenant = claims.tenant_id;
  p.object_id = claims.object_id;
  p.expires_at = claims.expires_at;
  p.who = (claims.name.empty() ? std::string{"token"} : claims.name) + " (oid "
          + (claims.object_id.empty() ? claims.subject : claims.object_id)
          + ", tenant " + claims.tenant_id + ")";
  for (auto& value : claims.roles)
    for (auto& [r, name] : app_roles)
      if (value == name)
        p.roles |= bit(r);
  // The provider's role: only from the provider's own directory, whatever
  // a customer's administrator puts in their app's roles.
  bool provider
    = !platform_tenant.empty() && claims.tenant_id == platform_tenant;
  if (!provider)
    p.roles &= ~P;
  // The provider's gateways (its own apps) serve all its customers; a
  // customer's gateway app serves the customer's tenants only.
  if (provider)
    p.everywhere = p.roles & G;
  return p;
}

std::optional<principal> of_certificate(const std::string& subject,
                                        const std::vector<std::string>& uris,
                                        std::string& why) {
  principal p;
  p.who = "certificate " + subject;
  for (auto& uri : uris) {
    if (uri.compare(0, certificate_uri_prefix.size(), certificate_uri_prefix)
        != 0)
      continue;
    auto rest = std::string_view{uri}.substr(certificate_uri_prefix.size());
    auto colon = rest.find(':');
    auto r = role_named(rest.substr(0, colon));
    if (!r || colon == std::string_view::npos || colon + 1 == rest.size())
      continue;
    auto tenant = std::string{rest.substr(colon + 1)};
    // Every tenant is the platform's alone; the platform has no other.
    if ((*r == role::platform) != (tenant == "*"))
      continue;
    p.roles |= bit(*r);
    p.grants.emplace_back(*r, std::move(tenant));
  }
  if (p.roles == 0) {
    why = "client certificate " + subject
          + " names no Switchboard role: give it a URI name such as "
            "urn:switchboard:gateway:<tenant id> (or "
            "urn:switchboard:platform:*)";
    return std::nullopt;
  }
  return p;
}

const rule* rule_of(std::string_view method) {
  for (auto& r : rules)
    if (r.method == method)
      return &r;
  return nullptr;
}

role_set roles_on(const principal& p, const std::string& tenant_id,
                  const microsoft_tenant_of& lookup) {
  if (p.unrestricted)
    return A | S | D | G | P;
  if (!p.grants.empty()) {
    role_set held = 0;
    for (auto& [r, t] : p.grants)
      if (t == "*" || t == tenant_id)
        held |= bit(r);
    return held;
  }
  if ((p.roles & P) != 0)
    return p.roles;
  if (p.microsoft_tenant.empty())
    return p.everywhere;
  auto microsoft = lookup(tenant_id);
  return microsoft && *microsoft == p.microsoft_tenant ? p.roles : p.everywhere;
}

std::string no_such_tenant(const std::string& tenant_id) {
  return "tenant '" + tenant_id
         + "' does not exist (create it with UpsertTenant)";
}

bool is_admin_change(std::string_view method) {
  return method == "UpsertTenant" || method == "UpsertQueue"
         || method == "DeleteQueue" || method == "UpsertAgent"
         || method == "DeleteAgent" || method == "UpsertClassificationRules"
         || method == "RemoveMember";
}

decision decide(const principal& p, std::string_view method, const target& t,
                const microsoft_tenant_of& lookup) {
  using kind = decision::kind;
  if (p.unrestricted)
    return {kind::allow, {}};
  auto* r = rule_of(method);
  if (r == nullptr)
    return {kind::deny, std::string{method} + " is open to no role"};
  auto refused = [&] {
    return decision{
      kind::deny,
      std::string{method} + " needs the app role "
        + app_roles_of(r->tenant_wide | (r->for_agent != own::none ? A : 0))
        + "; " + p.who + " has " + describe(p.roles)};
  };
  // No role anywhere: nothing to hide, say what is missing.
  if (r->platform_only || p.roles == 0)
    return (p.roles & P) != 0 ? decision{kind::allow, {}} : refused();
  auto held = roles_on(p, t.tenant_id, lookup);
  if (held == 0)
    return {kind::hide, no_such_tenant(t.tenant_id)};
  if ((held & r->tenant_wide) != 0)
    return {kind::allow, {}};
  if ((held & A) == 0)
    return refused();
  switch (r->for_agent) {
    case own::none: return refused();
    case own::tenant: return {kind::allow, {}};
    case own::agent:
    case own::history:
      // Looking up their own agent by their own Teams user id.
      if (t.agent_id.empty() && method == "GetAgent" && !t.teams_user_id.empty()
          && t.teams_user_id == p.object_id)
        return {kind::allow, {}};
      if (t.agent_id.empty() && r->for_agent == own::history
          && !t.caller.empty())
        return {kind::own_caller, {}};
      if (t.agent_id.empty())
        return {kind::deny, "agent_id: as an agent, " + p.who + " may "
                              + std::string{method}
                              + " only for their own agent; "
                                "name it"};
      return {kind::own_agent, {}};
    case own::call: return {kind::own_call, {}};
    case own::leg: return {kind::own_leg, {}};
    case own::events: return {kind::own_events, {}};
  }
  return refused();
}

} // namespace switchboard::router::access
