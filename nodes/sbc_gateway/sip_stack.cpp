// The only file that sees sofia-sip. Its C macros (tag lists, casts) do
// not pass the project's warnings, so they are silenced here and nowhere
// else.

#include "nodes/sbc_gateway/sip_stack.hpp"

#include "nodes/sbc_gateway/sdp.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wzero-as-null-pointer-constant"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace switchboard::sbc {

namespace {

std::string text(const char* x) {
  return x == nullptr ? std::string{} : std::string{x};
}

bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

std::string url_text(const url_t* url) {
  if (url == nullptr)
    return {};
  char buf[1024];
  auto n = url_e(buf, sizeof buf, url);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf)
    return {};
  return std::string(buf, static_cast<size_t>(n));
}

std::string body_of(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr
      || sip->sip_payload->pl_data == nullptr)
    return {};
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

/// "<sip:+1425@host>;tag" or "Name <sip:...>" to "sip:+1425@host".
std::string uri_in(const std::string& value) {
  auto open = value.find('<');
  auto close = value.find('>', open == std::string::npos ? 0 : open);
  if (open != std::string::npos && close != std::string::npos)
    return value.substr(open + 1, close - open - 1);
  auto semi = value.find(';');
  auto uri = value.substr(0, semi);
  while (!uri.empty() && uri.back() == ' ')
    uri.pop_back();
  while (!uri.empty() && uri.front() == ' ')
    uri.erase(0, 1);
  return uri;
}

/// What the gateway copies out of a new INVITE: everything but its leg
/// and where it came from.
void read_invite(const sip_t* sip, const std::vector<std::string>& copy_headers,
                 incoming_invite& x) {
  x.call_id = text(sip->sip_call_id->i_id);
  if (sip->sip_from != nullptr)
    x.from_uri = url_text(sip->sip_from->a_url);
  if (sip->sip_request != nullptr) {
    x.facts.request_host = text(sip->sip_request->rq_url->url_host);
    x.facts.request_user = text(sip->sip_request->rq_url->url_user);
  }
  if (sip->sip_contact != nullptr)
    x.facts.contact_host = text(sip->sip_contact->m_url->url_host);
  if (sip->sip_record_route != nullptr)
    x.facts.record_route_host = text(sip->sip_record_route->r_url->url_host);
  if (sip->sip_content_type != nullptr)
    x.facts.content_type = text(sip->sip_content_type->c_type);
  x.sdp = body_of(sip);
  x.facts.has_body = !x.sdp.empty();
  for (auto* u = sip->sip_unknown; u != nullptr; u = u->un_next) {
    auto name = text(u->un_name);
    auto value = text(u->un_value);
    if (same_name(name, "P-Asserted-Identity") && x.asserted_uri.empty())
      x.asserted_uri = uri_in(value);
    for (auto& wanted : copy_headers)
      if (same_name(name, wanted))
        x.headers.emplace_back(wanted, value);
  }
}

/// ";transport=tls" and the like, or nothing.
std::string transport_param(const std::string& transport) {
  return transport.empty() ? std::string{} : ";transport=" + transport;
}

