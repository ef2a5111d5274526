#include "storage/keys.hpp"

namespace switchboard::storage {

std::string tenant_prefix(std::string_view tenant) {
  std::string result;
  auto n = tenant.size() > 0xFFFF ? 0xFFFF : tenant.size();
  result.reserve(2 + n);
  result += static_cast<char>((n >> 8) & 0xFF);
  result += static_cast<char>(n & 0xFF);
  result.append(tenant.substr(0, n));
  return result;
}

std::string kind_prefix(std::string_view tenant, char kind) {
  auto result = tenant_prefix(tenant);
  result += kind;
  return result;
}

std::string set_aside_key(std::string_view tenant, uint8_t family,
                          std::string_view key) {
  auto result = kind_prefix(tenant, 'X');
  result += static_cast<char>('0' + family);
  result += key;
  return result;
}

std::string printable(std::string_view key) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : key) {
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
      out += static_cast<char>(ch);
    } else {
      out += "\\x";
      out += digits[ch >> 4];
      out += digits[ch & 15];
    }
  }
  return out;
}

std::string record_key(std::string_view tenant, char kind,
                       std::string_view id) {
  auto result = kind_prefix(tenant, kind);
  result.append(id);
  return result;
}

std::string tenant_key(std::string_view tenant_id) {
  return record_key({}, 'T', tenant_id);
}

std::string event_key(std::string_view tenant, uint64_t sequence) {
  auto result = kind_prefix(tenant, 'E');
  for (int shift = 56; shift >= 0; shift -= 8)
    result += static_cast<char>((sequence >> shift) & 0xFF);
  return result;
}

std::optional<std::string_view> key_tenant(std::string_view key) {
  if (key.size() < 2)
    return std::nullopt;
  auto n = static_cast<size_t>(static_cast<unsigned char>(key[0])) << 8
           | static_cast<unsigned char>(key[1]);
  if (key.size() < 2 + n)
    return std::nullopt;
  return key.substr(2, n);
}

std::optional<uint64_t> event_sequence(std::string_view key) {
  auto tenant = key_tenant(key);
  if (!tenant)
    return std::nullopt;
  auto rest = key.substr(2 + tenant->size());
  if (rest.size() != 9 || rest[0] != 'E')
    return std::nullopt;
  uint64_t result = 0;
  for (size_t i = 1; i < 9; ++i)
    result = result << 8 | static_cast<unsigned char>(rest[i]);
  return result;
}

} // namespace switchboard::storage
