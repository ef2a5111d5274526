#include "nodes/json/json.hpp"

// Boost.JSON compiled into this library only (header-only mode).
#include <boost/json/src.hpp>
#include <cmath>

namespace switchboard::json {

namespace bj = boost::json;

parse_result parse(std::string_view text, syntax s, std::size_t max_bytes) {
  parse_result out;
  if (text.size() > max_bytes) {
    out.error = "document of " + std::to_string(text.size())
                + " bytes is above the limit of " + std::to_string(max_bytes);
    return out;
  }
  bj::parse_options opt;
  opt.max_depth = 64;
  if (s == syntax::published_sample) {
    opt.allow_trailing_commas = true;
    opt.allow_comments = true;
  }
  bj::stream_parser p(bj::storage_ptr{}, opt);
  bj::error_code ec;
  auto used = p.write_some(text.data(), text.size(), ec);
  if (!ec)
    p.finish(ec);
  if (ec) {
    out.error = ec.message() + " at byte " + std::to_string(used);
    return out;
  }
  out.value = p.release();
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z')
      x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

const bj::value* find(const bj::value& v, std::string_view key) noexcept {
  auto* o = v.if_object();
  if (o == nullptr)
    return nullptr;
  if (auto* exact = o->if_contains(key))
    return exact;
  for (const auto& kv : *o)
    if (iequals(kv.key(), key))
      return &kv.value();
  return nullptr;
}

std::string string_at(const bj::value& v, std::string_view key) {
  auto* m = find(v, key);
  if (m == nullptr || !m->is_string())
    return {};
  return std::string{m->get_string()};
}

std::optional<std::int64_t> int_at(const bj::value& v, std::string_view key) {
  auto* m = find(v, key);
  if (m == nullptr)
    return std::nullopt;
  if (m->is_int64())
    return m->get_int64();
  if (m->is_uint64() && m->get_uint64() <= INT64_MAX)
    return static_cast<std::int64_t>(m->get_uint64());
  if (m->is_string()) {
    // Graph sends some codes as text ("code": "0").
    auto t = m->get_string();
    if (t.empty() || t.size() > 18)
      return std::nullopt;
    std::int64_t n = 0;
    std::size_t i = t[0] == '-' ? 1 : 0;
    if (i == t.size())
      return std::nullopt;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9')
        return std::nullopt;
      n = n * 10 + (t[i] - '0');
    }
    return t[0] == '-' ? -n : n;
  }
  if (m->is_double()) {
    auto d = m->get_double();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15)
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::optional<bool> bool_at(const bj::value& v, std::string_view key) {
  auto* m = find(v, key);
  if (m == nullptr || !m->is_bool())
    return std::nullopt;
  return m->get_bool();
}

std::vector<std::string> strings_at(const bj::value& v, std::string_view key) {
  std::vector<std::string> out;
  auto* m = find(v, key);
  if (m == nullptr || !m->is_array())
    return out;
  for (const auto& e : m->get_array())
    if (e.is_string())
      out.emplace_back(e.get_string());
  return out;
}

const bj::value* find_path(const bj::value& v,
                           std::initializer_list<std::string_view> path) {
  const bj::value* at = &v;
  for (auto step : path) {
    at = find(*at, step);
    if (at == nullptr)
      return nullptr;
  }
  return at;
}

std::string serialize(const bj::value& v) { return bj::serialize(v); }

} // namespace switchboard::json
