#pragma once

// A stand-in for Microsoft's identity platform and Graph, over real HTTPS
// on 127.0.0.1 with a test CA: it publishes an OpenID configuration and
// the JWKS of its signing keys, signs the tokens Microsoft's calling
// platform puts on notifications, issues app-only tokens for the client
// credentials it is given (POST /{tenant}/oauth2/v2.0/token), answers
// Graph requests under /v1.0 that carry one of them (202 unless told
// otherwise), and keeps every request it was sent so tests assert what the
// gateway asked.
//
// For presence it signs a service account in through the device-code flow
// (the first poll is pending, the second succeeds), rotates its refresh
// token on each use, keeps presence subscriptions (delegated tokens only;
// one per user, a validation request to the notification URL before each
// is made), answers getPresencesByUserId, and delivers presence changes
// encrypted for the subscription's certificate.

#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "nodes/json/json.hpp"
#include "tests/support/test_keys.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
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
    app_tokens_.clear();
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
    // Once: replacing it here would wait, under mutex_, for a delivery
    // that waits for mutex_.
    if (!notifier_) {
      http::client::options o;
      o.ca_file = ca_file;
      notifier_ = std::make_unique<http::client>(o);
    }
  }

  /// The agent with this Teams user id does not answer invites (the
  /// invite operation fails); the others join (a roster update with them).
  void does_not_answer(const std::string& teams_user_id) {
    std::lock_guard<std::mutex> lock{mutex_};
    not_answering_.insert(teams_user_id);
  }

  /// Calls the bot places are made (their notifications go out) but
  /// the POST's answer waits for release_placements(): Graph may notify
  /// before its 201 arrives.
  void hold_placements() {
    std::lock_guard<std::mutex> lock{mutex_};
    holding_ = true;
  }

  void release_placements() {
    std::lock_guard<std::mutex> lock{mutex_};
    holding_ = false;
    auto held = std::move(held_placements_);
    held_placements_.clear();
    for (auto& h : held)
      h.res.send(std::move(h.answer));
  }

  /// Invites to the agent with this Teams user id ring until answers().
  void rings(const std::string& teams_user_id) {
    std::lock_guard<std::mutex> lock{mutex_};
    ringing_.insert(teams_user_id);
  }

  /// The ringing agent `user` answers the invite into `call_id` after
  /// all: a roster update with them.
  void answers(const std::string& call_id, const std::string& user) {
    std::lock_guard<std::mutex> lock{mutex_};
    ringing_.erase(user);
    rosters_[call_id].push_back({"user", user, "agent-participant-" + user});
    notify({roster(call_id)}, tenant_of(call_id));
  }

  /// The caller of `call_id` presses a key: Graph's tone notification
  /// (`tone1`, `star`, ...), as the published sample has it.
  void press(const std::string& call_id, const std::string& tone) {
    std::lock_guard<std::mutex> lock{mutex_};
    auto body
      = rewrite("call-subscribetotone_notification_tone1.json", call_id);
    auto at = body.find("\"tone1\"");
    if (at != std::string::npos)
      body.replace(at, 7, "\"" + tone + "\"");
    notify({body}, tenant_of(call_id));
  }

  /// A transfer to `number` fails (Graph's failed-transfer notification);
  /// to any other number it succeeds: the caller leaves the call.
  void transfer_fails(const std::string& number) {
    std::lock_guard<std::mutex> lock{mutex_};
    failing_transfers_.insert(number);
  }

  /// The calls the bot placed (POST /communications/calls), by the id
  /// the stand-in gave them, with the request's body.
  std::map<std::string, std::string> placed_calls() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return placed_;
  }

  /// A Teams caller (the published p2p caller) calls the bot: the
  /// incoming call notification for `call_id`.
  /// In Microsoft tenant `tenant` (default: connect_bot's); the call's
  /// notifications carry tokens of that tenant, and Graph requests about
  /// it with another tenant's app token are refused and counted.
  void incoming_call(const std::string& call_id,
                     const std::string& tenant = {}) {
    std::lock_guard<std::mutex> lock{mutex_};
    rosters_[call_id] = {{"user", caller_id, "caller-participant"},
                         {"application", app_id_, "bot-participant"}};
    call_tenants_[call_id] = tenant.empty() ? tenant_ : tenant;
    notify({rewrite("call-answer_incoming-notification_p2p.json", call_id)},
           call_tenants_[call_id]);
  }

  /// Graph requests about a call made with another tenant's app token.
  std::size_t cross_tenant_requests() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return cross_tenant_;
  }

  /// The caller hangs up: the call terminates.
  void caller_hangs_up(const std::string& call_id) {
    std::lock_guard<std::mutex> lock{mutex_};
    ended_.insert(call_id);
    notify({rewrite("call-delete_notification_terminated.json", call_id)},
           tenant_of(call_id));
  }

  /// The agent with Teams user id `user` leaves the call (hangs up in
  /// Teams): a roster update without them.
  void agent_leaves(const std::string& call_id, const std::string& user) {
    std::lock_guard<std::mutex> lock{mutex_};
    auto& r = rosters_[call_id];
    r.erase(std::remove_if(r.begin(), r.end(),
                           [&user](const member& m) {
                             return m.id == user;
                           }),
            r.end());
    notify({roster(call_id)}, tenant_of(call_id));
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

  /// A presence subscription as the stand-in keeps it.
  struct subscription {
    std::string id;
    std::string resource;
    std::string notification_url;
    std::string lifecycle_url;
    std::string client_state;
    std::string certificate;
    std::string certificate_id;
    std::string expires;
    std::vector<std::string> users;
    std::size_t renewals = 0;
    std::size_t reauthorizations = 0;
  };

  std::vector<subscription> subscriptions() const {
    std::lock_guard<std::mutex> lock{mutex_};
    std::vector<subscription> out;
    for (const auto& [_, s] : subscriptions_)
      out.push_back(s);
    return out;
  }

  /// Subscriptions get at most this lifetime (Graph may shorten one).
  void cap_subscription_lifetime(std::chrono::seconds cap) {
    std::lock_guard<std::mutex> lock{mutex_};
    lifetime_cap_ = cap;
  }

  /// From now on a device-code or refresh-token sign-in whose scope names
  /// `audience` gets an access token signed by `kid` with the claims
  /// `claims()` returns (JSON), as the identity platform answers for an
  /// API's scope; other scopes keep getting Graph's stand-in tokens.
  void sign_api_users_in(const std::string& audience, const std::string& kid,
                         std::function<std::string()> claims) {
    std::lock_guard<std::mutex> lock{mutex_};
    api_audience_ = audience;
    api_kid_ = kid;
    api_claims_ = std::move(claims);
  }

  /// From now on the client credentials grant for a scope that names
  /// `audience` gets an access token signed by `kid` with the claims
  /// `claims(tenant)` returns (JSON), `tenant` being the directory the
  /// token was asked of, as the identity platform answers an app.
  void sign_api_apps_in(
    const std::string& audience, const std::string& kid,
    std::function<std::string(const std::string& tenant)> claims) {
    std::lock_guard<std::mutex> lock{mutex_};
    api_audience_ = audience;
    api_kid_ = kid;
    api_app_claims_ = std::move(claims);
  }

  /// How many tokens for the API the client credentials grant gave.
  std::size_t api_app_tokens_issued() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return api_apps_issued_;
  }

  /// The refresh token the service account holds now (rotated on use).
  std::string current_refresh_token() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return refresh_token_;
  }

  /// A user's Teams presence changes: getPresencesByUserId says so from
  /// now on and, with `notify`, the subscription that holds the user
  /// delivers it (encrypted for its certificate) to its notification URL.
  void change_presence(const std::string& user, const std::string& availability,
                       bool notify = true) {
    std::lock_guard<std::mutex> lock{mutex_};
    presences_[user] = availability;
    if (!notify)
      return;
    for (const auto& [id, sub] : subscriptions_) {
      if (std::find(sub.users.begin(), sub.users.end(), user)
          == sub.users.end())
        continue;
      auto key = rsa_key::of_certificate(sub.certificate);
      if (!key)
        return;
      auto content = key->encrypt_like_graph(
        "{\"@odata.type\":\"#Microsoft.Graph.presence\",\"id\":\"" + user
          + "\",\"availability\":\"" + availability + "\",\"activity\":\""
          + availability + "\"}",
        sub.certificate_id);
      post(sub.notification_url,
           "{\"value\":[{\"subscriptionId\":\"" + id
             + "\",\"clientState\":" + quoted(sub.client_state)
             + ",\"changeType\":\"updated\",\"tenantId\":\"" + tenant_
             + "\",\"resource\":\"communications/presences('" + user
             + "')\",\"resourceData\":{\"@odata.type\":\"#Microsoft.Graph."
               "presence\",\"id\":\""
             + user + "\"},\"encryptedContent\":" + content
             + "}],\"validationTokens\":[\"" + validation_token_locked(tenant_)
             + "\"]}");
      return;
    }
  }

  /// A lifecycle notification (the published shape) for subscription
  /// `id`; with `remove`, the subscription is gone first (Graph removed
  /// it).
  void lifecycle(const std::string& id, const std::string& event,
                 bool remove = false) {
    std::lock_guard<std::mutex> lock{mutex_};
    auto i = subscriptions_.find(id);
    if (i == subscriptions_.end())
      return;
    auto sub = i->second;
    if (remove)
      subscriptions_.erase(i);
    post(sub.lifecycle_url, "{\"value\":[{\"lifecycleEvent\":\"" + event
                              + "\",\"subscriptionId\":\"" + id
                              + "\",\"subscriptionExpirationDateTime\":\""
                              + sub.expires
                              + "\",\"clientState\":" + quoted(sub.client_state)
                              + ",\"tenantId\":\"" + tenant_ + "\"}]}");
  }

  /// Called with each request as it arrives (under the stand-in's lock):
  /// for benchmarks that time what the gateway asks.
  void observe(std::function<void(const http::request&)> observer) {
    std::lock_guard<std::mutex> lock{mutex_};
    observer_ = std::move(observer);
  }

  /// Stops keeping requests (a benchmark's hundreds of thousands).
  void forget_requests() {
    std::lock_guard<std::mutex> lock{mutex_};
    keep_requests_ = false;
    requests_.clear();
  }

  /// A rich notification's validation token for Microsoft tenant
  /// `tenant`, as the identity platform issues it for Graph change
  /// tracking (`azp`) to the bot's app.
  std::string validation_token(const std::string& tenant) {
    std::lock_guard<std::mutex> lock{mutex_};
    return validation_token_locked(tenant);
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
    if (observer_)
      observer_(req);
    if (keep_requests_)
      requests_.push_back(req);
    if (req.path == "/v1/.well-known/OpenIdConfiguration") {
      return res.send(http::make_response(
        200, "application/json",
        "{\"issuer\":\"https://api.botframework.com\",\"jwks_uri\":\""
          + base_url() + "/v1/.well-known/keys\"}"));
    }
    if (req.path == "/common/v2.0/.well-known/openid-configuration") {
      return res.send(http::make_response(
        200, "application/json",
        "{\"issuer\":\"https://login.microsoftonline.com/{tenantid}/v2.0\","
        "\"jwks_uri\":\""
          + base_url() + "/common/discovery/v2.0/keys\"}"));
    }
    // The calling platform's keys, and the identity platform's (the same
    // keys here, at their own address as in Microsoft's cloud).
    if (req.path == "/v1/.well-known/keys"
        || req.path == "/common/discovery/v2.0/keys") {
      std::string keys;
      for (const auto& [kid, key] : keys_)
        keys += (keys.empty() ? "" : ",") + key->jwk(kid);
      return res.send(http::make_response(200, "application/json",
                                          "{\"keys\":[" + keys + "]}"));
    }
    static const std::string device_path = "/oauth2/v2.0/devicecode";
    if (ends_with(req.path, device_path)) {
      http::request form;
      form.query = req.body;
      if (req.method != "POST"
          || form.query_parameter("client_id") != client_id_)
        return res.send(http::make_response(
          400, "application/json",
          "{\"error\":\"unauthorized_client\",\"error_description\":"
          "\"AADSTS700016: Application not found in the directory.\"}"));
      device_polls_ = 0;
      device_scope_ = form.query_parameter("scope");
      return res.send(http::make_response(
        200, "application/json",
        "{\"device_code\":\"standin-device-code\",\"user_code\":"
        "\"STANDIN1\",\"verification_uri\":\"https://microsoft.com/"
        "devicelogin\",\"expires_in\":900,\"interval\":1,\"message\":\"To "
        "sign in, use a web browser to open the page https://microsoft.com/"
        "devicelogin and enter the code STANDIN1 to authenticate.\"}"));
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
      auto grant = form.query_parameter("grant_type");
      if (grant == "urn:ietf:params:oauth:grant-type:device_code"
          || grant == "refresh_token")
        return res.send(user_token(form));
      if (grant != "client_credentials"
          || form.query_parameter("client_id") != client_id_
          || form.query_parameter("client_secret") != client_secret_)
        return res.send(http::make_response(
          401, "application/json",
          "{\"error\":\"invalid_client\",\"error_description\":"
          "\"AADSTS7000215: Invalid client secret provided.\"}"));
      auto tenant = req.path.substr(1, req.path.find('/', 1) - 1);
      if (api_app_claims_ && !api_audience_.empty()
          && form.query_parameter("scope").find(api_audience_)
               != std::string::npos) {
        ++api_apps_issued_;
        return res.send(http::make_response(
          200, "application/json",
          "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
          "\"access_token\":\""
            + keys_.at(api_kid_)->sign(api_kid_, api_app_claims_(tenant))
            + "\"}"));
      }
      auto token
        = "standin-app-token-" + tenant + "-" + std::to_string(++issued_);
      app_tokens_[token] = tenant;
      return res.send(
        http::make_response(200, "application/json",
                            "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                            "\"access_token\":\""
                              + token + "\"}"));
    }
    if (req.path.rfind("/v1.0/", 0) == 0) {
      auto auth = std::string{req.header("authorization")};
      auto app = auth.rfind("Bearer ", 0) == 0
                   ? app_tokens_.find(auth.substr(7))
                   : app_tokens_.end();
      bool valid = app != app_tokens_.end();
      bool user = false;
      for (const auto& t : user_tokens_)
        user = user || auth == "Bearer " + t;
      if (!valid && !user)
        return res.send(
          http::error_response(401, "InvalidAuthenticationToken",
                               "Access token is empty or invalid"));
      if (req.path.rfind("/v1.0/subscriptions", 0) == 0)
        return subscriptions(req, std::move(res), user);
      if (req.path == "/v1.0/communications/getPresencesByUserId")
        return res.send(presences(req));
      static const std::string calls = "/v1.0/communications/calls/";
      if (valid && req.path.rfind(calls, 0) == 0) {
        auto id = req.path.substr(calls.size());
        id = id.substr(0, id.find('/'));
        auto owner = call_tenants_.find(id);
        if (owner != call_tenants_.end() && owner->second != app->second) {
          ++cross_tenant_;
          return res.send(http::error_response(
            403, "Forbidden", "the call belongs to another tenant"));
        }
      }
      if (valid && req.method == "POST"
          && req.path == "/v1.0/communications/calls")
        return place_call(req, std::move(res), app->second);
      if (req.method == "GET" && req.path.rfind(calls, 0) == 0) {
        auto rest = req.path.substr(calls.size());
        auto slash = rest.find('/');
        return res.send(get_call(
          rest.substr(0, slash),
          slash == std::string::npos ? std::string{} : rest.substr(slash + 1)));
      }
      res.send(http::make_response(202, "application/json", ""));
      return act(req);
    }
    res.send(http::error_response(404, "notFound", req.path));
  }

  std::string validation_token_locked(const std::string& tenant) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    return keys_.begin()->second->sign(
      keys_.begin()->first,
      "{\"iss\":\"https://sts.windows.net/" + tenant + "/\",\"aud\":\""
        + app_id_
        + "\",\"azp\":\"0bf30f3b-4a52-48df-9a82-234910c4a086\",\"tid\":\""
        + tenant + "\",\"nbf\":" + std::to_string(now - 60)
        + ",\"exp\":" + std::to_string(now + 3600) + "}");
  }

  static bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() > tail.size()
           && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  }

  static std::string quoted(const std::string& s) {
    return json::serialize(boost::json::value(s));
  }

  static std::string base64url(const std::string& s) {
    return identity::base64url_encode(s);
  }

  // The device-code and refresh-token grants of the service account.
  http::response user_token(const http::request& form) {
    auto grant = form.query_parameter("grant_type");
    if (form.query_parameter("client_id") != client_id_
        || !form.query_parameter("client_secret").empty())
      return http::make_response(
        401, "application/json",
        "{\"error\":\"invalid_client\",\"error_description\":"
        "\"AADSTS700025: Client is public so neither 'client_assertion' nor "
        "'client_secret' should be presented.\"}");
    if (grant == "refresh_token") {
      if (refresh_token_.empty()
          || form.query_parameter("refresh_token") != refresh_token_)
        return http::make_response(
          400, "application/json",
          "{\"error\":\"invalid_grant\",\"error_description\":"
          "\"AADSTS70000: The provided grant is invalid or expired.\"}");
    } else if (form.query_parameter("device_code") != "standin-device-code") {
      return http::make_response(
        400, "application/json",
        "{\"error\":\"expired_token\",\"error_description\":\"AADSTS70019\"}");
    } else if (++device_polls_ == 1) {
      return http::make_response(
        400, "application/json",
        "{\"error\":\"authorization_pending\",\"error_description\":"
        "\"AADSTS70016: OAuth 2.0 device flow error. Authorization is "
        "pending.\"}");
    }
    ++user_issued_;
    auto token = "eyJ0eXAiOiJKV1QifQ."
                 + base64url("{\"upn\":\"switchboard-presence@contoso.com\","
                             "\"n\":"
                             + std::to_string(user_issued_) + "}")
                 + ".standin";
    // The device code grant's scope is the one its code was asked for.
    auto scope = grant == "refresh_token" ? form.query_parameter("scope")
                                          : device_scope_;
    // The answer's expires_in, as the identity platform gives it: for an
    // API token, what its own exp leaves.
    std::int64_t expires_in = 3599;
    if (api_claims_ && !api_audience_.empty()
        && scope.find(api_audience_) != std::string::npos) {
      auto claims = api_claims_();
      if (auto doc = json::parse(claims); doc.value)
        if (auto exp = json::int_at(*doc.value, "exp"))
          expires_in = *exp - std::time(nullptr);
      token = keys_.at(api_kid_)->sign(api_kid_, claims);
    }
    user_tokens_.push_back(token);
    refresh_token_ = "standin-refresh-" + std::to_string(user_issued_);
    return http::make_response(
      200, "application/json",
      "{\"token_type\":\"Bearer\",\"scope\":\"Presence.Read.All\","
      "\"expires_in\":"
        + std::to_string(expires_in) + ",\"access_token\":\"" + token
        + "\",\"refresh_token\":\"" + refresh_token_ + "\"}");
  }

  std::string subscription_json(const subscription& s) const {
    return "{\"id\":\"" + s.id + "\",\"resource\":" + quoted(s.resource)
           + ",\"changeType\":\"updated\",\"notificationUrl\":"
           + quoted(s.notification_url) + ",\"expirationDateTime\":\""
           + s.expires + "\"}";
  }

  std::string expiry(const std::string& asked) const {
    auto cap = std::chrono::system_clock::now() + lifetime_cap_;
    auto seconds = std::chrono::system_clock::to_time_t(cap);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.0000000Z", &utc);
    // Both in the same fixed format: the earlier sorts first.
    return asked.size() == std::string{text}.size() && asked < text
             ? asked
             : std::string{text};
  }

  // /v1.0/subscriptions...: presence subscriptions, delegated tokens only.
  void subscriptions(const http::request& req, http::responder res, bool user) {
    if (!user)
      return res.send(http::error_response(
        403, "ExtensionError",
        "Operation: Create; Exception: [Status Code: Forbidden; Reason: "
        "presence subscriptions need a delegated token]"));
    auto rest = req.path.substr(std::string{"/v1.0/subscriptions"}.size());
    if (rest.empty() && req.method == "GET") {
      std::string items;
      for (const auto& [_, s] : subscriptions_)
        items += (items.empty() ? "" : ",") + subscription_json(s);
      return res.send(http::make_response(200, "application/json",
                                          "{\"value\":[" + items + "]}"));
    }
    if (rest.empty() && req.method == "POST")
      return create_subscription(req, std::move(res));
    auto id = rest.substr(1);
    auto action = std::string{};
    if (auto slash = id.find('/'); slash != std::string::npos) {
      action = id.substr(slash + 1);
      id = id.substr(0, slash);
    }
    auto i = subscriptions_.find(id);
    if (i == subscriptions_.end())
      return res.send(http::error_response(404, "ResourceNotFound",
                                           "The object was not found."));
    if (action == "reauthorize" && req.method == "POST") {
      ++i->second.reauthorizations;
      return res.send(http::make_response(204, "application/json", ""));
    }
    if (req.method == "DELETE") {
      subscriptions_.erase(i);
      return res.send(http::make_response(204, "application/json", ""));
    }
    if (req.method == "PATCH") {
      auto doc = json::parse(req.body);
      if (!doc.value)
        return res.send(http::error_response(400, "BadRequest", "body"));
      i->second.expires
        = expiry(json::string_at(*doc.value, "expirationDateTime"));
      ++i->second.renewals;
      return res.send(http::make_response(200, "application/json",
                                          subscription_json(i->second)));
    }
    res.send(http::error_response(405, "BadRequest", req.method));
  }

  void create_subscription(const http::request& req, http::responder res) {
    auto doc = json::parse(req.body);
    if (!doc.value)
      return res.send(http::error_response(400, "BadRequest", "body"));
    subscription s;
    s.resource = json::string_at(*doc.value, "resource");
    s.notification_url = json::string_at(*doc.value, "notificationUrl");
    s.lifecycle_url = json::string_at(*doc.value, "lifecycleNotificationUrl");
    s.client_state = json::string_at(*doc.value, "clientState");
    s.certificate = json::string_at(*doc.value, "encryptionCertificate");
    s.certificate_id = json::string_at(*doc.value, "encryptionCertificateId");
    s.expires = expiry(json::string_at(*doc.value, "expirationDateTime"));
    if (json::bool_at(*doc.value, "includeResourceData") != true
        || !rsa_key::of_certificate(s.certificate))
      return res.send(http::error_response(
        400, "ValidationError",
        "includeResourceData needs an encryptionCertificate"));
    auto list = between(s.resource, "id in (", ")");
    for (std::size_t at = 0; at < list.size();) {
      auto end = list.find(',', at);
      auto item = list.substr(at, end - at);
      item.erase(std::remove(item.begin(), item.end(), '\''), item.end());
      if (!item.empty())
        s.users.push_back(item);
      at = end == std::string::npos ? list.size() : end + 1;
    }
    if (s.users.empty() || s.users.size() > 650)
      return res.send(
        http::error_response(400, "BadRequest", "from 1 to 650 ids"));
    for (const auto& [_, other] : subscriptions_)
      for (const auto& u : s.users)
        if (std::find(other.users.begin(), other.users.end(), u)
            != other.users.end())
          return res.send(http::error_response(
            409, "Conflict", "A subscription already exists for " + u));
    s.id = "standin-subscription-" + std::to_string(++subscription_count_);
    // Graph validates the notification URL before it makes the
    // subscription: the URL must echo the token within 10 s.
    auto token = "Validation: Testing client application reachability for "
                 "subscription Request-Id: "
                 + s.id;
    http::outgoing check;
    check.method = "POST";
    check.url
      = s.notification_url + "?validationToken=" + http::url_encode(token);
    check.headers = {{"Content-Type", "text/plain; charset=utf-8"}};
    check.timeout = std::chrono::seconds{10};
    if (!notifier_)
      return res.send(http::error_response(400, "BadRequest", "no bot"));
    notifier_->send(std::move(check), [this, s, token, res](http::reply r) {
      std::lock_guard<std::mutex> lock{mutex_};
      if (!r.ok() || r.value.status != 200 || r.value.body != token)
        return res.send(http::error_response(
          400, "ValidationError",
          "Subscription validation request failed. Notification endpoint "
          "must respond with 200 OK to validation request."));
      subscriptions_[s.id] = s;
      res.send(
        http::make_response(201, "application/json", subscription_json(s)));
    });
  }

  http::response presences(const http::request& req) const {
    auto doc = json::parse(req.body);
    if (!doc.value)
      return http::error_response(400, "BadRequest", "body");
    std::string items;
    for (const auto& id : json::strings_at(*doc.value, "ids")) {
      auto p = presences_.find(id);
      if (p == presences_.end())
        continue;
      items += std::string{items.empty() ? "" : ","} + "{\"id\":\"" + id
               + "\",\"availability\":\"" + p->second + "\",\"activity\":\""
               + p->second + "\"}";
    }
    return http::make_response(200, "application/json",
                               "{\"value\":[" + items + "]}");
  }

  // Posts a change or lifecycle notification (no token: Graph signs
  // change notifications with validationTokens instead). Under mutex_.
  void post(const std::string& url, std::string body) {
    if (!notifier_ || stopping_)
      return;
    http::outgoing req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = std::move(body);
    notifier_->send(std::move(req), [this](http::reply r) {
      std::lock_guard<std::mutex> lock{mutex_};
      statuses_.push_back(r.value.status);
    });
  }

  // POST /communications/calls: the bot calls a Teams user. Created (201
  // with the call's id); then the user answers (establishing,
  // established, a roster with them) or, told not to answer, the call
  // terminates. Under mutex_.
  void place_call(const http::request& req, http::responder res,
                  const std::string& tenant) {
    auto user
      = between(between(req.body, "\"targets\":", "]"), "\"user\":{", "}");
    auto id = between(user, "\"id\":\"", "\"");
    if (id.empty())
      return res.send(
        http::error_response(400, "BadRequest", "targets: a user is required"));
    auto call_id = "placed-" + std::to_string(placed_.size() + 1);
    placed_[call_id] = req.body;
    call_tenants_[call_id] = tenant;
    auto answer = http::make_response(
      201, "application/json",
      "{\"@odata.type\":\"#microsoft.graph.call\",\"id\":\"" + call_id
        + "\",\"state\":\"establishing\",\"direction\":\"outgoing\"}");
    if (holding_)
      held_placements_.push_back({res, std::move(answer)});
    else
      res.send(std::move(answer));
    if (not_answering_.count(id) != 0) {
      ended_.insert(call_id);
      return notify(
        {rewrite("call-answer_notification_establishing.json", call_id),
         rewrite("call-delete_notification_terminated.json", call_id)},
        tenant);
    }
    rosters_[call_id] = {{"application", app_id_, "bot-participant"},
                         {"user", id, "agent-participant-" + id}};
    notify({rewrite("call-answer_notification_establishing.json", call_id),
            rewrite("call-answer_notification_established.json", call_id),
            roster(call_id)},
           tenant);
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
              rewrite("call-answer_notification_established.json", call_id)},
             tenant_of(call_id));
    } else if (action == "playPrompt") {
      // The prompt plays to its end: its operation completes.
      auto body
        = rewrite("call-playprompt_notification_completed.json", call_id);
      auto context = between(req.body, "\"clientContext\":\"", "\"");
      auto at = body.find("d45324c1-fcb5-430a-902c-f20af696537c");
      if (at != std::string::npos)
        body.replace(at, 36, context);
      notify({body}, tenant_of(call_id));
    } else if (action == "participants/invite") {
      auto user = between(req.body, "\"user\":{", "}");
      auto phone = between(req.body, "\"phone\":{", "}");
      auto kind = user.empty() ? "phone" : "user";
      auto id = between(user.empty() ? phone : user, "\"id\":\"", "\"");
      auto context = between(req.body, "\"clientContext\":\"", "\"");
      if (ringing_.count(id) != 0)
        return; // answers() says when
      if (not_answering_.count(id) == 0) {
        rosters_[call_id].push_back({kind, id, "agent-participant-" + id});
        notify({roster(call_id)}, tenant_of(call_id));
      } else {
        notify({invite_failed(call_id, context)}, tenant_of(call_id));
      }
    } else if (action == "transfer") {
      auto number
        = between(between(req.body, "\"phone\":{", "}"), "\"id\":\"", "\"");
      if (failing_transfers_.count(number) != 0) {
        std::ifstream in{
          fixtures_ + "/call-transfer_notification_failed-established.json"};
        std::stringstream text;
        text << in.rdbuf();
        auto body = text.str();
        std::string old = "341a0500-d4bf-4224-8b19-1581168d328b";
        auto at = body.find(old);
        if (at != std::string::npos)
          body.replace(at, old.size(), call_id);
        return notify({body}, tenant_of(call_id));
      }
      // The transferee leaves the group call for the outside number.
      auto& r = rosters_[call_id];
      r.erase(std::remove_if(r.begin(), r.end(),
                             [](const member& m) {
                               return m.id == caller_id;
                             }),
              r.end());
      notify({roster(call_id)}, tenant_of(call_id));
    } else if (action.rfind("participants/", 0) == 0
               && req.method == "DELETE") {
      auto pid = action.substr(std::string{"participants/"}.size());
      auto& r = rosters_[call_id];
      for (auto i = r.begin(); i != r.end(); ++i)
        if (i->pid == pid) {
          r.erase(i);
          break;
        }
      notify({roster(call_id)}, tenant_of(call_id));
    } else if (action.empty() && req.method == "DELETE") {
      ended_.insert(call_id);
      notify({rewrite("call-delete_notification_terminated.json", call_id)},
             tenant_of(call_id));
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
    return "{\"@odata.type\":\"#microsoft.graph.commsNotifications\","
           "\"value\":[{\"@odata.type\":\"#microsoft.graph."
           "commsNotification\",\"changeType\":\"updated\",\"resourceUrl\""
           ":\"/communications/calls/"
           + call_id + "/participants\",\"resourceData\":[" + members(call_id)
           + "]}]}";
  }

  // GET /communications/calls/{id} and .../participants, for a call
  // still going; 404 for one that ended or never was.
  http::response get_call(const std::string& call_id,
                          const std::string& action) {
    if (rosters_.count(call_id) == 0 || ended_.count(call_id) != 0)
      return http::error_response(404, "8506", "Call not found");
    if (action == "participants")
      return http::make_response(200, "application/json",
                                 "{\"value\":[" + members(call_id) + "]}");
    return http::make_response(
      200, "application/json",
      "{\"@odata.type\":\"#microsoft.graph.call\",\"id\":\"" + call_id
        + "\",\"state\":\"established\",\"direction\":\"incoming\","
          "\"source\":{\"@odata.type\":\"#microsoft.graph.participantInfo\","
          "\"identity\":{\"@odata.type\":\"#microsoft.graph.identitySet\","
          "\"user\":{\"@odata.type\":\"#microsoft.graph.identity\",\"id\":\""
        + std::string{caller_id} + "\"}}}}");
  }

  std::string members(const std::string& call_id) {
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
    return members;
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

  std::string tenant_of(const std::string& call_id) const {
    auto i = call_tenants_.find(call_id);
    return i == call_tenants_.end() ? tenant_ : i->second;
  }

  // Posts `bodies` to the bot one after the other, each with a token of
  // the calling platform for Microsoft tenant `tenant`. Called under
  // mutex_.
  void notify(std::vector<std::string> bodies, const std::string& tenant) {
    if (!notifier_ || bodies.empty() || stopping_)
      return;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    auto token = keys_.begin()->second->sign(
      keys_.begin()->first,
      "{\"iss\":\"https://graph.microsoft.com\",\"aud\":\"" + app_id_
        + "\",\"tid\":\"" + tenant + "\",\"nbf\":" + std::to_string(now - 60)
        + ",\"exp\":" + std::to_string(now + 3600) + "}");
    http::outgoing req;
    req.method = "POST";
    req.url = callback_;
    req.headers = {{"Content-Type", "application/json"},
                   {"Authorization", "Bearer " + token}};
    req.body = bodies.front();
    bodies.erase(bodies.begin());
    notifier_->send(std::move(req), [this, bodies, tenant](http::reply r) {
      std::lock_guard<std::mutex> lock{mutex_};
      statuses_.push_back(r.value.status);
      notify(bodies, tenant);
    });
  }

  std::string callback_;
  std::string fixtures_;
  std::string tenant_;
  std::string app_id_ = "bot-app-id";
  std::set<std::string> not_answering_;
  std::set<std::string> ringing_;
  struct placement {
    http::responder res;
    http::response answer;
  };
  bool holding_ = false;
  std::vector<placement> held_placements_;
  bool stopping_ = false;
  std::map<std::string, std::vector<member>> rosters_;
  std::map<std::string, std::string> placed_;
  std::set<std::string> failing_transfers_;
  std::vector<unsigned> statuses_;
  // Declared before the server, so that it outlives the server's handler.
  std::unique_ptr<http::client> notifier_;
  http::server server_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<rsa_key>> keys_;
  std::vector<http::request> requests_;
  std::string client_id_ = "bot-app-id";
  std::string client_secret_ = "standin-client-secret";
  std::map<std::string, std::string> app_tokens_; // token -> tenant
  std::map<std::string, std::string> call_tenants_;
  std::set<std::string> ended_;
  std::function<void(const http::request&)> observer_;
  bool keep_requests_ = true;
  std::size_t cross_tenant_ = 0;
  std::size_t issued_ = 0;
  std::vector<std::string> user_tokens_;
  std::string refresh_token_;
  std::size_t user_issued_ = 0;
  std::size_t device_polls_ = 0;
  std::string device_scope_;
  std::function<std::string(const std::string&)> api_app_claims_;
  std::size_t api_apps_issued_ = 0;
  std::string api_audience_;
  std::string api_kid_;
  std::function<std::string()> api_claims_;
  std::map<std::string, subscription> subscriptions_;
  std::size_t subscription_count_ = 0;
  std::chrono::seconds lifetime_cap_{3600};
  std::map<std::string, std::string> presences_;
};

} // namespace switchboard::testing
