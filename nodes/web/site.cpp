#include "nodes/web/site.hpp"

#include "nodes/identity/openid_keys.hpp"
#include "nodes/json/json.hpp"
#include "nodes/router/log.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>

namespace switchboard::web {

namespace fs = std::filesystem;

namespace {

/// The app is small; anything bigger is a wrong directory.
constexpr std::size_t max_app_files = 500;
constexpr std::uintmax_t max_app_bytes = 64u << 20;

std::string content_type_of(const fs::path& p) {
  static const std::map<std::string, std::string> types{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
  };
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

/// Headers every answer carries: no sniffing, framed only by Teams (the
/// app runs as a tab) and itself.
void secure(http::response& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back(
    "Content-Security-Policy",
    "default-src 'self'; connect-src 'self' https://login.microsoftonline.com"
    " ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'self' https://teams.microsoft.com "
    "https://*.teams.microsoft.com https://teams.cloud.microsoft "
    "https://*.cloud.microsoft https://*.office.com https://*.skype.com");
}

http::response json_response(unsigned status, std::string body) {
  auto r = http::make_response(status, "application/json", std::move(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  secure(r);
  return r;
}

http::response api_error(unsigned status, const char* code,
                         const std::string& message) {
  boost::json::object e{{"code", code}, {"message", message}};
  return json_response(
    status, boost::json::serialize(boost::json::object{{"error", e}}));
}

/// "RoutingService" and "SetAgentReady" of "/api/v1/RoutingService/
/// SetAgentReady", or false.
bool split_method(const std::string& path, std::string& service,
                  std::string& method) {
  static const std::string prefix = "/api/v1/";
  if (path.rfind(prefix, 0) != 0)
    return false;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()
      || rest.find('/', slash + 1) != std::string::npos)
    return false;
  service = rest.substr(0, slash);
  method = rest.substr(slash + 1);
  auto plain = [](const std::string& s) {
    for (char c : s)
      if (!std::isalnum(static_cast<unsigned char>(c)))
        return false;
    return s.size() <= 64;
  };
  return plain(service) && plain(method);
}

} // namespace

site::site(options opts, bridge& api, router::logger& log)
  : opts_(std::move(opts)), api_(api), log_(log) {}

std::string site::load_app() {
  files_.clear();
  std::error_code ec;
  fs::path root{opts_.app_dir};
  if (!fs::is_regular_file(root / "index.html", ec)) {
    load_error_ = "the app is not built: " + (root / "index.html").string()
                  + " is missing (build it with cmake, or set --app-dir)";
    return load_error_;
  }
  std::uintmax_t total = 0;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec))
      continue;
    if (files_.size() == max_app_files || total > max_app_bytes) {
      load_error_ = "the app directory " + root.string()
                    + " holds more than the app (over 500 files or 64 MiB)";
      files_.clear();
      return load_error_;
    }
    std::ifstream in{it->path(), std::ios::binary};
    std::stringstream s;
    s << in.rdbuf();
    auto rel = "/" + fs::relative(it->path(), root, ec).generic_string();
    total += s.str().size();
    files_[rel] = {content_type_of(it->path()), s.str()};
  }
  load_error_.clear();
  return {};
}

void site::handle(http::request req, http::responder out) {
  if (req.path == "/healthz")
    return out.send(http::make_response(200, "text/plain", "ok\n"));
  if (req.path.rfind("/api/", 0) == 0)
    return api(std::move(req), std::move(out));
  if (req.method != "GET" && req.method != "HEAD")
    return out.send(
      api_error(405, "METHOD_NOT_ALLOWED", req.method + " is not served here"));
  serve_file(req, out);
}

void site::serve_file(const http::request& req,
                      const http::responder& out) const {
  if (!load_error_.empty())
    return out.send(api_error(503, "UNAVAILABLE", load_error_));
  auto it = files_.find(req.path);
  // The app's own pages (/agent, /supervisor, ...) are index.html: it
  // reads its location itself.
  if (it == files_.end() && req.path.find('.') == std::string::npos)
    it = files_.find("/index.html");
  if (it == files_.end())
    return out.send(api_error(404, "NOT_FOUND", "no file " + req.path));
  auto r = http::make_response(200, it->second.content_type,
                               req.method == "HEAD" ? std::string{}
                                                    : it->second.body);
  r.headers.emplace_back("Cache-Control", it->first == "/index.html"
                                            ? "no-cache"
                                            : "public, max-age=300");
  secure(r);
  out.send(std::move(r));
}

