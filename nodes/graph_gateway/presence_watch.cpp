#include "nodes/graph_gateway/presence_watch.hpp"

#include "nodes/json/json.hpp"
#include "nodes/router/log.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace switchboard::graph {

namespace {

using clock = std::chrono::system_clock;
using acting = graph_api::acting;

bool success(const http::reply& r) {
  return r.ok() && r.value.status >= 200 && r.value.status < 300;
}

// Graph's status and error message, for the operator.
std::string why(const http::reply& r) {
  if (!r.ok())
    return r.error;
  std::string out = "HTTP " + std::to_string(r.value.status);
  auto doc = json::parse(r.value.body);
  if (doc.value)
    if (const auto* e = json::find(*doc.value, "error")) {
      auto code = json::string_at(*e, "code");
      auto message = json::string_at(*e, "message");
      if (!code.empty())
        out += " " + code;
      if (!message.empty())
        out += ": " + message.substr(0, 300);
    }
  return out;
}

enum class sub_state : std::uint8_t {
  idle,     // none; created at retry_at
  creating, // POST in flight
  active,   // id and expiry known
  renewing, // PATCH or reauthorize in flight
  deleting, // DELETE in flight (its users changed)
};

struct subscription {
  std::set<std::string> users;
  std::string id;
  clock::time_point expires{};
  sub_state state = sub_state::idle;
  clock::time_point retry_at{};
  std::chrono::seconds backoff{0};
  bool changed = false;         // users differ from the subscription's
  bool reauthorize = false;     // Graph asked for it
  std::uint64_t generation = 0; // answers to an older request are dropped
};

struct tenant_watch {
  std::set<std::string> users;
  std::vector<std::shared_ptr<subscription>> subs;
  bool cleared = false;  // an earlier run's subscriptions deleted
  bool clearing = false; // listing or deleting them
  clock::time_point clear_retry{};
  std::chrono::seconds clear_backoff{0};
  bool reconcile_now = true;
  clock::time_point next_reconcile{};
};

} // namespace

struct presence_watch::impl : std::enable_shared_from_this<impl> {
  impl(options o, graph_api& g, router::logger& l, sink s)
    : opts(std::move(o)), graph(g), log(l), on_presence(std::move(s)) {}

  options opts;
  graph_api& graph;
  router::logger& log;
  sink on_presence;
  mutable std::mutex mtx;
  std::condition_variable wake;
  bool stopping = false;
  int delivering = 0; // sink calls under way
  std::map<std::string, tenant_watch> tenants;
  counts totals;
  std::thread timekeeper;

  std::chrono::seconds next_backoff(std::chrono::seconds b) const {
    if (b.count() == 0)
      return opts.retry_after;
    return std::min<std::chrono::seconds>(b * 2, std::chrono::minutes{10});
  }

  // Under mtx: a request for `s` failed; try again later.
  void failed(subscription& s, sub_state back_to) {
    s.backoff = next_backoff(s.backoff);
    s.retry_at = clock::now() + s.backoff;
    s.state = back_to;
    ++totals.failures;
  }

  std::string filter(const subscription& s) const {
    std::string ids;
    for (const auto& u : s.users)
      ids += (ids.empty() ? "'" : ",'") + u + "'";
    return "/communications/presences?$filter=id in (" + ids + ")";
  }

  // ---- requests, sent outside mtx --------------------------------------

