// What Microsoft Graph posts to the gateway's webhooks: call notifications,
// change notifications (presence, lifecycle events), their resources, and
// the encrypted content of rich notifications through decryption.

#include "nodes/graph_gateway/notification_crypto.hpp"
#include "nodes/graph_gateway/notifications.hpp"
#include "nodes/json/json.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string>
#include <string_view>

namespace graph = switchboard::graph;
namespace json = switchboard::json;

namespace {

/// One private key, under the certificate id "fuzz-certificate", made
/// once: inputs that name it get as far as unwrapping their data key.
const graph::decryption_keys& keys() {
  static const graph::decryption_keys set = [] {
    graph::decryption_keys s;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048),
                                                            EVP_PKEY_free};
    std::unique_ptr<BIO, decltype(&BIO_free)> out{BIO_new(BIO_s_mem()),
                                                  BIO_free};
    PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr,
                             nullptr);
    char* pem = nullptr;
    auto n = BIO_get_mem_data(out.get(), &pem);
    s.add("fuzz-certificate", std::string_view{pem, static_cast<size_t>(n)});
    return s;
  }();
  return set;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  auto doc = json::parse(body);
  if (!doc.value)
    return 0;
  auto calls = graph::read_call_notifications(*doc.value);
  for (auto& n : calls.value)
    (void)graph::call_id_of(n.resource_url);
  auto changes = graph::read_change_notifications(*doc.value);
  for (auto& n : changes.value)
    if (n.encrypted) {
      auto plain = keys().decrypt(*n.encrypted);
      if (plain.plaintext)
        if (auto inner = json::parse(*plain.plaintext); inner.value)
          (void)graph::read_presence(*inner.value);
    }
  (void)graph::read_presences(*doc.value);
  (void)graph::read_participants(*doc.value);
  (void)graph::read_call(*doc.value);
  return 0;
}
