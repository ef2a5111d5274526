#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// HTTP messages as the rest of Switchboard sees them: plain structs, no
/// Beast or libcurl type, so handlers and actors stay light to compile.
namespace switchboard::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// The value of header `name` (case-insensitive), or "".
std::string_view header_of(const header_list& headers,
                           std::string_view name) noexcept;

/// `%XX` and `+` decoded; nullopt-free: invalid escapes are kept as is.
std::string url_decode(std::string_view s);

/// `s` with everything but unreserved characters percent-encoded.
std::string url_encode(std::string_view s);

/// A request received by the server.
struct request {
  std::string method; ///< "GET", "POST", ...
  std::string target; ///< as sent: path and query
  std::string path;   ///< the target without its query
  std::string query;  ///< after '?', still encoded
  header_list headers;
  std::string body;
  std::string remote_address;

  std::string_view header(std::string_view name) const noexcept {
    return header_of(headers, name);
  }
  /// The URL-decoded value of query parameter `name`, or "".
  std::string query_parameter(std::string_view name) const;
};

/// A response to send, or one received by the client.
struct response {
  unsigned status = 200;
  header_list headers;
  std::string body;

  std::string_view header(std::string_view name) const noexcept {
    return header_of(headers, name);
  }
};

/// A response with `status`, a `Content-Type` and `body`.
response make_response(unsigned status, std::string content_type,
                       std::string body);

/// A JSON error body `{"error": {"code": ..., "message": ...}}` in the
/// shape of Graph's and Switchboard's other errors.
response error_response(unsigned status, std::string_view code,
                        std::string_view message);

} // namespace switchboard::http
