#include "nodes/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace switchboard::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert,
                                               const std::string& key,
                                               std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                   | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                   | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) {
    error = "cannot read the certificate " + cert + ": " + ec.message();
    return nullptr;
  }
  ctx->use_private_key_file(key, ssl::context::pem, ec);
  if (ec) {
    error = "cannot read the key " + key + " (or it does not match " + cert
            + "): " + ec.message();
    return nullptr;
  }
  return ctx;
}

request to_request(bhttp::request<bhttp::string_body>&& in,
                   const std::string& remote) {
  request r;
  r.method = std::string{in.method_string()};
  r.target = std::string{in.target()};
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos)
    r.query = r.target.substr(q + 1);
  for (const auto& f : in)
    r.headers.emplace_back(std::string{f.name_string()},
                           std::string{f.value()});
  r.body = std::move(in.body());
  r.remote_address = remote;
  return r;
}

} // namespace

struct responder::state {
  /// Hands the response to the connection (set by the session).
  std::function<void(response)> deliver;
  std::atomic<bool> sent{false};

  void send(response r) {
    if (!sent.exchange(true) && deliver)
      deliver(std::move(r));
  }
  ~state() {
    send(error_response(500, "internalError", "the request was not answered"));
  }
};

struct websocket::state {
  std::function<bool(std::string)> send;
  std::function<void(std::string)> close;
};

bool websocket::send(std::string text) const {
  return state_ && state_->send && state_->send(std::move(text));
}

void websocket::close(std::string reason) const {
  if (state_ && state_->close)
    state_->close(std::move(reason));
}

/// The WebSocket paths and their handler.
using websocket_routes = std::vector<std::pair<std::string, websocket_handler>>;

// One WebSocket connection, taken over from the HTTP session that read its
// upgrade request. Every operation runs on the connection's strand;
// send() and close() post there. Messages wait in a queue, written one at
// a time, bounded in bytes.
template<class Next>
class ws_session : public std::enable_shared_from_this<ws_session<Next>> {
 public:
  ws_session(Next&& next, std::shared_ptr<void> keep,
             const server::options& opts)
    : ws_(std::move(next)), keep_(std::move(keep)), opts_(opts) {}

  ~ws_session() { finish(); }

  void run(bhttp::request<bhttp::string_body> upgrade, const request& r,
           const websocket_handler& h) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(
      bws::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(bws::stream_base::decorator([](bws::response_type& res) {
      res.set(bhttp::field::server, "switchboard");
    }));
    ws_.read_message_max(opts_.max_websocket_message_bytes);
    auto st = std::make_shared<websocket::state>();
    std::weak_ptr<ws_session> weak = this->shared_from_this();
    st->send = [weak](std::string text) {
      auto self = weak.lock();
      return self && self->post_send(std::move(text));
    };
    st->close = [weak](std::string reason) {
      if (auto self = weak.lock())
        net::post(self->ws_.get_executor(),
                  [self, reason = std::move(reason)]() mutable {
                    self->close_after_queue(std::move(reason));
                  });
    };
    callbacks_ = h(r, websocket{std::move(st)});
    ws_.async_accept(upgrade,
                     [self = this->shared_from_this()](beast::error_code ec) {
                       if (ec)
                         return self->finish();
                       self->accepted_ = true;
                       self->read();
                       self->write_next();
                     });
  }

