#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::storage {

/// Every key of a tenant starts with its tenant prefix: the id's length as
/// two big-endian bytes, then the id. No tenant's prefix is a prefix of
/// another's, so a prefix scan never crosses tenants. Ids are at most
/// 65535 bytes.
std::string tenant_prefix(std::string_view tenant);

/// A record of a tenant: prefix, a one-letter kind, the record's id.
/// Kinds: 'T' tenant, 'Q' queue, 'A' agent, 'R' classification rules,
/// 'C' call, 'I' idempotency key, 'E' event, 'H' history, 'K' a
/// configuration change, 'L' a caller's last agent, 'S' a minute of a
/// queue's statistics, 'X' a record set aside by recovery.
std::string record_key(std::string_view tenant, char kind, std::string_view id);

/// Where recovery sets aside a record of `tenant` it cannot apply: the
/// tenant's 'X' kind (in the config family), then the family's number and
/// the original key, so the record is kept and found again.
std::string set_aside_key(std::string_view tenant, uint8_t family,
                          std::string_view key);

template<class Family>
std::string set_aside_key(std::string_view tenant, Family f,
                          std::string_view key) {
  return set_aside_key(tenant, static_cast<uint8_t>(f), key);
}

/// A key as an operator can read it in a log line: printable ASCII as it
/// is, other bytes as \xNN.
std::string printable(std::string_view key);

/// A tenant's own record: node-level, under the empty tenant's prefix.
std::string tenant_key(std::string_view tenant_id);

/// The prefix of every record of one kind of a tenant.
std::string kind_prefix(std::string_view tenant, char kind);

/// An event key: the tenant's 'E' prefix and the sequence as 8 big-endian
/// bytes, so events sort by sequence.
std::string event_key(std::string_view tenant, uint64_t sequence);

/// The sequence of an event key, if `key` is one.
std::optional<uint64_t> event_sequence(std::string_view key);

/// The tenant a key belongs to, if it is well formed.
std::optional<std::string_view> key_tenant(std::string_view key);

} // namespace switchboard::storage
