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
/// 'C' call, 'I' idempotency key, 'E' event, 'H' history, 'L' a caller's
/// last agent, 'S' a minute of a queue's statistics.
std::string record_key(std::string_view tenant, char kind, std::string_view id);

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
