#include "nodes/identity/device_login.hpp"

#include "nodes/http/message.hpp"
#include "nodes/identity/base64.hpp"
#include "nodes/json/json.hpp"

#include <algorithm>
#include <future>
#include <thread>

namespace switchboard::identity {

namespace {

http::reply post_form(http::client& client, const std::string& url,
                      std::string form) {
  http::outgoing req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = std::move(form);
  std::promise<http::reply> answer;
  auto reply = answer.get_future();
  client.send(std::move(req), [&answer](http::reply r) {
    answer.set_value(std::move(r));
  });
  return reply.get();
}

// The signed-in account's name from the access token's payload: shown to
// the person only, so it is read, not verified (the token is for the
// resource, which verifies it).
std::string account_of(const std::string& access_token) {
  auto a = access_token.find('.');
  auto b = a == std::string::npos ? a : access_token.find('.', a + 1);
  if (b == std::string::npos)
    return {};
  auto payload = identity::base64_decode(access_token.substr(a + 1, b - a - 1));
  if (!payload)
    return {};
  auto doc = json::parse(*payload);
  if (!doc.value)
    return {};
  for (const char* claim : {"upn", "preferred_username", "unique_name", "oid"})
    if (auto v = json::string_at(*doc.value, claim); !v.empty())
      return v;
  return {};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// The tokens of a successful answer of the token endpoint; `error` says
// what is missing.
device_login_result tokens_of(const http::reply& r) {
  device_login_result out;
  auto doc = json::parse(r.value.body);
  if (!doc.value) {
    out.error = "the identity platform's answer is not JSON";
    return out;
  }
  out.access_token = json::string_at(*doc.value, "access_token");
  out.refresh_token = json::string_at(*doc.value, "refresh_token");
  // Bounded: a day at most, whatever the answer says.
  auto lifetime = std::clamp<std::int64_t>(
    json::int_at(*doc.value, "expires_in").value_or(3600), 0, 86'400);
  out.expires_at = unix_now() + lifetime;
  out.account = account_of(out.access_token);
  return out;
}

} // namespace

std::string platform_error(const http::reply& r, std::string* code) {
  if (code != nullptr)
    code->clear();
  if (!r.ok())
    return r.error;
  auto doc = json::parse(r.value.body);
  std::string out = "HTTP " + std::to_string(r.value.status);
  if (doc.value) {
    auto error = json::string_at(*doc.value, "error");
    auto why = json::string_at(*doc.value, "error_description");
    if (!error.empty())
      out += " " + error;
    if (!why.empty())
      out += ": " + why.substr(0, 300);
    if (code != nullptr)
      *code = std::move(error);
  }
  return out;
}

device_login_result device_login(const device_login_options& opts,
                                 http::client& client) {
  device_login_result out;
  auto base = opts.authority + "/" + opts.tenant + "/oauth2/v2.0/";
  auto start = post_form(client, base + "devicecode",
                         "client_id=" + http::url_encode(opts.client_id)
                           + "&scope=" + http::url_encode(opts.scope));
  std::string code;
  if (!start.ok() || start.value.status != 200) {
    out.error = "the identity platform refused to start the sign-in: "
                + platform_error(start, &code);
    return out;
  }
  auto doc = json::parse(start.value.body);
  std::string device_code;
  std::string message;
  std::int64_t interval = 5;
  std::int64_t expires_in = 900;
  if (doc.value) {
    device_code = json::string_at(*doc.value, "device_code");
    message = json::string_at(*doc.value, "message");
    if (message.empty())
      message
        = "To sign in, open " + json::string_at(*doc.value, "verification_uri")
          + " and enter the code " + json::string_at(*doc.value, "user_code");
    interval = json::int_at(*doc.value, "interval").value_or(5);
    expires_in = json::int_at(*doc.value, "expires_in").value_or(900);
  }
  if (device_code.empty()) {
    out.error = "the identity platform's answer has no device_code";
    return out;
  }
  // Bounded, whatever the answer says.
  interval = std::clamp<std::int64_t>(interval, 1, 60);
  auto deadline
    = std::chrono::steady_clock::now()
      + std::min(
        std::chrono::seconds{std::clamp<std::int64_t>(expires_in, 1, 3600)},
        opts.max_wait);
  if (opts.say)
    opts.say(message);

  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds{interval});
    auto poll = post_form(
      client, base + "token",
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
      "&client_id="
        + http::url_encode(opts.client_id)
        + "&device_code=" + http::url_encode(device_code));
    if (poll.ok() && poll.value.status == 200) {
      out = tokens_of(poll);
      if (out.error.empty() && out.refresh_token.empty())
        out.error = "signed in, but the answer has no refresh token: the "
                    "scope must include offline_access";
      return out;
    }
    auto why = platform_error(poll, &code);
    if (code == "authorization_pending")
      continue;
    if (code == "slow_down") {
      interval = std::min<std::int64_t>(interval + 5, 60);
      continue;
    }
    if (code == "authorization_declined" || code == "access_denied")
      out.error = "the sign-in was declined: " + why;
    else if (code == "expired_token")
      out.error = "the code expired before anyone signed in; run login again";
    else
      out.error = "the sign-in failed: " + why;
    return out;
  }
  out.error = "nobody signed in before the code expired; run login again";
  return out;
}

device_login_result refresh_sign_in(const device_login_options& opts,
                                    const std::string& refresh_token,
                                    http::client& client) {
  auto answer = post_form(
    client, opts.authority + "/" + opts.tenant + "/oauth2/v2.0/token",
    "grant_type=refresh_token&client_id=" + http::url_encode(opts.client_id)
      + "&scope=" + http::url_encode(opts.scope)
      + "&refresh_token=" + http::url_encode(refresh_token));
  device_login_result out;
  if (!answer.ok() || answer.value.status != 200) {
    std::string code;
    out.error = "the identity platform refused the refresh token: "
                + platform_error(answer, &code);
    return out;
  }
  out = tokens_of(answer);
  if (out.error.empty() && out.access_token.empty())
    out.error = "the identity platform's answer has no access_token";
  if (out.refresh_token.empty())
    out.refresh_token = refresh_token;
  return out;
}

} // namespace switchboard::identity
