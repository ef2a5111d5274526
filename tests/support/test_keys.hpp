#pragma once

// RSA keys made for a test, and what Microsoft's services do with theirs:
// sign RS256 tokens, publish a JWKS, encrypt rich notifications as Graph
// does. For tests and the stand-in Graph and identity service only.

#include "nodes/identity/base64.hpp"

#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdexcept>
#include <string>

namespace switchboard::testing {

/// A fresh RSA key pair.
class rsa_key {
 public:
  explicit rsa_key(unsigned bits = 2048)
    : key_(EVP_RSA_gen(bits), EVP_PKEY_free) {
    if (!key_)
      throw std::runtime_error("EVP_RSA_gen failed");
  }

  /// The public key of a certificate given as base64 of its DER (as a
  /// subscription's `encryptionCertificate`) or as a PEM file's text;
  /// nullptr when it holds none.
  static std::unique_ptr<rsa_key> of_certificate(const std::string& text) {
    X509* cert = nullptr;
    if (text.rfind("-----BEGIN", 0) == 0) {
      std::unique_ptr<BIO, decltype(&BIO_free)> bio{
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free};
      cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    } else if (auto der = identity::base64_decode(text)) {
      const auto* p = reinterpret_cast<const unsigned char*>(der->data());
      cert = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
    }
    if (cert == nullptr)
      return nullptr;
    EVP_PKEY* key = X509_get_pubkey(cert);
    X509_free(cert);
    if (key == nullptr)
      return nullptr;
    return std::unique_ptr<rsa_key>(new rsa_key(key));
  }

  EVP_PKEY* get() const { return key_.get(); }

  std::string private_pem() const {
    return write([this](BIO* b) {
      return PEM_write_bio_PrivateKey(b, key_.get(), nullptr, nullptr, 0,
                                      nullptr, nullptr);
    });
  }

  std::string public_pem() const {
    return write([this](BIO* b) {
      return PEM_write_bio_PUBKEY(b, key_.get());
    });
  }

  /// The key as one JWK (`kty`, `use`, `kid`, `n`, `e`).
  std::string jwk(const std::string& kid) const {
    return "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"" + kid + "\",\"n\":\""
           + component(OSSL_PKEY_PARAM_RSA_N) + "\",\"e\":\""
           + component(OSSL_PKEY_PARAM_RSA_E) + "\"}";
  }

  /// An RS256 compact JWS of `payload` (JSON text) with header `kid`.
  std::string sign(const std::string& kid, const std::string& payload,
                   const std::string& alg = "RS256") const {
    auto header = identity::base64url_encode("{\"typ\":\"JWT\",\"alg\":\"" + alg
                                             + "\",\"kid\":\"" + kid + "\"}");
    auto body = identity::base64url_encode(payload);
    auto input = header + "." + body;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{
      EVP_MD_CTX_new(), EVP_MD_CTX_free};
    std::size_t n = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                           key_.get())
          != 1
        || EVP_DigestSign(ctx.get(), nullptr, &n,
                          reinterpret_cast<const unsigned char*>(input.data()),
                          input.size())
             != 1)
      throw std::runtime_error("EVP_DigestSign failed");
    std::string sig(n, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n,
                   reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    sig.resize(n);
    return input + "." + identity::base64url_encode(sig);
  }

  /// `plaintext` encrypted as Graph encrypts rich notifications for this
  /// key's certificate: a random AES-256 key wrapped with RSA-OAEP
  /// (SHA-1), AES-CBC with the key's first 16 bytes as IV, HMAC-SHA256 of
  /// the ciphertext. Returns the `encryptedContent` object as JSON text.
  std::string encrypt_like_graph(const std::string& plaintext,
                                 const std::string& certificate_id) const {
    unsigned char aes[32];
    RAND_bytes(aes, sizeof aes);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> pctx{
      EVP_PKEY_CTX_new(key_.get(), nullptr), EVP_PKEY_CTX_free};
    std::size_t wn = 0;
    EVP_PKEY_encrypt_init(pctx.get());
    EVP_PKEY_CTX_set_rsa_padding(pctx.get(), RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(pctx.get(), EVP_sha1());
    EVP_PKEY_encrypt(pctx.get(), nullptr, &wn, aes, sizeof aes);
    std::string wrapped(wn, '\0');
    EVP_PKEY_encrypt(pctx.get(),
                     reinterpret_cast<unsigned char*>(wrapped.data()), &wn, aes,
                     sizeof aes);
    wrapped.resize(wn);
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> cctx{
      EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
    std::string data(plaintext.size() + 32, '\0');
    int n1 = 0;
    int n2 = 0;
    auto* out = reinterpret_cast<unsigned char*>(data.data());
    EVP_EncryptInit_ex(cctx.get(), EVP_aes_256_cbc(), nullptr, aes, aes);
    EVP_EncryptUpdate(cctx.get(), out, &n1,
                      reinterpret_cast<const unsigned char*>(plaintext.data()),
                      static_cast<int>(plaintext.size()));
    EVP_EncryptFinal_ex(cctx.get(), out + n1, &n2);
    data.resize(static_cast<std::size_t>(n1 + n2));
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), aes, sizeof aes,
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
         &mac_len);
    return "{\"data\":\"" + identity::base64_encode(data)
           + "\",\"dataSignature\":\""
           + identity::base64_encode(
             std::string(reinterpret_cast<char*>(mac), mac_len))
           + "\",\"dataKey\":\"" + identity::base64_encode(wrapped)
           + "\",\"encryptionCertificateId\":\"" + certificate_id
           + "\",\"encryptionCertificateThumbprint\":\"00\"}";
  }

 private:
  explicit rsa_key(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

  template<class F>
  static std::string write(F f) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()),
                                                  BIO_free};
    if (f(bio.get()) != 1)
      throw std::runtime_error("PEM write failed");
    char* data = nullptr;
    auto n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }

  std::string component(const char* name) const {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), name, &bn) != 1)
      throw std::runtime_error("EVP_PKEY_get_bn_param failed");
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return identity::base64url_encode(bytes);
  }

  std::shared_ptr<EVP_PKEY> key_;
};

} // namespace switchboard::testing
