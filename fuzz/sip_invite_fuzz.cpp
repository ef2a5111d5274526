// A SIP message as the SBC gateway receives it: parsed by sofia-sip's own
// parser, then what the gateway makes of an INVITE: its trunk and tenant,
// the dialled number, its admission, the headers it copies to the call,
// and REFER targets and callback numbers in those headers.

#include "nodes/sbc_gateway/call_fsm.hpp"
#include "nodes/sbc_gateway/sip_stack.hpp"
#include "nodes/sbc_gateway/trunks.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sbc = switchboard::sbc;

namespace {

const sbc::trunk_table& trunks() {
  static const sbc::trunk_table table = [] {
    std::string error;
    return sbc::trunk_table::parse(
      "contoso.customers.example.net contoso +14255550100\n"
      "fabrikam.customers.example.net fabrikam\n",
      error);
  }();
  return table;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  static const std::vector<std::string> copied{"X-MS-Teams-Tenant-Id",
                                               "User-to-User", "Diversion",
                                               "History-Info", "Referred-By"};
  std::string error;
  auto invite = sbc::parse_invite(bytes, copied, error);
  if (!invite)
    return 0;
  (void)sbc::trunk_fqdn(invite->facts);
  (void)sbc::dialled_number(invite->facts.request_user);
  (void)sbc::admit(invite->facts, trunks(), {}, true);
  // Whatever the Call-ID, the engine gets an id it accepts.
  auto id = sbc::engine_call_id(invite->call_id);
  if (id.empty() || id.size() > 200)
    __builtin_trap();
  for (unsigned char c : id)
    if (c <= ' ' || c > '~')
      __builtin_trap();
  (void)sbc::callback_number(invite->from_uri);
  (void)sbc::callback_number(invite->asserted_uri);
  for (auto& [name, value] : invite->headers) {
    (void)sbc::parse_refer_to(value);
    (void)sbc::callback_number(value);
  }
  return 0;
}
