#include "nodes/identity/base64.hpp"
#include "nodes/identity/key_set.hpp"
#include "nodes/identity/token.hpp"
#include "tests/support/test_keys.hpp"

#include <gtest/gtest.h>

using namespace switchboard::identity;
using switchboard::testing::rsa_key;

namespace {

constexpr std::int64_t now = 1'800'000'000;

struct token_test : ::testing::Test {
  rsa_key signer;
  key_set keys;
  token_rules rules;

  token_test() {
    keys = key_set::from_jwks("{\"keys\":[" + signer.jwk("k1") + "]}").keys;
    rules.issuers
      = {"https://graph.microsoft.com", "https://api.botframework.com"};
    rules.audiences = {"bot-app-id"};
  }

  static std::string claims(const std::string& extra = {},
                            std::int64_t exp = now + 3600) {
    return "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"bot-app-id\","
           "\"tid\":\"tenant-1\",\"oid\":\"user-1\",\"appid\":\"caller-app\","
           "\"roles\":[\"Agent\",\"Supervisor\"],\"nbf\":"
           + std::to_string(now - 60) + ",\"exp\":" + std::to_string(exp)
           + extra + "}";
  }

  token_verdict check(const std::string& token) const {
    return verify_token(token, keys, rules, now);
  }
};

} // namespace

TEST_F(token_test, accepts_a_token_signed_by_a_known_key_with_its_claims) {
  auto v = check(signer.sign("k1", claims()));
  ASSERT_TRUE(v) << v.reason;
  EXPECT_EQ(v.claims.issuer, "https://graph.microsoft.com");
  EXPECT_EQ(v.claims.audience, "bot-app-id");
  EXPECT_EQ(v.claims.tenant_id, "tenant-1");
  EXPECT_EQ(v.claims.object_id, "user-1");
  EXPECT_EQ(v.claims.app_id, "caller-app");
  EXPECT_EQ(v.claims.roles, (std::vector<std::string>{"Agent", "Supervisor"}));
  EXPECT_EQ(v.claims.expires_at, now + 3600);
  EXPECT_EQ(v.key_id, "k1");
}

TEST_F(token_test,
       accepts_an_audience_list_and_the_calling_platforms_tenant_claim) {
  auto v = check(signer.sign(
    "k1", "{\"iss\":\"https://api.botframework.com\",\"aud\":[\"other\","
          "\"bot-app-id\"],\"tenantid\":\"t2\",\"exp\":"
            + std::to_string(now + 60) + "}"));
  ASSERT_TRUE(v) << v.reason;
  EXPECT_EQ(v.claims.audience, "bot-app-id");
  EXPECT_EQ(v.claims.tenant_id, "t2");
}

TEST_F(token_test, refuses_a_token_signed_by_another_key) {
  rsa_key intruder;
  auto v = check(intruder.sign("k1", claims()));
  EXPECT_EQ(v.error, token_error::bad_signature);
  EXPECT_NE(v.reason.find("does not verify"), std::string::npos);
}

TEST_F(token_test, refuses_a_token_whose_payload_was_changed_after_signing) {
  auto token = signer.sign("k1", claims());
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto forged = token.substr(0, dot1 + 1)
                + base64url_encode(claims(",\"roles\":[\"Admin\"]"))
                + token.substr(dot2);
  EXPECT_EQ(check(forged).error, token_error::bad_signature);
}

TEST_F(token_test, names_an_unknown_key_so_the_caller_can_refresh_once) {
  auto v = check(signer.sign("rotated", claims()));
  EXPECT_EQ(v.error, token_error::unknown_key);
  EXPECT_EQ(v.key_id, "rotated");
  EXPECT_NE(v.reason.find("\"rotated\""), std::string::npos) << v.reason;
}

TEST_F(token_test, refuses_algorithms_other_than_rs256) {
  for (const char* alg : {"none", "HS256", "RS512", "ES256"}) {
    auto v = check(signer.sign("k1", claims(), alg));
    EXPECT_EQ(v.error, token_error::unsupported_algorithm) << alg;
    EXPECT_NE(v.reason.find(alg), std::string::npos) << v.reason;
  }
}

