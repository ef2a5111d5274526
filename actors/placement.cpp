#include "actors/placement.hpp"

namespace switchboard {

namespace {

/// FNV-1a over the bytes, then splitmix64's finalizer so that names that
/// differ in one character land far apart.
uint64_t mix(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace

uint64_t placement_weight(std::string_view member, std::string_view tenant) {
  auto h = mix(0xcbf29ce484222325ULL, member);
  h = mix(h, std::string_view{"\0", 1});
  return finalize(mix(h, tenant));
}

std::string owner_of(std::string_view tenant,
                     const std::vector<std::string>& members) {
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (auto& m : members) {
    auto w = placement_weight(m, tenant);
    if (best == nullptr || w > best_weight || (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return best == nullptr ? std::string{} : *best;
}

} // namespace switchboard
