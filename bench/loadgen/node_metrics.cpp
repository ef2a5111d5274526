#include "bench/loadgen/node_metrics.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace switchboard::loadgen {

histogram node_latency(const std::string& address) {
  auto colon = address.rfind(':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port
    = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return {};
  }
  std::string req = "GET /metrics HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string body;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    body.append(buf, static_cast<size_t>(n));
  close(fd);
  histogram buckets;
  std::istringstream in{body};
  std::string line;
  const std::string prefix = "switchboard_routing_latency_seconds_bucket{le=\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0)
      continue;
    auto end = line.find('"', prefix.size());
    auto le_text = line.substr(prefix.size(), end - prefix.size());
    double le = le_text == "+Inf" ? 1e9 : std::stod(le_text);
    double count = std::stod(line.substr(line.rfind(' ') + 1));
    buckets.emplace_back(le, count);
  }
  return buckets;
}

std::optional<double> quantile_between(const histogram& before,
                                       histogram buckets, double q) {
  if (before.size() == buckets.size())
    for (size_t i = 0; i < buckets.size(); ++i)
      buckets[i].second -= before[i].second;
  if (buckets.empty() || buckets.back().second <= 0)
    return std::nullopt;
  double total = buckets.back().second;
  double target = q * total;
  double prev_le = 0, prev_count = 0;
  for (auto& [le, count] : buckets) {
    if (count >= target) {
      if (le >= 1e9)
        return prev_le;
      // Linear within the bucket, as Prometheus' histogram_quantile does.
      double share = count == prev_count
                       ? 1.0
                       : (target - prev_count) / (count - prev_count);
      return prev_le + (le - prev_le) * share;
    }
    prev_le = le;
    prev_count = count;
  }
  return std::nullopt;
}

} // namespace switchboard::loadgen
