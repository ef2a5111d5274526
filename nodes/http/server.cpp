#include "nodes/http/server.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
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

// Whether the server still runs: a responder that outlives it sends
// nothing.
struct liveness {
  std::mutex mutex;
  bool alive = true;
};

// One connection: reads a request, hands it to the handler, writes its
// response, and reads the next (keep-alive). `Derived` gives the stream
// (plain or TLS), as Beast's advanced_server_flex example does.
template<class Derived>
class session : public std::enable_shared_from_this<Derived> {
 public:
  session(const server::options& opts, const handler& h,
          std::shared_ptr<liveness> live, std::string remote)
    : opts_(opts), handler_(h), live_(std::move(live)),
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
                std::shared_ptr<liveness> live, std::string remote)
    : session(o, h, std::move(live), std::move(remote)), stream_(std::move(s)) {
  }
  beast::tcp_stream& stream() { return stream_; }
  void run() { read_request(); }
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
              std::shared_ptr<liveness> live, std::string remote)
    : session(o, h, std::move(live), std::move(remote)), ctx_(std::move(ctx)),
      stream_(std::move(s), *ctx_) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
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
                                          on_request, live, std::move(remote))
              ->run();
          else
            std::make_shared<plain_session>(std::move(s), opts, on_request,
                                            live, std::move(remote))
              ->run();
        }
        accept();
      });
  }
};

server::server(options opts, handler h)
  : impl_(std::make_unique<impl>(std::move(opts), std::move(h))) {}

server::~server() { stop(); }

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