 private:
  bool post_send(std::string text) {
    if (ended_.load())
      return false;
    auto size = text.size();
    if (queued_bytes_.fetch_add(size) + size > opts_.max_queued_bytes) {
      net::post(ws_.get_executor(), [self = this->shared_from_this()] {
        self->queue_.clear();
        self->close_now(bws::close_code::policy_error,
                        "the client does not read its messages");
      });
      return false;
    }
    net::post(ws_.get_executor(), [self = this->shared_from_this(),
                                   text = std::move(text)]() mutable {
      self->queue_.push_back(std::move(text));
      self->write_next();
    });
    return true;
  }

  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](
                              beast::error_code ec, std::size_t) {
      if (ec)
        return self->finish();
      if (self->ws_.got_text() && self->callbacks_.on_message)
        self->callbacks_.on_message(
          beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void write_next() {
    if (!accepted_ || writing_ || ended_.load())
      return;
    if (queue_.empty()) {
      if (close_reason_)
        close_now(bws::close_code::normal, *close_reason_);
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(
      net::buffer(queue_.front()),
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        self->writing_ = false;
        self->queued_bytes_.fetch_sub(self->queue_.front().size());
        self->queue_.pop_front();
        if (ec)
          return self->finish();
        self->write_next();
      });
  }

  void close_after_queue(std::string reason) {
    if (reason.size() > 120)
      reason.resize(120);
    close_reason_ = std::move(reason);
    write_next();
  }

  void close_now(bws::close_code code, const std::string& reason) {
    if (closing_ || !accepted_)
      return finish();
    closing_ = true;
    ws_.async_close(bws::close_reason{code, reason},
                    [self = this->shared_from_this()](beast::error_code) {
                      self->finish();
                    });
  }

  /// Once: the handler hears that the connection ended.
  void finish() {
    if (ended_.exchange(true))
      return;
    if (callbacks_.on_close)
      callbacks_.on_close();
    callbacks_ = {};
  }

  bws::stream<Next> ws_;
  std::shared_ptr<void> keep_; // the TLS context, while the connection lives
  const server::options& opts_;
  websocket_callbacks callbacks_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::atomic<std::size_t> queued_bytes_{0};
  std::optional<std::string> close_reason_;
  std::atomic<bool> ended_{false};
  bool accepted_ = false;
  bool writing_ = false;
  bool closing_ = false;
};

// Whether the server still runs: a responder that outlives it sends
// nothing.
struct liveness {
  std::mutex mutex;
  bool alive = true;
  server::response_counts responses{};
};

// One connection: reads a request, hands it to the handler, writes its
// response, and reads the next (keep-alive). `Derived` gives the stream
// (plain or TLS), as Beast's advanced_server_flex example does.
template<class Derived>
class session : public std::enable_shared_from_this<Derived> {
 public:
  session(const server::options& opts, const handler& h,
          const websocket_routes& routes, std::shared_ptr<liveness> live,
          std::string remote)
    : opts_(opts), handler_(h), routes_(routes), live_(std::move(live)),
      remote_(std::move(remote)) {}

  void read_request() {
    parser_.emplace();
    parser_->body_limit(opts_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(opts_.max_header_bytes));
    beast::get_lowest_layer(derived().stream())
      .expires_after(opts_.idle_timeout);
    bhttp::async_read(derived().stream(), buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read,
                                                derived().shared_from_this()));
  }

  // From any thread, once per request.
  void respond(response r) {
    net::post(
      derived().stream().get_executor(),
      [self = derived().shared_from_this(), r = std::move(r)]() mutable {
        self->write(std::move(r));
      });
  }

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream)
      return derived().close();
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return write(error_response(413, "payloadTooLarge",
                                  "the body is above the limit of "
                                    + std::to_string(opts_.max_body_bytes)
                                    + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      return write(error_response(431, "headersTooLarge",
                                  "the headers are above the limit of "
                                    + std::to_string(opts_.max_header_bytes)
                                    + " bytes"));
    }
    if (ec
        && &ec.category()
             == &bhttp::make_error_code(bhttp::error::bad_target).category()) {
      keep_alive_ = false;
      return write(error_response(400, "badRequest",
                                  "not an HTTP/1.1 request: " + ec.message()));
    }
    if (ec)
      return derived().close(); // timeout, reset, TLS failure
    auto req = parser_->release();
    if (bws::is_upgrade(req)) {
      auto path = req.target().substr(0, req.target().find('?'));
      for (auto& [route, h] : routes_)
        if (path == route) {
          auto r = to_request(bhttp::request<bhttp::string_body>{req}, remote_);
          return derived().upgrade(std::move(req), r, h);
        }
    }
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    // No timeout while the handler works: its responder always answers.
    beast::get_lowest_layer(derived().stream()).expires_never();
    auto st = std::make_shared<responder::state>();
    st->deliver
      = [self = derived().shared_from_this(), live = live_](response r) {
          std::lock_guard<std::mutex> lock{live->mutex};
          if (live->alive)
            self->respond(std::move(r));
        };
    handler_(to_request(std::move(req), remote_), responder{std::move(st)});
  }

  void write(response r) {
    live_->responses[std::clamp(r.status / 100, 1u, 5u)].fetch_add(
      1, std::memory_order_relaxed);
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(r.status), version_);
    out->set(bhttp::field::server, "switchboard");
    for (auto& [k, v] : r.headers)
      out->set(k, v);
    out->body() = std::move(r.body);
    out->keep_alive(keep_alive_);
    out->prepare_payload();
    beast::get_lowest_layer(derived().stream())
      .expires_after(opts_.idle_timeout);
    bhttp::async_write(derived().stream(), *out,
                       [self = derived().shared_from_this(),
                        out](beast::error_code ec, std::size_t) {
                         if (ec || !self->keep_alive_)
                           return self->close();
                         self->read_request();
                       });
  }

 protected:
  const server::options& opts_;

 private:
  const handler& handler_;
  const websocket_routes& routes_;
  std::shared_ptr<liveness> live_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

