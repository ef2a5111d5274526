#pragma once

#include <optional>
#include <string>

namespace switchboard::graph {

/// The service account's refresh tokens at rest, one file per Microsoft
/// tenant (`{directory}/{tenant}.token`, mode 0600), each sealed with
/// AES-256-GCM under a key derived (SHA-256) from the operator's secret and
/// bound to its tenant: a file copied to another tenant's name does not
/// open. Writes go to a temporary file renamed over the old one, so a crash
/// leaves the old token or the new one, never half of either.
class token_store {
 public:
  /// `secret`: at least 16 characters (e.g. `openssl rand -base64 32`).
  token_store(std::string directory, const std::string& secret);
  ~token_store();
  token_store(const token_store&) = delete;
  token_store& operator=(const token_store&) = delete;

  /// "" when usable, else why not (no secret, short secret, no directory).
  const std::string& problem() const noexcept { return problem_; }

  /// The tenant's refresh token; nullopt with `error` set when the file
  /// is missing ("" error: never signed in), unreadable, or does not open
  /// with this key.
  std::optional<std::string> load(const std::string& tenant,
                                  std::string& error) const;

  /// Seals and writes `refresh_token`; "" or why it could not be written.
  std::string save(const std::string& tenant,
                   const std::string& refresh_token) const;

  std::string path_of(const std::string& tenant) const;

 private:
  std::string directory_;
  std::string key_; // 32 bytes
  std::string problem_;
};

} // namespace switchboard::graph
