#include "nodes/identity/key_set.hpp"
#include "tests/support/test_keys.hpp"

#include <gtest/gtest.h>

using namespace switchboard::identity;
using switchboard::testing::rsa_key;

TEST(key_set, reads_rsa_keys_of_a_jwks_by_kid) {
  rsa_key a;
  rsa_key b;
  auto r = key_set::from_jwks("{\"keys\":[" + a.jwk("one") + "," + b.jwk("two")
                              + "]}");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(r.keys.size(), 2u);
  EXPECT_TRUE(r.keys.contains("one"));
  EXPECT_TRUE(r.keys.contains("two"));
  EXPECT_FALSE(r.keys.contains("three"));
}

TEST(key_set, skips_keys_it_cannot_use_and_says_why) {
  rsa_key a;
  auto r = key_set::from_jwks(
    "{\"keys\":[" + a.jwk("good")
    + ",{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\"},"
      "{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":"
      "\"AQAB\"},"
      "{\"kty\":\"RSA\",\"kid\":\"short\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
      "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.keys.ids(), std::vector<std::string>{"good"});
  ASSERT_EQ(r.skipped.size(), 4u);
  EXPECT_NE(r.skipped[0].find("not RSA"), std::string::npos) << r.skipped[0];
  EXPECT_NE(r.skipped[1].find("not signing"), std::string::npos);
  EXPECT_NE(r.skipped[2].find("unreadable"), std::string::npos);
  EXPECT_NE(r.skipped[3].find("no \"kid\""), std::string::npos);
}

TEST(key_set, refuses_a_document_that_is_not_a_key_set) {
  EXPECT_NE(key_set::from_jwks("not json").error.find("not JSON"),
            std::string::npos);
  EXPECT_NE(key_set::from_jwks("{\"issuer\":\"x\"}").error.find("\"keys\""),
            std::string::npos);
}

TEST(key_set, takes_a_public_key_in_pem) {
  rsa_key a;
  key_set keys;
  EXPECT_TRUE(keys.add_pem("pem", a.public_pem()));
  EXPECT_FALSE(keys.add_pem("junk", "-----BEGIN PUBLIC KEY-----\nAAAA\n"));
  EXPECT_EQ(keys.ids(), std::vector<std::string>{"pem"});
}

TEST(key_set, finds_the_jwks_uri_of_an_openid_configuration) {
  EXPECT_EQ(jwks_uri_of("{\"issuer\":\"https://api.botframework.com\","
                        "\"jwks_uri\":\"https://login.example/keys\"}"),
            "https://login.example/keys");
  EXPECT_EQ(jwks_uri_of("{}"), "");
  EXPECT_EQ(jwks_uri_of("<html>"), "");
}
