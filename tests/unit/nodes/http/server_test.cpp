// The HTTP plumbing over real sockets on 127.0.0.1: the Beast server and
// the libcurl client against each other, plain and over TLS with a test CA.

#include "nodes/http/client.hpp"
#include "nodes/http/server.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace switchboard::http;
using switchboard::testing::test_authority;

namespace {

reply fetch(client& c, outgoing req) {
  std::promise<reply> p;
  auto f = p.get_future();
  c.send(std::move(req), [&p](reply r) {
    p.set_value(std::move(r));
  });
  return f.get();
}

outgoing get(const std::string& url) {
  outgoing r;
  r.url = url;
  return r;
}

// What a client that is not HTTP gets back: the first bytes of the answer.
std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  (void)!write(fd, bytes.data(), bytes.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

// Echoes the request; "/later" answers from another thread, "/never"
// drops its responder.
void echo(request req, responder res) {
  if (req.path == "/later") {
    std::thread([res] {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
      res.send(make_response(200, "text/plain", "later"));
    }).detach();
    return;
  }
  if (req.path == "/never")
    return;
  res.send(make_response(200, "text/plain",
                         req.method + " " + req.path
                           + " token=" + req.query_parameter("validationToken")
                           + " type=" + std::string{req.header("content-type")}
                           + " body=" + req.body));
}

} // namespace

TEST(http_server, answers_requests_and_reuses_the_connection) {
  server s{{}, echo};
  ASSERT_EQ(s.start(), "");
  client c{{}};
  auto base = "http://127.0.0.1:" + std::to_string(s.port());
  outgoing post;
  post.method = "POST";
  post.url = base + "/notifications?validationToken=a%20b%2Bc";
  post.headers = {{"Content-Type", "application/json"}};
  post.body = "{\"value\":[]}";
  auto r = fetch(c, post);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.status, 200u);
  EXPECT_EQ(r.value.body, "POST /notifications token=a b+c "
                          "type=application/json body={\"value\":[]}");
  EXPECT_EQ(r.value.header("content-type"), "text/plain");
  EXPECT_EQ(fetch(c, get(base + "/x")).value.body, "GET /x token= type= body=");
}

TEST(http_server, a_handler_answers_from_another_thread) {
  server s{{}, echo};
  ASSERT_EQ(s.start(), "");
  client c{{}};
  auto r
    = fetch(c, get("http://127.0.0.1:" + std::to_string(s.port()) + "/later"));
  EXPECT_EQ(r.value.status, 200u);
  EXPECT_EQ(r.value.body, "later");
}

TEST(http_server, a_request_nobody_answers_gets_500_not_a_hang) {
  server s{{}, echo};
  ASSERT_EQ(s.start(), "");
  client c{{}};
  auto r
    = fetch(c, get("http://127.0.0.1:" + std::to_string(s.port()) + "/never"));
  EXPECT_EQ(r.value.status, 500u);
  EXPECT_NE(r.value.body.find("not answered"), std::string::npos);
}

TEST(http_server, a_body_above_the_limit_gets_413) {
  server::options o;
  o.max_body_bytes = 1000;
  server s{o, echo};
  ASSERT_EQ(s.start(), "");
  client c{{}};
  outgoing post;
  post.method = "POST";
  post.url = "http://127.0.0.1:" + std::to_string(s.port()) + "/big";
  post.body = std::string(5000, 'x');
  auto r = fetch(c, post);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.status, 413u);
  EXPECT_NE(r.value.body.find("1000 bytes"), std::string::npos);
}

