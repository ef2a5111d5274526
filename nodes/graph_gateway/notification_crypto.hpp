#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace switchboard::graph {

/// `encryptedContent` of a rich change notification (presence with
/// `includeResourceData`), as Graph sends it: every field base64.
struct encrypted_content {
  std::string data;           ///< AES-CBC ciphertext of the resource
  std::string data_signature; ///< HMAC-SHA256 of the ciphertext
  std::string data_key;       ///< the AES key, RSA-OAEP (SHA-1) wrapped
  std::string certificate_id; ///< `encryptionCertificateId`
  std::string certificate_thumbprint;
};

/// The private keys that unwrap `dataKey`, by the certificate id the
/// subscription was created with (two while a certificate rotates).
class decryption_keys {
 public:
  decryption_keys();
  ~decryption_keys();
  decryption_keys(decryption_keys&&) noexcept;
  decryption_keys& operator=(decryption_keys&&) noexcept;

  /// Adds the RSA private key in `pem` (PKCS#8 or PKCS#1) under
  /// `certificate_id`; false when the text holds no RSA private key.
  bool add(std::string certificate_id, std::string_view pem);

  bool empty() const noexcept { return keys_.empty(); }

  /// The decrypted resource (JSON text), or why not. Every step is
  /// checked: the key unwraps to 32 bytes, the signature matches (compared
  /// in constant time) before anything is decrypted, and the padding is
  /// valid. Sizes are bounded before decoding.
  struct result {
    std::optional<std::string> plaintext;
    std::string error;
  };
  result decrypt(const encrypted_content& c) const;

 private:
  std::map<std::string, std::shared_ptr<evp_pkey_st>, std::less<>> keys_;
};

/// Encrypted resources above this size are refused before decoding.
inline constexpr std::size_t max_encrypted_bytes = 1 << 20;

} // namespace switchboard::graph
