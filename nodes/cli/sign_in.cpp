#include "nodes/cli/sign_in.hpp"

#include "nodes/http/client.hpp"
#include "nodes/identity/device_login.hpp"
#include "nodes/json/json.hpp"

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <sys/stat.h>

namespace switchboard::cli {

namespace {

namespace fs = std::filesystem;

/// A refresh starts this long before the access token expires, so that a
/// command does not send a token that expires on the way.
constexpr std::int64_t refresh_margin_seconds = 300;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

identity::device_login_options options_of(const sign_in_settings& s) {
  identity::device_login_options o;
  o.authority = s.authority;
  while (!o.authority.empty() && o.authority.back() == '/')
    o.authority.pop_back();
  o.tenant = s.tenant;
  o.client_id = s.client_id;
  o.scope = s.scope;
  if (o.scope.find("offline_access") == std::string::npos)
    o.scope += " offline_access";
  return o;
}

std::string serialize(const cached_sign_in& c) {
  boost::json::object o;
  o["authority"] = c.settings.authority;
  o["tenant"] = c.settings.tenant;
  o["client_id"] = c.settings.client_id;
  o["scope"] = c.settings.scope;
  o["ca_file"] = c.settings.ca_file;
  o["access_token"] = c.access_token;
  o["refresh_token"] = c.refresh_token;
  o["expires_at"] = c.expires_at;
  o["account"] = c.account;
  return json::serialize(o) + "\n";
}

/// Writes the cache readable by its owner only, replacing the old one
/// whole (a new file renamed over it), in a folder only its owner opens.
std::string write(const std::string& path, const cached_sign_in& c) {
  std::error_code ec;
  auto folder = fs::path{path}.parent_path();
  if (!folder.empty() && !fs::exists(folder)) {
    fs::create_directories(folder, ec);
    if (ec)
      return "cannot create " + folder.string() + ": " + ec.message();
    ::chmod(folder.c_str(), 0700);
  }
  auto temporary = path + ".new";
  auto old_mask = ::umask(0077);
  {
    std::ofstream out{temporary, std::ios::trunc};
    out << serialize(c);
    out.close();
    if (!out) {
      ::umask(old_mask);
      return "cannot write " + temporary;
    }
  }
  ::umask(old_mask);
  ::chmod(temporary.c_str(), 0600);
  fs::rename(temporary, path, ec);
  if (ec)
    return "cannot replace " + path + ": " + ec.message();
  return {};
}

/// The cache at `path`; `error` says why not when it exists but is bad.
std::optional<cached_sign_in> read(const std::string& path,
                                   std::string& error) {
  std::ifstream in{path};
  if (!in)
    return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto doc = json::parse(text.str(), json::syntax::strict, 1 << 20);
  if (!doc.value || !doc.value->is_object()) {
    error = "the token cache " + path
            + " is not what switchboard login writes; run switchboard "
              "login again";
    return std::nullopt;
  }
  auto& v = *doc.value;
  cached_sign_in c;
  c.settings.authority = json::string_at(v, "authority");
  c.settings.tenant = json::string_at(v, "tenant");
  c.settings.client_id = json::string_at(v, "client_id");
  c.settings.scope = json::string_at(v, "scope");
  c.settings.ca_file = json::string_at(v, "ca_file");
  c.access_token = json::string_at(v, "access_token");
  c.refresh_token = json::string_at(v, "refresh_token");
  c.expires_at = json::int_at(v, "expires_at").value_or(0);
  c.account = json::string_at(v, "account");
  return c;
}

} // namespace

std::string default_token_cache() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::string{xdg} + "/switchboard/token.json";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string{home} + "/.config/switchboard/token.json";
  return ".switchboard-token.json";
}

int login(const sign_in_settings& settings, const std::string& path,
          std::ostream& out, std::ostream& err) {
  if (settings.client_id.empty() || settings.scope.empty()) {
    err << "switchboard login: --client-id and --scope are required (the "
           "CLI's app registration and Switchboard's API, such as "
           "api://switchboard/.default)\n";
    return 2;
  }
  http::client::options client_opts;
  client_opts.ca_file = settings.ca_file;
  http::client client{client_opts};
  auto opts = options_of(settings);
  opts.say = [&out](const std::string& message) {
    out << message << std::endl;
  };
  auto result = identity::device_login(opts, client);
  if (!result.error.empty()) {
    err << "switchboard login: " << result.error << "\n";
    return 1;
  }
  cached_sign_in c;
  c.settings = settings;
  c.access_token = result.access_token;
  c.refresh_token = result.refresh_token;
  c.expires_at = result.expires_at;
  c.account = result.account;
  if (auto problem = write(path, c); !problem.empty()) {
    err << "switchboard login: " << problem << "\n";
    return 1;
  }
  out << "signed in" << (c.account.empty() ? "" : " as " + c.account)
      << "; the tokens are kept in " << path
      << " (readable by you only); switchboard logout forgets them"
      << std::endl;
  return 0;
}

int logout(const std::string& path, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (!fs::remove(path, ec)) {
    if (ec) {
      err << "switchboard logout: cannot delete " << path << ": "
          << ec.message() << "\n";
      return 1;
    }
    out << "not signed in (no " << path << ")" << std::endl;
    return 0;
  }
  out << "signed out: " << path << " deleted" << std::endl;
  return 0;
}

std::string cached_token(const std::string& path, std::string& error) {
  error.clear();
  auto c = read(path, error);
  if (!c)
    return {};
  if (c->expires_at - refresh_margin_seconds > unix_now())
    return c->access_token;
  if (c->refresh_token.empty()) {
    error = "the sign-in in " + path
            + " has expired and cannot be refreshed; run switchboard login";
    return {};
  }
  http::client::options client_opts;
  client_opts.ca_file = c->settings.ca_file;
  http::client client{client_opts};
  auto fresh = identity::refresh_sign_in(options_of(c->settings),
                                         c->refresh_token, client);
  if (!fresh.error.empty()) {
    error = fresh.error + "; run switchboard login again";
    return {};
  }
  c->access_token = fresh.access_token;
  c->refresh_token = fresh.refresh_token;
  c->expires_at = fresh.expires_at;
  if (!fresh.account.empty())
    c->account = fresh.account;
  // A cache that cannot be rewritten still gives this command its token.
  if (auto problem = write(path, *c); !problem.empty())
    std::cerr << "switchboard: " << problem << "\n";
  return c->access_token;
}

} // namespace switchboard::cli