  void clear_old(const std::string& tenant) {
    auto self = shared_from_this();
    graph.send(
      tenant, "GET", "/subscriptions", "",
      [self, tenant](http::reply r) {
        std::vector<std::string> ours;
        if (success(r)) {
          auto doc = json::parse(r.value.body);
          if (doc.value)
            if (const auto* v = json::find(*doc.value, "value");
                v != nullptr && v->is_array())
              for (const auto& item : v->as_array()) {
                auto resource = json::string_at(item, "resource");
                if (json::string_at(item, "notificationUrl")
                      == self->opts.notification_url
                    && resource.find("communications/presences")
                         != std::string::npos)
                  ours.push_back(json::string_at(item, "id"));
              }
        }
        std::unique_lock<std::mutex> guard{self->mtx};
        auto& t = self->tenants[tenant];
        t.clearing = false;
        if (!success(r)) {
          // Doubling, as for subscriptions: a tenant whose consent is
          // missing does not fill the log every half minute.
          t.clear_backoff = self->next_backoff(t.clear_backoff);
          t.clear_retry = clock::now() + t.clear_backoff;
          self->log.warn(
            "cannot list the presence subscriptions an earlier run left; "
            "retrying",
            {{"microsoft_tenant", tenant},
             {"error", why(r)},
             {"retry_in", std::to_string(t.clear_backoff.count()) + "s"}});
          ++self->totals.failures;
          return;
        }
        t.clear_backoff = std::chrono::seconds{0};
        ours.erase(std::remove_if(ours.begin(), ours.end(),
                                  [](const std::string& id) {
                                    return id.empty()
                                           || id.find('/') != std::string::npos;
                                  }),
                   ours.end());
        if (ours.empty()) {
          t.cleared = true;
          return;
        }
        // Made again once every old one is gone: Graph refuses a second
        // subscription for the same user.
        t.clearing = true;
        guard.unlock(); // a reply may come at once, and take the lock
        auto left = std::make_shared<std::size_t>(ours.size());
        for (const auto& id : ours) {
          self->log.info("deleting a presence subscription an earlier run "
                         "left",
                         {{"microsoft_tenant", tenant}, {"subscription", id}});
          self->graph.send(
            tenant, "DELETE", "/subscriptions/" + id, "",
            [self, tenant, left](http::reply) {
              std::lock_guard<std::mutex> lock{self->mtx};
              if (--*left == 0) {
                auto& w = self->tenants[tenant];
                w.clearing = false;
                w.cleared = true;
                self->wake.notify_all();
              }
            },
            acting::as_user);
        }
      },
      acting::as_user);
  }

  void create(const std::string& tenant, std::shared_ptr<subscription> s,
              std::string resource, std::uint64_t generation) {
    auto expires = clock::now() + opts.lifetime;
    boost::json::object body;
    body["changeType"] = "updated";
    body["notificationUrl"] = opts.notification_url;
    body["lifecycleNotificationUrl"] = opts.notification_url;
    body["resource"] = resource;
    body["expirationDateTime"] = iso_time(expires);
    body["includeResourceData"] = true;
    body["encryptionCertificate"] = opts.certificate;
    body["encryptionCertificateId"] = opts.certificate_id;
    body["clientState"] = opts.client_state;
    auto self = shared_from_this();
    auto users = s->users.size();
    graph.send(
      tenant, "POST", "/subscriptions", json::serialize(body),
      [self, tenant, s, generation, expires, users](http::reply r) {
        std::lock_guard<std::mutex> guard{self->mtx};
        if (s->generation != generation)
          return;
        if (!success(r)) {
          self->failed(*s, sub_state::idle);
          self->log.error(
            "Graph refused a presence subscription; agents' Teams presence "
            "comes only from the periodic reconcile until it is made",
            {{"microsoft_tenant", tenant},
             {"users", std::to_string(users)},
             {"error", why(r)},
             {"retry_in", std::to_string(s->backoff.count()) + "s"}});
          return;
        }
        auto doc = json::parse(r.value.body);
        std::string id;
        std::optional<clock::time_point> until;
        if (doc.value) {
          id = json::string_at(*doc.value, "id");
          until
            = parse_iso_time(json::string_at(*doc.value, "expirationDateTime"));
        }
        if (id.empty() || id.find('/') != std::string::npos) {
          self->failed(*s, sub_state::idle);
          self->log.error("Graph's answer to a subscription has no usable id",
                          {{"microsoft_tenant", tenant}});
          return;
        }
        s->id = id;
        // Graph may shorten the lifetime, never lengthen it.
        s->expires = until ? std::min(*until, expires) : expires;
        s->state = sub_state::active;
        s->backoff = std::chrono::seconds{0};
        ++self->totals.created;
        self->log.info("presence subscription made",
                       {{"microsoft_tenant", tenant},
                        {"subscription", id},
                        {"users", std::to_string(users)},
                        {"expires", iso_time(s->expires)}});
      },
      acting::as_user);
  }

