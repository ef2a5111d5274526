#include "nodes/router/cluster_tls.hpp"

#include <array>
// GCC 12 at -O3 sees a null dereference inside Asio's executor
// comparison that cannot happen (both executors hold a context).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#pragma GCC diagnostic pop
#include <map>
#include <mutex>
#include <thread>

namespace switchboard::router {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using tls_stream = ssl::stream<tcp::socket>;

/// A peer that connects and never completes its handshake is dropped.
constexpr auto handshake_timeout = std::chrono::seconds{10};

std::string text_of(const tcp::endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}

/// Copies bytes both ways between a peer's TLS connection and the
/// middleman's plain one until either ends, then closes both: the
/// middleman sees its connection end when the peer's does.
class relay : public std::enable_shared_from_this<relay> {
 public:
  relay(std::shared_ptr<tls_stream> tls, std::shared_ptr<tcp::socket> plain)
    : tls_(std::move(tls)), plain_(std::move(plain)) {}

  void start() {
    from_peer();
    to_peer();
  }

 private:
  void from_peer() {
    tls_->async_read_some(
      asio::buffer(in_), [self = shared_from_this()](error_code ec, size_t n) {
        if (ec)
          return self->close();
        asio::async_write(*self->plain_, asio::buffer(self->in_.data(), n),
                          [self](error_code wec, size_t) {
                            if (wec)
                              return self->close();
                            self->from_peer();
                          });
      });
  }

  void to_peer() {
    plain_->async_read_some(
      asio::buffer(out_), [self = shared_from_this()](error_code ec, size_t n) {
        if (ec)
          return self->close();
        asio::async_write(*self->tls_, asio::buffer(self->out_.data(), n),
                          [self](error_code wec, size_t) {
                            if (wec)
                              return self->close();
                            self->to_peer();
                          });
      });
  }

  void close() {
    error_code ignored;
    plain_->close(ignored);
    tls_->lowest_layer().close(ignored);
  }

  std::shared_ptr<tls_stream> tls_;
  std::shared_ptr<tcp::socket> plain_;
  std::array<char, 16 * 1024> in_;
  std::array<char, 16 * 1024> out_;
};

/// A context that presents `files`' certificate and requires the other
/// side's, signed by `files`' CA, on TLS 1.2 or later.
void configure(ssl::context& ctx, const tls::files& files) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                  | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                  | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  ctx.use_certificate_chain_file(files.certificate_file);
  ctx.use_private_key_file(files.private_key_file, ssl::context::pem);
  ctx.load_verify_file(files.ca_file);
  ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
}

} // namespace

struct cluster_tunnel::impl {
  impl(uint16_t middleman, on_refused r)
    : middleman_port(middleman), refused(std::move(r)) {}

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  ssl::context server{ssl::context::tls_server};
  ssl::context client{ssl::context::tls_client};
  tcp::acceptor acceptor{io};
  uint16_t middleman_port;
  on_refused refused;
  std::mutex mtx;
  std::map<std::pair<std::string, uint16_t>, std::unique_ptr<tcp::acceptor>>
    dials;
  std::thread thread;

  void report(const std::string& who, const std::string& error) {
    if (refused)
      refused(who, error);
  }

