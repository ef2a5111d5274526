#pragma once

// A stand-in for Microsoft's identity platform and Graph, over real HTTPS
// on 127.0.0.1 with a test CA: it publishes an OpenID configuration and
// the JWKS of its signing keys, signs the tokens Microsoft's calling
// platform puts on notifications, and keeps every request it was sent so
// tests assert what the gateway asked.

#include "nodes/http/server.hpp"
#include "tests/support/test_keys.hpp"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::testing {

class graph_standin {
 public:
  /// Serves HTTPS with `certificate_file` and `key_file`.
  graph_standin(const std::string& certificate_file,
                const std::string& key_file)
    : server_(options(certificate_file, key_file),
              [this](http::request req, http::responder res) {
                serve(std::move(req), std::move(res));
              }) {
    add_key("standin-key-1");
  }

  /// "" once serving, or why not.
  std::string start() { return server_.start(); }

  std::string base_url() const {
    return "https://127.0.0.1:" + std::to_string(server_.port());
  }

  std::string openid_configuration_url() const {
    return base_url() + "/v1/.well-known/OpenIdConfiguration";
  }

  /// Publishes a new signing key (a rotation); the old ones stay.
  void add_key(const std::string& kid) {
    std::lock_guard<std::mutex> lock{mutex_};
    keys_.emplace(kid, std::make_unique<rsa_key>());
  }

  /// A token with `claims` (JSON) signed by key `kid`.
  std::string sign(const std::string& kid, const std::string& claims) {
    std::lock_guard<std::mutex> lock{mutex_};
    return keys_.at(kid)->sign(kid, claims);
  }

  /// The requests received, in order.
  std::vector<http::request> requests() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return requests_;
  }

  std::size_t count(const std::string& path) const {
    std::lock_guard<std::mutex> lock{mutex_};
    std::size_t n = 0;
    for (const auto& r : requests_)
      n += r.path == path ? 1 : 0;
    return n;
  }

 private:
  static http::server::options options(const std::string& cert,
                                       const std::string& key) {
    http::server::options o;
    o.certificate_file = cert;
    o.key_file = key;
    return o;
  }

  void serve(http::request req, http::responder res) {
    std::lock_guard<std::mutex> lock{mutex_};
    requests_.push_back(req);
    if (req.path == "/v1/.well-known/OpenIdConfiguration") {
      return res.send(http::make_response(
        200, "application/json",
        "{\"issuer\":\"https://api.botframework.com\",\"jwks_uri\":\""
          + base_url() + "/v1/.well-known/keys\"}"));
    }
    if (req.path == "/v1/.well-known/keys") {
      std::string keys;
      for (const auto& [kid, key] : keys_)
        keys += (keys.empty() ? "" : ",") + key->jwk(kid);
      return res.send(http::make_response(200, "application/json",
                                          "{\"keys\":[" + keys + "]}"));
    }
    res.send(http::error_response(404, "notFound", req.path));
  }

  http::server server_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<rsa_key>> keys_;
  std::vector<http::request> requests_;
};

} // namespace switchboard::testing
