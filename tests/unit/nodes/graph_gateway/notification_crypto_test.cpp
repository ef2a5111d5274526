#include "nodes/graph_gateway/notification_crypto.hpp"
#include "nodes/graph_gateway/notifications.hpp"
#include "nodes/identity/base64.hpp"
#include "nodes/json/json.hpp"
#include "tests/support/test_keys.hpp"

#include <gtest/gtest.h>

using namespace switchboard::graph;
using switchboard::testing::rsa_key;
namespace json = switchboard::json;

namespace {

constexpr const char* presence_json
  = "{\"@odata.type\":\"#microsoft.graph.presence\",\"id\":\"user-1\","
    "\"availability\":\"Busy\",\"activity\":\"InACall\"}";

encrypted_content content_of(const std::string& json_text) {
  auto doc = json::parse("{\"value\":[{\"subscriptionId\":\"s\","
                         "\"encryptedContent\":"
                         + json_text + "}]}");
  auto batch = read_change_notifications(*doc.value);
  return *batch.value.at(0).encrypted;
}

struct notification_crypto_test : ::testing::Test {
  rsa_key certificate;
  decryption_keys keys;

  notification_crypto_test() {
    EXPECT_TRUE(keys.add("cert-2026", certificate.private_pem()));
  }
};

} // namespace

TEST_F(notification_crypto_test,
       decrypts_a_rich_notification_encrypted_as_graph_does) {
  auto c
    = content_of(certificate.encrypt_like_graph(presence_json, "cert-2026"));
  auto r = keys.decrypt(c);
  ASSERT_TRUE(r.plaintext) << r.error;
  EXPECT_EQ(*r.plaintext, presence_json);
  auto p = read_presence(*json::parse(*r.plaintext).value);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user_id, "user-1");
  EXPECT_EQ(p->availability, "Busy");
  EXPECT_EQ(p->activity, "InACall");
}

TEST_F(notification_crypto_test,
       refuses_content_whose_signature_does_not_match) {
  auto c
    = content_of(certificate.encrypt_like_graph(presence_json, "cert-2026"));
  auto sig = *switchboard::identity::base64_decode(c.data_signature);
  sig[5] = static_cast<char>(sig[5] ^ 1);
  c.data_signature = switchboard::identity::base64_encode(sig);
  auto r = keys.decrypt(c);
  EXPECT_FALSE(r.plaintext);
  EXPECT_NE(r.error.find("dataSignature does not match"), std::string::npos)
    << r.error;
}

TEST_F(notification_crypto_test, refuses_data_changed_in_transit) {
  auto c
    = content_of(certificate.encrypt_like_graph(presence_json, "cert-2026"));
  auto data = *switchboard::identity::base64_decode(c.data);
  data[0] = static_cast<char>(data[0] ^ 0x80);
  c.data = switchboard::identity::base64_encode(data);
  EXPECT_NE(keys.decrypt(c).error.find("dataSignature"), std::string::npos);
}

TEST_F(notification_crypto_test,
       refuses_content_for_a_certificate_it_has_no_key_for) {
  auto c
    = content_of(certificate.encrypt_like_graph(presence_json, "old-cert"));
  auto r = keys.decrypt(c);
  EXPECT_FALSE(r.plaintext);
  EXPECT_NE(r.error.find("\"old-cert\""), std::string::npos) << r.error;
}

TEST_F(notification_crypto_test,
       refuses_a_key_wrapped_for_another_certificate) {
  rsa_key other;
  auto c = content_of(other.encrypt_like_graph(presence_json, "cert-2026"));
  auto r = keys.decrypt(c);
  EXPECT_FALSE(r.plaintext);
  EXPECT_NE(r.error.find("does not unwrap"), std::string::npos) << r.error;
}

TEST_F(notification_crypto_test,
       refuses_the_published_samples_made_up_values_with_a_reason) {
  encrypted_content c;
  c.certificate_id = "cert-2026";
  c.data = "{encrypted data that produces a full resource}";
  c.data_signature = "<HMAC-SHA256 hash>";
  c.data_key = "{encrypted symmetric key from Microsoft Graph}";
  auto r = keys.decrypt(c);
  EXPECT_FALSE(r.plaintext);
  EXPECT_NE(r.error.find("not base64"), std::string::npos) << r.error;
}

TEST_F(notification_crypto_test, refuses_oversized_content_before_decoding) {
  encrypted_content c;
  c.certificate_id = "cert-2026";
  c.data = std::string(max_encrypted_bytes + 1, 'A');
  EXPECT_NE(keys.decrypt(c).error.find("size limits"), std::string::npos);
}

TEST(decryption_keys, takes_only_rsa_private_keys) {
  rsa_key k;
  decryption_keys keys;
  EXPECT_TRUE(keys.empty());
  EXPECT_FALSE(keys.add("public", k.public_pem()));
  EXPECT_FALSE(keys.add("junk", "not a key"));
  EXPECT_TRUE(keys.empty());
}
