// An INVITE read from its bytes by sofia-sip's parser, as the fuzzer and
// the gateway read it: what the gateway takes, and what it refuses.

#include "nodes/sbc_gateway/sip_stack.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

using namespace switchboard::sbc;

namespace {

std::string read(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

TEST(parse_invite, takes_what_the_gateway_needs_from_a_teams_invite) {
  auto bytes
    = read(SWITCHBOARD_FUZZ_CORPUS "/sip_invite_fuzz/teams-invite.txt");
  ASSERT_FALSE(bytes.empty());
  std::string error;
  auto x = parse_invite(bytes, {"X-MS-Teams-Tenant-Id", "Diversion"}, error);
  ASSERT_TRUE(x) << error;
  EXPECT_EQ(x->call_id, "a84b4c76e66710@pstnhub");
  EXPECT_EQ(x->facts.request_user, "+14255550100");
  EXPECT_EQ(x->facts.request_host, "contoso.customers.example.net");
  EXPECT_EQ(x->facts.contact_host, "sbc.contoso.customers.example.net");
  EXPECT_EQ(x->facts.record_route_host, "contoso.customers.example.net");
  EXPECT_EQ(x->asserted_uri, "sip:+14255559999@sip.pstnhub.microsoft.com");
  EXPECT_TRUE(x->facts.has_body);
  EXPECT_EQ(x->sdp.rfind("v=0", 0), 0u);
  ASSERT_EQ(x->headers.size(), 2u);
  EXPECT_EQ(x->headers[0].first, "X-MS-Teams-Tenant-Id");
  EXPECT_EQ(x->headers[0].second, "11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(x->headers[1].first, "Diversion");
}

TEST(parse_invite, refuses_what_is_not_a_well_formed_invite) {
  std::string error;
  EXPECT_FALSE(parse_invite("hello", {}, error));
  EXPECT_FALSE(parse_invite("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP "
                            "h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: "
                            "<sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n"
                            "Content-Length: 0\r\n\r\n",
                            {}, error));
  EXPECT_EQ(error, "not an INVITE");
  // RFC 4475 3.1.2.1 (empty Via and Contact parameters) and 3.1.2.12 (a
  // Date that is not RFC 1123): the parser refuses both.
  for (auto* f : {"badinv01.dat", "baddate.dat"}) {
    EXPECT_FALSE(parse_invite(
      read(std::string{SWITCHBOARD_SIP_TORTURE_DIR "/"} + f), {}, error))
      << f;
    EXPECT_NE(error.find("not a well-formed request"), std::string::npos)
      << error;
  }
  EXPECT_FALSE(
    parse_invite(std::string(max_parsed_message_bytes + 1, 'x'), {}, error));
  EXPECT_NE(error.find("larger than"), std::string::npos) << error;
}

} // namespace
