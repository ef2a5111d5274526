#pragma once

// gRPC over TLS for every Switchboard binary. The router serves with a
// certificate it reads again when its files change (Kubernetes rotates a
// mounted Secret in place), and with a client CA it requires every client
// to present a certificate that CA signed (mutual TLS). Gateways and the
// CLI connect with TLS, verifying the node against a CA, and present their
// own certificate where one is configured. gRPC stays inside
// grpc_credentials.cpp.

#include "nodes/tls/tls_files.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace grpc {
class ChannelCredentials;
class ServerCredentials;
} // namespace grpc

namespace switchboard::tls {

/// How a client connects to a node's gRPC API.
struct client_options {
  /// TLS even without any file below (verifying with the system's CAs).
  bool enabled = false;
  /// ca_file: the authorities the node's certificate must chain to (empty:
  /// the system's); certificate and key: this client's identity, for a
  /// node that requires one.
  files f;

  bool uses_tls() const {
    return enabled || !f.ca_file.empty() || !f.certificate_file.empty();
  }
};

/// Credentials for a node serving `f` (certificate and key required; with
/// a CA file, clients must present a certificate it signed), read again
/// every `reload` when the files changed. A rotated pair takes effect for
/// new connections; a key that does not match its certificate is not
/// taken. Check the files with load_material first: this only hands their
/// names to gRPC.
std::shared_ptr<grpc::ServerCredentials>
server_credentials(const files& f, std::chrono::seconds reload);

/// Plain gRPC, for loopback.
std::shared_ptr<grpc::ServerCredentials> plaintext_server_credentials();

/// Credentials for a client per `o`: plaintext when it uses no TLS. The
/// files are checked first; `error` then names the setting (per `names`)
/// and the file, and nothing is returned.
std::shared_ptr<grpc::ChannelCredentials>
channel_credentials(const client_options& o, const setting_names& names,
                    std::string& error);

} // namespace switchboard::tls