  void renew(const std::string& tenant, std::shared_ptr<subscription> s,
             bool reauthorize, std::uint64_t generation) {
    auto self = shared_from_this();
    auto expires = clock::now() + opts.lifetime;
    auto id = s->id;
    std::string path = "/subscriptions/" + id;
    std::string method = "PATCH";
    std::string body;
    if (reauthorize) {
      method = "POST";
      path += "/reauthorize";
    } else {
      boost::json::object o;
      o["expirationDateTime"] = iso_time(expires);
      body = json::serialize(o);
    }
    graph.send(
      tenant, method, path, body,
      [self, tenant, s, id, reauthorize, generation, expires](http::reply r) {
        std::lock_guard<std::mutex> guard{self->mtx};
        if (s->generation != generation)
          return;
        if (success(r)) {
          s->state = sub_state::active;
          s->backoff = std::chrono::seconds{0};
          if (reauthorize) {
            s->reauthorize = false;
            ++self->totals.reauthorized;
            self->log.info(
              "presence subscription reauthorized",
              {{"microsoft_tenant", tenant}, {"subscription", id}});
            return;
          }
          auto doc = json::parse(r.value.body);
          std::optional<clock::time_point> until;
          if (doc.value)
            until = parse_iso_time(
              json::string_at(*doc.value, "expirationDateTime"));
          s->expires = until ? std::min(*until, expires) : expires;
          ++self->totals.renewed;
          self->log.info("presence subscription renewed",
                         {{"microsoft_tenant", tenant},
                          {"subscription", id},
                          {"expires", iso_time(s->expires)}});
          return;
        }
        if (r.ok() && r.value.status == 404) {
          // Gone (expired, or removed without a word): make it again.
          self->log.warn("presence subscription gone; making it again",
                         {{"microsoft_tenant", tenant}, {"subscription", id}});
          s->id.clear();
          s->state = sub_state::idle;
          s->retry_at = clock::now();
          s->reauthorize = false;
          ++self->totals.removed;
          return;
        }
        if (reauthorize) {
          // Reauthorizing failed: a renewal does the same for presence.
          s->reauthorize = false;
          s->state = sub_state::active;
          s->expires = clock::now(); // renew at the next tick
          ++self->totals.failures;
          self->log.warn("reauthorizing a presence subscription failed; "
                         "renewing it instead",
                         {{"microsoft_tenant", tenant},
                          {"subscription", id},
                          {"error", why(r)}});
          return;
        }
        self->failed(*s, clock::now() < s->expires ? sub_state::active
                                                   : sub_state::idle);
        if (s->state == sub_state::idle)
          s->id.clear();
        self->log.error(
          "renewing a presence subscription failed",
          {{"microsoft_tenant", tenant},
           {"subscription", id},
           {"error", why(r)},
           {"expires", iso_time(s->expires)},
           {"retry_in", std::to_string(s->backoff.count()) + "s"}});
      },
      acting::as_user);
  }

  void remove(const std::string& tenant, std::shared_ptr<subscription> s,
              std::uint64_t generation) {
    auto self = shared_from_this();
    graph.send(
      tenant, "DELETE", "/subscriptions/" + s->id, "",
      [self, s, generation](http::reply r) {
        std::lock_guard<std::mutex> guard{self->mtx};
        if (s->generation != generation)
          return;
        // Deleted, or already gone: either way a new one can be made. On
        // another failure the create's conflict says so and is retried.
        (void)r;
        s->id.clear();
        s->state = sub_state::idle;
        s->retry_at = clock::now();
      },
      acting::as_user);
  }

  void reconcile(const std::string& tenant, std::vector<std::string> users) {
    boost::json::object body;
    boost::json::array ids;
    for (auto& u : users)
      ids.emplace_back(u);
    body["ids"] = std::move(ids);
    auto self = shared_from_this();
    graph.send(tenant, "POST", "/communications/getPresencesByUserId",
               json::serialize(body), [self, tenant](http::reply r) {
                 if (!success(r)) {
                   std::lock_guard<std::mutex> guard{self->mtx};
                   ++self->totals.failures;
                   self->tenants[tenant].reconcile_now = true;
                   self->log.warn(
                     "cannot read agents' Teams presence "
                     "(getPresencesByUserId); trying again",
                     {{"microsoft_tenant", tenant}, {"error", why(r)}});
                   return;
                 }
                 auto doc = json::parse(r.value.body);
                 if (!doc.value)
                   return;
                 std::set<std::string> watched;
                 {
                   std::lock_guard<std::mutex> guard{self->mtx};
                   if (self->stopping)
                     return;
                   ++self->totals.reconciles;
                   ++self->delivering;
                   watched = self->tenants[tenant].users;
                 }
                 for (const auto& p : read_presences(*doc.value))
                   if (watched.count(p.user_id) != 0) // only those asked
                     self->on_presence(p, tenant);
                 std::lock_guard<std::mutex> guard{self->mtx};
                 --self->delivering;
                 self->wake.notify_all();
               });
  }