class plain_session : public session<plain_session> {
 public:
  plain_session(tcp::socket&& s, const server::options& o, const handler& h,
                const websocket_routes& routes, std::shared_ptr<liveness> live,
                std::string remote)
    : session(o, h, routes, std::move(live), std::move(remote)),
      stream_(std::move(s)) {}
  beast::tcp_stream& stream() { return stream_; }
  void run() { read_request(); }
  void upgrade(bhttp::request<bhttp::string_body>&& req, const request& r,
               const websocket_handler& h) {
    std::make_shared<ws_session<beast::tcp_stream>>(std::move(stream_), nullptr,
                                                    opts_)
      ->run(std::move(req), r, h);
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

 private:
  beast::tcp_stream stream_;
};

class tls_session : public session<tls_session> {
 public:
  tls_session(tcp::socket&& s, std::shared_ptr<ssl::context> ctx,
              const server::options& o, const handler& h,
              const websocket_routes& routes, std::shared_ptr<liveness> live,
              std::string remote)
    : session(o, h, routes, std::move(live), std::move(remote)),
      ctx_(std::move(ctx)), stream_(std::move(s), *ctx_) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void upgrade(bhttp::request<bhttp::string_body>&& req, const request& r,
               const websocket_handler& h) {
    std::make_shared<ws_session<beast::ssl_stream<beast::tcp_stream>>>(
      std::move(stream_), ctx_, opts_)
      ->run(std::move(req), r, h);
  }
  void run() {
    beast::get_lowest_layer(stream_).expires_after(opts_.idle_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec)
                                self->read_request();
                            });
  }
  void close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds{5});
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  std::shared_ptr<ssl::context> ctx_; // kept while the connection lives
  beast::ssl_stream<beast::tcp_stream> stream_;
};

void responder::send(response r) const {
  if (state_)
    state_->send(std::move(r));
}

struct server::impl {
  options opts;
  handler on_request;
  websocket_routes websockets;
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  std::shared_ptr<liveness> live = std::make_shared<liveness>();

  impl(options o, handler h)
    : opts(std::move(o)), on_request(std::move(h)),
      ioc(static_cast<int>(opts.threads == 0 ? 1 : opts.threads)) {}

  void accept() {
    acceptor->async_accept(
      net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
        if (ec == net::error::operation_aborted)
          return;
        if (!ec) {
          beast::error_code ignored;
          auto ep = s.remote_endpoint(ignored);
          auto remote = ignored ? std::string{} : ep.address().to_string();
          std::shared_ptr<ssl::context> ctx;
          {
            std::lock_guard<std::mutex> lock{tls_mutex};
            ctx = tls;
          }
          if (ctx)
            std::make_shared<tls_session>(std::move(s), std::move(ctx), opts,
                                          on_request, websockets, live,
                                          std::move(remote))
              ->run();
          else
            std::make_shared<plain_session>(std::move(s), opts, on_request,
                                            websockets, live, std::move(remote))
              ->run();
        }
        accept();
      });
  }
};

server::server(options opts, handler h)
  : impl_(std::make_unique<impl>(std::move(opts), std::move(h))) {}

server::~server() { stop(); }

void server::accept_websockets(std::string path, websocket_handler h) {
  impl_->websockets.emplace_back(std::move(path), std::move(h));
}

std::string server::start() {
  auto& d = *impl_;
  if (d.opts.certificate_file.empty() != d.opts.key_file.empty())
    return "a TLS certificate needs its key, and a key its certificate";
  if (!d.opts.certificate_file.empty()) {
    std::string error;
    d.tls = make_tls_context(d.opts.certificate_file, d.opts.key_file, error);
    if (!d.tls)
      return error;
  }
  beast::error_code ec;
  auto address = net::ip::make_address(d.opts.address, ec);
  if (ec)
    return "\"" + d.opts.address + "\" is not an IP address";
  tcp::endpoint ep{address, d.opts.port};
  d.acceptor.emplace(net::make_strand(d.ioc));
  d.acceptor->open(ep.protocol(), ec);
  if (!ec)
    d.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    d.acceptor->bind(ep, ec);
  if (!ec)
    d.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + d.opts.address + ":"
           + std::to_string(d.opts.port) + ": " + ec.message();
  d.port = d.acceptor->local_endpoint().port();
  d.accept();
  auto n = d.opts.threads == 0 ? 1u : d.opts.threads;
  for (unsigned i = 0; i < n; ++i)
    d.threads.emplace_back([&d] {
      d.ioc.run();
    });
  return {};
}

std::string server::reload_certificates() {
  auto& d = *impl_;
  if (d.opts.certificate_file.empty())
    return "the server has no certificate";
  std::string error;
  auto ctx = make_tls_context(d.opts.certificate_file, d.opts.key_file, error);
  if (!ctx)
    return error;
  std::lock_guard<std::mutex> lock{d.tls_mutex};
  d.tls = std::move(ctx);
  return {};
}

std::uint16_t server::port() const noexcept { return impl_->port; }

const server::response_counts& server::responses() const noexcept {
  return impl_->live->responses;
}

bool server::tls() const noexcept {
  return !impl_->opts.certificate_file.empty();
}

void server::stop() {
  auto& d = *impl_;
  if (d.threads.empty())
    return;
  {
    std::lock_guard<std::mutex> lock{d.live->mutex};
    d.live->alive = false;
  }
  d.ioc.stop();
  for (auto& t : d.threads)
    t.join();
  // No thread runs the context now: the listening socket closes at once.
  beast::error_code ignored;
  if (d.acceptor)
    d.acceptor->close(ignored);
  d.threads.clear();
}

} // namespace switchboard::http
