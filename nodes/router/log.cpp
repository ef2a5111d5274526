#include "nodes/router/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace switchboard::router {

namespace {

const char* name(log_level x) {
  switch (x) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              now.time_since_epoch())
              .count()
            % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96]; // room for any int the compiler can imagine
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

} // namespace

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

logger::logger(log_level min, std::string node)
  : min_(min), node_(std::move(node)) {}

log_level logger::parse_level(std::string_view text) {
  if (text == "debug")
    return log_level::debug;
  if (text == "warn")
    return log_level::warn;
  if (text == "error")
    return log_level::error;
  return log_level::info;
}

void logger::write(log_level level, std::string_view msg, const fields& xs) {
  if (level < min_)
    return;
  std::string line = "{\"ts\":" + json_quote(utc_now())
                     + ",\"level\":" + json_quote(name(level)) + ",\"node\":"
                     + json_quote(node_) + ",\"msg\":" + json_quote(msg);
  for (auto& [key, value] : xs) {
    line += ',';
    line += json_quote(key);
    line += ':';
    line += json_quote(value);
  }
  line += "}\n";
  std::lock_guard<std::mutex> guard{mtx_};
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

} // namespace switchboard::router
