#pragma once

#include "routing/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

/// Opening hours on some weekdays: from `from` to `to` minutes after local
/// midnight (`to` may be 1440, midnight at the end of the day).
struct open_hours {
  /// One bit per weekday, bit 0 = Sunday .. bit 6 = Saturday.
  uint8_t days = 0;
  uint16_t from = 0;
  uint16_t to = 0;

  friend bool operator==(const open_hours& x, const open_hours& y) {
    return x.days == y.days && x.from == y.from && x.to == y.to;
  }
};

/// When a queue takes calls: weekly hours in an IANA time zone, less
/// holidays. Without a time zone the queue is always open.
struct business_hours {
  std::string time_zone;
  std::vector<open_hours> open;
  /// Closed all day, as local dates "YYYY-MM-DD".
  std::vector<std::string> holidays;

  bool enabled() const { return !time_zone.empty(); }

  /// Open at `t` in the queue's local time. Daylight saving time follows
  /// the system's time zone database.
  bool is_open(timestamp t) const;

  friend bool operator==(const business_hours& x, const business_hours& y) {
    return x.time_zone == y.time_zone && x.open == y.open
           && x.holidays == y.holidays;
  }
};

/// A message naming what is wrong with an IANA time zone name, or nothing
/// if the system's database knows it.
std::optional<std::string> check_time_zone(const std::string& name);

/// "mon" .. "sun" (any letter case, or the full English name) as 0 = Sunday
/// .. 6 = Saturday.
std::optional<int> parse_weekday(std::string_view text);
std::string_view weekday_name(int day);

/// "HH:MM" from 00:00 to 24:00 as minutes after midnight.
std::optional<uint16_t> parse_clock(std::string_view text);
std::string format_clock(uint16_t minutes);

/// True for a valid calendar date "YYYY-MM-DD".
bool is_date(std::string_view text);

} // namespace switchboard::routing
