#pragma once

// Where a tenant lives in a cluster: rendezvous (highest random weight)
// hashing of the tenant id over the member names. Every node computes the
// same owner from the same member list, and adding or removing a member
// moves only the tenants that member gains or loses.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// The weight of `member` for `tenant`: a stable 64-bit hash of both,
/// the same on every machine and build.
uint64_t placement_weight(std::string_view member, std::string_view tenant);

/// The member with the highest weight for `tenant` (ties: the smaller
/// name); empty if there are no members.
std::string owner_of(std::string_view tenant,
                     const std::vector<std::string>& members);

} // namespace switchboard
