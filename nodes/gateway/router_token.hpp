#pragma once

// How a gateway signs in to its router with a token of its own (the
// router.token_* settings), as an alternative to a client certificate.

#include <functional>
#include <memory>
#include <string>

namespace grpc {
class CallCredentials;
} // namespace grpc

namespace switchboard::router {
class logger;
} // namespace switchboard::router

namespace switchboard::gateway {

/// A gateway's identity towards the router as an Entra ID application:
/// the client credentials grant gives it access tokens for Switchboard's
/// API carrying its app role (Switchboard.Gateway), sent with every
/// request. The app's tenant decides which Switchboard tenants it serves:
/// a customer's app the customer's, the provider's app all of them.
struct router_token_options {
  std::string authority = "https://login.microsoftonline.com";
  /// The Microsoft tenant the app is registered in.
  std::string tenant_id;
  std::string client_id;
  /// The app's client secret, read from this file at every token request
  /// (a rotated Kubernetes Secret takes effect without a restart).
  std::string client_secret_file;
  /// Switchboard's API: api://switchboard.example.net/.default.
  std::string scope;
  /// PEM authorities of a private identity platform; "" for the system's.
  std::string authority_ca;

  bool enabled() const { return !client_id.empty(); }
};

/// What is wrong with `o` when it is enabled (a setting missing), naming
/// the settings; "" when it is complete or not enabled.
std::string check(const router_token_options& o);

/// Call credentials that send every request to the router with
/// `authorization: Bearer <token>`, the token from the client credentials
/// grant of `o`, fetched when the last expires within five minutes (so
/// once an hour with Entra ID's lifetimes). A token that cannot be had
/// fails the request UNAVAILABLE, and is logged, without the secret.
std::shared_ptr<grpc::CallCredentials>
router_token_credentials(const router_token_options& o, router::logger& log);

} // namespace switchboard::gateway