  // ---- the timekeeper ----------------------------------------------------

  void tick() {
    std::vector<std::function<void()>> sends;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto now = clock::now();
      for (auto& [tenant, t] : tenants) {
        if (t.reconcile_now || now >= t.next_reconcile) {
          t.reconcile_now = false;
          t.next_reconcile = now + opts.reconcile_every;
          std::vector<std::string> batch;
          for (const auto& u : t.users) {
            batch.push_back(u);
            if (batch.size() == opts.ids_per_subscription) {
              sends.push_back([this, tenant = tenant, batch] {
                reconcile(tenant, batch);
              });
              batch.clear();
            }
          }
          if (!batch.empty())
            sends.push_back([this, tenant = tenant, batch] {
              reconcile(tenant, batch);
            });
        }
        if (!opts.subscribe)
          continue;
        if (!t.cleared) {
          if (!t.clearing && now >= t.clear_retry) {
            t.clearing = true;
            sends.push_back([this, tenant = tenant] {
              clear_old(tenant);
            });
          }
          continue;
        }
        for (auto& s : t.subs) {
          switch (s->state) {
            case sub_state::idle:
              s->changed = false;
              if (!s->users.empty() && now >= s->retry_at) {
                s->state = sub_state::creating;
                sends.push_back([this, tenant = tenant, s, f = filter(*s),
                                 g = ++s->generation] {
                  create(tenant, s, f, g);
                });
              }
              break;
            case sub_state::active:
              if (s->changed) {
                s->state = sub_state::deleting;
                sends.push_back(
                  [this, tenant = tenant, s, g = ++s->generation] {
                    remove(tenant, s, g);
                  });
              } else if (s->reauthorize
                         || (now + opts.renew_before >= s->expires
                             && now >= s->retry_at)) {
                s->state = sub_state::renewing;
                sends.push_back([this, tenant = tenant, s, r = s->reauthorize,
                                 g = ++s->generation] {
                  renew(tenant, s, r, g);
                });
              }
              break;
            default: break;
          }
        }
        t.subs.erase(std::remove_if(t.subs.begin(), t.subs.end(),
                                    [](const auto& s) {
                                      return s->users.empty()
                                             && s->state == sub_state::idle;
                                    }),
                     t.subs.end());
      }
    }
    for (auto& send : sends)
      send();
  }
};

presence_watch::presence_watch(options opts, graph_api& graph,
                               router::logger& log, sink on_presence)
  : impl_(std::make_shared<impl>(std::move(opts), graph, log,
                                 std::move(on_presence))) {
  impl_->opts.ids_per_subscription
    = std::clamp<std::size_t>(impl_->opts.ids_per_subscription, 1, 650);
}

presence_watch::~presence_watch() { stop(); }

void presence_watch::stop() {
  {
    std::unique_lock<std::mutex> guard{impl_->mtx};
    impl_->stopping = true;
    impl_->wake.notify_all();
    impl_->wake.wait(guard, [this] {
      return impl_->delivering == 0;
    });
  }
  if (impl_->timekeeper.joinable())
    impl_->timekeeper.join();
}

void presence_watch::start() {
  auto d = impl_;
  d->timekeeper = std::thread([d] {
    std::unique_lock<std::mutex> guard{d->mtx};
    while (!d->stopping) {
      guard.unlock();
      d->tick();
      guard.lock();
      d->wake.wait_for(guard, std::chrono::seconds{1}, [&d] {
        return d->stopping;
      });
    }
  });
}

