#include "nodes/sbc_gateway/trunks.hpp"

#include <gtest/gtest.h>

using namespace switchboard::sbc;

namespace {

const char* table_text = R"(# trunk FQDN            tenant   numbers
contoso.sbc.example.net   contoso  +14255550100 +14255550101
Fabrikam.SBC.example.net  fabrikam

)";

trunk_table table() {
  std::string error;
  auto t = trunk_table::parse(table_text, error);
  EXPECT_EQ(error, "");
  return t;
}

invite_facts facts() {
  invite_facts x;
  x.source_host = "127.0.0.21";
  x.contact_host = "contoso.sbc.example.net";
  x.request_host = "gateway.example.net";
  x.request_user = "+14255550100";
  x.content_type = "application/sdp";
  x.has_body = true;
  return x;
}

} // namespace

TEST(trunks, a_table_maps_fqdns_any_case_to_tenants_and_numbers) {
  auto t = table();
  EXPECT_EQ(t.size(), 2u);
  ASSERT_NE(t.find("CONTOSO.sbc.example.net"), nullptr);
  EXPECT_EQ(t.find("contoso.sbc.example.net")->tenant_id, "contoso");
  EXPECT_EQ(t.find("contoso.sbc.example.net")->numbers.size(), 2u);
  ASSERT_NE(t.find("fabrikam.sbc.example.net"), nullptr);
  EXPECT_EQ(t.find("unknown.example.net"), nullptr);
  EXPECT_EQ(t.tenants(), (std::vector<std::string>{"contoso", "fabrikam"}));
}

TEST(trunks, errors_name_the_line_and_what_is_wrong) {
  std::string error;
  trunk_table::parse("a.example contoso\nlonely\n", error);
  EXPECT_EQ(error, "line 2: expected a trunk FQDN, a tenant id and optional "
                   "E.164 numbers, found 'lonely'");
  trunk_table::parse("a.example contoso 4255550100\n", error);
  EXPECT_EQ(error, "line 1: '4255550100' is not an E.164 number (+ and 1 to "
                   "15 digits)");
  trunk_table::parse("a.example contoso\n# x\nA.example fabrikam\n", error);
  EXPECT_EQ(error, "line 3: trunk 'a.example' is already listed on line 1");
  trunk_table::parse("a.example t1 +1\nb.example t2 +1\n", error);
  EXPECT_EQ(error, "line 2: number +1 is already listed on line 1");
  trunk_table::parse("a_b!.example t1\n", error);
  EXPECT_EQ(error, "line 1: 'a_b!.example' is not an FQDN");
}

TEST(trunks, the_trunk_fqdn_is_contact_then_record_route_then_request_uri) {
  auto x = facts();
  x.record_route_host = "rr.example.net";
  EXPECT_EQ(trunk_fqdn(x), "contoso.sbc.example.net");
  x.contact_host.clear();
  EXPECT_EQ(trunk_fqdn(x), "rr.example.net");
  x.record_route_host.clear();
  EXPECT_EQ(trunk_fqdn(x), "gateway.example.net");
}

TEST(admission, a_known_trunk_and_number_with_sdp_is_admitted) {
  auto verdict = admit(facts(), table(), {}, true);
  EXPECT_EQ(verdict.status, 0);
  EXPECT_EQ(verdict.tenant_id, "contoso");
  EXPECT_EQ(verdict.number, "+14255550100");
}

TEST(admission, an_unknown_trunk_gets_403_with_a_reason) {
  auto x = facts();
  x.contact_host = "127.0.0.1";
  auto verdict = admit(x, table(), {}, true);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_NE(verdict.reason.find("unknown trunk FQDN '127.0.0.1'"),
            std::string::npos);
}

TEST(admission, a_number_the_tenant_does_not_have_gets_404) {
  auto x = facts();
  x.request_user = "+14255559999;npdi";
  auto verdict = admit(x, table(), {}, true);
  EXPECT_EQ(verdict.status, 404);
  EXPECT_NE(verdict.reason.find("+14255559999"), std::string::npos);
}

TEST(admission, a_tenant_without_listed_numbers_takes_any_number) {
  auto x = facts();
  x.contact_host = "fabrikam.sbc.example.net";
  x.request_user = "+3312345";
  EXPECT_EQ(admit(x, table(), {}, true).status, 0);
}

TEST(admission, an_invite_without_sdp_gets_488) {
  auto x = facts();
  x.has_body = false;
  EXPECT_EQ(admit(x, table(), {}, true).status, 488);
}

TEST(admission, a_source_not_allowed_gets_403) {
  auto verdict = admit(facts(), table(), {"127.0.0.22"}, true);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(admit(facts(), table(), {"127.0.0.21"}, true).status, 0);
}

TEST(admission, no_router_gets_503_with_retry_after) {
  auto verdict = admit(facts(), table(), {}, false);
  EXPECT_EQ(verdict.status, 503);
  EXPECT_TRUE(verdict.retry_after);
}
