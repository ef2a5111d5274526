#pragma once

// Which Switchboard tenant a call from the SBC belongs to. Teams finds the
// customer from the FQDN the SBC presents in Contact; the gateway does the
// same with a table read from a file of one line per trunk, as Kamailio's
// dispatcher lists are written:
//
//   # trunk FQDN                    tenant    numbers (E.164; none: any)
//   contoso.customers.example.net   contoso   +14255550100 +14255550101
//
// The router's API has no call that lists tenants, so the gateway cannot
// read Tenant.sip_trunk_fqdns itself: the table is the gateway's copy of
// them. A tenant with no numbers listed takes any number, and the engine
// decides (a number no classification rule takes is refused by it).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sbc {

struct trunk {
  std::string fqdn; // lower case
  std::string tenant_id;
  std::vector<std::string> numbers;
  int line = 0;
};

class trunk_table {
 public:
  /// Parses the text of a trunks file; on a problem, `error` names the line
  /// and what is wrong, and the table is left empty.
  static trunk_table parse(std::string_view text, std::string& error);

  /// Reads and parses the file at `path`; `error` names the file too.
  static trunk_table load(const std::string& path, std::string& error);

  /// The trunk of `fqdn` (any case), or nullptr.
  const trunk* find(std::string_view fqdn) const;

  /// The first trunk FQDN (in order of name) of a tenant; empty if none.
  std::string fqdn_of(std::string_view tenant_id) const;

  /// Every tenant the table names, once each.
  std::vector<std::string> tenants() const;

  size_t size() const { return by_fqdn_.size(); }

 private:
  std::map<std::string, trunk, std::less<>> by_fqdn_;
};

/// What a new INVITE tells the gateway, as far as admission is concerned.
struct invite_facts {
  std::string source_host;
  std::string contact_host;
  std::string record_route_host;
  std::string request_host;
  std::string request_user;
  std::string content_type;
  bool has_body = false;
};

/// The verdict on a new INVITE: status 0 means admitted for `tenant_id`,
/// else the final response to send, with a Reason text a SIP engineer
/// reads in a trace.
struct admission {
  int status = 0;
  std::string phrase;
  /// A short word for metrics: source, trunk, number, no_sdp, router_down.
  std::string why;
  std::string reason;
  bool retry_after = false;
  std::string tenant_id;
  std::string number;
  std::string trunk_fqdn;
};

/// The trunk FQDN of an INVITE: the host of Contact, else of the first
/// Record-Route, else of the Request-URI.
std::string trunk_fqdn(const invite_facts& x);

/// The dialled number of a Request-URI user part: "+14255550100" from
/// "+14255550100;npdi", unchanged otherwise.
std::string dialled_number(std::string_view request_user);

/// Decides a new INVITE: source allowed (an empty list allows any), SDP
/// offer present (Teams refuses offerless INVITEs too), known trunk,
/// tenant's number, and a reachable router.
admission admit(const invite_facts& x, const trunk_table& trunks,
                const std::vector<std::string>& allowed_sources,
                bool router_up);

} // namespace switchboard::sbc
