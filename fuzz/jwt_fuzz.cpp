// Bearer tokens as the router's API and the Graph gateway's webhooks
// receive them. An input with its first byte even is an Authorization
// header, through every check of a compact JWS. One with its first byte
// odd is a header and claims (JSON, split at the first newline) that the
// target signs with the key the checks trust, so that the claim checks
// themselves are fuzzed: whatever passes must satisfy the rules.

#include "nodes/identity/base64.hpp"
#include "nodes/identity/key_set.hpp"
#include "nodes/identity/token.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string>
#include <string_view>

namespace identity = switchboard::identity;

namespace {

constexpr std::int64_t now = 1'800'000'000;

struct signer {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048),
                                                          EVP_PKEY_free};
  identity::key_set keys;

  signer() {
    std::unique_ptr<BIO, decltype(&BIO_free)> out{BIO_new(BIO_s_mem()),
                                                  BIO_free};
    PEM_write_bio_PUBKEY(out.get(), key.get());
    char* pem = nullptr;
    auto n = BIO_get_mem_data(out.get(), &pem);
    keys.add_pem("fuzz-key-1", std::string_view{pem, static_cast<size_t>(n)});
  }

  std::string sign(std::string_view header, std::string_view claims) const {
    auto input = identity::base64url_encode(header) + "."
                 + identity::base64url_encode(claims);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{
      EVP_MD_CTX_new(), EVP_MD_CTX_free};
    size_t size = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get())
          != 1
        || EVP_DigestSign(ctx.get(), nullptr, &size,
                          reinterpret_cast<const unsigned char*>(input.data()),
                          input.size())
             != 1)
      return input + ".";
    std::string sig(size, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                   &size, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    sig.resize(size);
    return input + "." + identity::base64url_encode(sig);
  }
};

const signer& trusted() {
  static const signer s;
  return s;
}

identity::token_rules rules() {
  identity::token_rules r;
  r.issuer_templates = {"https://login.microsoftonline.com/{tenantid}/v2.0"};
  r.audiences = {"api://switchboard"};
  return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view text{reinterpret_cast<const char*>(data + 1), size - 1};
  if ((data[0] & 1) == 0) {
    auto token = identity::bearer_token(text);
    auto verdict = identity::verify_token(token.empty() ? text : token,
                                          trusted().keys, rules(), now);
    (void)identity::to_string(verdict.error);
    // Nothing here is signed by the key: the fuzzer cannot forge RS256.
    if (verdict)
      __builtin_trap();
    // A JWKS document, as the OpenID configuration's jwks_uri serves it.
    (void)identity::key_set::from_jwks(text);
    (void)identity::jwks_uri_of(text);
    return 0;
  }
  auto newline = text.find('\n');
  if (newline == std::string_view::npos)
    return 0;
  auto token
    = trusted().sign(text.substr(0, newline), text.substr(newline + 1));
  auto verdict = identity::verify_token(token, trusted().keys, rules(), now);
  if (!verdict)
    return 0;
  auto& c = verdict.claims;
  bool holds
    = c.audience == "api://switchboard" && !c.tenant_id.empty()
      && c.issuer
           == "https://login.microsoftonline.com/" + c.tenant_id + "/v2.0"
      && c.expires_at + 600 >= now;
  if (!holds) {
    std::fprintf(stderr,
                 "accepted against the rules: iss '%s' aud '%s' tid "
                 "'%s' exp %lld\n",
                 c.issuer.c_str(), c.audience.c_str(), c.tenant_id.c_str(),
                 static_cast<long long>(c.expires_at));
    __builtin_trap();
  }
  return 0;
}
