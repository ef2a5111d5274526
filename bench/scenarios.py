#!/usr/bin/env python3
"""The standard scenarios of scripts/bench, run against real
switchboard-router processes with switchboard-loadgen beside them.

  scenarios.py BUILD_DIR RESULTS_DIR [--only NAME ...] [--quick]

Writes RESULTS_DIR/<scenario>.json for:
  throughput  raise the arrival rate until the p99 routing latency passes
              10 ms or errors appear; the highest sustained rate of full
              call lifecycles (submit -> offer -> accept -> complete)
  latency     p50/p99/p99.9 at half that rate
  durability  the same load with --sync-writes true
  recovery    a node restarted on a store with 100k agents and 1M live
              calls (written by switchboard-bench-scale): time until it
              answers again, and its peak RSS
Every node starts on a fresh data folder (recovery: on the scale store).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

# Contact-center time runs this much faster than real time: a 1 s handle
# time (cc) is 50 ms, a ring 25-125 ms, so 5,000 agents can serve 40,000
# calls/s and agents never limit the rate being measured.
TIME_SCALE = 20
AGENTS = 5000
QUEUES = 4
P99_LIMIT_MS = 10.0
RATES = [1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000,
         12000, 15000, 20000, 25000, 30000]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(text):
    print(f"bench: {text}", flush=True)


class Node:
    """A switchboard-router process on its own ports."""

    def __init__(self, build, data_dir, sync_writes=False):
        self.grpc = f"127.0.0.1:{free_port()}"
        self.metrics = f"127.0.0.1:{free_port()}"
        args = [os.path.join(build, "nodes/router/switchboard-router"),
                "--data-dir", data_dir, "--grpc-listen", self.grpc,
                "--metrics-listen", self.metrics]
        if sync_writes:
            args += ["--sync-writes", "true"]
        self.log_path = data_dir.rstrip("/") + ".log"
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_listening(self, timeout=300):
        host, port = self.grpc.rsplit(":", 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"bench: the node exited ({self.proc.returncode}); "
                         f"see {self.log_path}")
            try:
                with socket.create_connection((host, int(port)), 0.2):
                    return
            except OSError:
                time.sleep(0.02)
        sys.exit(f"bench: the node did not listen on {self.grpc} within "
                 f"{timeout} s; see {self.log_path}")

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def metric(self, name):
        """Sum of a metric's samples on /metrics."""
        with urllib.request.urlopen(f"http://{self.metrics}/metrics",
                                    timeout=10) as r:
            text = r.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Loadgen:
    """switchboard-loadgen driving a generated contact center (AGENTS
    agents, QUEUES queues per tenant, full lifecycles over Ingest) through
    `node` at `rate` real calls/s for `seconds` of arrivals. Entering
    returns once it drives traffic (setting up the agents is not part of
    the load); leaving waits for it to finish."""

    def __init__(self, build, node, rate, seconds, out_json, log_path,
                 tenants=1):
        self.args = [os.path.join(build, "bench/switchboard-loadgen"),
                     "--server", node.grpc, "--metrics", node.metrics,
                     "--generate", str(AGENTS), "--tenants", str(tenants),
                     "--queues", str(QUEUES), "--wrap-up", "0", "--talk", "1",
                     "--breaks-per-hour", "0", "--time-scale",
                     str(TIME_SCALE), "--ingest",
                     "--rate", str(rate / TIME_SCALE),
                     "--duration", str(seconds * TIME_SCALE),
                     "--json", out_json]
        self.log_path = log_path

    def __enter__(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        for line in self.proc.stdout:
            self.log.write(line)
            if line.startswith(b"driving "):
                break
        self.drain = threading.Thread(
            target=lambda: shutil.copyfileobj(self.proc.stdout, self.log))
        self.drain.start()
        return self

    def __exit__(self, *exc):
        self.proc.wait()
        self.drain.join()
        self.log.close()
        return False


def run_load(build, work, rate, seconds, sync_writes=False, name="step"):
    """A fresh node and one load generator run at `rate` real calls/s for
    `seconds` of arrivals. Returns the load generator's JSON plus the
    node's CPU and store figures."""
    data = tempfile.mkdtemp(prefix=f"{name}-", dir=work)
    node = Node(build, os.path.join(data, "data"), sync_writes)
    node.wait_listening()
    out_json = os.path.join(data, "loadgen.json")
    with Loadgen(build, node, rate, seconds, out_json,
                 os.path.join(data, "loadgen.log")):
        # The node's figures count from the first arrival.
        cpu0 = node.cpu_s()
        writes0 = node.metric("switchboard_store_write_seconds_count")
        wsum0 = node.metric("switchboard_store_write_seconds_sum")
        records0 = node.metric("switchboard_store_records_written_total")
    cpu = node.cpu_s() - cpu0
    writes = node.metric("switchboard_store_write_seconds_count") - writes0
    wsum = node.metric("switchboard_store_write_seconds_sum") - wsum0
    records = (node.metric("switchboard_store_records_written_total")
               - records0)
    node.stop()
    if not os.path.exists(out_json):
        sys.exit(f"bench: the load generator failed ({lg.returncode}); see "
                 f"{os.path.join(data, 'loadgen.log')}")
    with open(out_json) as f:
        result = json.load(f)
    completed = result["completed"]
    result.update({
        "sync_writes": sync_writes,
        "node_cpu_s": cpu,
        "node_cpu_per_call_us": cpu / completed * 1e6 if completed else None,
        "store_writes": writes,
        "store_write_mean_us": wsum / writes * 1e6 if writes else None,
        "records_per_write": records / writes if writes else None,
        "lifecycles_per_s": completed / result["arrival_window_s"],
    })
    shutil.rmtree(data, ignore_errors=True)
    return result


def client_p99_ms(r):
    return r["routing_latency_client_us"]["p99"] / 1000


def passes(r):
    return not r["errors"] and client_p99_ms(r) <= P99_LIMIT_MS


def summary(r):
    lat = r["routing_latency_client_us"]
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
    return (f"{r['arrival_rate_per_s']:,.0f} calls/s offered: "
            f"{r['lifecycles_per_s']:,.0f} lifecycles/s, routing p50 "
            f"{lat['p50'] / 1000:.2f} ms p99 {lat['p99'] / 1000:.2f} ms "
            f"(node p99 {r['routing_latency_p99_s'] * 1000:.2f} ms), node "
            f"CPU {r['node_cpu_per_call_us']:.0f} us/call, errors {errors}")


def throughput(build, work, seconds):
    steps = []
    best = None
    failed_at = None
    for rate in RATES:
        r = run_load(build, work, rate, seconds, name=f"rate{rate}")
        r["passed"] = passes(r)
        steps.append(r)
        log(("pass " if r["passed"] else "FAIL ") + summary(r))
        if not r["passed"]:
            failed_at = rate
            break
        best = r
    # One step between the last pass and the first failure.
    if best and failed_at:
        rate = (best["arrival_rate_per_s"] + failed_at) / 2
        r = run_load(build, work, rate, seconds, name=f"rate{int(rate)}")
        r["passed"] = passes(r)
        steps.append(r)
        log(("pass " if r["passed"] else "FAIL ") + summary(r))
        if r["passed"]:
            best = r
    return {
        "criterion": f"routing latency p99 <= {P99_LIMIT_MS} ms (scheduled "
                     "arrival -> offer event at the client) and no errors",
        "agents": AGENTS, "queues": QUEUES, "time_scale": TIME_SCALE,
        "step_seconds": seconds,
        "max_rate_per_s": best["arrival_rate_per_s"] if best else 0,
        "max_lifecycles_per_s": best["lifecycles_per_s"] if best else 0,
        "best": best, "steps": steps,
    }


def recovery(build, work, scale_store):
    if not os.path.isdir(scale_store):
        sys.exit(f"bench: no scale store in {scale_store}; run "
                 "switchboard-bench-scale first")
    # The store was just written: let the kernel write its dirty pages
    # back first, or the node's first file operations wait for that
    # (measured: 2.7 s before the store even opened).
    os.sync()
    node = Node(build, scale_store)
    node.wait_listening()
    cli = os.path.join(build, "nodes/cli/switchboard")
    # Serving again: the first request answered.
    while True:
        r = subprocess.run([cli, "--server", node.grpc, "get", "queues",
                            "--tenant", "scale"], capture_output=True)
        if r.returncode == 0:
            break
        if node.proc.poll() is not None:
            sys.exit(f"bench: the node exited; see {node.log_path}")
        time.sleep(0.05)
    serving_s = time.monotonic() - node.started
    # The queue gauges refresh every 2 s.
    time.sleep(2.5)
    rss = node.peak_rss_mib()
    calls = node.metric("switchboard_queue_waiting_calls")
    node.stop()
    result = {"serving_s": serving_s, "peak_rss_mib": rss,
              "waiting_calls": calls}
    log(f"recovery: serving again {serving_s:.1f} s after start with "
        f"{calls:,.0f} waiting calls; peak RSS {rss:,.0f} MiB")
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("results")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--step-seconds", type=float, default=15)
    ap.add_argument("--scale-store", default=None)
    args = ap.parse_args()
    want = set(args.only or ["throughput", "latency", "durability",
                             "recovery"])
    work = tempfile.mkdtemp(prefix="switchboard-bench-")

    def write(name, result):
        with open(os.path.join(args.results, f"{name}.json"), "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")

    try:
        max_rate = None
        if "throughput" in want:
            t = throughput(args.build, work, args.step_seconds)
            write("throughput", t)
            max_rate = t["max_rate_per_s"]
            log(f"maximum: {t['max_lifecycles_per_s']:,.0f} full lifecycles/s "
                f"({max_rate:,.0f} calls/s offered)")
        if max_rate is None and (want & {"latency", "durability"}):
            path = os.path.join(args.results, "throughput.json")
            with open(path) as f:
                max_rate = json.load(f)["max_rate_per_s"]
        half = (max_rate or RATES[0]) / 2
        if "latency" in want or "durability" in want:
            r = run_load(args.build, work, half, 2 * args.step_seconds,
                         name="latency")
            log("latency at half the maximum: " + summary(r))
            write("latency", {"rate_per_s": half, "result": r})
        if "durability" in want:
            s = run_load(args.build, work, half, 2 * args.step_seconds,
                         sync_writes=True, name="durability")
            log("with --sync-writes: " + summary(s))
            write("durability", {"rate_per_s": half, "sync_off": r,
                                 "sync_on": s})
        if "recovery" in want:
            store = args.scale_store or os.path.join(args.build,
                                                     "scale-store")
            write("recovery", recovery(args.build, work, store))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