void presence_watch::watch(const std::string& tenant,
                           std::vector<std::string> users) {
  if (!graph_api::plausible_tenant(tenant))
    return;
  std::set<std::string> now(users.begin(), users.end());
  // A user id goes into a URL filter: only what a Graph object id can be.
  for (auto i = now.begin(); i != now.end();) {
    bool plausible
      = !i->empty() && i->size() <= 64
        && std::all_of(i->begin(), i->end(), [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
           });
    i = plausible ? std::next(i) : now.erase(i);
  }
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto& t = impl_->tenants[tenant];
  if (t.users == now)
    return;
  bool added = false;
  for (auto& s : t.subs)
    for (auto u = s->users.begin(); u != s->users.end();) {
      if (now.count(*u) == 0) {
        u = s->users.erase(u);
        s->changed = true;
      } else {
        ++u;
      }
    }
  for (const auto& u : now) {
    if (t.users.count(u) != 0)
      continue;
    added = true;
    std::shared_ptr<subscription> room;
    for (auto& s : t.subs)
      if (s->users.size() < impl_->opts.ids_per_subscription) {
        room = s;
        break;
      }
    if (!room) {
      room = std::make_shared<subscription>();
      t.subs.push_back(room);
    }
    room->users.insert(u);
    room->changed = true;
  }
  t.users = std::move(now);
  if (added)
    t.reconcile_now = true;
  impl_->wake.notify_all();
}

void presence_watch::on_lifecycle(const change_notification& n) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  for (auto& [tenant, t] : d.tenants) {
    for (auto& s : t.subs) {
      if (s->id.empty() || s->id != n.subscription_id)
        continue;
      if (!n.tenant_id.empty() && n.tenant_id != tenant) {
        d.log.warn("lifecycle notification names another Microsoft tenant "
                   "than its subscription's; ignored",
                   {{"subscription", n.subscription_id},
                    {"notification_tenant", n.tenant_id}});
        return;
      }
      if (n.lifecycle_event == "reauthorizationRequired") {
        s->reauthorize = true;
      } else if (n.lifecycle_event == "subscriptionRemoved") {
        d.log.warn("Graph removed a presence subscription; making it again",
                   {{"microsoft_tenant", tenant}, {"subscription", s->id}});
        ++s->generation;
        s->id.clear();
        s->state = sub_state::idle;
        s->retry_at = clock::now();
        ++d.totals.removed;
      } else if (n.lifecycle_event == "missed") {
        d.log.warn("Graph missed presence notifications; reading every "
                   "watched agent's presence",
                   {{"microsoft_tenant", tenant}});
        t.reconcile_now = true;
      }
      d.wake.notify_all();
      return;
    }
  }
  d.log.info(
    "lifecycle notification for a subscription this gateway does "
    "not hold; ignored",
    {{"subscription", n.subscription_id}, {"event", n.lifecycle_event}});
}

presence_watch::counts presence_watch::current() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto c = impl_->totals;
  c.subscriptions = 0;
  c.users = 0;
  for (const auto& [_, t] : impl_->tenants) {
    c.users += t.users.size();
    for (const auto& s : t.subs)
      c.subscriptions
        += s->state == sub_state::active || s->state == sub_state::renewing;
  }
  return c;
}

std::string presence_watch::iso_time(clock::time_point t) {
  auto seconds = clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.0000000Z", &utc);
  return text;
}

std::optional<clock::time_point>
presence_watch::parse_iso_time(const std::string& text) {
  std::tm utc{};
  int consumed = 0;
  if (text.size() < 20
      || std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year,
                     &utc.tm_mon, &utc.tm_mday, &utc.tm_hour, &utc.tm_min,
                     &utc.tm_sec, &consumed)
           != 6
      || consumed != 19)
    return std::nullopt;
  auto rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    auto digits = rest.find_first_not_of("0123456789", 1);
    rest = digits == std::string::npos ? std::string{} : rest.substr(digits);
  }
  if (rest != "Z" && rest != "+00:00")
    return std::nullopt;
  if (utc.tm_year < 1970 || utc.tm_year > 9999 || utc.tm_mon < 1
      || utc.tm_mon > 12 || utc.tm_mday < 1 || utc.tm_mday > 31
      || utc.tm_hour > 23 || utc.tm_min > 59 || utc.tm_sec > 60)
    return std::nullopt;
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return clock::from_time_t(timegm(&utc));
}

} // namespace switchboard::graph
