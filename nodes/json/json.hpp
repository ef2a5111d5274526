#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// JSON documents from outside (Graph, identity providers, browsers), on
/// Boost.JSON, with lookups that tolerate the casing differences of
/// Microsoft's payloads (`subcode` / `subCode`, `#Microsoft.Graph.presence`).
namespace switchboard::json {

/// How strictly a document is read: traffic strictly; the published
/// samples of Microsoft's documentation, which have trailing commas and
/// `//` comment lines, tolerantly.
enum class syntax { strict, published_sample };

/// The parsed document, or why not: the reason and the byte offset.
struct parse_result {
  std::optional<boost::json::value> value;
  std::string error;
};

/// Parses `text`. Depth and size are bounded: nesting deeper than 64
/// levels or text above `max_bytes` is refused, never parsed.
parse_result parse(std::string_view text, syntax s = syntax::strict,
                   std::size_t max_bytes = 4 << 20);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// The member named `key` (ASCII case-insensitively when no exact match),
/// or null when absent or `v` is not an object.
const boost::json::value* find(const boost::json::value& v,
                               std::string_view key) noexcept;

/// The string member named `key`, or "" when absent or not a string.
std::string string_at(const boost::json::value& v, std::string_view key);

/// The integer member named `key` (an integral or integral-valued
/// number, or decimal digits in a string, as Graph sometimes sends
/// codes), or nullopt.
std::optional<std::int64_t> int_at(const boost::json::value& v,
                                   std::string_view key);

/// The boolean member named `key`, or nullopt.
std::optional<bool> bool_at(const boost::json::value& v, std::string_view key);

/// The string members of the array `key` (other elements skipped).
std::vector<std::string> strings_at(const boost::json::value& v,
                                    std::string_view key);

/// Follows `path` of member names; null where a step is absent.
const boost::json::value*
find_path(const boost::json::value& v,
          std::initializer_list<std::string_view> path);

/// Compact text of `v`.
std::string serialize(const boost::json::value& v);

} // namespace switchboard::json
