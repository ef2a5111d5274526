#include "nodes/settings/settings.hpp"

#include "nodes/version/version.hpp"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace switchboard::settings {

namespace {

/// The YAML sections, in the order the settings first name them.
std::string known_sections(const std::vector<description>& settings) {
  std::vector<std::string> names;
  for (auto& s : settings)
    if (std::find(names.begin(), names.end(), s.yaml_section) == names.end())
      names.emplace_back(s.yaml_section);
  std::string out;
  for (auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// A scalar as it is; a list as its items joined with commas.
std::string yaml_text(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::string out;
    for (auto item : node)
      out += (out.empty() ? "" : ",") + item.as<std::string>();
    return out;
  }
  return node.IsNull() ? std::string{} : node.as<std::string>();
}

std::string read_yaml(const std::vector<description>& settings,
                      const std::string& path, std::vector<value>& out) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return "cannot read config file '" + path + "'";
  } catch (const YAML::Exception& e) {
    return "config file '" + path + "': " + e.what();
  }
  if (root.IsNull())
    return {};
  if (!root.IsMap())
    return "config file '" + path + "': expected a mapping at the top";
  try {
    for (auto section : root) {
      auto section_name = section.first.as<std::string>();
      bool known = false;
      for (auto& s : settings)
        known |= section_name == s.yaml_section;
      if (!known)
        return "config file '" + path + "': unknown section '" + section_name
               + "' (known: " + known_sections(settings) + ")";
      if (!section.second.IsMap())
        return "config file '" + path + "': '" + section_name
               + "' must be a mapping";
      for (auto entry : section.second) {
        auto key = entry.first.as<std::string>();
        size_t match = settings.size();
        for (size_t i = 0; i < settings.size(); ++i)
          if (section_name == settings[i].yaml_section
              && key == settings[i].yaml_key)
            match = i;
        if (match == settings.size())
          return "config file '" + path + "': unknown key '" + section_name
                 + "." + key + "'";
        if (entry.second.IsMap())
          return "config file '" + path + "': '" + section_name + "." + key
                 + "' must be a value or a list";
        out.push_back(
          {match, yaml_text(entry.second),
           "config file '" + path + "', " + section_name + "." + key});
      }
    }
  } catch (const YAML::Exception& e) {
    return "config file '" + path + "': " + e.what();
  }
  return {};
}

} // namespace

collected collect(const program& p, const std::vector<description>& settings,
                  int argc, const char* const* argv,
                  const std::function<const char*(const char*)>& getenv_fn) {
  auto getenv = getenv_fn ? getenv_fn : [](const char* name) {
    return std::getenv(name);
  };
  collected result;
  CLI::App app{p.description, p.name};
  std::string config_path;
  app
    .add_option("--config", config_path,
                std::string{"YAML config file (env "} + p.config_env
                  + "; none by default); sections " + known_sections(settings))
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", version_text(p.name),
                       "print the version, commit and build type, and exit");
  std::vector<std::string> flag_values(settings.size());
  std::vector<CLI::Option*> flag_options;
  for (size_t i = 0; i < settings.size(); ++i) {
    auto& s = settings[i];
    auto help = std::string{s.help} + " (yaml " + s.yaml_section + "."
                + s.yaml_key + ", env " + s.env + ")";
    // Repeated flags: the last wins, so wrappers can append overrides.
    auto* option = app.add_option(s.flag, flag_values[i], help)
                     ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    if (!s.shown.empty())
      option->default_str(s.shown);
    flag_options.push_back(option);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.help = app.help();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.help = version_text(p.name) + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    result.error = e.what();
    return result;
  }
  if (config_path.empty())
    if (auto* env = getenv(p.config_env); env != nullptr)
      config_path = env;
  if (!config_path.empty()) {
    result.error = read_yaml(settings, config_path, result.values);
    if (!result.error.empty())
      return result;
  }
  for (size_t i = 0; i < settings.size(); ++i)
    if (auto* env = getenv(settings[i].env); env != nullptr)
      result.values.push_back(
        {i, env, std::string{"environment variable "} + settings[i].env});
  for (size_t i = 0; i < settings.size(); ++i)
    if (flag_options[i]->count() > 0)
      result.values.push_back({i, flag_values[i], settings[i].flag});
  return result;
}

std::string set_log_level(std::string& target, const std::string& text) {
  if (text != "debug" && text != "info" && text != "warn" && text != "error")
    return "expected debug, info, warn or error, found '" + text + "'";
  target = text;
  return {};
}

std::optional<long long> parse_duration_ms(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && digits < 12 && text[digits] >= '0'
         && text[digits] <= '9')
    ++digits;
  if (digits == 0 || digits >= 12)
    return std::nullopt;
  auto n = std::stoll(text.substr(0, digits));
  auto unit = text.substr(digits);
  long long scale = unit == "ms"  ? 1
                    : unit == "s" ? 1000
                    : unit == "m" ? 60'000
                    : unit == "h" ? 3'600'000
                                  : 0;
  if (scale == 0 || n > 10LL * 365 * 24 * 3'600'000 / scale)
    return std::nullopt;
  return n * scale;
}

bool print_version_if_asked(const char* name, int argc,
                            const char* const* argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << version_text(name) << "\n";
      return true;
    }
  return false;
}

} // namespace switchboard::settings
