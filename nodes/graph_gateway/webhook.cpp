#include "nodes/graph_gateway/webhook.hpp"

#include "nodes/identity/openid_keys.hpp"
#include "nodes/json/json.hpp"
#include "nodes/router/log.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <openssl/crypto.h>
#include <set>

namespace switchboard::graph {

namespace {

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty()
         && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

http::response unauthorized(const identity::token_verdict& v) {
  auto r = http::error_response(401, "unauthorized", v.reason);
  // RFC 6750 §3: the reason without quotes that would break the header.
  std::string description;
  for (char c : v.reason)
    description += c == '"' || c == '\\' ? '\'' : c;
  r.headers.emplace_back("WWW-Authenticate",
                         "Bearer error=\"invalid_token\", error_description=\""
                           + description + "\"");
  return r;
}

} // namespace

webhook::webhook(options opts, token_checker& tokens, decryption_keys keys,
                 webhook_sinks sinks, router::logger& log)
  : opts_(std::move(opts)), tokens_(tokens), keys_(std::move(keys)),
    sinks_(std::move(sinks)), log_(log) {}

webhook::~webhook() {
  std::lock_guard<std::mutex> guard{life_->m};
  life_->alive = false;
}

void webhook::handle(http::request req, http::responder res) {
  if (req.path == opts_.calls_path) {
    if (req.method != "POST")
      return res.send(http::error_response(405, "methodNotAllowed",
                                           "call notifications are POSTed"));
    return calls(std::move(req), std::move(res));
  }
  if (req.path == opts_.presence_path) {
    if (req.method != "POST")
      return res.send(http::error_response(405, "methodNotAllowed",
                                           "change notifications are POSTed"));
    return presence(std::move(req), std::move(res));
  }
  if (req.path == "/healthz" && req.method == "GET")
    return res.send(http::make_response(200, "text/plain", "ok\n"));
  res.send(http::error_response(
    404, "notFound", "no such endpoint: " + req.path.substr(0, 200)));
}

void webhook::calls(http::request req, http::responder res) {
  auto token = std::string{identity::bearer_token(req.header("authorization"))};
  tokens_.check(std::move(token), [this, life = life_, req = std::move(req),
                                   res](identity::token_verdict v) mutable {
    std::lock_guard<std::mutex> guard{life->m};
    if (!life->alive)
      return res.send(http::error_response(503, "serviceUnavailable",
                                           "the gateway is stopping"));
    if (!v) {
      ++counts_.unauthorized;
      log_.warn("call notification refused: bad bearer token",
                {{"reason", v.reason},
                 {"error", identity::to_string(v.error)},
                 {"from", req.remote_address}});
      return res.send(unauthorized(v));
    }
    auto doc = json::parse(req.body);
    if (!doc.value) {
      ++counts_.malformed;
      return res.send(http::error_response(
        400, "badRequest", "the body is not JSON: " + doc.error));
    }
    auto batch = read_call_notifications(*doc.value);
    if (!batch.error.empty()) {
      ++counts_.malformed;
      log_.warn("call notification refused",
                {{"reason", batch.error}, {"tenant", v.claims.tenant_id}});
      return res.send(http::error_response(400, "badRequest", batch.error));
    }
    ++counts_.call_posts;
    // Graph is answered before anything is done with the notifications.
    res.send(http::make_response(202, "application/json", ""));
    if (sinks_.calls)
      sinks_.calls(std::move(batch.value), v.claims);
  });
}

void webhook::presence(http::request req, http::responder res) {
  if (auto token = req.query_parameter("validationToken"); !token.empty()) {
    ++counts_.validations;
    log_.info("subscription validated", {{"path", req.path}});
    return res.send(http::make_response(200, "text/plain", std::move(token)));
  }
  auto doc = json::parse(req.body);
  if (!doc.value) {
    ++counts_.malformed;
    return res.send(http::error_response(400, "badRequest",
                                         "the body is not JSON: " + doc.error));
  }
  auto batch = read_change_notifications(*doc.value);
  if (!batch.error.empty()) {
    ++counts_.malformed;
    return res.send(http::error_response(400, "badRequest", batch.error));
  }
  res.send(http::make_response(202, "application/json", ""));
  bool rich = std::any_of(batch.value.begin(), batch.value.end(),
                          [](const change_notification& n) {
                            return n.encrypted.has_value();
                          });
  if (!rich || opts_.validation == nullptr)
    return changes(batch, req.remote_address);
  if (batch.validation_tokens.empty() || batch.validation_tokens.size() > 16) {
    ++counts_.invalid_validation_tokens;
    log_.warn("rich notifications ignored: no validationTokens to prove they "
              "come from Graph",
              {{"from", req.remote_address}});
    return;
  }
  // Every token must verify; the notifications' tenants must be theirs.
  struct pending {
    std::mutex m;
    std::size_t left;
    std::string problem;
    std::set<std::string> tenants;
    change_notifications batch;
    std::string from;
  };
  auto p = std::make_shared<pending>();
  p->left = batch.validation_tokens.size();
  p->from = req.remote_address;
  auto tokens = batch.validation_tokens;
  p->batch = std::move(batch);
  for (auto& token : tokens)
    opts_.validation->check(std::move(token), [this, life = life_,
                                               p](identity::token_verdict v) {
      std::lock_guard<std::mutex> guard{life->m};
      if (!life->alive)
        return;
      std::unique_lock<std::mutex> lock{p->m};
      if (!v && p->problem.empty())
        p->problem = v.reason;
      else if (v && v.claims.app_id != opts_.change_tracking_app
               && p->problem.empty())
        p->problem = "issued to \"" + v.claims.app_id.substr(0, 60)
                     + "\", not to Microsoft Graph change tracking";
      if (v)
        p->tenants.insert(v.claims.tenant_id);
      if (--p->left != 0)
        return;
      lock.unlock();
      for (const auto& n : p->batch.value)
        if (n.encrypted && p->problem.empty()
            && p->tenants.count(n.tenant_id) == 0)
          p->problem = "a notification of tenant \"" + n.tenant_id.substr(0, 60)
                       + "\" has no validation token of its tenant";
      if (!p->problem.empty()) {
        ++counts_.invalid_validation_tokens;
        log_.warn("rich notifications ignored: a validation token does not "
                  "verify",
                  {{"reason", p->problem}, {"from", p->from}});
        return;
      }
      changes(p->batch, p->from);
    });
}

void webhook::changes(const change_notifications& batch,
                      const std::string& from) {
  for (const auto& n : batch.value) {
    if (!same_secret(n.client_state, opts_.client_state)) {
      ++counts_.wrong_client_state;
      log_.warn(
        "change notification ignored: wrong clientState",
        {{"subscription", n.subscription_id.substr(0, 100)}, {"from", from}});
      continue;
    }
    if (!n.lifecycle_event.empty()) {
      ++counts_.lifecycle;
      log_.info(
        "subscription lifecycle event",
        {{"subscription", n.subscription_id}, {"event", n.lifecycle_event}});
      if (sinks_.lifecycle)
        sinks_.lifecycle(n);
      continue;
    }
    if (!n.encrypted) {
      ++counts_.undecryptable;
      log_.warn("presence change without resource data: the subscription "
                "must include resource data",
                {{"subscription", n.subscription_id}});
      continue;
    }
    auto plain = keys_.decrypt(*n.encrypted);
    std::optional<graph::presence> p;
    if (plain.plaintext)
      if (auto parsed = json::parse(*plain.plaintext); parsed.value)
        p = read_presence(*parsed.value);
    if (!p) {
      ++counts_.undecryptable;
      log_.warn("presence change not decrypted",
                {{"subscription", n.subscription_id},
                 {"error", plain.plaintext ? "not a presence" : plain.error}});
      continue;
    }
    ++counts_.presence_changes;
    if (sinks_.presence)
      sinks_.presence(std::move(*p), n);
  }
}

} // namespace switchboard::graph
