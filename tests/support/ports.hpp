#pragma once

// Ports for tests and benchmarks on 127.0.0.1.

#include <algorithm>
#include <arpa/inet.h>
#include <cstdint>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

namespace switchboard::testing {

/// A port free for both UDP and TCP on 127.0.0.1 right now, below the
/// kernel's ephemeral range (ip_local_port_range). A port the kernel hands
/// out can be given to any process's outgoing connection once released,
/// before the test's peer (a SIPp agent, a node restarted on it) binds it;
/// ports below that range are only ever taken on purpose. 0 if none was
/// found.
inline uint16_t free_port() {
  unsigned low = 32768;
  std::ifstream{"/proc/sys/net/ipv4/ip_local_port_range"} >> low;
  low = std::clamp(low, 12000u, 65000u);
  thread_local std::mt19937 pick{std::random_device{}()};
  std::uniform_int_distribution<unsigned> in{10000u, low - 1};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(in(pick)));
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    bool free = bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
                && bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(tcp);
    close(udp);
    if (free)
      return ntohs(a.sin_port);
  }
  return 0;
}

} // namespace switchboard::testing
