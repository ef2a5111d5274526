#include "nodes/graph_gateway/notification_crypto.hpp"

#include "nodes/identity/base64.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <vector>

namespace switchboard::graph {

namespace {

using bytes = std::string;

const unsigned char* u8(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// RSA/ECB/OAEPWithSHA1AndMGF1Padding, as Graph wraps the symmetric key.
std::optional<bytes> unwrap_key(EVP_PKEY* key, const bytes& wrapped) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx{
    EVP_PKEY_CTX_new(key, nullptr), EVP_PKEY_CTX_free};
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0
      || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0
      || EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) <= 0
      || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()) <= 0)
    return std::nullopt;
  std::size_t n = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &n, u8(wrapped), wrapped.size())
      <= 0)
    return std::nullopt;
  bytes out(n, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                       &n, u8(wrapped), wrapped.size())
      <= 0)
    return std::nullopt;
  out.resize(n);
  return out;
}

} // namespace

decryption_keys::decryption_keys() = default;
decryption_keys::~decryption_keys() = default;
decryption_keys::decryption_keys(decryption_keys&&) noexcept = default;
decryption_keys&
decryption_keys::operator=(decryption_keys&&) noexcept = default;

bool decryption_keys::add(std::string certificate_id, std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
    BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  if (!bio)
    return false;
  std::shared_ptr<EVP_PKEY> key{
    PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
    EVP_PKEY_free};
  if (!key || EVP_PKEY_is_a(key.get(), "RSA") != 1)
    return false;
  keys_.insert_or_assign(std::move(certificate_id), std::move(key));
  return true;
}

decryption_keys::result
decryption_keys::decrypt(const encrypted_content& c) const {
  result r;
  auto i = keys_.find(c.certificate_id);
  if (i == keys_.end()) {
    r.error = "encrypted for certificate id \""
              + c.certificate_id.substr(0, 100)
              + "\", which has no decryption key here";
    return r;
  }
  if (c.data.size() > max_encrypted_bytes || c.data_key.size() > 4096
      || c.data_signature.size() > 128) {
    r.error = "encrypted content above its size limits";
    return r;
  }
  auto wrapped = identity::base64_decode(c.data_key);
  auto signature = identity::base64_decode(c.data_signature);
  auto data = identity::base64_decode(c.data);
  if (!wrapped || !signature || !data) {
    r.error = "dataKey, dataSignature or data is not base64";
    return r;
  }
  auto key = unwrap_key(i->second.get(), *wrapped);
  // The symmetric key and the plaintext of a failed decryption do not
  // outlive this call in memory.
  struct wipe {
    std::optional<bytes>& key;
    ~wipe() {
      if (key)
        OPENSSL_cleanse(key->data(), key->size());
    }
  } wipe_key{key};
  if (!key || key->size() != 32) {
    r.error = "dataKey does not unwrap to a 32-byte key with certificate id \""
              + c.certificate_id.substr(0, 100) + "\" (RSA-OAEP, SHA-1)";
    return r;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()), u8(*data),
           data->size(), mac, &mac_len)
        == nullptr
      || signature->size() != mac_len
      || CRYPTO_memcmp(mac, signature->data(), mac_len) != 0) {
    r.error = "dataSignature does not match the data (HMAC-SHA256)";
    return r;
  }
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx{
    EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  // The IV is the key's first 16 bytes, as Graph encrypts.
  if (!ctx
      || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, u8(*key),
                            u8(*key))
           != 1) {
    r.error = "AES-256-CBC is not available";
    return r;
  }
  std::string plain(data->size() + 16, '\0');
  int n1 = 0;
  int n2 = 0;
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  if (EVP_DecryptUpdate(ctx.get(), out, &n1, u8(*data),
                        static_cast<int>(data->size()))
        != 1
      || EVP_DecryptFinal_ex(ctx.get(), out + n1, &n2) != 1) {
    r.error = "data does not decrypt (AES-256-CBC, PKCS#7 padding)";
    return r;
  }
  plain.resize(static_cast<std::size_t>(n1 + n2));
  r.plaintext = std::move(plain);
  return r;
}

} // namespace switchboard::graph
