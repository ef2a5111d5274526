#pragma once

// Ports for tests and benchmarks on 127.0.0.1.

#include <arpa/inet.h>
#include <cstdint>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace switchboard::testing {

/// A port free for both UDP and TCP on 127.0.0.1 right now.
inline uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
        || getsockname(udp, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(udp);
      continue;
    }
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(tcp);
    close(udp);
    if (ok)
      return ntohs(a.sin_port);
  }
  return 0;
}

} // namespace switchboard::testing
