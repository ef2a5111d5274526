#include "nodes/graph_gateway/graph_api.hpp"

#include "nodes/graph_gateway/token_store.hpp"
#include "nodes/http/message.hpp"
#include "nodes/identity/device_login.hpp"
#include "nodes/json/json.hpp"
#include "nodes/router/log.hpp"

#include <optional>

namespace switchboard::graph {

graph_api::graph_api(options opts, http::client& client, router::logger& log)
  : opts_(std::move(opts)), client_(client), log_(log) {}

std::string graph_api::scope_of(const std::string& graph_url) {
  auto scheme = graph_url.find("://");
  auto path = scheme == std::string::npos ? std::string::npos
                                          : graph_url.find('/', scheme + 3);
  return graph_url.substr(0, path) + "/.default";
}

std::string graph_api::user_scope_of(const std::string& graph_url) {
  auto app = scope_of(graph_url);
  return app.substr(0, app.size() - std::string{"/.default"}.size())
         + "/Presence.Read.All offline_access";
}

bool graph_api::plausible_tenant(const std::string& tenant) {
  if (tenant.empty() || tenant.size() > 100)
    return false;
  for (char c : tenant)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return false;
  return true;
}

void graph_api::send(const std::string& tenant, std::string method,
                     std::string path, std::string body,
                     std::function<void(http::reply)> done, acting who) {
  attempt(tenant, who, std::move(method), std::move(path), std::move(body),
          false, std::move(done));
}

void graph_api::attempt(const std::string& tenant, acting who,
                        std::string method, std::string path, std::string body,
                        bool retried, std::function<void(http::reply)> done) {
  with_token(
    tenant, who, retried,
    [this, tenant, who, method, path, body, retried,
     done = std::move(done)](std::string token, std::string error) mutable {
      if (!error.empty()) {
        http::reply r;
        r.error = std::move(error);
        return done(std::move(r));
      }
      http::outgoing req;
      req.method = method;
      req.url = opts_.graph_url + path;
      req.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
      req.body = body;
      client_.send(
        std::move(req), [this, tenant, who, method, path, body, retried,
                         done = std::move(done)](http::reply r) mutable {
          if (r.ok() && r.value.status == 401 && !retried) {
            // Revoked or rotated: one new token, one more try.
            log_.warn(who == acting::as_app
                        ? "Graph refused the app's token; fetching a new one"
                        : "Graph refused the service account's token; "
                          "fetching a new one",
                      {{"tenant", tenant}, {"path", path}});
            return attempt(tenant, who, std::move(method), std::move(path),
                           std::move(body), true, std::move(done));
          }
          done(std::move(r));
        });
    });
}

void graph_api::with_token(const std::string& tenant, acting who, bool fresh,
                           token_waiter done) {
  if (!plausible_tenant(tenant))
    return done({}, "\"" + tenant.substr(0, 100)
                      + "\" is not a Microsoft tenant id");
  bool start = false;
  std::string held;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    auto& t = tokens_[{tenant, who}];
    if (fresh && !t.fetching)
      t.token.clear();
    if (!t.token.empty()
        && std::chrono::steady_clock::now() + opts_.renew_before < t.expires) {
      held = t.token;
    } else {
      t.waiting.push_back(std::move(done));
      start = !t.fetching;
      t.fetching = true;
    }
  }
  if (!held.empty())
    return done(std::move(held), {});
  if (start)
    fetch_token(tenant, who);
}

void graph_api::fetch_token(const std::string& tenant, acting who) {
  http::outgoing req;
  req.method = "POST";
  req.url = opts_.authority + "/" + tenant + "/oauth2/v2.0/token";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  if (who == acting::as_app) {
    req.body = "client_id=" + http::url_encode(opts_.client_id)
               + "&client_secret=" + http::url_encode(opts_.client_secret)
               + "&scope=" + http::url_encode(scope_of(opts_.graph_url))
               + "&grant_type=client_credentials";
  } else {
    // The service account signed in through the device-code flow, a
    // public client flow: its refresh token goes without the app's secret.
    std::string error;
    std::optional<std::string> refresh;
    if (opts_.user_tokens != nullptr)
      refresh = opts_.user_tokens->load(tenant, error);
    if (!refresh) {
      if (error.empty())
        error = "the service account has not signed in for this tenant: run "
                "switchboard-graph-gateway login "
                + tenant;
      return finish_token(tenant, who, {}, 0, "", error);
    }
    req.body = "client_id=" + http::url_encode(opts_.client_id)
               + "&scope=" + http::url_encode(user_scope_of(opts_.graph_url))
               + "&grant_type=refresh_token&refresh_token="
               + http::url_encode(*refresh);
  }
  client_.send(std::move(req), [this, tenant, who](http::reply r) {
    std::string token;
    std::string refresh;
    std::string error;
    std::int64_t expires_in = 0;
    if (!r.ok()) {
      error = r.error;
    } else {
      auto doc = json::parse(r.value.body);
      if (r.value.status != 200 || !doc.value) {
        error = identity::platform_error(r);
      } else {
        token = json::string_at(*doc.value, "access_token");
        refresh = json::string_at(*doc.value, "refresh_token");
        expires_in = json::int_at(*doc.value, "expires_in").value_or(0);
        if (token.empty() || expires_in <= 0)
          error = "the token response has no access_token or expires_in";
      }
    }
    finish_token(tenant, who, token, expires_in, refresh, error);
  });
}

void graph_api::finish_token(const std::string& tenant, acting who,
                             const std::string& token, std::int64_t expires_in,
                             const std::string& refresh, std::string error) {
  if (error.empty() && who == acting::as_user && !refresh.empty()
      && opts_.user_tokens != nullptr) {
    // Rotated: the old refresh token may stop working any time now.
    if (auto problem = opts_.user_tokens->save(tenant, refresh);
        !problem.empty())
      log_.error("cannot keep the service account's new refresh token; the "
                 "next sign-in may be needed sooner",
                 {{"tenant", tenant}, {"error", problem}});
  }
  std::vector<token_waiter> waiting;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    auto& t = tokens_[{tenant, who}];
    t.fetching = false;
    if (error.empty()) {
      t.token = token;
      // Bounded: a day at most, whatever the response says.
      t.expires
        = std::chrono::steady_clock::now()
          + std::chrono::seconds{std::min<std::int64_t>(expires_in, 86'400)};
    }
    waiting.swap(t.waiting);
  }
  if (!error.empty()) {
    const char* whose = who == acting::as_app ? "app" : "service account";
    log_.error(
      std::string{"no "} + whose + " token for the tenant",
      {{"tenant", tenant}, {"authority", opts_.authority}, {"error", error}});
    error = std::string{"no "} + whose + " token for tenant " + tenant + ": "
            + error;
  }
  for (auto& w : waiting)
    w(error.empty() ? token : std::string{}, error);
}

} // namespace switchboard::graph
