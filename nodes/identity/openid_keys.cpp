#include "nodes/identity/openid_keys.hpp"

#include "nodes/http/client.hpp"
#include "nodes/router/log.hpp"

namespace switchboard::identity {

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

openid_keys::openid_keys(options opts, http::client& client,
                         router::logger& log)
  : opts_(std::move(opts)), client_(client), log_(log),
    keys_(std::make_shared<key_set>()) {}

openid_keys::~openid_keys() {
  {
    std::lock_guard<std::mutex> guard{life_->m};
    life_->alive = false;
  }
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable())
    timer_.join();
}

void openid_keys::start() {
  refresh();
  timer_ = std::thread([this] {
    std::unique_lock<std::mutex> lock{mutex_};
    while (!wake_.wait_for(lock, opts_.refresh_every, [this] {
      return stopping_;
    })) {
      lock.unlock();
      refresh();
      lock.lock();
    }
  });
}

std::shared_ptr<const key_set> openid_keys::keys() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return keys_;
}

void openid_keys::refresh() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (refreshing_)
      return;
    refreshing_ = true;
  }
  http::outgoing req;
  req.url = opts_.configuration_url;
  client_.send(std::move(req), [this, life = life_](http::reply r) {
    std::lock_guard<std::mutex> guard{life->m};
    if (!life->alive)
      return;
    if (!r.ok() || r.value.status != 200)
      return fetched(
        nullptr,
        "cannot read the OpenID configuration " + opts_.configuration_url + ": "
          + (r.ok() ? "HTTP " + std::to_string(r.value.status) : r.error));
    auto jwks = jwks_uri_of(r.value.body);
    if (jwks.empty())
      return fetched(nullptr, "the OpenID configuration "
                                + opts_.configuration_url
                                + " names no jwks_uri");
    http::outgoing keys_req;
    keys_req.url = jwks;
    client_.send(std::move(keys_req), [this, jwks, life](http::reply k) {
      std::lock_guard<std::mutex> keys_guard{life->m};
      if (!life->alive)
        return;
      if (!k.ok() || k.value.status != 200)
        return fetched(
          nullptr,
          "cannot read the signing keys " + jwks + ": "
            + (k.ok() ? "HTTP " + std::to_string(k.value.status) : k.error));
      auto loaded = key_set::from_jwks(k.value.body);
      if (!loaded.error.empty())
        return fetched(nullptr, jwks + ": " + loaded.error);
      for (const auto& why : loaded.skipped)
        log_.warn("signing key skipped", {{"keys", jwks}, {"why", why}});
      fetched(std::make_shared<key_set>(std::move(loaded.keys)), {});
    });
  });
}

void openid_keys::fetched(std::shared_ptr<const key_set> keys,
                          std::string error) {
  decltype(waiting_) waiting;
  std::shared_ptr<const key_set> now;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    refreshing_ = false;
    if (keys)
      keys_ = std::move(keys);
    now = keys_;
    waiting.swap(waiting_);
  }
  if (error.empty()) {
    std::string ids;
    for (const auto& id : now->ids())
      ids += (ids.empty() ? "" : ",") + id;
    log_.info("signing keys read",
              {{"configuration", opts_.configuration_url}, {"keys", ids}});
  } else {
    // The keys held before stay in use.
    log_.error("signing keys not refreshed",
               {{"error", error}, {"keys_kept", std::to_string(now->size())}});
  }
  for (auto& [token, done] : waiting)
    done(verify_token(token, *now, opts_.rules, unix_now()));
}

void openid_keys::check(std::string token,
                        std::function<void(token_verdict)> done) {
  auto held = keys();
  auto v = verify_token(token, *held, opts_.rules, unix_now());
  if (v.error != token_error::unknown_key)
    return done(std::move(v));
  bool start_refresh = false;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    // Keys asked for by unknown kids: at most once per min_refresh_gap,
    // so tokens with made-up kids cannot make the gateway fetch for each.
    auto now = std::chrono::steady_clock::now();
    if (!refreshing_ && keys_ == held && demanded_
        && now - last_demand_ < opts_.min_refresh_gap)
      return done(std::move(v));
    if (keys_ != held) {
      held = keys_; // refreshed meanwhile: check against the new keys
    } else {
      waiting_.emplace_back(std::move(token), std::move(done));
      start_refresh = !refreshing_;
      if (start_refresh) {
        demanded_ = true;
        last_demand_ = now;
      }
    }
  }
  if (start_refresh) {
    log_.info("token signed with an unknown key: reading the keys again",
              {{"kid", v.key_id.substr(0, 100)}});
    refresh();
    return;
  }
  if (done)
    done(verify_token(token, *held, opts_.rules, unix_now()));
}

void fixed_keys::check(std::string token,
                       std::function<void(token_verdict)> done) {
  done(verify_token(token, keys_, rules_, unix_now()));
}

} // namespace switchboard::identity
