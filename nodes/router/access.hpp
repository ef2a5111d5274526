#pragma once

// Who may call what on the router's API: the principal behind a request
// (from its Entra ID bearer token or its client certificate), the five
// roles, and the rule of every method. Pure decisions, no gRPC: the
// services ask, then look up what a decision leaves open (whether an
// agent or a call is the caller's own).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::identity {
struct token_claims;
} // namespace switchboard::identity

namespace switchboard::router::access {

/// The roles of the API, as bits of a set.
enum class role : unsigned {
  agent = 1,      ///< their own presence, readiness, offers, calls, figures
  supervisor = 2, ///< read their tenant; change agents' state
  admin = 4,      ///< a supervisor who also configures their tenant
  gateway = 8,    ///< Ingest and call commands for its tenants
  platform = 16,  ///< the provider: tenants, the cluster, every tenant
};

using role_set = unsigned;

constexpr role_set bit(role r) noexcept { return static_cast<role_set>(r); }

/// The app role value that grants `r` in a token: "Switchboard.Agent".
const char* app_role(role r) noexcept;

/// "agent, supervisor", or "none".
std::string describe(role_set roles);

/// Who is calling, as far as the node knows once it verified them.
struct principal {
  /// For logs and the audit line: "user Ann Lee (oid 1c9e...)" or
  /// "certificate CN=sbc-gateway-a". Never a token.
  std::string who;
  /// Every role it holds somewhere (a token holds them on each of its
  /// tenants; a certificate each on the tenants it names it for).
  role_set roles = 0;
  /// A token's `tid`: the tenants whose `microsoft_tenant_id` it is.
  std::string microsoft_tenant;
  /// A certificate's roles, each with the tenant it holds it on; "*" (the
  /// platform role only) is every tenant.
  std::vector<std::pair<role, std::string>> grants;
  /// Roles a token holds on every tenant: the gateway role of an app of
  /// the provider's own directory (a gateway the provider runs for all
  /// its customers).
  role_set everywhere = 0;
  /// A token's `oid`: as an agent, the agent whose `teams_user_id` it is.
  std::string object_id;
  /// A token's `exp` (seconds since the epoch): a stream it opened ends
  /// then. 0: no end (a certificate, checked when the connection is made).
  std::int64_t expires_at = 0;
  /// No authentication configured (a developer's loopback node): every
  /// request is allowed.
  bool unrestricted = false;
};

/// The principal of a token Entra ID issued for Switchboard's API: its
/// roles from the app roles it carries; the platform role only when its
/// `tid` is `platform_tenant` (the provider's own Microsoft tenant), and
/// there the gateway role holds on every tenant.
principal of_token(const identity::token_claims& claims,
                   const std::string& platform_tenant);

/// The prefix of a certificate's URI names that grant a role:
/// `urn:switchboard:<role>:<tenant id>`, one name per role and tenant, as
/// SPIFFE binds identities to certificates; the platform role is
/// `urn:switchboard:platform:*` (every tenant) and nothing else.
inline constexpr std::string_view certificate_uri_prefix = "urn:switchboard:";

/// The principal of a client certificate with subject `subject` and URI
/// names `uris`; nothing when no name grants a role, with `why` saying
/// what the certificate lacks.
std::optional<principal> of_certificate(const std::string& subject,
                                        const std::vector<std::string>& uris,
                                        std::string& why);

/// What a request is about, read from its fields.
struct target {
  std::string tenant_id;
  std::string agent_id;
  std::string call_id;
  /// GetAgent by Teams user: an agent may look up the one that is theirs.
  std::string teams_user_id;
  /// ListCallHistory of a caller.
  std::string caller;
};

/// What an agent may do with a method that their role does not open on
/// the whole tenant.
enum class own : std::uint8_t {
  none,    ///< nothing
  tenant,  ///< read it, as for their tenant (queue figures)
  agent,   ///< act on the agent the request names, if it is theirs
  call,    ///< act on the call the request names, if it is theirs
  history, ///< read the history of the agent the request names, if theirs
  events,  ///< subscribe, receiving their own agent's and calls' events
  leg,     ///< act on a consult leg of a call their agent handles
};

/// The rule of one method.
struct rule {
  std::string_view method;
  /// Roles that may call it for anything of their tenants.
  role_set tenant_wide;
  own for_agent;
  /// Not about one tenant (UpsertTenant, the cluster): platform only.
  bool platform_only = false;
};

/// The rule of `method` (its name in the .proto), or null: a method
/// without a rule is refused to everyone but an unrestricted node.
const rule* rule_of(std::string_view method);

/// The Microsoft tenant id of a Switchboard tenant; nothing when the
/// tenant does not exist.
using microsoft_tenant_of
  = std::function<std::optional<std::string>(const std::string& tenant_id)>;

/// The roles `p` holds on tenant `tenant_id`; none: it may not see it.
role_set roles_on(const principal& p, const std::string& tenant_id,
                  const microsoft_tenant_of& lookup);

/// The outcome of checking a request against its method's rule.
struct decision {
  enum class kind : std::uint8_t {
    allow,
    /// PERMISSION_DENIED with `message`.
    deny,
    /// NOT_FOUND with `message`: a tenant the caller may not see is
    /// answered as one that does not exist.
    hide,
    /// Allowed if the agent `target.agent_id` is the caller's own (its
    /// `teams_user_id` is the caller's `oid`).
    own_agent,
    /// Allowed if the call `target.call_id` is offered to or handled by
    /// the caller's own agent.
    own_call,
    /// Allowed, with the events filtered to the caller's own agent.
    own_events,
    /// Allowed if the caller's own agent is offered or handles a call
    /// from `target.caller` (the history of the caller on the line).
    own_caller,
    /// Allowed if the call `target.call_id` is a consult or conference
    /// leg of a call the caller's own agent handles.
    own_leg,
  };
  kind what = kind::deny;
  std::string message;
};

decision decide(const principal& p, std::string_view method, const target& t,
                const microsoft_tenant_of& lookup);

/// What a missing tenant, or one the caller may not see, is answered with.
std::string no_such_tenant(const std::string& tenant_id);

/// Whether `method` changes configuration (recorded with who made it).
bool is_admin_change(std::string_view method);

} // namespace switchboard::router::access
