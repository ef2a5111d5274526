#include "storage/records.hpp"

#include "storage/error.hpp"
#include "storage/keys.hpp"

#include "proto/convert.hpp"

#include <algorithm>

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

/// `x` as 8 big-endian bytes, appended to `out`.
void append_big_endian(std::string& out, uint64_t x) {
  char bytes[8];
  for (size_t i = 8; i-- > 0; x >>= 8)
    bytes[i] = static_cast<char>(x & 0xFF);
  out.append(bytes, 8);
}

/// A time as 8 big-endian bytes of microseconds (0 before the epoch).
std::string time_bytes(routing::timestamp at) {
  std::string out;
  append_big_endian(
    out, static_cast<uint64_t>(std::max<int64_t>(0, routing::to_micros(at))));
  return out;
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

std::string encode(const routing::classification& x,
                   const std::string& tenant) {
  v1::ClassificationRules m;
  api::to_proto(x, tenant, m);
  return m.SerializeAsString();
}

caf::expected<routing::classification>
decode_classification(std::string_view bytes, std::string_view key) {
  auto m = parse<v1::ClassificationRules>(bytes, key);
  if (!m)
    return m.error();
  routing::classification result;
  if (auto e = api::from_proto(*m, result))
    return bad_record(key, e->to_string());
  return result;
}

std::string classification_key(const std::string& tenant) {
  return record_key(tenant, 'R', "rules");
}

std::string encode(const routing::last_served& x) {
  v1::LastAgent m;
  m.set_agent_id(x.agent_id);
  api::write_timestamp(x.at, *m.mutable_served_at());
  return m.SerializeAsString();
}

caf::expected<routing::last_served> decode_last_served(std::string_view bytes,
                                                       std::string_view key) {
  auto m = parse<v1::LastAgent>(bytes, key);
  if (!m)
    return m.error();
  if (auto e = api::check_id(m->agent_id(), "agent_id"))
    return bad_record(key, e->to_string());
  return routing::last_served{m->agent_id(),
                              api::read_timestamp(m->served_at())};
}

std::string encode(const routing::minute_counts& x) {
  v1::QueueMinute m;
  m.set_minute(x.minute);
  m.set_offered(x.offered);
  m.set_answered(x.answered);
  m.set_answered_in_threshold(x.answered_in_threshold);
  m.set_abandoned(x.abandoned);
  m.set_handled(x.handled);
  m.set_answer_wait_us(x.answer_wait.count());
  m.set_handle_time_us(x.handle_time.count());
  return m.SerializeAsString();
}

caf::expected<routing::minute_counts> decode_minute(std::string_view bytes,
                                                    std::string_view key) {
  auto m = parse<v1::QueueMinute>(bytes, key);
  if (!m)
    return m.error();
  routing::minute_counts x;
  x.minute = m->minute();
  x.offered = m->offered();
  x.answered = m->answered();
  x.answered_in_threshold = m->answered_in_threshold();
  x.abandoned = m->abandoned();
  x.handled = m->handled();
  x.answer_wait = routing::duration{m->answer_wait_us()};
  x.handle_time = routing::duration{m->handle_time_us()};
  return x;
}

std::string minute_key(const std::string& tenant, const std::string& queue_id,
                       int64_t minute) {
  auto n = static_cast<uint64_t>(std::max<int64_t>(0, minute));
  std::string id = queue_id;
  id += '\0';
  std::string when(8, '\0');
  for (int i = 7; i >= 0; --i, n >>= 8)
    when[static_cast<size_t>(i)] = static_cast<char>(n & 0xFF);
  return record_key(tenant, 'S', id + when);
}

std::string last_agent_key(const std::string& tenant,
                           const std::string& caller) {
  return record_key(tenant, 'L', caller);
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

std::string encode_agent_state(const routing::agent_view& x) {
  v1::AgentView m;
  api::to_proto(x, std::string{}, m);
  return m.state().SerializeAsString();
}

caf::expected<routing::agent_view> decode_agent_view(std::string_view config,
                                                     std::string_view state,
                                                     std::string_view key) {
  auto a = decode_agent(config, state, key);
  if (!a)
    return a.error();
  routing::agent_view result;
  result.data = std::move(*a);
  if (!state.empty()) {
    auto s = parse<v1::AgentState>(state, key);
    if (!s)
      return s.error();
    api::from_proto(*s, result);
  }
  return result;
}

std::string encode_call(const routing::live_call& x,
                        const std::string& tenant) {
  v1::StoredCall m;
  api::to_proto(x, tenant, m);
  return m.SerializeAsString();
}

caf::expected<routing::live_call> decode_call(std::string_view bytes,
                                              std::string_view key) {
  auto m = parse<v1::StoredCall>(bytes, key);
  if (!m)
    return m.error();
  routing::live_call result;
  if (auto e = api::from_proto(*m, result))
    return bad_record(key, e->to_string());
  return result;
}

std::string encode_history(const routing::live_call& x,
                           const std::string& tenant) {
  return encode_call(x, tenant);
}

int32_t event_type_number(routing::event_type t) {
  return api::event_type_number(t);
}

std::string encode_event(const routing::event& x, const std::string& tenant,
                         uint64_t sequence) {
  v1::Event m;
  api::to_proto(x, tenant, sequence, m);
  return m.SerializeAsString();
}

std::optional<routing::timestamp> event_time(std::string_view bytes) {
  v1::Event m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return std::nullopt;
  return api::read_timestamp(m.at());
}

int32_t event_type_of(std::string_view bytes) {
  v1::Event m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return 0;
  return static_cast<int32_t>(m.type());
}

std::string history_start_key(const std::string& tenant,
                              routing::timestamp ended_at) {
  return record_key(tenant, 'H', time_bytes(ended_at));
}

std::string change_start_key(const std::string& tenant, routing::timestamp at) {
  return record_key(tenant, 'K', time_bytes(at));
}

std::string change_key(const std::string& tenant, routing::timestamp at,
                       uint64_t sequence) {
  auto key = change_start_key(tenant, at);
  append_big_endian(key, sequence);
  return key;
}

std::string history_key(const std::string& tenant,
                        const routing::live_call& x) {
  return history_start_key(tenant, x.ended_at) + x.data.id;
}

std::string sequence_key(const std::string& tenant) {
  return record_key(tenant, 'M', "events");
}

std::string encode_sequence(uint64_t sequence) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, sequence >>= 8)
    out[static_cast<size_t>(i)] = static_cast<char>(sequence & 0xFF);
  return out;
}

caf::expected<uint64_t> decode_sequence(std::string_view bytes,
                                        std::string_view key) {
  if (bytes.size() != 8)
    return bad_record(key, "a sequence is 8 bytes, found "
                             + std::to_string(bytes.size()));
  uint64_t result = 0;
  for (unsigned char c : bytes)
    result = result << 8 | c;
  return result;
}

} // namespace switchboard::storage
