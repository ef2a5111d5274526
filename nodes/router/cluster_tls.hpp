#pragma once

// The cluster port on TLS with a certificate on both sides. CAF's middleman
// keeps speaking its own protocol, on loopback only; this tunnel carries
// its connections between the nodes:
//
//   peer --TLS--> [cluster port] tunnel --plain, 127.0.0.1--> middleman
//   middleman --plain, 127.0.0.1--> [dial port] tunnel --TLS--> peer
//
// Every connection, both ways, must present a certificate that the
// cluster's CA signed; anything else ends at the handshake. (CAF 0.17.6's
// own OpenSSL module stalls messages on its connections: heartbeats time
// out every few seconds between two nodes on one machine.) Boost.Asio stays
// inside cluster_tls.cpp.

#include "nodes/tls/tls_files.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace switchboard::router {

class cluster_tunnel {
 public:
  /// Why a connection ended, for the log (a refused peer, say).
  using on_refused
    = std::function<void(const std::string& from, const std::string& error)>;

  /// Listens on `host:port` (port 0: any free one) for peers, each
  /// connection handed to the middleman at 127.0.0.1:`middleman_port`.
  /// The files were checked with tls::load_material. Null with `error`
  /// when it cannot listen.
  static std::unique_ptr<cluster_tunnel>
  start(const tls::files& files, const std::string& host, uint16_t port,
        uint16_t middleman_port, on_refused refused, std::string& error);

  ~cluster_tunnel();
  cluster_tunnel(const cluster_tunnel&) = delete;
  cluster_tunnel& operator=(const cluster_tunnel&) = delete;

  /// The port peers connect to.
  uint16_t port() const;

  /// A loopback port whose connections reach the peer at `host:port`
  /// over TLS: the middleman dials it instead of the peer. The same port
  /// for the same peer; 0 if no port could be opened.
  uint16_t dial(const std::string& host, uint16_t port);

 private:
  struct impl;
  explicit cluster_tunnel(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

} // namespace switchboard::router