TEST(http_server, garbage_gets_400_and_the_server_keeps_serving) {
  server s{{}, echo};
  ASSERT_EQ(s.start(), "");
  auto answer = raw_exchange(s.port(), "HELLO THERE\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  auto header
    = raw_exchange(s.port(), "GET / HTTP/1.1\r\nHost: x\r\nX: "
                               + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(header.rfind("HTTP/1.1 431", 0), 0u) << header.substr(0, 100);
  client c{{}};
  EXPECT_EQ(
    fetch(c, get("http://127.0.0.1:" + std::to_string(s.port()) + "/ok"))
      .value.status,
    200u);
}

TEST(http_server, refuses_to_start_on_a_bad_address_or_certificate) {
  server::options bad_address;
  bad_address.address = "not-an-ip";
  EXPECT_NE(server(bad_address, echo).start().find("not an IP address"),
            std::string::npos);
  server::options missing;
  missing.certificate_file = "/nonexistent/cert.pem";
  missing.key_file = "/nonexistent/key.pem";
  EXPECT_NE(server(missing, echo).start().find("/nonexistent/cert.pem"),
            std::string::npos);
  server::options half;
  half.certificate_file = "/x.pem";
  EXPECT_NE(server(half, echo).start().find("needs its key"),
            std::string::npos);
}

TEST(http_server, serves_tls_that_a_client_trusting_the_ca_verifies) {
  switchboard::testing::temp_dir dir;
  test_authority ca{dir.path(), "test-ca"};
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca.sign("server"));
  server::options o;
  o.certificate_file = dir.path() + "/server.pem";
  o.key_file = dir.path() + "/server.key";
  server s{o, echo};
  ASSERT_EQ(s.start(), "");
  EXPECT_TRUE(s.tls());
  auto url = "https://127.0.0.1:" + std::to_string(s.port()) + "/secure";

  client::options trusting;
  trusting.ca_file = ca.certificate();
  client good{trusting};
  auto r = fetch(good, get(url));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.body, "GET /secure token= type= body=");

  // Trusting another authority, the certificate does not verify.
  test_authority other_ca{dir.path(), "other-ca"};
  ASSERT_TRUE(other_ca.ok());
  client::options other;
  other.ca_file = other_ca.certificate();
  client bad{other};
  auto refused = fetch(bad, get(url));
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.value.status, 0u);

  // A rotated certificate is read again; a broken one keeps the old.
  ASSERT_TRUE(ca.sign("server"));
  EXPECT_EQ(s.reload_certificates(), "");
  EXPECT_TRUE(fetch(good, get(url)).ok());
  { std::ofstream{o.certificate_file} << "broken"; }
  EXPECT_NE(s.reload_certificates(), "");
  EXPECT_TRUE(fetch(good, get(url)).ok());
}

TEST(http_client, reports_a_refused_connection_and_an_oversized_response) {
  client c{{}};
  server probe{{}, echo};
  ASSERT_EQ(probe.start(), "");
  auto port = probe.port();
  probe.stop();
  auto refused
    = fetch(c, get("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(refused.error.empty());

  server big{{}, [](request, responder res) {
               res.send(
                 make_response(200, "text/plain", std::string(10000, 'z')));
             }};
  ASSERT_EQ(big.start(), "");
  client::options small;
  small.max_response_bytes = 1000;
  client limited{small};
  auto r = fetch(limited,
                 get("http://127.0.0.1:" + std::to_string(big.port()) + "/"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("above the limit of 1000 bytes"), std::string::npos)
    << r.error;
}

TEST(http_client, refuses_urls_that_are_not_http) {
  client c{{}};
  auto r = fetch(c, get("file:///etc/passwd"));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.value.body.empty());
}

TEST(http_message, query_parameters_and_url_encoding) {
  request r;
  r.query = "a=1&validationToken=Validation%3a+Testing&empty=&flag";
  EXPECT_EQ(r.query_parameter("a"), "1");
  EXPECT_EQ(r.query_parameter("validationToken"), "Validation: Testing");
  EXPECT_EQ(r.query_parameter("empty"), "");
  EXPECT_EQ(r.query_parameter("missing"), "");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_encode("id in ('a')"), "id%20in%20%28%27a%27%29");
  auto e = error_response(401, "unauthorized", "expired \"5\" s ago");
  EXPECT_EQ(e.status, 401u);
  EXPECT_EQ(e.body, "{\"error\":{\"code\":\"unauthorized\",\"message\":"
                    "\"expired \\\"5\\\" s ago\"}}");
}
