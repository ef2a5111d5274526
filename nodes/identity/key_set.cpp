#include "nodes/identity/key_set.hpp"

#include "nodes/identity/base64.hpp"
#include "nodes/json/json.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace switchboard::identity {

namespace {

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

// An RSA public key from its base64url modulus and exponent.
std::shared_ptr<EVP_PKEY> rsa_from_components(std::string_view n64,
                                              std::string_view e64) {
  auto n = base64_decode(n64);
  auto e = base64_decode(e64);
  // Bounded: moduli from 1,024 to 16,384 bits, exponents of up to 8 bytes.
  if (!n || !e || n->size() < 128 || n->size() > 2048 || e->empty()
      || e->size() > 8)
    return nullptr;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_n{
    BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
              static_cast<int>(n->size()), nullptr),
    BN_free};
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_e{
    BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
              static_cast<int>(e->size()), nullptr),
    BN_free};
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld{
    OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free};
  if (!bn_n || !bn_e || !bld
      || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get())
      || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return nullptr;
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params{
    OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free};
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx{
    EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free};
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0
      || EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get())
           <= 0)
    return nullptr;
  return own(key);
}

std::shared_ptr<EVP_PKEY> from_certificate_der(std::string_view der) {
  auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert{
    d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free};
  if (!cert)
    return nullptr;
  return own(X509_get_pubkey(cert.get()));
}

bool is_rsa(const std::shared_ptr<EVP_PKEY>& k) {
  return k && EVP_PKEY_is_a(k.get(), "RSA") == 1;
}

} // namespace

key_set::key_set() = default;
key_set::~key_set() = default;
key_set::key_set(const key_set&) = default;
key_set& key_set::operator=(const key_set&) = default;
key_set::key_set(key_set&&) noexcept = default;
key_set& key_set::operator=(key_set&&) noexcept = default;

key_set::load_result key_set::from_jwks(std::string_view text) {
  load_result out;
  auto doc = json::parse(text, json::syntax::strict, 1 << 20);
  if (!doc.value) {
    out.error = "the key set is not JSON: " + doc.error;
    return out;
  }
  auto* keys = json::find(*doc.value, "keys");
  if (keys == nullptr || !keys->is_array()) {
    out.error = "the key set has no \"keys\" array";
    return out;
  }
  std::size_t index = 0;
  for (const auto& k : keys->get_array()) {
    auto at = "key " + std::to_string(index++);
    auto kid = json::string_at(k, "kid");
    if (kid.empty()) {
      out.skipped.push_back(at + ": no \"kid\"");
      continue;
    }
    at += " (kid " + kid + ")";
    auto kty = json::string_at(k, "kty");
    if (kty != "RSA") {
      out.skipped.push_back(at + ": key type \"" + kty + "\", not RSA");
      continue;
    }
    auto use = json::string_at(k, "use");
    if (!use.empty() && use != "sig") {
      out.skipped.push_back(at + ": for use \"" + use + "\", not signing");
      continue;
    }
    std::shared_ptr<EVP_PKEY> key;
    auto n = json::string_at(k, "n");
    auto e = json::string_at(k, "e");
    if (!n.empty() && !e.empty()) {
      key = rsa_from_components(n, e);
    } else if (auto x5c = json::strings_at(k, "x5c"); !x5c.empty()) {
      if (auto der = base64_decode(x5c.front()))
        key = from_certificate_der(*der);
    }
    if (!is_rsa(key)) {
      out.skipped.push_back(at
                            + ": unreadable RSA key (\"n\"/\"e\" or \"x5c\")");
      continue;
    }
    out.keys.keys_.insert_or_assign(std::move(kid), std::move(key));
  }
  return out;
}

bool key_set::add_pem(std::string kid, std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
    BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  if (!bio)
    return false;
  auto key = own(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    BIO_reset(bio.get());
    std::unique_ptr<X509, decltype(&X509_free)> cert{
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free};
    if (cert)
      key = own(X509_get_pubkey(cert.get()));
  }
  if (!is_rsa(key))
    return false;
  keys_.insert_or_assign(std::move(kid), std::move(key));
  return true;
}

bool key_set::contains(std::string_view kid) const {
  return keys_.find(kid) != keys_.end();
}

std::vector<std::string> key_set::ids() const {
  std::vector<std::string> out;
  for (const auto& kv : keys_)
    out.push_back(kv.first);
  return out;
}

evp_pkey_st* key_set::find(std::string_view kid) const {
  auto i = keys_.find(kid);
  return i == keys_.end() ? nullptr : i->second.get();
}

std::string jwks_uri_of(std::string_view openid_configuration) {
  auto doc = json::parse(openid_configuration, json::syntax::strict, 1 << 20);
  if (!doc.value)
    return {};
  return json::string_at(*doc.value, "jwks_uri");
}

} // namespace switchboard::identity
