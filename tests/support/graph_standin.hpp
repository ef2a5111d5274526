#pragma once

// A stand-in for Microsoft's identity platform and Graph, over real HTTPS
// on 127.0.0.1 with a test CA: it publishes an OpenID configuration and
// the JWKS of its signing keys, signs the tokens Microsoft's calling
// platform puts on notifications, issues app-only tokens for the client
// credentials it is given (POST /{tenant}/oauth2/v2.0/token), answers
// Graph requests under /v1.0 that carry one of them (202 unless told
// otherwise), and keeps every request it was sent so tests assert what the
// gateway asked.

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

  /// The authority (identity platform) URL, and Graph's base URL.
  std::string authority() const { return base_url(); }
  std::string graph_url() const { return base_url() + "/v1.0"; }

  /// The app's credentials the token endpoint accepts.
  void set_client(const std::string& id, const std::string& secret) {
    std::lock_guard<std::mutex> lock{mutex_};
    client_id_ = id;
    client_secret_ = secret;
  }

  /// Every app token issued so far stops being accepted (a revocation).
  void revoke_tokens() {
    std::lock_guard<std::mutex> lock{mutex_};
    valid_tokens_.clear();
  }

  /// How many app tokens were issued.
  std::size_t tokens_issued() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return issued_;
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
    static const std::string token_path = "/oauth2/v2.0/token";
    if (req.path.size() > token_path.size()
        && req.path.compare(req.path.size() - token_path.size(),
                            token_path.size(), token_path)
             == 0) {
      if (req.method != "POST"
          || req.header("content-type") != "application/x-www-form-urlencoded")
        return res.send(http::error_response(400, "invalid_request", "form"));
      http::request form;
      form.query = req.body;
      if (form.query_parameter("grant_type") != "client_credentials"
          || form.query_parameter("client_id") != client_id_
          || form.query_parameter("client_secret") != client_secret_)
        return res.send(http::make_response(
          401, "application/json",
          "{\"error\":\"invalid_client\",\"error_description\":"
          "\"AADSTS7000215: Invalid client secret provided.\"}"));
      auto token = "standin-app-token-" + std::to_string(++issued_);
      valid_tokens_.push_back(token);
      return res.send(
        http::make_response(200, "application/json",
                            "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                            "\"access_token\":\""
                              + token + "\"}"));
    }
    if (req.path.rfind("/v1.0/", 0) == 0) {
      auto auth = std::string{req.header("authorization")};
      bool valid = false;
      for (const auto& t : valid_tokens_)
        valid = valid || auth == "Bearer " + t;
      if (!valid)
        return res.send(
          http::error_response(401, "InvalidAuthenticationToken",
                               "Access token is empty or invalid"));
      return res.send(http::make_response(202, "application/json", ""));
    }
    res.send(http::error_response(404, "notFound", req.path));
  }

  http::server server_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<rsa_key>> keys_;
  std::vector<http::request> requests_;
  std::string client_id_ = "bot-app-id";
  std::string client_secret_ = "standin-client-secret";
  std::vector<std::string> valid_tokens_;
  std::size_t issued_ = 0;
};

} // namespace switchboard::testing
