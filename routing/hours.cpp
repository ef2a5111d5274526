#include "routing/hours.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <date/tz.h>

namespace switchboard::routing {

namespace {

constexpr std::array<std::string_view, 7> short_names
  = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<std::string_view, 7> long_names = {
  "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

std::string lower(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

bool digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

} // namespace

bool business_hours::is_open(timestamp t) const {
  if (!enabled())
    return true;
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(time_zone);
  } catch (const std::exception&) {
    return true; // validated on the way in; a database without it stays open
  }
  auto local = zone->to_local(t);
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", int{ymd.year()},
                unsigned{ymd.month()}, unsigned{ymd.day()});
  if (std::find(holidays.begin(), holidays.end(), text) != holidays.end())
    return false;
  auto weekday = date::weekday{day}.c_encoding();
  auto minute
    = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
  for (auto& h : open)
    if ((h.days & (1u << weekday)) != 0 && minute >= h.from && minute < h.to)
      return true;
  return false;
}

std::optional<std::string> check_time_zone(const std::string& name) {
  try {
    date::locate_zone(name);
    return std::nullopt;
  } catch (const std::exception&) {
    return "expected an IANA time zone such as Europe/London or "
           "America/New_York, found '"
           + name + "'";
  }
}

std::optional<int> parse_weekday(std::string_view text) {
  auto name = lower(text);
  for (int i = 0; i < 7; ++i)
    if (name == short_names[i] || name == long_names[i])
      return i;
  return std::nullopt;
}

std::string_view weekday_name(int day) { return short_names[day % 7]; }

std::optional<uint16_t> parse_clock(std::string_view text) {
  if (text.size() != 5 || text[2] != ':' || !digits(text.substr(0, 2))
      || !digits(text.substr(3)))
    return std::nullopt;
  auto h = (text[0] - '0') * 10 + (text[1] - '0');
  auto m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return std::nullopt;
  return static_cast<uint16_t>(h * 60 + m);
}

std::string format_clock(uint16_t minutes) {
  char text[8];
  std::snprintf(text, sizeof(text), "%02u:%02u", minutes / 60u, minutes % 60u);
  return text;
}

bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-'
      || !digits(text.substr(0, 4)) || !digits(text.substr(5, 2))
      || !digits(text.substr(8, 2)))
    return false;
  auto y = std::stoi(std::string{text.substr(0, 4)});
  auto m = static_cast<unsigned>(std::stoi(std::string{text.substr(5, 2)}));
  auto d = static_cast<unsigned>(std::stoi(std::string{text.substr(8, 2)}));
  return date::year_month_day{date::year{y}, date::month{m}, date::day{d}}.ok();
}

} // namespace switchboard::routing
