#include "nodes/identity/token.hpp"

#include "nodes/identity/base64.hpp"
#include "nodes/identity/key_set.hpp"
#include "nodes/json/json.hpp"

#include <algorithm>
#include <memory>
#include <openssl/evp.h>

namespace switchboard::identity {

namespace {

token_verdict refuse(token_error e, std::string reason, std::string kid = {}) {
  token_verdict v;
  v.error = e;
  v.reason = std::move(reason);
  v.key_id = std::move(kid);
  return v;
}

bool verify_rs256(EVP_PKEY* key, std::string_view signed_part,
                  std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  if (!ctx
      || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key)
           != 1)
    return false;
  return EVP_DigestVerify(
           ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
           signature.size(),
           reinterpret_cast<const unsigned char*>(signed_part.data()),
           signed_part.size())
         == 1;
}

// A value shown in a reason: bounded, so a hostile token cannot fill a log.
std::string shown(std::string_view s) {
  constexpr std::size_t limit = 120;
  std::string out{s.substr(0, limit)};
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == '"')
      c = '?';
  if (s.size() > limit)
    out += "...";
  return out;
}

std::vector<std::string> audiences_of(const boost::json::value& claims) {
  auto* aud = json::find(claims, "aud");
  if (aud == nullptr)
    return {};
  if (aud->is_string())
    return {std::string{aud->get_string()}};
  return json::strings_at(claims, "aud");
}

} // namespace

const char* to_string(token_error e) noexcept {
  switch (e) {
    case token_error::none: return "none";
    case token_error::malformed: return "malformed";
    case token_error::unsupported_algorithm: return "unsupported_algorithm";
    case token_error::unknown_key: return "unknown_key";
    case token_error::bad_signature: return "bad_signature";
    case token_error::expired: return "expired";
    case token_error::not_yet_valid: return "not_yet_valid";
    case token_error::wrong_issuer: return "wrong_issuer";
    case token_error::wrong_audience: return "wrong_audience";
    case token_error::no_tenant: return "no_tenant";
  }
  return "unknown";
}

token_verdict verify_token(std::string_view token, const key_set& keys,
                           const token_rules& rules, std::int64_t now) {
  if (token.empty())
    return refuse(token_error::malformed, "no bearer token");
  if (token.size() > max_token_bytes)
    return refuse(token_error::malformed, "token of "
                                            + std::to_string(token.size())
                                            + " bytes is above the limit of "
                                            + std::to_string(max_token_bytes));
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos
      || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse(token_error::malformed,
                  "not a compact JWS (header.payload.signature)");
  auto header_text = base64_decode(token.substr(0, dot1));
  auto payload_text = base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature)
    return refuse(token_error::malformed, "a part is not base64url");
  auto header = json::parse(*header_text);
  if (!header.value || !header.value->is_object())
    return refuse(token_error::malformed, "the header is not a JSON object");
  auto alg = json::string_at(*header.value, "alg");
  auto kid = json::string_at(*header.value, "kid");
  if (alg != "RS256")
    return refuse(
      token_error::unsupported_algorithm,
      "algorithm \"" + shown(alg) + "\" is not accepted (RS256 only)", kid);
  if (kid.empty())
    return refuse(token_error::malformed, "the header has no key id (kid)");
  auto* key = keys.find(kid);
  if (key == nullptr)
    return refuse(
      token_error::unknown_key,
      "signed with key \"" + shown(kid) + "\", which is not among the "
        + std::to_string(keys.size()) + " keys of the OpenID configuration",
      kid);
  if (!verify_rs256(key, token.substr(0, dot2), *signature))
    return refuse(
      token_error::bad_signature,
      "the signature does not verify with key \"" + shown(kid) + "\"", kid);
  // Signed: the payload is the issuer's, but still checked field by field.
  auto payload = json::parse(*payload_text);
  if (!payload.value || !payload.value->is_object())
    return refuse(token_error::malformed, "the payload is not a JSON object",
                  kid);
  const auto& c = *payload.value;
  token_verdict v;
  v.key_id = kid;
  auto skew = std::min<std::int64_t>(
    std::max<std::int64_t>(rules.clock_skew.count(), 0), 600);
  auto exp = json::int_at(c, "exp");
  if (!exp)
    return refuse(token_error::malformed, "no expiry (exp)", kid);
  if (now > *exp + skew)
    return refuse(token_error::expired,
                  "expired " + std::to_string(now - *exp) + " s ago", kid);
  if (auto nbf = json::int_at(c, "nbf"); nbf && now + skew < *nbf)
    return refuse(token_error::not_yet_valid,
                  "not valid for another " + std::to_string(*nbf - now) + " s",
                  kid);
  auto iss = json::string_at(c, "iss");
  auto tid = json::string_at(c, "tid");
  if (tid.empty())
    tid = json::string_at(c, "tenantid");
  // A multi-tenant issuer names the token's own tenant.
  auto of_tenant = [&tid, &iss](const std::string& pattern) {
    static const std::string slot = "{tenantid}";
    auto at = pattern.find(slot);
    return !tid.empty() && at != std::string::npos
           && iss
                == pattern.substr(0, at) + tid
                     + pattern.substr(at + slot.size());
  };
  if (std::find(rules.issuers.begin(), rules.issuers.end(), iss)
        == rules.issuers.end()
      && std::none_of(rules.issuer_templates.begin(),
                      rules.issuer_templates.end(), of_tenant))
    return refuse(token_error::wrong_issuer,
                  "issuer \"" + shown(iss) + "\" is not accepted", kid);
  auto auds = audiences_of(c);
  auto aud = std::find_first_of(auds.begin(), auds.end(),
                                rules.audiences.begin(), rules.audiences.end());
  if (aud == auds.end())
    return refuse(token_error::wrong_audience,
                  "audience \"" + shown(auds.empty() ? "" : auds.front())
                    + "\" is not this service's",
                  kid);
  if (rules.require_tenant && tid.empty())
    return refuse(token_error::no_tenant, "no tenant claim (tid)", kid);
  v.claims.issuer = iss;
  v.claims.audience = *aud;
  v.claims.tenant_id = tid;
  v.claims.object_id = json::string_at(c, "oid");
  v.claims.subject = json::string_at(c, "sub");
  v.claims.app_id = json::string_at(c, "appid");
  if (v.claims.app_id.empty())
    v.claims.app_id = json::string_at(c, "azp");
  v.claims.name = json::string_at(c, "name");
  if (v.claims.name.empty())
    v.claims.name = json::string_at(c, "preferred_username");
  v.claims.roles = json::strings_at(c, "roles");
  v.claims.expires_at = *exp;
  return v;
}

std::string_view bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()
      || !json::iequals(authorization.substr(0, scheme.size()), scheme))
    return {};
  auto t = authorization.substr(scheme.size());
  while (!t.empty() && t.front() == ' ')
    t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\r'))
    t.remove_suffix(1);
  return t;
}

} // namespace switchboard::identity
