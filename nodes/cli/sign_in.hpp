#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

/// How the CLI signs its user in to Switchboard's API with Microsoft Entra
/// ID: `switchboard login` runs the device-code sign-in once and keeps the
/// tokens in a file only its user can read; later commands send the access
/// token and redeem the refresh token when it is about to expire.
namespace switchboard::cli {

/// Where and as what the user signs in.
struct sign_in_settings {
  std::string authority = "https://login.microsoftonline.com";
  /// The user's Microsoft tenant id, or "organizations".
  std::string tenant = "organizations";
  /// The CLI's app registration (public client flows allowed).
  std::string client_id;
  /// Space-separated; offline_access is added for the refresh token.
  std::string scope;
  /// PEM authorities of a private authority; "" for the system's.
  std::string ca_file;
};

/// The tokens a sign-in left, with how to refresh them.
struct cached_sign_in {
  sign_in_settings settings;
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_at = 0;
  std::string account;
};

/// $SWITCHBOARD_TOKEN_CACHE is the option's; this is its default:
/// $XDG_CONFIG_HOME/switchboard/token.json, else
/// ~/.config/switchboard/token.json.
std::string default_token_cache();

/// Signs the user in (telling them on `out` where to enter which code)
/// and writes the cache at `path`, readable by its owner only. Returns
/// the process's exit code, having said why on `err` if not 0.
int login(const sign_in_settings& settings, const std::string& path,
          std::ostream& out, std::ostream& err);

/// Deletes the cache at `path`. Returns the exit code.
int logout(const std::string& path, std::ostream& out, std::ostream& err);

/// The access token of the cache at `path`: as kept, or refreshed (and
/// the cache rewritten) when it expires within five minutes. Empty, with
/// `error` empty, when there is no cache; empty with `error` saying what
/// to do when the cache cannot give a token.
std::string cached_token(const std::string& path, std::string& error);

} // namespace switchboard::cli
