#pragma once

// Real SIP peers for the SBC gateway's integration tests, all on
// 127.0.0.1: SIPp (Debian's sip-tester) callers and agents, Kamailio as
// the SBC in front of the gateway, and throwaway certificates made with
// the openssl command for the TLS between them.

#include "tests/support/certificates.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace switchboard::testing {

/// A SIPp instance running the scenario at `path`, bound to `port`; it
/// gives up after 60 s, so it always ends.
inline std::unique_ptr<process> sipp(const std::string& path, uint16_t port,
                                     const std::vector<std::string>& extra) {
  std::vector<std::string> args{
    "-sf",      path,       "-i",  "127.0.0.1",     "-p", std::to_string(port),
    "-nostdin", "-timeout", "60s", "-timeout_error"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<process>("/usr/bin/sipp", args, true);
}

/// The arguments of a SIPp caller of the repository's scenarios to
/// `target` (host:port): Call-IDs `call_id_prefix`-1@sipp, ..., from
/// trunk `trunk_fqdn` to the number `dialled` (the scenarios' keys).
inline std::vector<std::string> caller_args(const std::string& target,
                                            const std::string& call_id_prefix,
                                            const std::string& trunk_fqdn,
                                            const std::string& dialled) {
  return {target, "-cid_str", call_id_prefix + "-%u@sipp",
          "-key", "trunk",    trunk_fqdn,
          "-key", "number",   dialled};
}

/// Kamailio as the SBC, started from a config file (the example one) with
/// its parameters given as -A defines: UDP and TCP on the public port for
/// callers and agents, TLS on the internal port toward the gateways.
class kamailio_sbc {
 public:
  struct options {
    std::string config;
    /// The test's folder: the dispatcher list and the tls.cfg go there,
    /// and Kamailio works there.
    std::string dir;
    uint16_t public_port = 0;
    uint16_t internal_tls_port = 0;
    /// host:port of each gateway's TLS socket.
    std::vector<std::string> gateways;
    /// PEM files: the SBC's certificate and key, and the authority that
    /// its peers' certificates must be signed by.
    std::string certificate;
    std::string key;
    std::string ca;
  };

  explicit kamailio_sbc(const options& o) {
    auto list = o.dir + "/dispatcher.list";
    {
      std::ofstream out{list};
      for (auto& g : o.gateways)
        out << "1 sip:" << g << ";transport=tls 9 0\n";
    }
    auto tls = o.dir + "/tls.cfg";
    {
      std::ofstream out{tls};
      for (auto* side : {"server", "client"})
        out << "[" << side << ":default]\n"
            << "method = TLSv1.2+\n"
            << "verify_certificate = yes\n"
            << "require_certificate = yes\n"
            << "certificate = " << o.certificate << "\n"
            << "private_key = " << o.key << "\n"
            << "ca_list = " << o.ca << "\n\n";
    }
    proc_ = std::make_unique<process>(
      "/usr/sbin/kamailio",
      std::vector<std::string>{
        "-DD", "-E",
        "-f",  o.config,
        "-w",  o.dir,
        "-Y",  o.dir,
        "-m",  "32",
        "-M",  "8",
        "-A",  "PUBLIC_IP=127.0.0.1",
        "-A",  "PUBLIC_PORT=" + std::to_string(o.public_port),
        "-A",  "INTERNAL_IP=127.0.0.1",
        "-A",  "INTERNAL_TLS_PORT=" + std::to_string(o.internal_tls_port),
        "-A",  "DISPATCHER_LIST=\"" + list + "\"",
        "-A",  "TLS_CONFIG=\"" + tls + "\"",
        "-A",  "PING_INTERVAL=1",
        "-A",  "PING_FROM=\"sip:keepalive@sbc.test\"",
      },
      true);
  }

  ~kamailio_sbc() {
    // SIGTERM, never SIGKILL: Kamailio's main process then ends its
    // worker processes, which would otherwise keep the ports.
    if (proc_ && proc_->started())
      stop();
  }

  kamailio_sbc(const kamailio_sbc&) = delete;
  kamailio_sbc& operator=(const kamailio_sbc&) = delete;

  process& proc() { return *proc_; }

  int stop() {
    if (!stopped_) {
      stopped_ = true;
      code_ = proc_->stop(SIGTERM);
    }
    return code_;
  }

 private:
  std::unique_ptr<process> proc_;
  bool stopped_ = false;
  int code_ = 0;
};

} // namespace switchboard::testing
