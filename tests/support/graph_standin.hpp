#pragma once

// A stand-in for Microsoft's identity platform and Graph, over real HTTPS
// on 127.0.0.1 with a test CA: it publishes an OpenID configuration and
// the JWKS of its signing keys, signs the tokens Microsoft's calling
// platform puts on notifications, issues app-only tokens for the client
// credentials it is given (POST /{tenant}/oauth2/v2.0/token), answers
// Graph requests under /v1.0 that carry one of them (202 unless told
// otherwise), and keeps every request it was sent so tests assert what the
// gateway asked.

#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "tests/support/test_keys.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
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

  ~graph_standin() {
    server_.stop();
    {
      std::lock_guard<std::mutex> lock{mutex_};
      stopping_ = true;
    }
    notifier_.reset();
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

  /// Where Graph posts the bot's call notifications, the CA that signed
  /// the gateway's certificate, the published payloads to send (their ids
  /// rewritten), and the Microsoft tenant and app id the tokens name.
  void connect_bot(const std::string& callback_url, const std::string& ca_file,
                   const std::string& fixtures, const std::string& tenant,
                   const std::string& app_id = "bot-app-id") {
    std::lock_guard<std::mutex> lock{mutex_};
    callback_ = callback_url;
    fixtures_ = fixtures;
    tenant_ = tenant;
    app_id_ = app_id;
    http::client::options o;
    o.ca_file = ca_file;
    notifier_ = std::make_unique<http::client>(o);
  }

  /// The agent with this Teams user id does not answer invites (the
  /// invite operation fails); the others join (a roster update with them).
  void does_not_answer(const std::string& teams_user_id) {
    std::lock_guard<std::mutex> lock{mutex_};
    not_answering_.insert(teams_user_id);
  }

  /// A Teams caller (the published p2p caller) calls the bot: the
  /// incoming call notification for `call_id`.
  void incoming_call(const std::string& call_id) {
    std::lock_guard<std::mutex> lock{mutex_};
    rosters_[call_id] = {{"user", caller_id, "caller-participant"},
                         {"application", app_id_, "bot-participant"}};
    notify({rewrite("call-answer_incoming-notification_p2p.json", call_id)});
  }

  /// The caller hangs up: the call terminates.
  void caller_hangs_up(const std::string& call_id) {
    std::lock_guard<std::mutex> lock{mutex_};
    notify({rewrite("call-delete_notification_terminated.json", call_id)});
  }

  /// The published p2p incoming call's caller (a Teams user).
  static constexpr const char* caller_id
    = "8A34A46B-3D17-4ADC-8DCE-DC4E7D572698";

  /// The HTTP statuses the gateway answered the notifications with.
  std::vector<unsigned> notification_statuses() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return statuses_;
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
      res.send(http::make_response(202, "application/json", ""));
      return act(req);
    }
    res.send(http::error_response(404, "notFound", req.path));
  }

  // What Graph does after answering a request to /v1.0/communications/
  // calls/{id}/...: the notifications it sends the bot.
  void act(const http::request& req) {
    static const std::string calls = "/v1.0/communications/calls/";
    if (req.path.rfind(calls, 0) != 0 || !notifier_)
      return;
    auto rest = req.path.substr(calls.size());
    auto slash = rest.find('/');
    auto call_id = rest.substr(0, slash);
    auto action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (action == "answer") {
      notify({rewrite("call-answer_notification_establishing.json", call_id),
              rewrite("call-answer_notification_established.json", call_id)});
    } else if (action == "participants/invite") {
      auto user = between(req.body, "\"user\":{", "}");
      auto id = between(user, "\"id\":\"", "\"");
      auto context = between(req.body, "\"clientContext\":\"", "\"");
      if (not_answering_.count(id) == 0) {
        rosters_[call_id].push_back({"user", id, "agent-participant-" + id});
        notify({roster(call_id)});
      } else {
        notify({invite_failed(call_id, context)});
      }
    } else if (action.rfind("participants/", 0) == 0
               && req.method == "DELETE") {
      auto pid = action.substr(std::string{"participants/"}.size());
      auto& r = rosters_[call_id];
      for (auto i = r.begin(); i != r.end(); ++i)
        if (i->pid == pid) {
          r.erase(i);
          break;
        }
      notify({roster(call_id)});
    } else if (action.empty() && req.method == "DELETE") {
      notify({rewrite("call-delete_notification_terminated.json", call_id)});
    }
  }

  static std::string between(const std::string& s, const std::string& open,
                             const std::string& close) {
    auto a = s.find(open);
    if (a == std::string::npos)
      return {};
    a += open.size();
    auto b = s.find(close, a);
    return b == std::string::npos ? std::string{} : s.substr(a, b - a);
  }

  // A published notification with its call id (either spelling) replaced.
  std::string rewrite(const std::string& fixture, const std::string& call_id) {
    std::ifstream in{fixtures_ + "/" + fixture};
    std::stringstream text;
    text << in.rdbuf();
    auto body = text.str();
    for (std::string old : {"57DAB8B1894C409AB240BD8BEAE78896",
                            "57dab8b1-894c-409a-b240-bd8beae78896"})
      for (auto at = body.find(old); at != std::string::npos;
           at = body.find(old, at + call_id.size()))
        body.replace(at, old.size(), call_id);
    return body;
  }

  struct member {
    std::string kind;
    std::string id;
    std::string pid;
  };

  // A roster update in the shape of the published participant samples.
  std::string roster(const std::string& call_id) {
    std::string members;
    for (const auto& m : rosters_[call_id])
      members += std::string{members.empty() ? "" : ","}
                 + "{\"@odata.type\":\"#microsoft.graph.participant\","
                   "\"info\":{\"@odata.type\":\"#microsoft.graph."
                   "participantInfo\",\"identity\":{\"@odata.type\":\"#"
                   "microsoft.graph.identitySet\",\""
                 + m.kind
                 + "\":{\"@odata.type\":\"#microsoft.graph.identity\","
                   "\"id\":\""
                 + m.id
                 + "\"}},\"endpointType\":\"default\"},\"isMuted\":false,"
                   "\"isInLobby\":false,\"id\":\""
                 + m.pid + "\"}";
    return "{\"@odata.type\":\"#microsoft.graph.commsNotifications\","
           "\"value\":[{\"@odata.type\":\"#microsoft.graph."
           "commsNotification\",\"changeType\":\"updated\",\"resourceUrl\""
           ":\"/communications/calls/"
           + call_id + "/participants\",\"resourceData\":[" + members + "]}]}";
  }

  // The invite's operation, failed: the agent did not answer.
  std::string invite_failed(const std::string& call_id,
                            const std::string& context) {
    auto body = rewrite(
      "participant-invite_notification_single-user-operation-completed.json",
      call_id);
    for (std::string old : {"ab6233a5-20b7-4c5e-bea2-ce56c9776429"})
      for (auto at = body.find(old); at != std::string::npos;
           at = body.find(old, at + call_id.size()))
        body.replace(at, old.size(), call_id);
    auto status = body.find("\"status\":\"completed\"");
    if (status != std::string::npos)
      body.replace(status, 20, "\"status\":\"failed\"");
    auto ctx = body.find("f2fa86af-3c51-4bc2-8fc0-475452d9764f");
    if (ctx != std::string::npos)
      body.replace(ctx, 36, context);
    return body;
  }

  // Posts `bodies` to the bot one after the other, each with a token of
  // the calling platform. Called under mutex_.
  void notify(std::vector<std::string> bodies) {
    if (!notifier_ || bodies.empty() || stopping_)
      return;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    auto token = keys_.begin()->second->sign(
      keys_.begin()->first,
      "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"" + app_id_
        + "\",\"tid\":\"" + tenant_ + "\",\"nbf\":" + std::to_string(now - 60)
        + ",\"exp\":" + std::to_string(now + 3600) + "}");
    http::outgoing req;
    req.method = "POST";
    req.url = callback_;
    req.headers = {{"Content-Type", "application/json"},
                   {"Authorization", "Bearer " + token}};
    req.body = bodies.front();
    bodies.erase(bodies.begin());
    notifier_->send(std::move(req), [this, bodies](http::reply r) {
      std::lock_guard<std::mutex> lock{mutex_};
      statuses_.push_back(r.value.status);
      notify(bodies);
    });
  }

  std::string callback_;
  std::string fixtures_;
  std::string tenant_;
  std::string app_id_ = "bot-app-id";
  std::set<std::string> not_answering_;
  bool stopping_ = false;
  std::map<std::string, std::vector<member>> rosters_;
  std::vector<unsigned> statuses_;
  // Declared before the server, so that it outlives the server's handler.
  std::unique_ptr<http::client> notifier_;
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
