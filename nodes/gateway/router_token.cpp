#include "nodes/gateway/router_token.hpp"

#include "nodes/http/client.hpp"
#include "nodes/http/message.hpp"
#include "nodes/identity/device_login.hpp"
#include "nodes/json/json.hpp"
#include "nodes/router/log.hpp"

#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>

namespace switchboard::gateway {

namespace {

/// A token is fetched again when it expires within this long.
constexpr std::chrono::minutes renew_before{5};

/// The tokens of one app, fetched when needed; shared by every request.
class token_source {
 public:
  token_source(router_token_options o, router::logger& log)
    : opts_(std::move(o)), log_(log), client_(client_options(opts_)) {
    while (!opts_.authority.empty() && opts_.authority.back() == '/')
      opts_.authority.pop_back();
  }

  /// The token to send, fetched first if the one held expires soon.
  /// Blocks (gRPC runs a blocking plugin off its event threads); one
  /// request fetches while the others wait for it.
  std::string get(std::string& error) {
    std::lock_guard guard{mtx_};
    auto now = std::chrono::steady_clock::now();
    if (!token_.empty() && now + renew_before < expires_)
      return token_;
    fetch(error);
    return error.empty() ? token_ : std::string{};
  }

 private:
  static http::client::options client_options(const router_token_options& o) {
    http::client::options c;
    c.ca_file = o.authority_ca;
    c.max_connections = 2;
    return c;
  }

  void fetch(std::string& error) {
    std::ifstream in{opts_.client_secret_file};
    std::string secret;
    if (!in || !std::getline(in, secret) || secret.empty()) {
      error = "router.token_client_secret_file: cannot read a client secret "
              "from '"
              + opts_.client_secret_file + "'";
      log_.warn("router token not obtained",
                {{"reason", error}, {"client_id", opts_.client_id}});
      return;
    }
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' '))
      secret.pop_back();
    http::outgoing req;
    req.method = "POST";
    req.url = opts_.authority + "/" + opts_.tenant_id + "/oauth2/v2.0/token";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = "grant_type=client_credentials&client_id="
               + http::url_encode(opts_.client_id)
               + "&client_secret=" + http::url_encode(secret)
               + "&scope=" + http::url_encode(opts_.scope);
    std::promise<http::reply> answer;
    auto reply = answer.get_future();
    client_.send(std::move(req), [&answer](http::reply r) {
      answer.set_value(std::move(r));
    });
    auto r = reply.get();
    auto doc = r.ok() ? json::parse(r.value.body) : json::parse_result{};
    if (!r.ok() || r.value.status != 200 || !doc.value) {
      error = "the identity platform refused this gateway a token for the "
              "router: "
              + identity::platform_error(r);
      log_.warn("router token not obtained",
                {{"reason", error}, {"client_id", opts_.client_id}});
      return;
    }
    auto token = json::string_at(*doc.value, "access_token");
    // Bounded: a day at most, whatever the answer says.
    auto lifetime = std::clamp<std::int64_t>(
      json::int_at(*doc.value, "expires_in").value_or(0), 0, 86'400);
    if (token.empty() || lifetime == 0) {
      error = "the identity platform's answer has no access_token or "
              "expires_in";
      log_.warn("router token not obtained",
                {{"reason", error}, {"client_id", opts_.client_id}});
      return;
    }
    token_ = std::move(token);
    expires_
      = std::chrono::steady_clock::now() + std::chrono::seconds{lifetime};
    log_.info("router token obtained",
              {{"client_id", opts_.client_id},
               {"expires_in_s", std::to_string(lifetime)}});
  }

  router_token_options opts_;
  router::logger& log_;
  http::client client_;
  std::mutex mtx_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_;
};

class bearer_plugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit bearer_plugin(std::shared_ptr<token_source> source)
    : source_(std::move(source)) {}

  bool IsBlocking() const override { return true; }

  const char* GetType() const override { return "switchboard_router_token"; }

  grpc::Status
  GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
              std::multimap<grpc::string, grpc::string>* metadata) override {
    std::string error;
    auto token = source_->get(error);
    if (token.empty())
      return {grpc::StatusCode::UNAVAILABLE, error};
    metadata->emplace("authorization", "Bearer " + token);
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<token_source> source_;
};

} // namespace

std::string check(const router_token_options& o) {
  if (!o.enabled())
    return {};
  std::string missing;
  for (auto [value, name] :
       {std::pair{&o.tenant_id, "router.token_tenant_id"},
        std::pair{&o.client_secret_file, "router.token_client_secret_file"},
        std::pair{&o.scope, "router.token_scope"},
        std::pair{&o.authority, "router.token_authority"}})
    if (value->empty())
      missing += (missing.empty() ? "" : ", ") + std::string{name};
  if (!missing.empty())
    return "router.token_client_id is set, so " + missing
           + " must be too (the app's tenant, its secret's file, "
             "Switchboard's API scope)";
  return {};
}

std::shared_ptr<grpc::CallCredentials>
router_token_credentials(const router_token_options& o, router::logger& log) {
  return grpc::MetadataCredentialsFromPlugin(
    std::make_unique<bearer_plugin>(std::make_shared<token_source>(o, log)));
}

} // namespace switchboard::gateway
