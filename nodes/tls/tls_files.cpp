#include "nodes/tls/tls_files.hpp"

#include <fstream>
#include <memory>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sstream>
#include <vector>

namespace switchboard::tls {

namespace {

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return !in.bad();
}

std::string text_of(BIO* b) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string{};
}

/// Every certificate in a PEM text, in order.
std::vector<x509_ptr> certificates_in(const std::string& pem) {
  std::vector<x509_ptr> out;
  bio_ptr in{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  while (in) {
    x509_ptr cert{PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)};
    if (!cert)
      break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error(); // the end of the text reads as an error
  return out;
}

std::string pem_of(const std::vector<x509_ptr>& certs, size_t from) {
  bio_ptr out{BIO_new(BIO_s_mem())};
  for (size_t i = from; i < certs.size(); ++i)
    PEM_write_bio_X509(out.get(), certs[i].get());
  return text_of(out.get());
}

/// Refuses to prompt for a passphrase: an encrypted key fails to load.
int no_passphrase(char*, int, int, void*) { return -1; }

} // namespace

std::string load_authorities(const std::string& path, const char* setting,
                             std::string& error) {
  std::string text;
  if (!read_file(path, text)) {
    error = std::string{setting} + ": cannot read '" + path + "'";
    return {};
  }
  auto cas = certificates_in(text);
  if (cas.empty()) {
    error = std::string{setting} + ": no PEM certificate in '" + path + "'";
    return {};
  }
  return pem_of(cas, 0);
}

material load_material(const files& c, const setting_names& names,
                       std::string& error) {
  material out;
  std::string text;
  if (!read_file(c.certificate_file, text)) {
    error = std::string{names.certificate} + ": cannot read '"
            + c.certificate_file + "'";
    return {};
  }
  auto certs = certificates_in(text);
  if (certs.empty()) {
    error = std::string{names.certificate} + ": no PEM certificate in '"
            + c.certificate_file + "'";
    return {};
  }
  out.certificate = pem_of(certs, 0);
  out.chain = pem_of(certs, 1);

  std::string key_text;
  if (!read_file(c.private_key_file, key_text)) {
    error = std::string{names.private_key} + ": cannot read '"
            + c.private_key_file + "'";
    return {};
  }
  pkey_ptr key;
  {
    bio_ptr in{
      BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size()))};
    key.reset(
      PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr));
    ERR_clear_error();
  }
  if (!key) {
    error = std::string{names.private_key}
            + ": no unencrypted PEM private key in '" + c.private_key_file
            + "' (an encrypted key must be decrypted first, e.g. with "
              "openssl pkey)";
    return {};
  }
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    ERR_clear_error();
    error = std::string{names.private_key} + ": the key in '"
            + c.private_key_file + "' does not belong to the certificate in '"
            + c.certificate_file + "'";
    return {};
  }
  {
    bio_ptr pem{BIO_new(BIO_s_mem())};
    PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr,
                             nullptr);
    out.private_key = text_of(pem.get());
  }

  if (!c.ca_file.empty()) {
    out.authorities = load_authorities(c.ca_file, names.ca, error);
    if (!error.empty())
      return {};
  }

  auto* leaf = certs.front().get();
  {
    bio_ptr b{BIO_new(BIO_s_mem())};
    X509_NAME_print_ex(b.get(), X509_get_subject_name(leaf), 0,
                       XN_FLAG_RFC2253);
    out.subject = text_of(b.get());
  }
  {
    bio_ptr b{BIO_new(BIO_s_mem())};
    ASN1_TIME_print(b.get(), X509_get0_notAfter(leaf));
    out.not_after = text_of(b.get());
  }
  out.expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
  return out;
}

} // namespace switchboard::tls
