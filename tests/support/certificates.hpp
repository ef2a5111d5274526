#pragma once

// Throwaway certificates for tests, made with the openssl command: a test
// CA and the server and client certificates it signs, for 127.0.0.1 and
// localhost.

#include "tests/support/process.hpp"

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace switchboard::testing {

/// Runs the openssl command; its output goes to the test's log when it
/// fails.
inline bool openssl(const std::vector<std::string>& args) {
  process p{"/usr/bin/openssl", args, true};
  auto code = p.wait();
  if (code != 0)
    for (auto& line : p.lines())
      std::cerr << "openssl: " << line << "\n";
  return code == 0;
}

/// A certificate authority made for one test, and certificates it signs,
/// written to the test's folder. Nothing of it outlives the test.
class test_authority {
 public:
  /// Makes `dir`/`name`.pem (certificate) and `name`.key.
  test_authority(std::string dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)) {
    ok_ = openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                   key(), "-out", certificate(), "-days", "2", "-subj",
                   "/CN=" + name_});
  }

  bool ok() const { return ok_; }
  std::string certificate() const { return dir_ + "/" + name_ + ".pem"; }
  std::string key() const { return dir_ + "/" + name_ + ".key"; }

  /// Signs a certificate for `name` (valid for 127.0.0.1 and localhost,
  /// as server and as client) into `dir`/`name`.pem and `name`.key;
  /// `alt_names` replaces where it is valid ("DNS:router.example").
  bool sign(const std::string& name, const std::string& alt_names = {}) {
    auto base = dir_ + "/" + name;
    std::ofstream{base + ".ext"}
      << "basicConstraints=CA:FALSE\n"
         "keyUsage=digitalSignature,keyEncipherment\n"
         "extendedKeyUsage=serverAuth,clientAuth\n"
         "subjectAltName="
      << (alt_names.empty() ? "IP:127.0.0.1,DNS:localhost,DNS:" + name
                            : alt_names)
      << "\n";
    return openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    base + ".key", "-out", base + ".csr", "-subj",
                    "/CN=" + name})
           && openssl({"x509", "-req", "-in", base + ".csr", "-CA",
                       certificate(), "-CAkey", key(), "-CAcreateserial",
                       "-out", base + ".pem", "-days", "2", "-extfile",
                       base + ".ext"});
  }

 private:
  std::string dir_;
  std::string name_;
  bool ok_ = false;
};

} // namespace switchboard::testing