/// Writes `text` to a new file readable by this user only.
bool write_private(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  size_t done = 0;
  while (done < text.size()) {
    auto n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return close(fd) == 0;
}

/// sofia-sip 1.12 reads TLS material only from a folder (TPTAG_CERTIFICATE):
/// agent.pem with the certificate and its key, cafile.pem with the trusted
/// authorities. The folder exists only while the stack starts (it reads
/// the files into its TLS context once, when the TLS socket is bound), in
/// the temporary folder, readable by this user only.
class certificate_folder {
 public:
  certificate_folder() = default;
  certificate_folder(const certificate_folder&) = delete;
  certificate_folder& operator=(const certificate_folder&) = delete;
  ~certificate_folder() { remove(); }

  /// Writes the folder; false and `error` if it cannot.
  bool write(const sip_tls_options& tls, std::string& error) {
    auto pattern
      = (std::filesystem::temp_directory_path() / "switchboard-sbc-tls-XXXXXX")
          .string();
    if (mkdtemp(pattern.data()) == nullptr) {
      error = "cannot create a private folder for the TLS certificate in "
              + std::filesystem::temp_directory_path().string();
      return false;
    }
    path_ = pattern;
    // The intermediates go with the trusted authorities: OpenSSL sends the
    // chain it builds from them with the certificate. An empty cafile.pem
    // fails the stack's start; a missing one is fine.
    auto authorities = tls.authorities + tls.chain;
    if (!write_private(path_ + "/agent.pem", tls.certificate + tls.private_key)
        || (!authorities.empty()
            && !write_private(path_ + "/cafile.pem", authorities))) {
      error = "cannot write the TLS certificate to the private folder " + path_;
      return false;
    }
    return true;
  }

  const std::string& path() const { return path_; }

  void remove() {
    if (path_.empty())
      return;
    std::error_code ignored; // best effort; the folder is private anyway
    std::filesystem::remove_all(path_, ignored);
    path_.clear();
  }

 private:
  std::string path_;
};

class nua_stack;

/// What a nua handle is bound to: the leg's number, so that a callback
/// finds its leg without any pointer leaving this file.
struct leg_ref {
  leg_id id = 0;
  nua_handle_t* nh = nullptr;
  bool incoming = false;
  /// The SDP this side last sent on the leg: the answer to a re-INVITE
  /// that only refreshes the session.
  std::string local_sdp;
  /// The SDP the peer last sent: a re-INVITE or UPDATE with the same one
  /// only refreshes the session.
  std::string remote_sdp;
  /// One origin for every SDP the leg is sent, whoever wrote it.
  sdp_origin origin;
  /// In-dialog requests waiting for the call's answer, each holding a
  /// reference to its message (nua finds the request by it).
  std::unordered_map<uint64_t, msg_t*> pending;
  uint64_t next_request = 1;
  /// The gateway's own in-dialog requests whose answers are awaited.
  bool reinvite_sent = false;
  bool update_sent = false;
  size_t infos_sent = 0;
  /// The Event of the REFER received on the leg ("refer;id=...").
  std::string refer_event;
  /// NOTIFYs about the REFER go one at a time (nua replaces one still on
  /// its way), and a BYE waits for them, so that the transferring side
  /// learns how its transfer went.
  bool notify_busy = false;
  int queued_notify = 0;
  bool bye_after_notify = false;
  /// When the gateway sent CANCEL on this outgoing INVITE; a leg whose
  /// 487 never comes is given up 64*T1 later (RFC 3261 9.1).
  std::optional<std::chrono::steady_clock::time_point> cancelled_at;
  /// Set on the handle of an OPTIONS ping instead of a leg.
  std::string ping_target;

  ~leg_ref() {
    for (auto& [_, m] : pending)
      msg_destroy(m);
  }
};

const char* phrase_of(int status) {
  // nua keeps the phrase pointer until the response goes out, after the
  // call that gave it returns: a phrase of static storage.
  const char* phrase = sip_status_phrase(status);
  return phrase != nullptr ? phrase : "Unknown";
}

/// A Reason header's value for a response: the cause and a quoted text.
std::string reason_value(int status, const std::string& text) {
  if (text.empty())
    return {};
  std::string quoted;
  for (char c : text)
    if (c != '"' && c != '\\' && c != '\r' && c != '\n')
      quoted += c;
  return "SIP;cause=" + std::to_string(status) + ";text=\"" + quoted + "\"";
}

/// A header as its text on the wire (without the name), or "".
std::string header_text(const sip_header_t* h) {
  if (h == nullptr)
    return {};
  char buf[2048];
  auto n = sip_header_e(buf, sizeof buf, h, 0);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf)
    return {};
  std::string x(buf, static_cast<size_t>(n));
  // sip_header_e writes "Name: value\r\n".
  auto colon = x.find(':');
  if (colon != std::string::npos)
    x.erase(0, colon + 1);
  while (!x.empty() && (x.front() == ' '))
    x.erase(0, 1);
  while (!x.empty() && (x.back() == '\n' || x.back() == '\r'))
    x.pop_back();
  return x;
}

class nua_stack final : public sip_stack {
 public:
  nua_stack(sip_options options, sip_listener& listener)
    : options_(std::move(options)), listener_(listener) {}

  ~nua_stack() override { stop(); }