void site::identify(const std::string& token,
                    std::function<void(user, std::string)> done) {
  if (opts_.demo_sign_in) {
    std::optional<user> found;
    {
      std::lock_guard<std::mutex> lock{demo_mutex_};
      if (auto it = demo_sessions_.find(token); it != demo_sessions_.end())
        found = it->second;
    }
    if (!found)
      return done({}, "not a session of this demo (sign in again)");
    return done(std::move(*found), {});
  }
  if (opts_.tokens == nullptr)
    return done({}, "sign-in is not configured on this web edge "
                    "(--auth-openid-configuration)");
  opts_.tokens->check(token, [token, done](identity::token_verdict v) {
    if (!v)
      return done({}, "the token was refused: " + v.reason);
    user u;
    u.name = v.claims.name.empty() ? v.claims.object_id : v.claims.name;
    u.object_id = v.claims.object_id;
    u.microsoft_tenant_id = v.claims.tenant_id;
    u.roles = v.claims.roles;
    u.expires_at = v.claims.expires_at;
    u.token = token;
    done(std::move(u), {});
  });
}

void site::demo_sign_in(const http::request& req, const http::responder& out) {
  if (!opts_.demo_sign_in)
    return out.send(
      api_error(404, "NOT_FOUND", "this web edge has no demo sign-in"));
  auto doc = json::parse(req.body, json::syntax::strict, 4 << 10);
  if (!doc.value || !doc.value->is_object())
    return out.send(api_error(400, "INVALID_ARGUMENT",
                              "expected {\"name\", \"role\"}: " + doc.error));
  user u;
  u.name = json::string_at(*doc.value, "name");
  auto role = json::string_at(*doc.value, "role");
  if (u.name.empty() || u.name.size() > 64)
    return out.send(api_error(400, "INVALID_ARGUMENT",
                              "name: required, at most 64 characters"));
  if (role != "Agent" && role != "Supervisor" && role != "Admin")
    return out.send(
      api_error(400, "INVALID_ARGUMENT",
                "role: Agent, Supervisor or Admin, found '" + role + "'"));
  u.roles = {"Switchboard." + role};
  u.object_id = "demo-" + u.name;
  u.expires_at = 0;
  std::random_device random;
  std::string token = "demo.";
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", random());
    token += buf;
  }
  {
    std::lock_guard<std::mutex> lock{demo_mutex_};
    // A demo has a handful of people; past that, the oldest sign-ins go.
    if (demo_sessions_.size() >= 1000)
      demo_sessions_.clear();
    demo_sessions_[token] = u;
  }
  log_.info("demo sign-in",
            {{"name", u.name}, {"role", role}, {"remote", req.remote_address}});
  out.send(json_response(
    200, boost::json::serialize(boost::json::object{{"token", token}})));
}

void site::api(http::request req, http::responder out) {
  if (req.path == "/api/v1/config") {
    boost::json::object c{{"client_id", opts_.client_id},
                          {"authority", opts_.authority},
                          {"api_scope", opts_.api_scope},
                          {"sign_in", opts_.tokens != nullptr},
                          {"demo", opts_.demo_sign_in}};
    return out.send(json_response(200, boost::json::serialize(c)));
  }
  if (req.path == "/api/v1/demo/sign-in" && req.method == "POST")
    return demo_sign_in(req, out);
  std::string service;
  std::string method;
  bool is_me = req.path == "/api/v1/me";
  if (!is_me && !split_method(req.path, service, method))
    return out.send(api_error(404, "NOT_FOUND", "no API at " + req.path));
  if (is_me ? req.method != "GET" : req.method != "POST")
    return out.send(api_error(405, "METHOD_NOT_ALLOWED",
                              req.path + " takes " + (is_me ? "GET" : "POST")));
  std::string token{identity::bearer_token(req.header("Authorization"))};
  if (token.empty())
    return out.send(api_error(401, "UNAUTHENTICATED",
                              "sign in first: the request has no bearer "
                              "token"));
  identify(token, [this, req = std::move(req), out, is_me, service,
                   method](user u, std::string why) {
    if (u.name.empty()) {
      log_.info(
        "token refused",
        {{"path", req.path}, {"remote", req.remote_address}, {"why", why}});
      return out.send(api_error(401, "UNAUTHENTICATED", why));
    }
    if (is_me) {
      boost::json::array roles;
      for (auto& r : u.roles)
        roles.emplace_back(r);
      boost::json::object me{{"name", u.name},
                             {"object_id", u.object_id},
                             {"microsoft_tenant_id", u.microsoft_tenant_id},
                             {"roles", roles},
                             {"expires_at", u.expires_at}};
      return out.send(json_response(200, boost::json::serialize(me)));
    }
    api_.call(service, method, req.body, u.token, [out](api_answer a) {
      out.send(json_response(a.status, std::move(a.body)));
    });
  });
}

