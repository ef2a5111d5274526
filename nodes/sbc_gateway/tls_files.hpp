#pragma once

// The gateway's TLS certificate, private key and trusted authorities, read
// and checked once at start, so that a wrong file stops the gateway with a
// message naming it instead of failing every handshake later. The private
// key is held only to hand it to the SIP stack: never log it.

#include "nodes/sbc_gateway/config.hpp"

#include <string>

namespace switchboard::sbc {

struct tls_material {
  /// PEM of the gateway's own certificate.
  std::string certificate;
  /// PEM of the certificates after it in the certificate file (the
  /// intermediates sent with it), or empty.
  std::string chain;
  /// PEM, unencrypted. Secret.
  std::string private_key;
  /// PEM of the trusted authorities (tls.ca_file), or empty.
  std::string authorities;
  /// For the log: the certificate's subject and its expiry.
  std::string subject;
  std::string not_after;
  bool expired = false;
};

/// Reads and checks the files `c` names: certificates parse, the key is
/// unencrypted and belongs to the certificate, the CA file (if any) holds
/// at least one certificate. On a problem, `error` names the setting, the
/// file and what is wrong (never the key's contents).
tls_material load_tls_material(const tls_config& c, std::string& error);

} // namespace switchboard::sbc
