#!/usr/bin/env python3
"""SIP call setup through the SBC gateway, beside Kamailio alone.

  sip.py BUILD_DIR RESULTS_DIR [--rates 100,200,...] [--seconds 15]
         [--agents 1000] [--talk-ms 1000] [--waiting 2000]
         [--only gateway|baseline] [--keep] [--smoke]

Everything runs on 127.0.0.1, started as the gateway's tests with
Kamailio start it (tests/integration/sbc_kamailio_test.cpp):

  gateway   SIPp callers --UDP--> Kamailio (examples/kamailio/kamailio.cfg)
            --TLS--> switchboard-sbc-gateway <--gRPC--> switchboard-router;
            the gateway rings the agent the engine picks --TLS--> Kamailio
            --UDP--> a SIPp agent (every agent's SIP URI points to it)
  baseline  the same SIPp callers --UDP--> Kamailio alone as a stateful,
            record-routing proxy (bench/sip/kamailio-proxy.cfg) --UDP-->
            the same SIPp agent scenario

TLS between Kamailio and the gateway, certificates checked both ways, as
in the tests and the examples. The agent answers at once (200, no 180);
callers talk --talk-ms, then hang up.

Open loop: SIPp places calls at a fixed rate whatever happens to earlier
ones. At each rate (RATES, `--seconds` of arrivals each) both set-ups run
one after the other, until each has failed once; then one step half way
between a set-up's last pass and its first failure. A set-up serves step
after step while they pass; after a failed step the next one starts on a
fresh set-up. A step passes when every call was answered by an agent and
completed (the callers' SIPp and the agents' SIPp count every call
successful, none failed or timed out), SIPp's retransmissions stay within
1 % of the calls, and the callers' SIPp sent its INVITEs at 95 % of the
rate or more.

Measured per step: post-dial delay, from the caller's SIPp sending the
INVITE to the agents' SIPp taking in the INVITE for that caller (both log
gettimeofday; the caller's number carries its call number, and the
gateway copies it into the From of the agent's INVITE); CPU (user + sys
from /proc) per call of the gateway, the router, Kamailio (all its
processes) and the SIPp processes. Before the steps, memory: the
gateway's RSS with `--waiting` callers waiting in queue (no agent ready)
minus its RSS at idle, divided by their number.

Writes RESULTS_DIR/sip.json. --smoke: a tiny run that only checks that
calls complete through both set-ups (exit status 1 if one did not).
"""

import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(SOURCE, "bench", "sip")
SBC_CONFIG = os.path.join(SOURCE, "examples", "kamailio", "kamailio.cfg")
PROXY_CONFIG = os.path.join(SCENARIOS, "kamailio-proxy.cfg")

RATES = [100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000]
TENANT = "bench"
QUEUE = "calls"
TRUNK = "bench.sbc.test"
NUMBER = "+14255550100"
RETRANS_SHARE = 0.01
RATE_SHARE = 0.95
# A call that waits this long for any one message has failed.
RECV_TIMEOUT_MS = 20000
# Kamailio's shared memory: transactions of a few seconds of calls at the
# highest rates, and of the waiting callers.
KAMAILIO_SHM_MB = 512


# Every process started, so that none outlives the run, however it ends.
STARTED = []


def log(text):
    print(f"sip: {text}", flush=True)


