#pragma once

// A node's TLS certificate, private key and trusted authorities, read and
// checked once at start, so that a wrong file stops the node with a
// message naming its setting instead of failing every handshake later.
// Used by the SBC gateway (SIP over TLS) and by gRPC on every node. The
// private key is held only to hand it to the TLS stack: never log it.

#include <string>

namespace switchboard::tls {

/// The files a TLS endpoint is configured with (PEM).
struct files {
  /// The node's certificate, then any intermediate certificates.
  std::string certificate_file;
  /// Unencrypted. Its contents are never logged.
  std::string private_key_file;
  /// The authorities a peer's certificate must chain to; may be empty.
  std::string ca_file;
};

/// How the settings holding `files` are called, for error messages
/// ("tls.certificate", "--grpc-tls-certificate").
struct setting_names {
  const char* certificate;
  const char* private_key;
  const char* ca;
};

struct material {
  /// PEM of the gateway's own certificate.
  std::string certificate;
  /// PEM of the certificates after it in the certificate file (the
  /// intermediates sent with it), or empty.
  std::string chain;
  /// PEM, unencrypted. Secret.
  std::string private_key;
  /// PEM of the trusted authorities (the CA file), or empty.
  std::string authorities;
  /// For the log: the certificate's subject and its expiry.
  std::string subject;
  std::string not_after;
  bool expired = false;
};

/// Reads and checks `f`: certificates parse, the key is unencrypted and
/// belongs to the certificate, the CA file (if any) holds at least one
/// certificate. On a problem, `error` names the setting (per `names`), the
/// file and what is wrong (never the key's contents).
material load_material(const files& f, const setting_names& names,
                       std::string& error);

/// Reads and checks a file of trusted authorities alone (a client that
/// only verifies its server): `error` names `setting` and the file.
std::string load_authorities(const std::string& path, const char* setting,
                             std::string& error);

} // namespace switchboard::tls
