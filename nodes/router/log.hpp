#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::router {

enum class log_level { debug, info, warn, error };

/// Writes one JSON object per line to standard output, e.g.
///   {"ts":"2026-11-24T01:40:00.123Z","level":"info","node":"sb-0",
///    "msg":"serving","grpc":"127.0.0.1:7400"}
/// so that log collectors in Kubernetes can index every field.
class logger {
 public:
  using fields = std::vector<std::pair<std::string_view, std::string>>;

  logger(log_level min, std::string node);

  /// "debug", "info", "warn" or "error"; anything else is info.
  static log_level parse_level(std::string_view text);

  void write(log_level level, std::string_view msg, const fields& xs = {});

  /// Whether lines of `level` are written: spares building the fields of
  /// a line that would be dropped.
  bool enabled(log_level level) const { return level >= min_; }

  void info(std::string_view msg, const fields& xs = {}) {
    write(log_level::info, msg, xs);
  }

  void warn(std::string_view msg, const fields& xs = {}) {
    write(log_level::warn, msg, xs);
  }

  void error(std::string_view msg, const fields& xs = {}) {
    write(log_level::error, msg, xs);
  }

 private:
  log_level min_;
  std::string node_;
  std::mutex mtx_;
};

/// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

} // namespace switchboard::router
