#!/usr/bin/env python3
"""Regenerates the results section of bench/README.md from Google Benchmark
JSON output (bench/results/routing.json)."""

import json
import os
import re
import sys
from collections import defaultdict

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"


def parse_name(name):
    parts = name.split("/")
    fields = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    return parts[0], {k: int(v) for k, v in fields.items()}


def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def fmt_count(n):
    return f"{n // 1000000}M" if n >= 1000000 else f"{n // 1000}k"


def machine(context):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_gib = int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    return (f"{context.get('num_cpus', os.cpu_count())} cores ({cpu}), "
            f"{mem_gib:.0f} GiB memory; run {context.get('date', '?')}; "
            "Switchboard built in Release mode by scripts/bench")


def table(results, kind, selectors, profiles=256):
    agents = sorted({p["agents"] for k, p, _ in results if k == kind})
    calls = sorted({p["calls"] for k, p, _ in results if k == kind})
    cell = {}
    for k, p, r in results:
        if (k == kind and p["selectors"] == selectors
                and p["profiles"] == profiles):
            cell[(p["agents"], p["calls"])] = r
    if not cell:
        return []
    lines = ["| agents \\ waiting calls | "
             + " | ".join(fmt_count(c) for c in calls) + " |",
             "|---|" + "---|" * len(calls)]
    for a in agents:
        row = []
        for c in calls:
            r = cell.get((a, c))
            if r is None:
                row.append("–")
            else:
                found = r.get("found")
                extra = f" ({found:.0%} found)" if found is not None else ""
                row.append(fmt_ns(r["real_time"]) + extra)
        lines.append(f"| {fmt_count(a)} | " + " | ".join(row) + " |")
    return lines


def scale_check(results):
    by = defaultdict(dict)
    for k, p, r in results:
        if k in ("call_to_agent", "agent_to_call") and p["profiles"] == 256:
            by[(k, p["calls"], p["selectors"])][p["agents"]] = r["real_time"]
    lines = ["| direction | waiting calls | selectors | 1k agents | "
             "100k agents | ratio |", "|---|---|---|---|---|---|"]
    worst = 0.0
    for (k, c, s), t in sorted(by.items()):
        if 1000 in t and 100000 in t:
            ratio = t[100000] / t[1000]
            worst = max(worst, ratio)
            lines.append(f"| {k} | {fmt_count(c)} | {s} | {fmt_ns(t[1000])} "
                         f"| {fmt_ns(t[100000])} | {ratio:.2f}× |")
    return lines, worst


