#include "storage/records.hpp"

#include "storage/error.hpp"

#include "proto/convert.hpp"

namespace switchboard::storage {

namespace {

/// A readable form of a key (tenant ids and record ids are printable;
/// the length prefix is not).
std::string printable(std::string_view key) {
  std::string out;
  for (char c : key)
    out += (static_cast<unsigned char>(c) >= 0x20
            && static_cast<unsigned char>(c) < 0x7F)
             ? c
             : '.';
  return out;
}

caf::error bad_record(std::string_view key, const std::string& what) {
  return caf::make_error(ec::bad_record,
                         "record '" + printable(key) + "': " + what);
}

template<class Message>
caf::expected<Message> parse(std::string_view bytes, std::string_view key) {
  Message m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return bad_record(key, "not a " + m.GetTypeName() + " message");
  return m;
}

} // namespace

std::string encode(const routing::tenant& x) {
  v1::Tenant m;
  api::to_proto(x, m);
  return m.SerializeAsString();
}

caf::expected<routing::tenant> decode_tenant(std::string_view bytes,
                                             std::string_view key) {
  auto m = parse<v1::Tenant>(bytes, key);
  if (!m)
    return m.error();
  routing::tenant result;
  if (auto e = api::from_proto(*m, result))
    return bad_record(key, e->to_string());
  return result;
}

std::string encode(const routing::queue& x, const std::string& tenant) {
  v1::Queue m;
  api::to_proto(x, tenant, m);
  return m.SerializeAsString();
}

caf::expected<routing::queue> decode_queue(std::string_view bytes,
                                           std::string_view key) {
  auto m = parse<v1::Queue>(bytes, key);
  if (!m)
    return m.error();
  routing::queue result;
  if (auto e = api::from_proto(*m, result))
    return bad_record(key, e->to_string());
  return result;
}

std::string encode_agent_config(const routing::agent& x,
                                const std::string& tenant) {
  v1::Agent m;
  api::to_proto(x, tenant, m);
  return m.SerializeAsString();
}

std::string encode_agent_state(const routing::agent& x,
                               uint16_t offers_pending) {
  v1::AgentState m;
  api::to_proto(x, offers_pending, m);
  return m.SerializeAsString();
}

caf::expected<routing::agent> decode_agent(std::string_view config,
                                           std::string_view state,
                                           std::string_view key) {
  auto c = parse<v1::Agent>(config, key);
  if (!c)
    return c.error();
  routing::agent result;
  if (auto e = api::from_proto(*c, result))
    return bad_record(key, e->to_string());
  if (state.empty())
    return result; // never seen: offline, not ready
  auto s = parse<v1::AgentState>(state, key);
  if (!s)
    return s.error();
  if (auto e = api::from_proto(*s, result))
    return bad_record(key, e->to_string());
  return result;
}

} // namespace switchboard::storage