http::websocket_callbacks site::events(const http::request& req,
                                       http::websocket ws) {
  // One connection: its first message names the token, the tenant and the
  // sequence to resume after; then events flow until either side ends.
  struct connection {
    std::mutex mutex;
    bool started = false;
    bool closed = false;
    std::unique_ptr<event_stream> stream;
  };
  auto c = std::make_shared<connection>();
  ++open_streams_;
  auto refuse = [ws](const char* code, const std::string& message) {
    boost::json::object e{{"code", code}, {"message", message}};
    ws.send(boost::json::serialize(boost::json::object{{"error", e}}));
    ws.close(code);
  };
  http::websocket_callbacks cb;
  cb.on_message
    = [this, c, ws, refuse, remote = req.remote_address](std::string text) {
        {
          std::lock_guard<std::mutex> lock{c->mutex};
          if (c->started)
            return;
          c->started = true;
        }
        auto doc = json::parse(text, json::syntax::strict, 32 << 10);
        if (!doc.value || !doc.value->is_object())
          return refuse("INVALID_ARGUMENT",
                        "the first message is {\"token\", \"tenant_id\", "
                        "\"from_sequence\"}: "
                          + doc.error);
        auto token = json::string_at(*doc.value, "token");
        auto tenant = json::string_at(*doc.value, "tenant_id");
        std::uint64_t from = 0;
        if (const auto* f = json::find(*doc.value, "from_sequence")) {
          if (f->is_uint64())
            from = f->as_uint64();
          else if (f->is_int64() && f->as_int64() >= 0)
            from = static_cast<std::uint64_t>(f->as_int64());
          else if (f->is_string()) {
            try {
              from = std::stoull(std::string{f->as_string()});
            } catch (const std::exception&) {
              return refuse("INVALID_ARGUMENT",
                            "from_sequence: expected a whole number");
            }
          } else if (!f->is_null()) {
            return refuse("INVALID_ARGUMENT",
                          "from_sequence: expected a whole number");
          }
        }
        if (tenant.empty() || tenant.size() > 128)
          return refuse("INVALID_ARGUMENT",
                        "tenant_id: required, at most 128 characters");
        if (token.empty())
          return refuse("UNAUTHENTICATED", "sign in first: no token");
        identify(token, [this, c, ws, refuse, tenant, from,
                         remote](user u, std::string why) {
          if (u.name.empty()) {
            log_.info(
              "token refused",
              {{"path", "/api/v1/events"}, {"remote", remote}, {"why", why}});
            return refuse("UNAUTHENTICATED", why);
          }
          auto stream = api_.subscribe(
            tenant, from, u.token,
            [ws](std::string event) {
              ws.send("{\"event\":" + event + "}");
            },
            [ws](std::string error) {
              if (!error.empty())
                ws.send(std::move(error));
              ws.close("the event stream ended");
            });
          std::lock_guard<std::mutex> lock{c->mutex};
          if (!c->closed)
            c->stream = std::move(stream);
        });
      };
  cb.on_close = [this, c] {
    std::unique_ptr<event_stream> gone;
    {
      std::lock_guard<std::mutex> lock{c->mutex};
      c->closed = true;
      gone = std::move(c->stream);
    }
    --open_streams_;
  };
  return cb;
}

} // namespace switchboard::web
