#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace switchboard::routing {

/// Parses a whole decimal integer with an optional sign; nothing else.
inline std::optional<int64_t> parse_integer(std::string_view text) {
  auto first = text.data();
  auto last = text.data() + text.size();
  if (first != last && *first == '+')
    ++first;
  if (first == last)
    return std::nullopt;
  int64_t result = 0;
  auto [ptr, ec] = std::from_chars(first, last, result);
  if (ec != std::errc{} || ptr != last)
    return std::nullopt;
  return result;
}

/// True if `x` and `y` are equal ignoring ASCII letter case.
inline bool iequals(std::string_view x, std::string_view y) {
  return x.size() == y.size()
         && std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a))
                     == std::tolower(static_cast<unsigned char>(b));
            });
}

/// Orders two attribute values: as integers when both are integers,
/// otherwise as text. Returns -1, 0 or 1.
inline int compare_values(std::string_view lhs, std::string_view rhs) {
  auto x = parse_integer(lhs);
  auto y = parse_integer(rhs);
  if (x && y)
    return *x < *y ? -1 : (*x > *y ? 1 : 0);
  auto c = lhs.compare(rhs);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

} // namespace switchboard::routing