TEST_F(token_test, refuses_an_expired_token_beyond_the_clock_skew) {
  EXPECT_TRUE(check(signer.sign("k1", claims({}, now - 200))));
  auto v = check(signer.sign("k1", claims({}, now - 400)));
  EXPECT_EQ(v.error, token_error::expired);
  EXPECT_EQ(v.reason, "expired 400 s ago");
}

TEST_F(token_test, caps_the_configured_clock_skew_at_ten_minutes) {
  rules.clock_skew = std::chrono::hours{24};
  EXPECT_EQ(check(signer.sign("k1", claims({}, now - 601))).error,
            token_error::expired);
}

TEST_F(token_test, refuses_a_token_not_yet_valid) {
  auto v = check(signer.sign("k1", "{\"iss\":\"https://graph.microsoft.com\","
                                   "\"aud\":\"bot-app-id\",\"tid\":\"t\","
                                   "\"nbf\":"
                                     + std::to_string(now + 900) + ",\"exp\":"
                                     + std::to_string(now + 4000) + "}"));
  EXPECT_EQ(v.error, token_error::not_yet_valid);
}

TEST_F(token_test, refuses_a_token_without_expiry) {
  auto v = check(signer.sign(
    "k1", "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"bot-app-id\","
          "\"tid\":\"t\"}"));
  EXPECT_EQ(v.error, token_error::malformed);
  EXPECT_NE(v.reason.find("exp"), std::string::npos);
}

TEST_F(token_test, refuses_another_issuer_and_another_audience) {
  auto iss = check(signer.sign(
    "k1", "{\"iss\":\"https://sts.windows.net/x/\",\"aud\":\"bot-app-id\","
          "\"tid\":\"t\",\"exp\":"
            + std::to_string(now + 60) + "}"));
  EXPECT_EQ(iss.error, token_error::wrong_issuer);
  EXPECT_NE(iss.reason.find("https://sts.windows.net/x/"), std::string::npos);
  auto aud = check(signer.sign(
    "k1", "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"another-bot\","
          "\"tid\":\"t\",\"exp\":"
            + std::to_string(now + 60) + "}"));
  EXPECT_EQ(aud.error, token_error::wrong_audience);
  EXPECT_NE(aud.reason.find("another-bot"), std::string::npos);
}

TEST_F(token_test, refuses_a_token_without_a_tenant_when_one_is_required) {
  auto token = signer.sign(
    "k1", "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"bot-app-id\","
          "\"exp\":"
            + std::to_string(now + 60) + "}");
  EXPECT_EQ(check(token).error, token_error::no_tenant);
  rules.require_tenant = false;
  EXPECT_TRUE(check(token));
}

TEST_F(token_test, refuses_malformed_and_oversized_tokens_without_decoding) {
  for (const std::string& bad :
       std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "!!.??.**",
                                base64url_encode("[]") + ".e30.AA"}) {
    EXPECT_EQ(check(bad).error, token_error::malformed) << bad;
  }
  auto huge = std::string(max_token_bytes + 1, 'A');
  auto v = check(huge);
  EXPECT_EQ(v.error, token_error::malformed);
  EXPECT_NE(v.reason.find("above the limit"), std::string::npos);
}

TEST(bearer_token, takes_the_token_of_an_authorization_header) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(bearer_token("Bearer"), "");
}

TEST_F(token_test, a_multi_tenant_issuer_must_name_the_tokens_own_tenant) {
  rules.issuer_templates = {"https://sts.windows.net/{tenantid}/"};
  auto token = [this](const std::string& iss, const std::string& tid) {
    return signer.sign(
      "k1", "{\"iss\":\"" + iss + "\",\"aud\":\"bot-app-id\",\"tid\":\"" + tid
              + "\",\"exp\":" + std::to_string(now + 60) + "}");
  };
  auto v = check(token("https://sts.windows.net/tenant-a/", "tenant-a"));
  ASSERT_TRUE(v) << v.reason;
  EXPECT_EQ(v.claims.tenant_id, "tenant-a");
  // Issued for one tenant, claiming another.
  EXPECT_EQ(check(token("https://sts.windows.net/tenant-a/", "tenant-b")).error,
            token_error::wrong_issuer);
  EXPECT_EQ(check(token("https://sts.windows.net//", "")).error,
            token_error::wrong_issuer);
}
