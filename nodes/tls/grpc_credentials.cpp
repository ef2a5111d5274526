#include "nodes/tls/grpc_credentials.hpp"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>

namespace switchboard::tls {

namespace {

namespace gx = grpc::experimental;

unsigned int seconds_of(std::chrono::seconds reload) {
  return static_cast<unsigned int>(
    std::clamp<std::chrono::seconds::rep>(reload.count(), 1, 86'400));
}

/// A provider that watches the files of `f` that are set: the key pair
/// when a certificate is, the authorities when a CA file is.
std::shared_ptr<gx::FileWatcherCertificateProvider>
watcher(const files& f, unsigned int seconds) {
  if (f.certificate_file.empty())
    return std::make_shared<gx::FileWatcherCertificateProvider>(f.ca_file,
                                                                seconds);
  if (f.ca_file.empty())
    return std::make_shared<gx::FileWatcherCertificateProvider>(
      f.private_key_file, f.certificate_file, seconds);
  return std::make_shared<gx::FileWatcherCertificateProvider>(
    f.private_key_file, f.certificate_file, f.ca_file, seconds);
}

} // namespace

std::shared_ptr<grpc::ServerCredentials>
server_credentials(const files& f, std::chrono::seconds reload) {
  auto provider = watcher(f, seconds_of(reload));
  gx::TlsServerCredentialsOptions options{provider};
  options.watch_identity_key_cert_pairs();
  if (f.ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return gx::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ServerCredentials> plaintext_server_credentials() {
  return grpc::InsecureServerCredentials();
}

std::shared_ptr<grpc::ChannelCredentials>
channel_credentials(const client_options& o, const setting_names& names,
                    std::string& error) {
  if (!o.uses_tls())
    return grpc::InsecureChannelCredentials();
  if (!o.f.certificate_file.empty() || !o.f.private_key_file.empty()) {
    if (o.f.certificate_file.empty() || o.f.private_key_file.empty()) {
      auto set
        = o.f.certificate_file.empty() ? names.private_key : names.certificate;
      auto unset
        = o.f.certificate_file.empty() ? names.certificate : names.private_key;
      error = std::string{set} + ": set without " + unset
              + "; set both, or neither";
      return nullptr;
    }
    load_material(o.f, names, error);
  } else if (!o.f.ca_file.empty()) {
    load_authorities(o.f.ca_file, names.ca, error);
  }
  if (!error.empty())
    return nullptr;

  if (o.f.certificate_file.empty() && o.f.ca_file.empty())
    return grpc::SslCredentials({}); // the system's authorities
  // Watched files: a gateway runs for months while its client
  // certificate and the node's CA rotate.
  auto provider = watcher(o.f, 60);
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  if (!o.f.ca_file.empty())
    options.watch_root_certs();
  if (!o.f.certificate_file.empty())
    options.watch_identity_key_cert_pairs();
  return gx::TlsCredentials(options);
}

} // namespace switchboard::tls
