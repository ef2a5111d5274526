// What Microsoft Graph posts to the gateway's webhooks: call notifications,
// change notifications (presence, lifecycle events), their resources, and
// the encrypted content of rich notifications through decryption; and
// resources the target encrypts itself, through decryption to the
// presence they hold.

#include "nodes/graph_gateway/notification_crypto.hpp"
#include "nodes/graph_gateway/notifications.hpp"
#include "nodes/json/json.hpp"
#include "tests/support/test_keys.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace graph = switchboard::graph;
namespace json = switchboard::json;

namespace {

// Made before the first input (at start, in this order), so that no
// input's time includes generating a key.

/// The gateway's certificate key, under the certificate id
/// "fuzz-certificate".
const switchboard::testing::rsa_key certificate_key;

/// The keys the gateway decrypts with: inputs that name the certificate
/// get as far as unwrapping their data key.
const graph::decryption_keys keys = [] {
  graph::decryption_keys s;
  s.add("fuzz-certificate", certificate_key.private_pem());
  return s;
}();

/// A resource as Graph delivers it in a rich notification: encrypted for
/// the certificate, then decrypted and read as the gateway does. The
/// fuzzer cannot forge the signature of what it writes itself, so this is
/// how the decrypted text is fuzzed.
void through_encryption(std::string_view resource) {
  auto content = json::parse(certificate_key.encrypt_like_graph(
    std::string{resource}, "fuzz-certificate"));
  if (!content.value)
    std::abort(); // the target's own encryption must give JSON
  auto notification
    = json::parse("{\"value\":[{\"subscriptionId\":\"s\","
                  "\"changeType\":\"updated\",\"resource\":\"r\","
                  "\"encryptedContent\":"
                  + json::serialize(*content.value) + "}]}");
  auto changes = graph::read_change_notifications(*notification.value);
  if (changes.value.size() != 1 || !changes.value[0].encrypted)
    std::abort();
  auto plain = keys.decrypt(*changes.value[0].encrypted);
  // What was encrypted decrypts to itself.
  if (!plain.plaintext || *plain.plaintext != resource)
    std::abort();
  if (auto inner = json::parse(*plain.plaintext); inner.value)
    (void)graph::read_presence(*inner.value);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  // An input that starts with \x01 is a resource to encrypt.
  if (!body.empty() && body.front() == '\x01') {
    through_encryption(body.substr(1));
    return 0;
  }
  auto doc = json::parse(body);
  if (!doc.value)
    return 0;
  auto calls = graph::read_call_notifications(*doc.value);
  for (auto& n : calls.value)
    (void)graph::call_id_of(n.resource_url);
  auto changes = graph::read_change_notifications(*doc.value);
  for (auto& n : changes.value)
    if (n.encrypted) {
      auto plain = keys.decrypt(*n.encrypted);
      if (plain.plaintext)
        if (auto inner = json::parse(*plain.plaintext); inner.value)
          (void)graph::read_presence(*inner.value);
    }
  (void)graph::read_presences(*doc.value);
  (void)graph::read_participants(*doc.value);
  (void)graph::read_call(*doc.value);
  return 0;
}
