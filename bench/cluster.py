#!/usr/bin/env python3
"""Throughput of one node against a cluster of three on this machine.

  cluster.py BUILD_DIR RESULTS_DIR [--rates 1000,2000] [--seconds 15]
                                   [--move-rate 1000]

For each rate, the same load (switchboard-loadgen: 5,000 agents in six
tenants of four queues, full call lifecycles over Ingest streams) runs
against one node, then against three nodes forming a cluster, with the
load generator connected to the first node only, so that the calls of the
tenants the others own cross a node. Reports lifecycles/s, client routing
latency and each node's CPU per call; writes RESULTS_DIR/cluster.json.
All nodes share this machine's cores, so three nodes cannot be faster
here; the figures show what forwarding costs and how the work spreads.

Then the pause of moving tenants: two nodes under load at --move-rate; half
way through, a third node joins, and the tenants it now owns move to it
with their agents, live calls, events and history. Each move's pause
(from stopping the tenant on the old node to its start on the new one)
and record count come from the old nodes' logs; the load generator
reports what the clients saw meanwhile.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios  # noqa: E402

TENANTS = 6


class ClusterNode(scenarios.Node):
    """A switchboard-router that is one member of a cluster."""

    def __init__(self, build, data_dir, name, cluster_port, peers):
        self.grpc = f"127.0.0.1:{scenarios.free_port()}"
        self.metrics = f"127.0.0.1:{scenarios.free_port()}"
        args = [os.path.join(build, "nodes/router/switchboard-router"),
                "--data-dir", data_dir, "--grpc-listen", self.grpc,
                "--metrics-listen", self.metrics, "--node-name", name]
        if peers:
            # Loopback only, and measured as the plain cluster transport.
            args += ["--cluster-listen", f"127.0.0.1:{cluster_port}",
                     "--peers", peers, "--cluster-allow-insecure", "true"]
        self.log_path = data_dir.rstrip("/") + ".log"
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT)


def start_cluster(build, work, size, configured=None):
    """`size` nodes; the first `configured` (default: all) list each other
    as peers, the others list everyone and join at run time."""
    configured = size if configured is None else configured
    names = [f"router-{i}" for i in range(size)]
    ports = [scenarios.free_port() for _ in range(size)]
    nodes = []
    for i in range(configured):
        peers = ",".join(f"{names[j]}=127.0.0.1:{ports[j]}"
                         for j in range(configured) if j != i)
        data = tempfile.mkdtemp(prefix=f"{names[i]}-", dir=work)
        nodes.append(ClusterNode(build, os.path.join(data, "data"), names[i],
                                 ports[i], peers))
    for n in nodes:
        n.wait_listening()
    joiners = []
    for i in range(configured, size):
        peers = ",".join(f"{names[j]}=127.0.0.1:{ports[j]}"
                         for j in range(size) if j != i)
        data = tempfile.mkdtemp(prefix=f"{names[i]}-", dir=work)
        joiners.append(lambda i=i, peers=peers, data=data: ClusterNode(
            build, os.path.join(data, "data"), names[i], ports[i], peers))
    if configured > 1:
        cli = os.path.join(build, "nodes/cli/switchboard")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            up = subprocess.run([cli, "--server", nodes[0].grpc, "cluster"],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode == 0
            if up:
                break
            time.sleep(0.1)
    return (nodes, joiners) if joiners else nodes


def move(build, work, rate, seconds):
    """Two nodes under load; a third joins half way through."""
    nodes, joiners = start_cluster(build, work, 3, configured=2)
    out_json = os.path.join(work, f"loadgen-move-{rate}.json")
    with scenarios.Loadgen(build, nodes[0], rate, seconds, out_json,
                           os.path.join(work, f"loadgen-move-{rate}.log"),
                           tenants=TENANTS):
        time.sleep(seconds / 2)
        third = joiners[0]()
        third.wait_listening()
    moves = []
    for n in nodes:
        n.stop()
        with open(n.log_path) as f:
            for line in f:
                if '"msg":"tenant moved"' in line:
                    moves.append(json.loads(line))
    third.stop()
    with open(out_json) as f:
        r = json.load(f)
    result = {
        "offered_per_s": rate,
        "moves": [{"tenant": m["tenant"], "records": int(m["records"]),
                   "paused_ms": int(m["paused_ms"])} for m in moves],
        "lifecycles_per_s": r["completed"] / r["arrival_window_s"],
        "client_p99_ms": r["routing_latency_client_us"]["p99"] / 1000,
        "errors": r["errors"],
    }
    for m in result["moves"]:
        print(f"cluster: tenant {m['tenant']} moved with {m['records']:,} "
              f"records, paused {m['paused_ms']} ms", flush=True)
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
    print(f"cluster: under {rate:,}/s while moving: "
          f"{result['lifecycles_per_s']:,.0f} lifecycles/s, client p99 "
          f"{result['client_p99_ms']:.2f} ms, errors {errors}", flush=True)
    return result


def run(build, work, size, rate, seconds):
    nodes = start_cluster(build, work, size)
    out_json = os.path.join(work, f"loadgen-{size}-{rate}.json")
    log_path = os.path.join(work, f"loadgen-{size}-{rate}.log")
    with scenarios.Loadgen(build, nodes[0], rate, seconds, out_json, log_path,
                           tenants=TENANTS):
        cpu0 = [n.cpu_s() for n in nodes]
    cpu = [n.cpu_s() - c for n, c in zip(nodes, cpu0)]
    for n in nodes:
        n.stop()
    if not os.path.exists(out_json):
        sys.exit(f"cluster: the load generator failed; see {log_path}")
    with open(out_json) as f:
        r = json.load(f)
    completed = r["completed"]
    lat = r["routing_latency_client_us"]
    result = {
        "nodes": size,
        "offered_per_s": rate,
        "lifecycles_per_s": completed / r["arrival_window_s"],
        "client_p50_ms": lat["p50"] / 1000,
        "client_p99_ms": lat["p99"] / 1000,
        "errors": r["errors"],
        "node_cpu_per_call_us": [c / completed * 1e6 if completed else None
                                 for c in cpu],
        "cluster_cpu_per_call_us": (sum(cpu) / completed * 1e6
                                    if completed else None),
    }
    per_node = ", ".join(f"{x:.0f}" for x in result["node_cpu_per_call_us"])
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
    print(f"cluster: {size} node(s) at {rate:,}/s: "
          f"{result['lifecycles_per_s']:,.0f} lifecycles/s, client p50 "
          f"{result['client_p50_ms']:.2f} ms p99 "
          f"{result['client_p99_ms']:.2f} ms, CPU us/call per node "
          f"[{per_node}] (total {result['cluster_cpu_per_call_us']:.0f}), "
          f"errors {errors}", flush=True)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build")
    p.add_argument("results")
    p.add_argument("--rates", default="1000,2000")
    p.add_argument("--seconds", type=int, default=15)
    p.add_argument("--move-rate", type=int, default=1000)
    a = p.parse_args()
    os.makedirs(a.results, exist_ok=True)
    work = tempfile.mkdtemp(prefix="switchboard-cluster-bench-")
    results = {"throughput": [], "move": None}
    try:
        for rate in [int(x) for x in a.rates.split(",") if x]:
            for size in (1, 3):
                results["throughput"].append(
                    run(a.build, work, size, rate, a.seconds))
        if a.move_rate > 0:
            results["move"] = move(a.build, work, a.move_rate, a.seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(a.results, "cluster.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
