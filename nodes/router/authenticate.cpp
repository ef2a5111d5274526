#include "nodes/router/authenticate.hpp"

#include "nodes/identity/openid_keys.hpp"
#include "nodes/identity/token.hpp"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <vector>

namespace switchboard::router {

namespace {

/// Verified tokens kept at most; beyond, the cache starts again.
constexpr size_t max_cached_tokens = 10'000;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

grpc::Status unauthenticated(std::string why) {
  return {grpc::StatusCode::UNAUTHENTICATED, std::move(why)};
}

/// The subject (RFC 2253) and URI names of a PEM certificate.
bool read_certificate(const std::string& pem, std::string& subject,
                      std::vector<std::string>& uris) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in{
    BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  if (!in)
    return false;
  std::unique_ptr<X509, decltype(&X509_free)> cert{
    PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), X509_free};
  if (!cert)
    return false;
  std::unique_ptr<BIO, decltype(&BIO_free)> out{BIO_new(BIO_s_mem()), BIO_free};
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0,
                     XN_FLAG_RFC2253);
  char* text = nullptr;
  auto size = BIO_get_mem_data(out.get(), &text);
  subject.assign(text, static_cast<size_t>(size));
  auto* names = static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      auto* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI)
        continue;
      auto* uri = name->d.uniformResourceIdentifier;
      uris.emplace_back(
        reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
        static_cast<size_t>(ASN1_STRING_length(uri)));
    }
    GENERAL_NAMES_free(names);
  }
  return true;
}

} // namespace

authenticator::authenticator(options opts) : opts_(std::move(opts)) {}

authenticator::~authenticator() = default;

void authenticator::authenticate(const grpc::ServerContextBase& ctx,
                                 outcome done) {
  auto& metadata = ctx.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    std::string_view value{header->second.data(), header->second.size()};
    auto token = identity::bearer_token(value);
    if (token.empty()) {
      done(unauthenticated("authorization: expected 'Bearer <token>'"), {});
      return;
    }
    if (opts_.tokens == nullptr) {
      done(unauthenticated("authorization: this node accepts no bearer "
                           "tokens (no --auth-openid-configuration); "
                           "authenticate with a client certificate"),
           {});
      return;
    }
    check_token(std::string{token}, std::move(done));
    return;
  }
  if (opts_.certificates) {
    auto auth = ctx.auth_context();
    auto pems = auth ? auth->FindPropertyValues("x509_pem_cert")
                     : std::vector<grpc::string_ref>{};
    if (!pems.empty()) {
      std::string subject;
      std::vector<std::string> uris;
      if (!read_certificate(
            std::string{pems.front().data(), pems.front().size()}, subject,
            uris)) {
        done(unauthenticated("the client certificate does not parse"), {});
        return;
      }
      std::string why;
      auto who = access::of_certificate(subject, uris, why);
      if (!who) {
        done({grpc::StatusCode::PERMISSION_DENIED, why}, {});
        return;
      }
      done(grpc::Status::OK, std::move(*who));
      return;
    }
  }
  done(unauthenticated(
         opts_.tokens != nullptr
           ? "no credentials: send 'authorization: Bearer <token>' with an "
             "Entra ID access token for Switchboard's API"
               + std::string{opts_.certificates
                               ? ", or present a client certificate"
                               : ""}
           : "no credentials: present a client certificate"),
       {});
}

void authenticator::check_token(std::string token, outcome done) {
  auto now = unix_now();
  {
    std::lock_guard guard{mtx_};
    auto i = verified_.find(token);
    if (i != verified_.end()) {
      if (i->second.expires_at > now) {
        auto who = i->second.who;
        done(grpc::Status::OK, std::move(who));
        return;
      }
      verified_.erase(i);
    }
  }
  auto key = token;
  opts_.tokens->check(
    std::move(token), [this, key = std::move(key), done = std::move(done),
                       caller = std::this_thread::get_id()](
                        identity::token_verdict verdict) mutable {
      // Answered after the keys were fetched, on the HTTP client's thread
      // (holding its lock): the request goes on elsewhere.
      if (std::this_thread::get_id() != caller && opts_.defer) {
        opts_.defer([this, key = std::move(key), done = std::move(done),
                     verdict = std::move(verdict)]() mutable {
          accepted(std::move(key), verdict, std::move(done));
        });
        return;
      }
      accepted(std::move(key), verdict, std::move(done));
    });
}

void authenticator::accepted(std::string key,
                             const identity::token_verdict& verdict,
                             const outcome& done) {
  if (!verdict) {
    done(unauthenticated("bearer token refused ("
                         + std::string{identity::to_string(verdict.error)}
                         + "): " + verdict.reason),
         {});
    return;
  }
  auto who = access::of_token(verdict.claims, opts_.platform_tenant);
  {
    std::lock_guard guard{mtx_};
    if (verified_.size() >= max_cached_tokens)
      verified_.clear();
    verified_[std::move(key)] = {who, verdict.claims.expires_at};
  }
  done(grpc::Status::OK, std::move(who));
}

} // namespace switchboard::router