def store_table(path):
    """The store write benchmark: one routing step's batch per write."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError:
        return []
    rows = []
    for b in data["benchmarks"]:
        m = re.match(r"write_step/sync:(\d)/real_time/threads:(\d+)", b["name"])
        if not m:
            continue
        rows.append((int(m.group(1)), int(m.group(2)), b))
    if not rows:
        return []
    lines = ["### Store: one acknowledged routing step (state + event + "
             "idempotency key, ~600 bytes)", "",
             "| sync writes | writers | latency per write | writes/s (all "
             "writers) |", "|---|---|---|---|"]
    for sync, threads, b in sorted(rows, key=lambda r: (r[0], r[1])):
        rate = b.get("items_per_second", 0)
        # real time is per iteration of one thread; with N writers each
        # waits that long while N writes complete.
        lines.append(f"| {'on' if sync else 'off'} | {threads} | "
                     f"{fmt_ns(b['real_time'] * 1000 * threads)} | "
                     f"{rate:,.0f} |")
    return lines + [""]


def load_result(results_dir, name):
    path = os.path.join(results_dir, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def verdict(ok):
    return "met" if ok else "**missed**"


def lat_ms(r):
    c = r["routing_latency_client_us"]
    return (f"p50 {c['p50'] / 1000:.2f} ms, p99 {c['p99'] / 1000:.2f} ms, "
            f"p99.9 {c['p999'] / 1000:.2f} ms")


def node_ms(r):
    return (f"p50 {r['routing_latency_p50_s'] * 1000:.2f} ms, p99 "
            f"{r['routing_latency_p99_s'] * 1000:.2f} ms, p99.9 "
            f"{r['routing_latency_p999_s'] * 1000:.2f} ms")


def errors_of(r):
    return ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"


def scenarios_section(results_dir):
    """The standard scenarios (bench/scenarios.py, switchboard-bench-scale)
    against the targets of issue 4."""
    t = load_result(results_dir, "throughput")
    lat = load_result(results_dir, "latency")
    dur = load_result(results_dir, "durability")
    rec = load_result(results_dir, "recovery")
    scale = load_result(results_dir, "scale")
    if not any((t, lat, dur, rec, scale)):
        return []
    out = ["### Standard scenarios against the targets", "",
           "Routing latency is measured by the load generator from each "
           "call's scheduled arrival to its offer event at the client "
           "(\"client\"), and by the node from the call becoming routable "
           "to the offer's write (\"node\").", "",
           "| scenario | figure | target | |", "|---|---|---|---|"]
    if t:
        best = t.get("best") or {}
        out.append(
            f"| 1. maximum throughput | **{t['max_lifecycles_per_s']:,.0f} "
            f"full call lifecycles/s** ({t['max_rate_per_s']:,.0f} calls/s "
            f"offered{'; ' + lat_ms(best) if best else ''}) | ≥ 20,000/s, "
            f"p99 ≤ 10 ms | {verdict(t['max_lifecycles_per_s'] >= 20000)} |")
    if lat:
        r = lat["result"]
        client = r["routing_latency_client_us"]["p99"] / 1000
        node = r["routing_latency_p99_s"] * 1000
        out.append(
            f"| 2. latency at half that rate ({lat['rate_per_s']:,.0f} "
            f"calls/s) | client {lat_ms(r)}; node {node_ms(r)} | p99 ≤ 2 ms "
            f"| client: {verdict(client <= 2.0)}; node: "
            f"{verdict(node <= 2.0)} |")
    if scale:
        out.append(
            f"| 3. scale: 100k agents + 1M waiting calls | peak RSS "
            f"{scale['peak_rss_mib']:,.0f} MiB (routing domain "
            f"{scale['domain_mib']:,.0f} MiB); decision p50 "
            f"{scale['decision_p50_us']:.1f} µs, p99 "
            f"{scale['decision_p99_us']:.1f} µs | ≤ 4 GiB | "
            f"{verdict(scale['peak_rss_mib'] <= 4096)} |")
    if rec:
        out.append(
            f"| 3. the same store in a real node | peak RSS "
            f"{rec['peak_rss_mib']:,.0f} MiB with "
            f"{rec['waiting_calls']:,.0f} waiting calls | ≤ 4 GiB | "
            f"{verdict(rec['peak_rss_mib'] <= 4096)} |")
    if dur:
        off, on = dur["sync_off"], dur["sync_on"]
        out.append(
            f"| 4. durability at {dur['rate_per_s']:,.0f} calls/s | "
            f"`--sync-writes` off: client {lat_ms(off)}, store write "
            f"{off['store_write_mean_us']:.0f} µs; on: client {lat_ms(on)}, "
            f"store write {on['store_write_mean_us']:.0f} µs "
            f"({on['records_per_write']:.1f} records per write) | | |")
    if rec:
        out.append(
            f"| 5. recovery with 1M live calls | **serving again "
            f"{rec['serving_s']:.1f} s** after the node started | ≤ 15 s "
            f"| {verdict(rec['serving_s'] <= 15)} |")
    elif scale:
        out.append(
            f"| 5. recovery with 1M live calls (tenant actor) | serving "
            f"again {scale['recovery_s']:.1f} s | ≤ 15 s | "
            f"{verdict(scale['recovery_s'] <= 15)} |")
    out.append("")
    if t and t.get("steps"):
        out += [f"Throughput steps ({t['step_seconds']:.0f} s of arrivals "
                f"each, a fresh node each, {t['agents']:,} agents, time "
                f"scale {t['time_scale']}):", "",
                "| calls/s offered | lifecycles/s | client latency | node "
                "latency | node CPU per call | errors | |",
                "|---|---|---|---|---|---|---|"]
        for r in sorted(t["steps"], key=lambda x: x["arrival_rate_per_s"]):
            out.append(
                f"| {r['arrival_rate_per_s']:,.0f} | "
                f"{r['lifecycles_per_s']:,.0f} | {lat_ms(r)} | "
                f"{node_ms(r)} | {r['node_cpu_per_call_us']:.0f} µs | "
                f"{errors_of(r)} | {'pass' if r['passed'] else 'fail'} |")
        out.append("")
    return out


def main():
    data_path, readme_path = sys.argv[1], sys.argv[-1]
    store_path = sys.argv[2] if len(sys.argv) > 3 else None
    with open(data_path) as f:
        data = json.load(f)
    results = []
    for b in data["benchmarks"]:
        kind, params = parse_name(b["name"])
        results.append((kind, params, b))
    out = [BEGIN, "",
           f"Machine: {machine(data.get('context', {}))}.", ""]
    out += scenarios_section(os.path.dirname(os.path.abspath(data_path)))
    lines, worst = scale_check(results)
    if worst:
        out += [f"**Scaling: a decision at 100k agents costs at most "
                f"{worst:.2f}× a decision at 1k agents** (target ≤ 3×), "
                "over every waiting-call count and selector count:", ""]
        out += lines + [""]
    for kind, title in (("call_to_agent",
                         "(a) A new call arrives: best agent"),
                        ("agent_to_call",
                         "(b) An agent's work ends: best waiting call")):
        for s in (1, 5, 20):
            t = table(results, kind, s)
            if t:
                out += [f"### {title}, {s} selector{'s' if s > 1 else ''} "
                        "per call", ""] + t + [""]
    sweep = [(p, r) for k, p, r in results
             if k in ("call_to_agent", "agent_to_call")
             and p["agents"] == 100000 and p["calls"] == 100000
             and p["selectors"] == 5]
    if sweep:
        out += ["### What the cost grows with: distinct agent profiles "
                "(100k agents, 100k calls, 5 selectors)", "",
                "| profiles | (a) call → agent | (b) agent → call |",
                "|---|---|---|"]
        by_profiles = defaultdict(dict)
        for p, r in sweep:
            kind = parse_name(r["name"])[0]
            by_profiles[p["profiles"]][kind] = r["real_time"]
        for n in sorted(by_profiles):
            t = by_profiles[n]
            out.append(f"| {n} | {fmt_ns(t.get('call_to_agent', 0))} | "
                       f"{fmt_ns(t.get('agent_to_call', 0))} |")
        out.append("")
    commit = [(p, r) for k, p, r in results if k == "route_and_commit"]
    if commit:
        out += ["### Decide and commit (decision + reserve + release, or "
                "enqueue + withdraw), 5 selectors", "",
                "| agents | waiting calls | time |", "|---|---|---|"]
        for p, r in sorted(commit, key=lambda x: (x[0]["agents"],
                                                   x[0]["calls"])):
            out.append(f"| {fmt_count(p['agents'])} | "
                       f"{fmt_count(p['calls'])} | {fmt_ns(r['real_time'])} |")
        out.append("")
    if store_path:
        out += store_table(store_path)
    out.append(END)
    with open(readme_path) as f:
        text = f.read()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        sys.exit(f"report: {readme_path} has no {BEGIN} ... {END} section")
    text = pattern.sub(lambda _: "\n".join(out), text)
    with open(readme_path, "w") as f:
        f.write(text)
    print(f"report: wrote {len(results)} results into {readme_path}")


if __name__ == "__main__":
    main()
