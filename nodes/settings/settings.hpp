#pragma once

// Layered settings for every Switchboard binary: the embedded defaults, then
// a YAML file, then environment variables, then flags, the later winning.
// Each binary lists its settings once (YAML path, environment variable,
// flag, help, how its default is shown and how a value is applied); this
// file does the layering, --help with every default, --version, and the
// error that names where a bad value came from.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::settings {

/// One setting of a binary's `Config`.
template<class Config>
struct setting {
  const char* yaml_section;
  const char* yaml_key;
  const char* env;
  const char* flag;
  const char* help;
  /// The embedded default, as --help shows it.
  std::function<std::string(const Config&)> shown;
  /// Applies a value; returns what is wrong with it, or "".
  std::function<std::string(Config&, const std::string&)> apply;
};

/// What a binary says about itself.
struct program {
  /// "switchboard-router": in --help and --version.
  const char* name;
  /// The first paragraph of --help.
  const char* description;
  /// The environment variable that may name the YAML file.
  const char* config_env;
};

template<class Config>
struct loaded {
  Config value;
  /// What is wrong, naming the file and key, variable or flag.
  std::string error;
  /// --help or --version text to print before exiting successfully.
  std::string help;
};

/// A setting without its type, for the layering itself.
struct description {
  const char* yaml_section;
  const char* yaml_key;
  const char* env;
  const char* flag;
  const char* help;
  std::string shown;
};

/// One value to apply, in order, and where it came from.
struct value {
  size_t setting;
  std::string text;
  /// "config file 'x.yaml', grpc.listen", "environment variable X", "--flag".
  std::string source;
};

struct collected {
  std::vector<value> values;
  std::string error;
  std::string help;
};

/// Parses the command line, reads the YAML file and the environment, and
/// returns the values in the order they apply.
collected collect(const program& p, const std::vector<description>& settings,
                  int argc, const char* const* argv,
                  const std::function<const char*(const char*)>& getenv);

template<class Config>
loaded<Config> load(const program& p,
                    const std::vector<setting<Config>>& settings, int argc,
                    const char* const* argv,
                    const std::function<const char*(const char*)>& getenv) {
  loaded<Config> result;
  std::vector<description> described;
  described.reserve(settings.size());
  for (auto& s : settings)
    described.push_back({s.yaml_section, s.yaml_key, s.env, s.flag, s.help,
                         s.shown ? s.shown(result.value) : std::string{}});
  auto values = collect(p, described, argc, argv, getenv);
  result.error = std::move(values.error);
  result.help = std::move(values.help);
  if (!result.error.empty() || !result.help.empty())
    return result;
  for (auto& v : values.values)
    if (auto problem = settings[v.setting].apply(result.value, v.text);
        !problem.empty()) {
      result.error = v.source + ": " + problem;
      return result;
    }
  return result;
}

/// Sets `target` to a log level (debug, info, warn or error); returns what
/// is wrong with `text`, or "".
std::string set_log_level(std::string& target, const std::string& text);

/// A duration as operators write one ("250ms", "30s", "5m", "24h") in
/// milliseconds; nullopt for anything else, or above 10 years.
std::optional<long long> parse_duration_ms(const std::string& text);

/// For binaries without layered settings (the benchmarks): true when the
/// command line asks for --version, which is then printed.
bool print_version_if_asked(const char* name, int argc,
                            const char* const* argv);

} // namespace switchboard::settings
