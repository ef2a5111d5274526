#include "nodes/sbc_gateway/sdp.hpp"

#include <gtest/gtest.h>

namespace switchboard::sbc {
namespace {

std::string body(const std::string& origin, const std::string& port) {
  return "v=0\r\no=" + origin + "\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
         + "m=audio " + port + " RTP/AVP 0\r\n";
}

TEST(sdp_origin, the_first_body_sets_the_legs_origin_and_passes_unchanged) {
  sdp_origin leg;
  auto first = body("alice 100 7 IN IP4 192.0.2.10", "4000");
  EXPECT_EQ(leg.stamp(first), first);
}

TEST(sdp_origin, a_body_from_another_origin_gets_the_legs_origin_and_version) {
  sdp_origin leg;
  leg.stamp(body("alice 100 7 IN IP4 192.0.2.10", "4000"));
  auto second = leg.stamp(body("bob 555 1 IN IP4 192.0.2.20", "5000"));
  EXPECT_EQ(second, body("alice 100 8 IN IP4 192.0.2.10", "5000"));
  auto third = leg.stamp(body("carol 9 3 IN IP4 192.0.2.30", "6000"));
  EXPECT_EQ(third, body("alice 100 9 IN IP4 192.0.2.10", "6000"));
}

TEST(sdp_origin, an_unchanged_body_keeps_its_version) {
  sdp_origin leg;
  leg.stamp(body("alice 100 7 IN IP4 192.0.2.10", "4000"));
  auto changed = body("bob 555 1 IN IP4 192.0.2.20", "5000");
  auto once = leg.stamp(changed);
  EXPECT_EQ(leg.stamp(changed), once);
}

TEST(sdp_origin, a_body_without_an_origin_line_passes_unchanged) {
  sdp_origin leg;
  EXPECT_EQ(leg.stamp("v=0\r\ns=-\r\n"), "v=0\r\ns=-\r\n");
  EXPECT_EQ(leg.stamp("o=too few fields\r\n"), "o=too few fields\r\n");
}

TEST(callback_offer, is_a_black_hole_whose_origin_the_customers_sdp_keeps) {
  auto offer = callback_offer(42);
  EXPECT_NE(offer.find("o=switchboard 42 1 IN IP4 0.0.0.0\r\n"),
            std::string::npos);
  EXPECT_NE(offer.find("c=IN IP4 0.0.0.0\r\n"), std::string::npos);
  EXPECT_NE(offer.find("m=audio 9 RTP/AVP 0 8 101\r\n"), std::string::npos);
  // The agent's leg: the customer's answer comes in a re-INVITE with the
  // leg's origin, one version on.
  sdp_origin leg;
  EXPECT_EQ(leg.stamp(offer), offer);
  auto customer = leg.stamp(body("customer 9 9 IN IP4 192.0.2.20", "6000"));
  EXPECT_NE(customer.find("o=switchboard 42 2 IN IP4 0.0.0.0\r\n"),
            std::string::npos)
    << customer;
  EXPECT_NE(customer.find("m=audio 6000"), std::string::npos);
}

} // namespace
} // namespace switchboard::sbc