  bool run(std::string& error) {
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0) {
      error = "cannot create an eventfd";
      return false;
    }
    std::promise<std::string> started;
    auto result = started.get_future();
    thread_ = std::thread([this, &started] {
      loop(started);
    });
    error = result.get();
    if (!error.empty()) {
      thread_.join();
      return false;
    }
    return true;
  }

  leg_id new_leg() override { return next_leg_++; }

  void respond(leg_id leg, response r) override {
    post([this, leg, r = std::move(r)] {
      auto* l = find(leg);
      if (l == nullptr || !l->incoming)
        return;
      auto body = r.sdp;
      if (r.status >= 200 && r.status < 300 && !body.empty())
        l->local_sdp = body = l->origin.stamp(body);
      auto reason = reason_value(r.status, r.reason);
      nua_respond(
        l->nh, r.status, phrase_of(r.status),
        TAG_IF(!reason.empty(), SIPTAG_REASON_STR(reason.c_str())),
        TAG_IF(!r.retry_after.empty(),
               SIPTAG_RETRY_AFTER_STR(r.retry_after.c_str())),
        TAG_IF(!body.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
        TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
    });
  }

  void answer(leg_id leg, uint64_t request, response r) override {
    post([this, leg, request, r = std::move(r)] {
      auto* l = find(leg);
      if (l == nullptr)
        return;
      auto i = l->pending.find(request);
      if (i == l->pending.end())
        return;
      auto* m = i->second;
      l->pending.erase(i);
      auto body = r.sdp;
      auto type = r.content_type.empty() ? std::string{"application/sdp"}
                                         : r.content_type;
      if (!body.empty() && same_name(type, "application/sdp") && r.status >= 200
          && r.status < 300)
        l->local_sdp = body = l->origin.stamp(body);
      auto reason = reason_value(r.status, r.reason);
      nua_respond(l->nh, r.status, phrase_of(r.status), NUTAG_WITH(m),
                  TAG_IF(!reason.empty(), SIPTAG_REASON_STR(reason.c_str())),
                  TAG_IF(!r.retry_after.empty(),
                         SIPTAG_RETRY_AFTER_STR(r.retry_after.c_str())),
                  TAG_IF(!body.empty(), SIPTAG_CONTENT_TYPE_STR(type.c_str())),
                  TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())),
                  TAG_END());
      msg_destroy(m);
    });
  }

  void send(leg_id leg, dialog_method method, std::string content_type,
            std::string body) override {
    post([this, leg, method, content_type = std::move(content_type),
          body = std::move(body)]() mutable {
      auto* l = find(leg);
      auto refuse = [&](int status) {
        leg_event x;
        x.leg = leg;
        x.kind = leg_event::request_answered;
        x.method = method;
        x.status = status;
        x.phrase = phrase_of(status);
        listener_.on_leg_event(x);
      };
      if (l == nullptr || shutting_down_)
        return refuse(481);
      switch (method) {
        case dialog_method::reinvite:
        case dialog_method::update: {
          bool& busy = method == dialog_method::reinvite ? l->reinvite_sent
                                                         : l->update_sent;
          if (busy) // one offer at a time (RFC 3261 14.1, RFC 3311 5.1)
            return refuse(491);
          busy = true;
          l->local_sdp = body = l->origin.stamp(body);
          if (method == dialog_method::reinvite)
            nua_invite(l->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                       SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
          else
            nua_update(l->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                       SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
          return;
        }
        case dialog_method::info:
          ++l->infos_sent;
          nua_info(l->nh,
                   TAG_IF(!content_type.empty(),
                          SIPTAG_CONTENT_TYPE_STR(content_type.c_str())),
                   TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())),
                   TAG_END());
          return;
      }
    });
  }

  void notify_refer(leg_id leg, int status) override {
    post([this, leg, status] {
      auto* l = find(leg);
      if (l == nullptr || l->refer_event.empty())
        return;
      if (l->notify_busy)
        l->queued_notify = status;
      else
        send_notify(l, status);
    });
  }

  void send_notify(leg_ref* l, int status) {
    l->notify_busy = true;
    auto frag = "SIP/2.0 " + std::to_string(status) + " " + phrase_of(status);
    nua_notify(l->nh,
               NUTAG_SUBSTATE(status >= 200 ? nua_substate_terminated
                                            : nua_substate_active),
               SIPTAG_EVENT_STR(l->refer_event.c_str()),
               SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
               SIPTAG_PAYLOAD_STR(frag.c_str()), TAG_END());
  }

  void place_call(leg_id leg, outgoing_invite x) override {
    post([this, leg, x = std::move(x)] {
      if (shutting_down_)
        return;
      auto ref = std::make_unique<leg_ref>();
      ref->id = leg;
      std::string route;
      if (!x.next_hop.empty())
        route
          = "<sip:" + x.next_hop + ";lr" + transport_param(x.transport) + ">";
      // In angle brackets, so that URI parameters (;user=phone, RFC
      // 4240's ;play=) stay in the Request-URI rather than the To header.
      auto to = x.request_uri.find('<') == std::string::npos
                  ? "<" + x.request_uri + ">"
                  : x.request_uri;
      auto* nh = nua_handle(
        nua_, ref.get(), SIPTAG_TO_STR(to.c_str()),
        TAG_IF(!x.from_uri.empty(), SIPTAG_FROM_STR(x.from_uri.c_str())),
        TAG_END());
      if (nh == nullptr) {
        listener_.on_leg_event(
          {leg, leg_event::failed, 500, "cannot create a SIP handle", {}});
        listener_.on_leg_event({leg, leg_event::terminated, 0, {}, {}});
        return;
      }
      ref->nh = nh;
      ref->local_sdp = ref->origin.stamp(x.sdp);
      auto* l = ref.get();
      legs_[leg] = std::move(ref);
      nua_invite(
        nh, TAG_IF(!route.empty(), SIPTAG_ROUTE_STR(route.c_str())),
        TAG_IF(!x.contact.empty(), SIPTAG_CONTACT_STR(x.contact.c_str())),
        SIPTAG_CONTENT_TYPE_STR("application/sdp"),
        SIPTAG_PAYLOAD_STR(l->local_sdp.c_str()), TAG_END());
    });
  }

  void cancel(leg_id leg) override {
    post([this, leg] {
      if (auto* l = find(leg); l != nullptr && !l->incoming) {
        if (!l->cancelled_at)
          l->cancelled_at = std::chrono::steady_clock::now();
        nua_cancel(l->nh, TAG_END());
      }
    });
  }

  void bye(leg_id leg) override {
    post([this, leg] {
      auto* l = find(leg);
      if (l == nullptr)
        return;
      if (l->notify_busy)
        l->bye_after_notify = true;
      else
        nua_bye(l->nh, TAG_END());
    });
  }

  void ping(std::string target, std::string transport) override {
    post([this, target = std::move(target), transport = std::move(transport)] {
      if (shutting_down_)
        return;
      auto ref = std::make_unique<leg_ref>();
      ref->ping_target = target;
      auto uri = "sip:" + target + transport_param(transport);
      auto* nh
        = nua_handle(nua_, ref.get(), SIPTAG_TO_STR(uri.c_str()), TAG_END());
      if (nh == nullptr) {
        listener_.on_ping(target, 500);
        return;
      }
      ref->nh = nh;
      auto* key = ref.get();
      pings_[key] = std::move(ref);
      nua_options(nh, NUTAG_URL(uri.c_str()), TAG_END());
    });
  }

  void stop() override {
    if (!thread_.joinable())
      return;
    post([this] {
      shutting_down_ = true;
      // A cancelled INVITE whose 487 never came would hold the shutdown
      // until its transaction times out.
      give_up_cancelled(std::chrono::steady_clock::time_point::max());
      nua_shutdown(nua_);
    });
    thread_.join();
    if (wake_ >= 0)
      close(wake_);
    wake_ = -1;
  }

 private:
  void post(std::function<void()> f) {
    {
      std::lock_guard guard{mtx_};
      work_.push_back(std::move(f));
    }
    uint64_t one = 1;
    // A full counter still wakes the loop: nothing to do on failure.
    [[maybe_unused]] auto n = write(wake_, &one, sizeof one);
  }

  /// Ends the legs cancelled before `cutoff` whose INVITE is still open
  /// (no 487 came): the call moved on long ago.
  void give_up_cancelled(std::chrono::steady_clock::time_point cutoff) {
    std::vector<leg_id> stale;
    for (auto& [id, l] : legs_)
      if (l->cancelled_at && *l->cancelled_at <= cutoff)
        stale.push_back(id);
    for (auto id : stale) {
      auto i = legs_.find(id);
      nua_handle_destroy(i->second->nh);
      legs_.erase(i);
      listener_.on_leg_event({id, leg_event::terminated});
    }
  }

  static void on_sweep(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = static_cast<nua_stack*>(static_cast<void*>(arg));
    self->give_up_cancelled(std::chrono::steady_clock::now()
                            - std::chrono::seconds{32});
  }

  static int on_wake(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
    auto* self = static_cast<nua_stack*>(static_cast<void*>(arg));
    uint64_t count = 0;
    [[maybe_unused]] auto n = read(self->wake_, &count, sizeof count);
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard guard{self->mtx_};
      batch.swap(self->work_);
    }
    for (auto& f : batch)
      f();
    return 0;
  }

  void loop(std::promise<std::string>& started) {
    su_init();
    su_home_init(home_);
    root_ = su_root_create(nullptr);
    if (root_ == nullptr) {
      started.set_value("cannot create the SIP event loop");
      su_home_deinit(home_);
      su_deinit();
      return;
    }
    // The stack runs in this thread, not in one of its own.
    su_root_threading(root_, 0);
    auto url = "sip:" + options_.host + ":" + std::to_string(options_.port);
    // nta binds TLS only for a sips: URI (a sip: URI with transport=tls
    // is "Protocol not supported").
    std::string tls_url;
    certificate_folder certificates;
    if (options_.tls) {
      std::string problem;
      if (!certificates.write(*options_.tls, problem)) {
        started.set_value(problem);
        su_root_destroy(root_);
        su_home_deinit(home_);
        su_deinit();
        return;
      }
      tls_url = "sips:" + options_.tls->host + ":"
                + std::to_string(options_.tls->port);
    }
    auto tls_policy = options_.tls && options_.tls->verify_peer
                        ? TPTLS_VERIFY_ALL
                        : TPTLS_VERIFY_NONE;
    nua_ = nua_create(
      root_, &nua_stack::on_event, this, NUTAG_URL(url.c_str()),
      TAG_IF(options_.tls, NUTAG_SIPS_URL(tls_url.c_str())),
      TAG_IF(options_.tls, NUTAG_CERTIFICATE_DIR(certificates.path().c_str())),
      TAG_IF(options_.tls, TPTAG_TLS_VERIFY_POLICY(tls_policy)),
      TAG_IF(options_.tls, TPTAG_TLS_VERIFY_DATE(1)), NUTAG_MEDIA_ENABLE(0),
      // nua answers each new INVITE with 100 Trying as it arrives, before
      // the gateway has looked at it.
      NUTAG_AUTO100(1), NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0),
      NUTAG_AUTOACK(1), NUTAG_ENABLEINVITE(1),
      // Session timers: nua negotiates them, refreshes with UPDATE when
      // it is the refresher, and ends a dialog whose refreshes stop.
      NUTAG_SESSION_TIMER(options_.session_expires),
      NUTAG_MIN_SE(options_.min_se), NUTAG_SESSION_REFRESHER(nua_any_refresher),
      NUTAG_UPDATE_REFRESH(1), NUTAG_USER_AGENT(options_.user_agent.c_str()),
      NUTAG_ALLOW(options_.allow.c_str()),
      NUTAG_SUPPORTED(options_.supported.c_str()),
      // Requests the calls answer themselves, relayed to the other leg.
      NUTAG_APPL_METHOD("OPTIONS"), NUTAG_APPL_METHOD("UPDATE"),
      NUTAG_APPL_METHOD("INFO"), NUTAG_APPL_METHOD("REFER"),
      // Responses go back to the address and port a request came from
      // (RFC 3581), whether or not its Via asks: an SBC's Via may name an
      // address this gateway cannot or must not reach.
      NTATAG_SERVER_RPORT(2),
      // The transaction layer sends the last provisional response again
      // every ring_refresh while an INVITE waits for its answer (timer
      // N2): ringback needs no timer per call.
      NTATAG_PROGRESS(static_cast<unsigned>(options_.ring_refresh.count())),
      TAG_END());
    // The TLS context holds the certificate now: no copy stays on disk.
    certificates.remove();
    if (nua_ == nullptr) {
      std::string where = options_.host + ":" + std::to_string(options_.port);
      if (options_.tls)
        where += " (UDP, TCP) and " + options_.tls->host + ":"
                 + std::to_string(options_.tls->port) + " (TLS)";
      started.set_value(
        "cannot listen for SIP on " + where + " (address in use or not local?"
        + (options_.tls ? " or TLS refused by the SIP stack?)" : ")"));
      su_root_destroy(root_);
      su_home_deinit(home_);
      su_deinit();
      return;
    }
    su_wait_t wait[1];
    su_wait_create(wait, wake_, SU_WAIT_IN);
    auto wake_index = su_root_register(
      root_, wait, &nua_stack::on_wake,
      static_cast<su_wakeup_arg_t*>(static_cast<void*>(this)), 0);
    auto* sweep = su_timer_create(su_root_task(root_), 5000);
    if (sweep != nullptr)
      su_timer_run(sweep, &nua_stack::on_sweep,
                   static_cast<su_timer_arg_t*>(static_cast<void*>(this)));
    started.set_value({});
    su_root_run(root_);
    if (sweep != nullptr)
      su_timer_destroy(sweep);
    // Shut down: nua_r_shutdown broke the loop.
    for (auto& [_, l] : legs_)
      nua_handle_destroy(l->nh);
    legs_.clear();
    for (auto& [_, p] : pings_)
      nua_handle_destroy(p->nh);
    pings_.clear();
    nua_destroy(nua_);
    nua_ = nullptr;
    if (wake_index > 0)
      su_root_deregister(root_, wake_index);
    su_root_destroy(root_);
    root_ = nullptr;
    su_home_deinit(home_);
    su_deinit();
  }

  leg_ref* find(leg_id leg) {
    auto i = legs_.find(leg);
    return i == legs_.end() ? nullptr : i->second.get();
  }

  static void on_event(nua_event_t event, int status, char const* phrase,
                       nua_t* nua, nua_magic_t* magic, nua_handle_t* nh,
                       nua_hmagic_t* hmagic, sip_t const* sip, tagi_t tags[]) {
    auto* self = static_cast<nua_stack*>(magic);
    self->handle(event, status, phrase, nua, nh, static_cast<leg_ref*>(hmagic),
                 sip, tags);
  }

  void handle(nua_event_t event, int status, const char* phrase, nua_t* nua,
              nua_handle_t* nh, leg_ref* ref, const sip_t* sip, tagi_t tags[]) {
    switch (event) {
      case nua_i_invite:
        if (ref == nullptr)
          new_invite(nua, nh, sip);
        else
          in_dialog(nua, nh, ref, dialog_method::reinvite, sip);
        return;
      case nua_i_update:
        if (ref == nullptr)
          refuse_outside_dialog(nua, nh);
        else
          in_dialog(nua, nh, ref, dialog_method::update, sip);
        return;
      case nua_i_info:
        if (ref == nullptr)
          refuse_outside_dialog(nua, nh);
        else
          in_dialog(nua, nh, ref, dialog_method::info, sip);
        return;
      case nua_i_refer:
        if (ref == nullptr || ref->id == 0 || sip == nullptr
            || sip->sip_refer_to == nullptr) {
          refuse_outside_dialog(nua, nh);
          return;
        }
        refer(nua, nh, ref, sip, tags);
        return;
      case nua_r_notify:
        if (ref != nullptr && status >= 200 && ref->notify_busy) {
          ref->notify_busy = false;
          if (ref->queued_notify != 0) {
            auto next = ref->queued_notify;
            ref->queued_notify = 0;
            send_notify(ref, next);
          } else if (ref->bye_after_notify) {
            ref->bye_after_notify = false;
            nua_bye(nh, TAG_END());
          }
        }
        return;
      case nua_r_update:
      case nua_r_info:
        if (ref != nullptr && status >= 200) {
          auto method = event == nua_r_update ? dialog_method::update
                                              : dialog_method::info;
          if (method == dialog_method::update) {
            // nua's own session refreshes are none of the call's business.
            if (!ref->update_sent)
              return;
            ref->update_sent = false;
            if (status < 300)
              ref->remote_sdp = body_of(sip);
          } else {
            if (ref->infos_sent == 0)
              return;
            --ref->infos_sent;
          }
          answered(ref, method, status, phrase, sip);
        }
        return;
      case nua_i_options:
        nua_respond(nh, 200, "OK", NUTAG_WITH_THIS(nua),
                    SIPTAG_ALLOW_STR(options_.allow.c_str()),
                    SIPTAG_ACCEPT_STR(options_.accept.c_str()),
                    SIPTAG_SUPPORTED_STR(options_.supported.c_str()),
                    TAG_END());
        if (ref == nullptr)
          nua_handle_destroy(nh);
        return;
      case nua_i_ack:
        if (ref != nullptr)
          listener_.on_leg_event({ref->id, leg_event::acked, 0, {}, {}});
        return;
      case nua_i_cancel:
        if (ref != nullptr)
          listener_.on_leg_event({ref->id, leg_event::cancelled, 0, {}, {}});
        return;
      case nua_i_bye:
        if (ref != nullptr)
          listener_.on_leg_event({ref->id, leg_event::bye, 0, {}, {}});
        return;
      case nua_r_invite:
        if (ref == nullptr || status < 101)
          return;
        if (ref->reinvite_sent) {
          if (status < 200)
            return;
          ref->reinvite_sent = false;
          if (status < 300)
            ref->remote_sdp = body_of(sip);
          answered(ref, dialog_method::reinvite, status, phrase, sip);
          return;
        }
        if (status < 200)
          listener_.on_leg_event(
            {ref->id, leg_event::provisional, status, text(phrase), {}});
        else if (status < 300) {
          ref->remote_sdp = body_of(sip);
          listener_.on_leg_event(
            {ref->id, leg_event::answered, status, text(phrase), body_of(sip)});
        } else
          listener_.on_leg_event(
            {ref->id, leg_event::failed, status, text(phrase), {}});
        return;
      case nua_i_state: {
        int state = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        if (state == nua_callstate_terminated && ref != nullptr) {
          auto id = ref->id;
          nua_handle_destroy(nh);
          legs_.erase(id);
          listener_.on_leg_event({id, leg_event::terminated, 0, {}, {}});
        }
        return;
      }
      case nua_r_options:
        if (ref != nullptr && !ref->ping_target.empty() && status >= 200) {
          auto target = ref->ping_target;
          nua_handle_destroy(nh);
          pings_.erase(ref);
          listener_.on_ping(target, status);
        }
        return;
      case nua_r_shutdown:
        if (status >= 200)
          su_root_break(root_);
        return;
      default:
        // Other requests nua answered itself (INFO, UPDATE, MESSAGE, ...);
        // a handle made for one outside any dialog is ours to free.
        if (ref == nullptr && nh != nullptr
            && nua_event_is_incoming_request(event))
          nua_handle_destroy(nh);
        return;
    }
  }

  /// An answer to the gateway's own in-dialog request.
  void answered(leg_ref* ref, dialog_method method, int status,
                const char* phrase, const sip_t* sip) {
    leg_event x;
    x.leg = ref->id;
    x.kind = leg_event::request_answered;
    x.method = method;
    x.status = status;
    x.phrase = text(phrase);
    x.sdp = body_of(sip);
    if (sip != nullptr && sip->sip_content_type != nullptr)
      x.content_type = text(sip->sip_content_type->c_type);
    listener_.on_leg_event(x);
  }

  void refuse_outside_dialog(nua_t* nua, nua_handle_t* nh) {
    nua_respond(
      nh, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(nua),
      SIPTAG_REASON_STR("SIP;cause=481;text=\"no dialog for this request\""),
      TAG_END());
    nua_handle_destroy(nh);
  }

  /// A re-INVITE, UPDATE or INFO from the peer of a leg. A session
  /// refresh (no SDP, or the SDP of before) is answered here with the
  /// session as it is; anything else waits for the call's answer.
  void in_dialog(nua_t* nua, nua_handle_t* nh, leg_ref* ref,
                 dialog_method method, const sip_t* sip) {
    auto body = body_of(sip);
    if (method != dialog_method::info
        && (body.empty() || body == ref->remote_sdp)) {
      bool offer_needed = method == dialog_method::reinvite && body.empty();
      if (ref->local_sdp.empty()
          && (method == dialog_method::reinvite || !body.empty()))
        nua_respond(
          nh, 488, "Not Acceptable Here", NUTAG_WITH_THIS(nua),
          SIPTAG_REASON_STR("SIP;cause=488;text=\"no session to refresh\""),
          TAG_END());
      else
        nua_respond(nh, 200, "OK", NUTAG_WITH_THIS(nua),
                    TAG_IF(!body.empty() || offer_needed,
                           SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                    TAG_IF(!body.empty() || offer_needed,
                           SIPTAG_PAYLOAD_STR(ref->local_sdp.c_str())),
                    TAG_END());
      return;
    }
    auto* m = nua_current_request(nua);
    if (m == nullptr) {
      nua_respond(nh, 500, "Server Internal Error", NUTAG_WITH_THIS(nua),
                  TAG_END());
      return;
    }
    if (method != dialog_method::info)
      ref->remote_sdp = body;
    auto id = ref->next_request++;
    ref->pending[id] = msg_ref_create(m);
    leg_event x;
    x.leg = ref->id;
    x.kind = leg_event::request;
    x.method = method;
    x.request_id = id;
    x.sdp = std::move(body);
    if (sip != nullptr && sip->sip_content_type != nullptr)
      x.content_type = text(sip->sip_content_type->c_type);
    listener_.on_leg_event(x);
  }

  /// A REFER in a dialog: accepted (202) here, decided by the call.
  void refer(nua_t* nua, nua_handle_t* nh, leg_ref* ref, const sip_t* sip,
             tagi_t tags[]) {
    nua_respond(nh, 202, "Accepted", NUTAG_WITH_THIS(nua), TAG_END());
    sip_event_t const* event = nullptr;
    tl_gets(tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
    ref->refer_event
      = event != nullptr
          ? header_text(reinterpret_cast<const sip_header_t*>(event))
          : std::string{"refer"};
    if (ref->refer_event.empty())
      ref->refer_event = "refer";
    // The subscription's first NOTIFY (RFC 3515 2.4.4); the outcome follows.
    send_notify(ref, 100);
    leg_event x;
    x.leg = ref->id;
    x.kind = leg_event::refer;
    x.refer_to
      = header_text(reinterpret_cast<const sip_header_t*>(sip->sip_refer_to));
    x.referred_by = header_text(
      reinterpret_cast<const sip_header_t*>(sip->sip_referred_by));
    listener_.on_leg_event(x);
  }

  void new_invite(nua_t* nua, nua_handle_t* nh, const sip_t* sip) {
    if (shutting_down_ || sip == nullptr || sip->sip_call_id == nullptr) {
      nua_respond(nh, 503, "Service Unavailable", NUTAG_WITH_THIS(nua),
                  TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    auto ref = std::make_unique<leg_ref>();
    ref->id = new_leg();
    ref->nh = nh;
    ref->incoming = true;
    nua_handle_bind(nh, ref.get());
    incoming_invite x;
    x.leg = ref->id;
    legs_[ref->id] = std::move(ref);
    read_invite(sip, options_.copy_headers, x);
    legs_[x.leg]->remote_sdp = x.sdp;
    if (auto* m = nua_current_request(nua); m != nullptr) {
      if (auto* ai = msg_addrinfo(m); ai != nullptr && ai->ai_addr != nullptr) {
        char host[NI_MAXHOST];
        char port[NI_MAXSERV];
        if (getnameinfo(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen),
                        host, sizeof host, port, sizeof port,
                        NI_NUMERICHOST | NI_NUMERICSERV)
            == 0) {
          x.facts.source_host = host;
          x.source_port = static_cast<uint16_t>(std::atoi(port));
        }
        x.source_transport = ai->ai_protocol == IPPROTO_TCP ? "tcp" : "udp";
      }
    }
    // TLS runs over TCP: the sender's Via says which.
    if (x.source_transport == "tcp" && sip->sip_via != nullptr
        && sip->sip_via->v_protocol != nullptr
        && same_name(sip->sip_via->v_protocol, sip_transport_tls))
      x.source_transport = "tls";
    listener_.on_invite(x);
  }

  sip_options options_;
  sip_listener& listener_;
  int wake_ = -1;
  std::thread thread_;
  std::mutex mtx_;
  std::deque<std::function<void()>> work_;
  std::atomic<leg_id> next_leg_{1};
  // Only the SIP thread touches these.
  su_home_t home_[1] = {};
  su_root_t* root_ = nullptr;
  nua_t* nua_ = nullptr;
  bool shutting_down_ = false;
  std::unordered_map<leg_id, std::unique_ptr<leg_ref>> legs_;
  std::unordered_map<leg_ref*, std::unique_ptr<leg_ref>> pings_;
};

} // namespace

std::unique_ptr<sip_stack> sip_stack::start(const sip_options& options,
                                            sip_listener& listener,
                                            std::string& error) {
  auto stack = std::make_unique<nua_stack>(options, listener);
  if (!stack->run(error))
    return nullptr;
  return stack;
}

std::optional<incoming_invite>
parse_invite(std::string_view bytes,
             const std::vector<std::string>& copy_headers, std::string& error) {
  if (bytes.size() > max_parsed_message_bytes) {
    error = "message larger than " + std::to_string(max_parsed_message_bytes)
            + " bytes";
    return std::nullopt;
  }
  std::unique_ptr<msg_t, decltype(&msg_destroy)> msg{
    msg_make(sip_default_mclass(), 0, bytes.data(),
             static_cast<ssize_t>(bytes.size())),
    msg_destroy};
  auto* sip = msg ? sip_object(msg.get()) : nullptr;
  if (sip == nullptr) {
    error = "not a SIP message";
    return std::nullopt;
  }
  if (sip->sip_error != nullptr || sip->sip_request == nullptr
      || sip->sip_call_id == nullptr || sip->sip_from == nullptr
      || sip->sip_to == nullptr || sip->sip_cseq == nullptr) {
    error = "not a well-formed request (a header does not parse, or the "
            "request line, Call-ID, From, To or CSeq is missing)";
    return std::nullopt;
  }
  if (sip->sip_request->rq_method != sip_method_invite) {
    error = "not an INVITE";
    return std::nullopt;
  }
  incoming_invite x;
  read_invite(sip, copy_headers, x);
  return x;
}

} // namespace switchboard::sbc

#pragma GCC diagnostic pop
