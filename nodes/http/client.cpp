#include "nodes/http/client.hpp"

#include <atomic>
#include <curl/curl.h>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace switchboard::http {

namespace {

// curl_global_init once per process, before any thread uses libcurl.
void global_init() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

struct transfer {
  outgoing req;
  std::function<void(reply)> done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  reply out;
  std::size_t limit = 0;
  bool too_large = false;
  std::chrono::steady_clock::time_point started;

  ~transfer() {
    if (headers != nullptr)
      curl_slist_free_all(headers);
    if (easy != nullptr)
      curl_easy_cleanup(easy);
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto& t = *static_cast<transfer*>(user);
  auto bytes = size * n;
  if (t.out.value.body.size() + bytes > t.limit) {
    t.too_large = true;
    return 0; // aborts the transfer
  }
  t.out.value.body.append(data, bytes);
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto& t = *static_cast<transfer*>(user);
  std::string_view line{data, size * n};
  if (line.rfind("HTTP/", 0) == 0) {
    t.out.value.headers.clear(); // a new response (after 100 or a redirect)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return size * n;
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
    value.remove_suffix(1);
  t.out.value.headers.emplace_back(std::string{line.substr(0, colon)},
                                   std::string{value});
  return size * n;
}

} // namespace

struct client::impl {
  options opts;
  CURLM* multi = nullptr;
  std::mutex mutex;
  std::deque<std::unique_ptr<transfer>> queued;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> running;
  std::atomic<std::size_t> count{0};
  std::atomic<bool> stopping{false};
  std::thread thread;

  explicit impl(options o) : opts(std::move(o)) {
    global_init();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      opts.max_connections);
    thread = std::thread([this] {
      loop();
    });
  }

  ~impl() {
    stopping = true;
    curl_multi_wakeup(multi);
    thread.join();
    for (auto& [easy, t] : running) {
      curl_multi_remove_handle(multi, easy);
      t->out.error = "the client stopped";
      t->done(std::move(t->out));
    }
    for (auto& t : queued) {
      t->out.error = "the client stopped";
      t->done(std::move(t->out));
    }
    curl_multi_cleanup(multi);
  }

  void start(std::unique_ptr<transfer> t) {
    t->easy = curl_easy_init();
    t->limit = opts.max_response_bytes;
    t->started = std::chrono::steady_clock::now();
    auto* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->req.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(t->req.timeout.count()));
    if (!opts.ca_file.empty())
      curl_easy_setopt(e, CURLOPT_CAINFO, opts.ca_file.c_str());
    if (!opts.certificate_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERT, opts.certificate_file.c_str());
      curl_easy_setopt(e, CURLOPT_SSLKEY, opts.key_file.c_str());
    }
    if (t->req.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->req.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(t->req.body.size()));
    }
    // No "Expect: 100-continue" round trip on larger bodies.
    t->headers = curl_slist_append(t->headers, "Expect:");
    for (const auto& [k, v] : t->req.headers)
      t->headers = curl_slist_append(t->headers, (k + ": " + v).c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_multi_add_handle(multi, e);
    running.emplace(e, std::move(t));
  }

  void finish(CURL* easy, CURLcode code) {
    auto it = running.find(easy);
    if (it == running.end())
      return;
    auto t = std::move(it->second);
    running.erase(it);
    curl_multi_remove_handle(multi, easy);
    t->out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t->started);
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      t->out.value.status = static_cast<unsigned>(status);
    } else if (t->too_large) {
      t->out.error = "the response is above the limit of "
                     + std::to_string(t->limit) + " bytes";
    } else {
      t->out.error = curl_easy_strerror(code);
    }
    if (!t->out.error.empty())
      t->out.value.status = 0;
    --count;
    t->done(std::move(t->out));
  }

  void loop() {
    while (!stopping) {
      {
        std::deque<std::unique_ptr<transfer>> now;
        {
          std::lock_guard<std::mutex> lock{mutex};
          now.swap(queued);
        }
        for (auto& t : now)
          start(std::move(t));
      }
      int active = 0;
      curl_multi_perform(multi, &active);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left))
        if (m->msg == CURLMSG_DONE)
          finish(m->easy_handle, m->data.result);
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
  }
};

client::client(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

client::~client() = default;

void client::send(outgoing req, std::function<void(reply)> done) {
  auto t = std::make_unique<transfer>();
  t->req = std::move(req);
  t->done = std::move(done);
  ++impl_->count;
  {
    std::lock_guard<std::mutex> lock{impl_->mutex};
    impl_->queued.push_back(std::move(t));
  }
  curl_multi_wakeup(impl_->multi);
}

std::size_t client::in_flight() const { return impl_->count; }

} // namespace switchboard::http