  /// Closes `s` unless `done` is set by then.
  void deadline(const std::shared_ptr<tls_stream>& s,
                const std::shared_ptr<bool>& done) {
    auto timer = std::make_shared<asio::steady_timer>(io, handshake_timeout);
    timer->async_wait([s, done, timer](error_code ec) {
      if (!ec && !*done) {
        error_code ignored;
        s->lowest_layer().close(ignored);
      }
    });
  }

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted)
        return;
      if (!ec)
        from_peer(std::move(socket));
      accept();
    });
  }

  void from_peer(tcp::socket socket) {
    error_code ignored;
    auto who = text_of(socket.remote_endpoint(ignored));
    auto stream = std::make_shared<tls_stream>(std::move(socket), server);
    auto done = std::make_shared<bool>(false);
    deadline(stream, done);
    stream->async_handshake(
      ssl::stream_base::server, [this, stream, done, who](error_code ec) {
        *done = true;
        if (ec) {
          report(who, "tls handshake: " + ec.message());
          return;
        }
        auto plain = std::make_shared<tcp::socket>(io);
        plain->async_connect({asio::ip::address_v4::loopback(), middleman_port},
                             [stream, plain](error_code cec) {
                               if (cec) {
                                 error_code ignored2;
                                 stream->lowest_layer().close(ignored2);
                                 return;
                               }
                               std::make_shared<relay>(stream, plain)->start();
                             });
      });
  }

  void accept_local(tcp::acceptor& local, const std::string& host,
                    uint16_t port) {
    local.async_accept(
      [this, &local, host, port](error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted)
          return;
        if (!ec)
          to_peer(std::make_shared<tcp::socket>(std::move(socket)), host, port);
        accept_local(local, host, port);
      });
  }

  void to_peer(std::shared_ptr<tcp::socket> plain, const std::string& host,
               uint16_t port) {
    auto who = host + ":" + std::to_string(port);
    auto resolver = std::make_shared<tcp::resolver>(io);
    resolver->async_resolve(
      host, std::to_string(port),
      [this, plain, who, resolver](error_code ec,
                                   tcp::resolver::results_type found) {
        error_code ignored;
        if (ec) {
          report(who, "cannot resolve: " + ec.message());
          plain->close(ignored);
          return;
        }
        auto stream = std::make_shared<tls_stream>(io, client);
        auto done = std::make_shared<bool>(false);
        deadline(stream, done);
        asio::async_connect(
          stream->lowest_layer(), found,
          [this, plain, who, stream, done](error_code cec,
                                           const tcp::endpoint&) {
            error_code ignored2;
            if (cec) {
              *done = true;
              plain->close(ignored2);
              return; // the middleman reports it as a failed connection
            }
            stream->async_handshake(
              ssl::stream_base::client,
              [this, plain, who, stream, done](error_code hec) {
                *done = true;
                if (hec) {
                  report(who, "tls handshake: " + hec.message());
                  error_code ignored3;
                  plain->close(ignored3);
                  stream->lowest_layer().close(ignored3);
                  return;
                }
                std::make_shared<relay>(stream, plain)->start();
              });
          });
      });
  }
};

cluster_tunnel::cluster_tunnel(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

cluster_tunnel::~cluster_tunnel() {
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

std::unique_ptr<cluster_tunnel>
cluster_tunnel::start(const tls::files& files, const std::string& host,
                      uint16_t port, uint16_t middleman_port,
                      on_refused refused, std::string& error) {
  auto i = std::make_unique<impl>(middleman_port, std::move(refused));
  try {
    configure(i->server, files);
    configure(i->client, files);
    auto address = host.empty() ? asio::ip::address_v4::any()
                                : asio::ip::make_address(host);
    tcp::endpoint at{address, port};
    i->acceptor.open(at.protocol());
    i->acceptor.set_option(tcp::acceptor::reuse_address(true));
    i->acceptor.bind(at);
    i->acceptor.listen();
  } catch (const boost::system::system_error& e) {
    error = e.what();
    return nullptr;
  }
  i->accept();
  i->thread = std::thread([io = &i->io] {
    io->run();
  });
  return std::unique_ptr<cluster_tunnel>{new cluster_tunnel(std::move(i))};
}

uint16_t cluster_tunnel::port() const {
  error_code ignored;
  return impl_->acceptor.local_endpoint(ignored).port();
}

uint16_t cluster_tunnel::dial(const std::string& host, uint16_t port) {
  std::lock_guard guard{impl_->mtx};
  auto key = std::make_pair(host, port);
  if (auto i = impl_->dials.find(key); i != impl_->dials.end())
    return i->second->local_endpoint().port();
  auto local = std::make_unique<tcp::acceptor>(impl_->io);
  try {
    tcp::endpoint at{asio::ip::address_v4::loopback(), 0};
    local->open(at.protocol());
    local->bind(at);
    local->listen();
  } catch (const boost::system::system_error&) {
    return 0;
  }
  auto bound = local->local_endpoint().port();
  auto& ref = *local;
  impl_->dials.emplace(key, std::move(local));
  asio::post(impl_->io, [this, &ref, host, port] {
    impl_->accept_local(ref, host, port);
  });
  return bound;
}

} // namespace switchboard::router
