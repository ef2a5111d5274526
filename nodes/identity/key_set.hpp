#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;

namespace switchboard::identity {

/// The signing keys of an OpenID configuration (its `jwks_uri` document),
/// by key id. RSA keys only, from their modulus and exponent (`n`, `e`) or
/// from the first certificate of `x5c`.
class key_set {
 public:
  /// What reading a JWKS document gave: the keys, and one line per key
  /// that was skipped and why (an operator reads these when a token fails
  /// with an unknown key).
  struct load_result;

  key_set();
  ~key_set();
  key_set(const key_set&);
  key_set& operator=(const key_set&);
  key_set(key_set&&) noexcept;
  key_set& operator=(key_set&&) noexcept;

  /// Reads a JWKS document (`{"keys": [...]}`).
  static load_result from_jwks(std::string_view json);

  /// Adds an RSA public key in PEM (SubjectPublicKeyInfo or a
  /// certificate); false when the text holds neither.
  bool add_pem(std::string kid, std::string_view pem);

  bool contains(std::string_view kid) const;
  std::size_t size() const noexcept { return keys_.size(); }
  std::vector<std::string> ids() const;

  /// The key with id `kid`, or null.
  evp_pkey_st* find(std::string_view kid) const;

 private:
  std::map<std::string, std::shared_ptr<evp_pkey_st>, std::less<>> keys_;
};

struct key_set::load_result {
  key_set keys;
  /// Set when the document itself could not be read.
  std::string error;
  std::vector<std::string> skipped;
};

/// The `jwks_uri` of an OpenID configuration document, or "" when absent.
std::string jwks_uri_of(std::string_view openid_configuration);

} // namespace switchboard::identity