def free_sip_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    sys.exit("sip: no port free for both UDP and TCP")


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_s(pids):
    """user + sys seconds of these processes."""
    total = 0
    for pid in pids:
        try:
            fields = proc_stat(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def process_tree(root):
    """`root` and every process below it."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid = int(proc_stat(name)[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def wait_for_line(path, pattern, proc, timeout, what):
    """Waits until the log at `path` has a line matching `pattern`; the
    line. Gives up if `proc` exits or after `timeout` s."""
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            for line in f:
                if regex.search(line):
                    return line
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, errors="replace") as f:
        tail = f.readlines()[-15:]
    sys.exit(f"sip: {what} (see {path}):\n" + "".join(tail))


def metrics(address):
    """The samples of a /metrics page: {(name, labels text): value}."""
    with urllib.request.urlopen(f"http://{address}/metrics",
                                timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        name, _, labels = key.partition("{")
        out[(name, labels.rstrip("}"))] = float(value)
    return out


def openssl(*args):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"sip: openssl {args[0]} failed:\n{r.stderr}")


def make_certificates(work):
    """A throwaway authority and certificates for the gateway and the SBC
    (as tests/support/sip_peers.hpp makes them); the CA's path."""
    ca = os.path.join(work, "ca")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj",
            "/CN=bench-ca")
    for name in ("gateway.test", "sbc.test"):
        base = os.path.join(work, name)
        with open(base + ".ext", "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n"
                    f"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:{name}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                base + ".key", "-out", base + ".csr", "-subj", "/CN=" + name)
        openssl("x509", "-req", "-in", base + ".csr", "-CA", ca + ".pem",
                "-CAkey", ca + ".key", "-CAcreateserial", "-out",
                base + ".pem", "-days", "2", "-extfile", base + ".ext")
    return ca + ".pem"


class Daemon:
    """A long-running process with its output in a log file."""

    def __init__(self, args, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        STARTED.append(self)

    def pids(self):
        return [self.proc.pid]

    def cpu_s(self):
        return cpu_s(self.pids())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Kamailio(Daemon):
    """Kamailio in the foreground (-DD -E) with its parameters as -A
    defines; its CPU counts all its processes."""

    def __init__(self, config, work, name, defines):
        args = ["/usr/sbin/kamailio", "-DD", "-E", "-f", config, "-w", work,
                "-Y", work, "-m", str(KAMAILIO_SHM_MB), "-M", "16"]
        for d in defines:
            args += ["-A", d]
        super().__init__(args, os.path.join(work, name + ".log"))

    def pids(self):
        return process_tree(self.proc.pid)


class Sipp:
    """One SIPp run: its statistics (-trace_stat) and <log> lines
    (-trace_logs) in `work`, its CPU from wait4()."""

    def __init__(self, work, name, scenario, port, extra, calls):
        self.work = work
        self.name = name
        self.stat_path = os.path.join(work, name + ".csv")
        self.log_path = os.path.join(work, name + "_logs.log")
        self.out_path = os.path.join(work, name + ".out")
        self.calls = calls
        args = ["sipp", "-sf", os.path.join(SCENARIOS, scenario),
                "-i", "127.0.0.1", "-p", str(port), "-nostdin",
                "-m", str(calls), "-l", str(calls), "-buff_size", "1048576",
                "-recv_timeout", str(RECV_TIMEOUT_MS),
                "-trace_stat", "-stf", self.stat_path, "-fd", "3600",
                "-trace_logs", "-log_file", self.log_path,
                "-trace_err", "-error_file",
                os.path.join(work, name + "_errors.log")] + extra
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.out,
                                     stderr=subprocess.STDOUT, cwd=work)
        self.cpu = None
        STARTED.append(self)

    def stop(self):
        if self.proc.returncode is None:
            self.wait(0)

    def wait(self, timeout):
        """Waits up to `timeout` s, then ends it (SIGUSR1 first: SIPp then
        writes its statistics); its exit status."""
        deadline = time.monotonic() + timeout
        for sig in (None, signal.SIGUSR1, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                self.proc.send_signal(sig)
                deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
                if pid == self.proc.pid:
                    self.proc.returncode = os.waitstatus_to_exitcode(status)
                    self.cpu = usage.ru_utime + usage.ru_stime
                    self.out.close()
                    return self.proc.returncode
                time.sleep(0.05)
        return None

    def stats(self):
        """The last line of SIPp's statistics, as a dict (cumulative
        counters end in "(C)")."""
        try:
            with open(self.stat_path, newline="") as f:
                rows = list(csv.DictReader(f, delimiter=";"))
        except OSError:
            rows = []
        if not rows:
            return {}
        out = {}
        for k, v in rows[-1].items():
            if k:
                try:
                    out[k] = float(v)
                except (TypeError, ValueError):
                    out[k] = v
        return out

    def invites(self):
        """{caller's call number: time} from the `invite N sec usec` log
        lines of the scenarios."""
        out = {}
        try:
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 4 and parts[0] == "invite":
                        out[parts[1]] = float(parts[2]) + float(parts[3]) / 1e6
        except OSError:
            pass
        return out


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


class Router(scenarios.Node):
    """switchboard-router with the benchmark's tenant: one queue, one trunk
    and number, `agents` agents whose SIP URIs point to `agent_port`."""

    def __init__(self, build, data_dir):
        super().__init__(build, data_dir)
        STARTED.append(self)

    def setup(self, build, work, agents, agent_port):
        self.cli = os.path.join(build, "nodes/cli/switchboard")
        path = os.path.join(work, "contact-center.yaml")
        with open(path, "w") as f:
            f.write(f"""tenants:
  - id: {TENANT}
    sip_trunk_fqdns: [{TRUNK}]
    dialled_numbers: ["{NUMBER}"]
    queues:
      - id: {QUEUE}
        mode: longest_idle
        offer_timeout: 10s
        wrap_up: 0s
    classification:
      default_queue: {QUEUE}
      rules: []  # the CLI reads the list even when there are no rules
    agents:
""")
            for i in range(agents):
                f.write(f'      - {{id: a{i}, sip_uri: "sip:a{i}@127.0.0.1:'
                        f'{agent_port}", queues: [{QUEUE}]}}\n')
        self.run_cli("apply", "-f", path)
        self.agents = agents

    def run_cli(self, *args):
        r = subprocess.run([self.cli, "--server", self.grpc, *args],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"sip: switchboard {' '.join(args)} failed:\n"
                     f"{r.stdout}{r.stderr}")

    def agents_ready(self):
        """Every agent Available and ready, a few CLI calls at a time."""
        def ready(i):
            self.run_cli("agent", f"a{i}", "--tenant", TENANT, "--presence",
                         "Available", "--ready", "yes")
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(ready, range(self.agents)))


class GatewayStack:
    """Router, gateway and Kamailio as the SBC in front, over TLS."""

    name = "gateway"

    def __init__(self, build, work, agents):
        self.work = tempfile.mkdtemp(prefix="gateway-", dir=work)
        self.agent_port = free_sip_port()
        self.router = Router(build, os.path.join(self.work, "router-data"))
        self.router.wait_listening()
        self.router.setup(build, self.work, agents, self.agent_port)

        ca = make_certificates(self.work)
        cert = os.path.join(self.work, "{}.test.{}").format
        self.sbc_port = free_sip_port()
        sbc_tls = f"127.0.0.1:{free_sip_port()}"
        gateway_tls = f"127.0.0.1:{free_sip_port()}"
        trunks = os.path.join(self.work, "trunks")
        with open(trunks, "w") as f:
            f.write(f"{TRUNK} {TENANT} {NUMBER}\n")
        self.gateway = Daemon(
            [os.path.join(build,
                          "nodes/sbc_gateway/switchboard-sbc-gateway"),
             "--sip-listen", f"127.0.0.1:{free_sip_port()}",
             "--tls-listen", gateway_tls,
             "--tls-certificate", cert("gateway", "pem"),
             "--tls-private-key", cert("gateway", "key"),
             "--tls-verify", "peer", "--tls-ca-file", ca,
             "--router", self.router.grpc, "--trunks", trunks,
             "--agent-route", sbc_tls, "--ring-refresh", "60s",
             "--metrics-listen", "127.0.0.1:0"],
            os.path.join(self.work, "gateway.log"))
        serving = wait_for_line(self.gateway.log_path, '"msg":"serving"',
                                self.gateway.proc, 60,
                                "the gateway did not start")
        self.metrics = json.loads(serving)["metrics"]
        wait_for_line(self.gateway.log_path, '"msg":"router connected"',
                      self.gateway.proc, 60,
                      "the gateway did not reach the router")

        dispatcher = os.path.join(self.work, "dispatcher.list")
        with open(dispatcher, "w") as f:
            f.write(f"1 sip:{gateway_tls};transport=tls 9 0\n")
        tls = os.path.join(self.work, "tls.cfg")
        with open(tls, "w") as f:
            for side in ("server", "client"):
                f.write(f"[{side}:default]\nmethod = TLSv1.2+\n"
                        "verify_certificate = yes\n"
                        "require_certificate = yes\n"
                        f"certificate = {cert('sbc', 'pem')}\n"
                        f"private_key = {cert('sbc', 'key')}\n"
                        f"ca_list = {ca}\n\n")
        host, port = sbc_tls.split(":")
        # LOG_LEVEL 1 (notice): no line per request, as in the baseline.
        self.kamailio = Kamailio(SBC_CONFIG, self.work, "kamailio", [
            "PUBLIC_IP=127.0.0.1", f"PUBLIC_PORT={self.sbc_port}",
            f"INTERNAL_IP={host}", f"INTERNAL_TLS_PORT={port}",
            f'DISPATCHER_LIST="{dispatcher}"', f'TLS_CONFIG="{tls}"',
            "PING_INTERVAL=2", 'PING_FROM="sip:keepalive@sbc.test"',
            "LOG_LEVEL=1"])
        wait_for_line(self.kamailio.log_path,
                      re.escape(f"dispatcher: gateway sip:{gateway_tls};"
                                "transport=tls is up"),
                      self.kamailio.proc, 60,
                      "Kamailio did not see the gateway up")

    def measured(self):
        return {"gateway": self.gateway, "router": self.router,
                "kamailio": self.kamailio}

    def live_calls(self):
        return sum(v for (name, _), v in metrics(self.metrics).items()
                   if name == "switchboard_sbc_dialogs")

    def waiting_calls(self):
        return metrics(self.metrics).get(
            ("switchboard_sbc_dialogs", 'state="waiting"'), 0)

    def settle(self, timeout):
        """Waits until the gateway has no call left."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.live_calls() > 0:
            time.sleep(0.1)

    def stop(self):
        self.kamailio.stop()
        self.gateway.stop()
        self.router.stop()


class BaselineStack:
    """Kamailio alone as a stateful, record-routing proxy."""

    name = "baseline"

    def __init__(self, work):
        self.work = tempfile.mkdtemp(prefix="baseline-", dir=work)
        self.agent_port = free_sip_port()
        self.sbc_port = free_sip_port()
        self.kamailio = Kamailio(PROXY_CONFIG, self.work, "kamailio", [
            f"LISTEN_PORT={self.sbc_port}",
            f'AGENT="sip:127.0.0.1:{self.agent_port}"'])
        # Ready once it answers OPTIONS addressed to itself.
        deadline = time.monotonic() + 30
        while not self.answers_options():
            if (time.monotonic() > deadline
                    or self.kamailio.proc.poll() is not None):
                sys.exit("sip: the baseline Kamailio did not start (see "
                         f"{self.kamailio.log_path})")
            time.sleep(0.1)

    def answers_options(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            s.connect(("127.0.0.1", self.sbc_port))
            port = s.getsockname()[1]
            msg = (f"OPTIONS sip:127.0.0.1:{self.sbc_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bench"
                   "\r\nFrom: <sip:bench@127.0.0.1>;tag=1\r\n"
                   f"To: <sip:127.0.0.1:{self.sbc_port}>\r\n"
                   "Call-ID: bench-ping\r\nCSeq: 1 OPTIONS\r\n"
                   "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            try:
                s.send(msg.encode())
                return s.recv(4096).startswith(b"SIP/2.0 200")
            except OSError:
                return False

    def measured(self):
        return {"kamailio": self.kamailio}

    def settle(self, timeout):
        pass

    def stop(self):
        self.kamailio.stop()


def sipp_callers(work, name, scenario, stack, calls, rate, talk_ms):
    # Call-IDs unique over the set-up's life: the engine takes a Call-ID
    # it has seen as the same call again (its id, and its commands' ids).
    tag = os.path.basename(work)
    return Sipp(work, name, scenario, free_sip_port(),
                [f"127.0.0.1:{stack.sbc_port}", "-r", f"{rate:g}",
                 "-d", str(talk_ms), "-cid_str", f"{tag}-%u@sipp",
                 "-key", "trunk", TRUNK, "-key", "number", NUMBER], calls)


def step(stack, rate, seconds, talk_ms):
    """`seconds` of calls at `rate`/s through `stack`: what the callers and
    agents saw, and CPU per call."""
    calls = max(1, int(round(rate * seconds)))
    work = tempfile.mkdtemp(prefix=f"rate{rate:g}-", dir=stack.work)
    agents = Sipp(work, "agents", "agent.xml", stack.agent_port, [], calls)
    time.sleep(0.2)
    procs = stack.measured()
    cpu0 = {k: p.cpu_s() for k, p in procs.items()}
    callers = sipp_callers(work, "callers", "caller.xml", stack, calls, rate,
                           talk_ms)
    callers.wait(seconds + RECV_TIMEOUT_MS / 1000 * 2 + 30)
    # The agents' SIPp ends after its last call's BYE (and time-wait).
    agents.wait(5)
    stack.settle(10)
    cpu = {k: p.cpu_s() - cpu0[k] for k, p in procs.items()}

    c, a = callers.stats(), agents.stats()
    sent, answered = callers.invites(), agents.invites()
    delays = [(answered[n] - t) * 1000 for n, t in sent.items()
              if n in answered]
    times = sorted(sent.values())
    sent_rate = ((len(times) - 1) / (times[-1] - times[0])
                 if len(times) > 1 and times[-1] > times[0] else rate)
    completed = int(c.get("SuccessfulCall(C)", 0))
    r = {
        "offered_per_s": rate,
        "calls": calls,
        "invites_per_s": sent_rate,
        "completed": completed,
        "failed": int(c.get("FailedCall(C)", 0)),
        "agent_answered": int(a.get("SuccessfulCall(C)", 0)),
        "agent_failed": int(a.get("FailedCall(C)", 0)),
        "retransmissions": int(c.get("Retransmissions(C)", 0)
                               + a.get("Retransmissions(C)", 0)),
        "post_dial_ms": {"p50": percentile(delays, 50),
                         "p99": percentile(delays, 99),
                         "max": max(delays) if delays else None,
                         "samples": len(delays)},
        "cpu_per_call_us": {k: v / calls * 1e6 for k, v in cpu.items()},
        "sipp_cpu_per_call_us": ((callers.cpu or 0) + (agents.cpu or 0))
                                / calls * 1e6,
    }
    problems = []
    if completed < calls or r["failed"]:
        problems.append(f"{calls - completed} of {calls} calls not completed"
                        f" ({r['failed']} failed)")
    if r["agent_answered"] < calls or r["agent_failed"]:
        problems.append(f"agents answered {r['agent_answered']} of {calls}"
                        f" ({r['agent_failed']} failed)")
    if r["retransmissions"] > RETRANS_SHARE * calls:
        problems.append(f"{r['retransmissions']} retransmissions")
    if sent_rate < RATE_SHARE * rate:
        problems.append(f"INVITEs sent at {sent_rate:,.0f}/s only")
    r["problems"] = problems
    r["passed"] = not problems
    return r


def summary(stack, r):
    pdd = r["post_dial_ms"]
    cpu = ", ".join(f"{k} {v:,.0f}" for k, v in r["cpu_per_call_us"].items())
    pdd_text = (f"post-dial p50 {pdd['p50']:.1f} ms p99 {pdd['p99']:.1f} ms"
                if pdd["samples"] else "no post-dial delay")
    return (f"{'pass' if r['passed'] else 'FAIL'} {stack}: "
            f"{r['offered_per_s']:,.0f} calls/s offered, {r['completed']:,}"
            f" of {r['calls']:,} completed, {r['retransmissions']} "
            f"retransmissions, {pdd_text}; CPU µs/call: {cpu}"
            + (f"; {'; '.join(r['problems'])}" if r["problems"] else ""))


def waiting_memory(stack, n, rate):
    """The gateway's RSS with `n` callers waiting (no agent ready), arriving
    at `rate`/s, against its RSS at idle."""
    time.sleep(1)
    idle = rss_kib(stack.gateway.proc.pid)
    router_idle = rss_kib(stack.router.proc.pid)
    work = tempfile.mkdtemp(prefix="waiting-", dir=stack.work)
    # Each caller listens until all have arrived, and half as long again
    # (3 s at least) for the last ones to reach the queue.
    listen_ms = int(n / rate * 1500) + 3000
    callers = sipp_callers(work, "waiting", "waiting_caller.xml", stack, n,
                           rate, listen_ms)
    deadline = time.monotonic() + listen_ms / 1000
    waiting = 0
    half = None
    while time.monotonic() < deadline:
        waiting = stack.waiting_calls()
        if half is None and waiting >= n // 2:
            half = (waiting, rss_kib(stack.gateway.proc.pid))
        if waiting >= n:
            break
        time.sleep(0.2)
    time.sleep(1)
    rss = rss_kib(stack.gateway.proc.pid)
    router_rss = rss_kib(stack.router.proc.pid)
    callers.wait(listen_ms / 1000 + RECV_TIMEOUT_MS / 1000 + 30)
    stack.settle(30)
    completed = int(callers.stats().get("SuccessfulCall(C)", 0))
    r = {
        "waiting": int(waiting),
        "callers": n,
        "cancelled": completed,
        "gateway_rss_idle_kib": idle,
        "gateway_rss_waiting_kib": rss,
        "gateway_kib_per_call": (rss - idle) / n,
        # The second half's calls alone: what one more call costs, without
        # what the first calls cost once (buffers, allocator arenas).
        "gateway_kib_per_call_marginal": (
            (rss - half[1]) / (waiting - half[0])
            if half and waiting > half[0] else None),
        "router_kib_per_call": (router_rss - router_idle) / n,
    }
    r["passed"] = waiting >= n and completed == n
    log(f"memory: {int(waiting):,} of {n:,} callers waiting; gateway RSS "
        f"{idle / 1024:.1f} → {rss / 1024:.1f} MiB, "
        f"{r['gateway_kib_per_call']:.1f} KiB per waiting call"
        + (f" ({r['gateway_kib_per_call_marginal']:.1f} KiB each from "
           f"{half[0]:,.0f} to {waiting:,.0f})"
           if r["gateway_kib_per_call_marginal"] is not None else "")
        + f" (router {r['router_kib_per_call']:.1f} KiB); {completed:,} "
        "hung up cleanly")
    return r


def machine():
    return {"num_cpus": os.cpu_count(),
            "date": datetime.datetime.now(datetime.timezone.utc)
            .isoformat(timespec="seconds")}


def start_stack(name, args, work, ready=True):
    """A fresh set-up: the gateway's with its agents Available and ready
    (unless not `ready`), or Kamailio alone."""
    started = time.monotonic()
    if name == "baseline":
        return BaselineStack(work)
    stack = GatewayStack(args.build, work, args.agents)
    if ready:
        stack.router.agents_ready()
    log(f"router, gateway and Kamailio up, {args.agents:,} agents"
        f"{' ready' if ready else ''}, in {time.monotonic() - started:.1f} s")
    return stack


def stop_stack(stack, r, args):
    """Stops a set-up; its logs and SIPp files go, unless asked to keep
    them or its last step failed."""
    stack.stop()
    if not r["passed"]:
        log(f"logs of the failed step: {stack.work}")
    elif not args.keep:
        shutil.rmtree(stack.work, ignore_errors=True)


def run(args, work):
    rates = [float(x) for x in args.rates.split(",") if x]
    names = args.only or ["gateway", "baseline"]
    result = {"machine": machine(), "seconds": args.seconds,
              "talk_ms": args.talk_ms, "agents": args.agents,
              "transport": "SIPp-Kamailio UDP, Kamailio-gateway TLS",
              "criterion": (
                  "every call answered by an agent and completed (SIPp "
                  "callers and agents: all calls successful, none failed "
                  f"or timed out after {RECV_TIMEOUT_MS / 1000:.0f} s), "
                  f"retransmissions <= {RETRANS_SHARE:.0%} of the calls, "
                  f"INVITEs sent at >= {RATE_SHARE:.0%} of the rate"),
              "steps": {name: [] for name in names}}
    # A set-up serves step after step while they pass; a failed step may
    # leave calls behind (callers that gave up without a word), so the
    # next step gets a fresh one.
    stacks = {}
    last = {}

    def measure(name, rate):
        if name in stacks and not last[name]["passed"]:
            stop_stack(stacks.pop(name), last[name], args)
        if name not in stacks:
            stacks[name] = start_stack(name, args, work)
        r = step(stacks[name], rate, args.seconds, args.talk_ms)
        result["steps"][name].append(r)
        last[name] = r
        log(summary(name, r))
        return r

    # Agents busy at a rate: each for the talk time and a little more.
    most = args.agents / (args.talk_ms / 1000 + 0.25)
    try:
        if args.waiting and "gateway" in names:
            stacks["gateway"] = start_stack("gateway", args, work,
                                            ready=False)
            result["memory"] = waiting_memory(stacks["gateway"],
                                              args.waiting,
                                              args.waiting_rate)
            # The steps get a set-up of their own: on the one the waiting
            # callers left, the first calls after the pause lost their
            # answers now and then (the SBC's TLS connection to the
            # gateway closed under them; see bench/README.md).
            stop_stack(stacks.pop("gateway"), result["memory"], args)
        best = {name: None for name in names}
        failed = {name: None for name in names}
        for rate in rates:
            for name in names:
                if failed[name] is not None:
                    continue
                if name == "gateway" and rate > most:
                    log(f"gateway: {rate:,.0f} calls/s would need more than"
                        f" {args.agents:,} agents (--agents); stopping")
                    failed[name] = rate
                    continue
                r = measure(name, rate)
                best[name], failed[name] = ((r, None) if r["passed"]
                                            else (best[name], rate))
            if all(f is not None for f in failed.values()):
                break
        if not args.smoke:
            for name in names:
                if best[name] is None or failed[name] is None:
                    continue
                rate = round((best[name]["offered_per_s"] + failed[name]) / 2)
                if rate > best[name]["offered_per_s"]:
                    r = measure(name, rate)
                    if r["passed"]:
                        best[name] = r
    finally:
        for name, stack in stacks.items():
            stop_stack(stack, last.get(name, {"passed": True}), args)
    for name in names:
        result[name] = best[name]
        result[f"{name}_max_per_s"] = (best[name]["offered_per_s"]
                                       if best[name] else 0)
    g = result.get("gateway_max_per_s")
    b = result.get("baseline_max_per_s")
    result["gateway_share_of_baseline"] = (g / b if g is not None and b
                                           else None)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build")
    p.add_argument("results")
    p.add_argument("--rates", default=",".join(str(r) for r in RATES))
    p.add_argument("--seconds", type=float, default=15,
                   help="seconds of arrivals per step")
    p.add_argument("--agents", type=int, default=1000,
                   help="agents in the engine, all on one SIPp; they limit "
                        "the rate to about agents / (talk + 0.25 s)")
    p.add_argument("--talk-ms", type=int, default=1000)
    p.add_argument("--waiting", type=int, default=2000,
                   help="callers waiting for the memory figure (0: none)")
    p.add_argument("--waiting-rate", type=float, default=200,
                   help="arrivals per second of the waiting callers")
    p.add_argument("--only", nargs="*", choices=["gateway", "baseline"],
                   help="one set-up only")
    p.add_argument("--keep", action="store_true",
                   help="keep the logs and SIPp files of every step, not "
                        "only of failed ones (the folder is named at the "
                        "end)")
    p.add_argument("--smoke", action="store_true",
                   help="a tiny run: 5 calls/s for 2 s through each set-up, "
                        "10 waiting callers; fails unless every call "
                        "completed")
    a = p.parse_args()
    if a.smoke:
        a.rates, a.seconds, a.agents, a.talk_ms = "5", 2, 10, 200
        a.waiting, a.waiting_rate, a.only = 10, 20, None
    os.makedirs(a.results, exist_ok=True)
    work = tempfile.mkdtemp(prefix="switchboard-sip-bench-")
    ok = False
    try:
        result = run(a, work)
        with open(os.path.join(a.results, "sip.json"), "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        for name, text in (("gateway", "through the gateway"),
                           ("baseline", "through Kamailio alone")):
            if name in result["steps"]:
                log(f"maximum {text}: {result[name + '_max_per_s']:,.0f} "
                    "call setups/s")
        if result["gateway_share_of_baseline"] is not None:
            log(f"the gateway's rate is "
                f"{result['gateway_share_of_baseline']:.0%} of Kamailio's")
        steps = [r for rs in result["steps"].values() for r in rs]
        ok = (all(r["completed"] == r["calls"] for r in steps)
              and result.get("memory", {"passed": True})["passed"])
        if a.smoke and ok:
            log("smoke: every call completed through the gateway and "
                "through Kamailio alone")
    finally:
        for p in reversed(STARTED):
            p.stop()
        if os.listdir(work):
            log(f"logs kept in {work}" + ("" if a.keep else
                                          " (of the failed steps)"))
        else:
            os.rmdir(work)
    sys.exit(1 if a.smoke and not ok else 0)


if __name__ == "__main__":
    main()
