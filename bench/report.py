#!/usr/bin/env python3
"""Regenerates the results sections of bench/README.md.

  report.py ROUTING_JSON [STORE_JSON] README   the results of scripts/bench
                                               (Google Benchmark JSON and the
                                               scenarios' JSON beside it),
                                               and the SIP results if
                                               sip.json is there too
  report.py --sip SIP_JSON README              the SIP results only
                                               (scripts/bench-sip)"""

import json
import os
import re
import sys
from collections import defaultdict

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"
SIP_BEGIN = "<!-- sip-results:begin -->"
SIP_END = "<!-- sip-results:end -->"


def parse_name(name):
    parts = name.split("/")
    fields = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    return parts[0], {k: int(v) for k, v in fields.items()}


def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def fmt_count(n):
    return f"{n // 1000000}M" if n >= 1000000 else f"{n // 1000}k"


def machine(context, script="scripts/bench"):
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
            f"Switchboard built in Release mode by {script}")


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


def fmt_ms(x):
    return "–" if x is None else f"{x:.1f} ms"


def fmt_us(x):
    return "–" if x is None else f"{x:,.0f} µs"


def sip_cpu(r):
    """CPU per call of a step: each process, and all of them with SIPp."""
    cpu = dict(r["cpu_per_call_us"])
    cpu["sipp"] = r["sipp_cpu_per_call_us"]
    cpu["all"] = sum(cpu.values())
    return cpu


def sip_section(sip):
    """The SIP call-setup benchmark (bench/sip.py) against issue 14's
    targets, the gateway beside Kamailio alone."""
    g, b = sip.get("gateway"), sip.get("baseline")
    out = [f"Machine: {machine(sip['machine'], 'scripts/bench-sip')}. "
           f"Steps of {sip['seconds']:.0f} s of arrivals, talk "
           f"{sip['talk_ms'] / 1000:g} s, {sip['agents']:,} agents; "
           f"{sip['transport']}.", "",
           "| figure | through the gateway | Kamailio alone | target | |",
           "|---|---|---|---|---|"]
    gmax = sip.get("gateway_max_per_s", 0)
    bmax = sip.get("baseline_max_per_s", 0)
    share = sip.get("gateway_share_of_baseline")
    out.append(f"| highest call-setup rate, every call completed | "
               f"**{gmax:,.0f}/s** | {bmax:,.0f}/s | ≥ 500/s through one "
               f"gateway | {verdict(gmax >= 500)} |")
    if share is not None:
        out.append(f"| the gateway's rate as a share of Kamailio's | "
                   f"**{share:.0%}** | 100% | | |")

    def pdd(r):
        if not r or not r["post_dial_ms"]["samples"]:
            return "–"
        p = r["post_dial_ms"]
        return f"p50 {fmt_ms(p['p50'])}, p99 {fmt_ms(p['p99'])}"

    def cpu(r):
        if not r:
            return "–"
        c = sip_cpu(r)
        parts = [f"{name} {fmt_us(c[key])}" for key, name in
                 (("gateway", "gateway"), ("router", "router"),
                  ("kamailio", "Kamailio")) if key in c]
        return (", ".join(parts) + f"; all processes with SIPp "
                f"{fmt_us(c['all'])}")

    if g or b:
        out.append(f"| post-dial delay at that rate (caller's INVITE → "
                   f"agent's INVITE) | {pdd(g)} | {pdd(b)} | | |")
        out.append(f"| CPU per call at that rate | {cpu(g)} | {cpu(b)} | "
                   "| |")
    m = sip.get("memory")
    if m:
        kib = m["gateway_kib_per_call"]
        marginal = m.get("gateway_kib_per_call_marginal")
        extra = (f"; {marginal:.1f} KiB each for the second half"
                 if marginal is not None else "")
        out.append(f"| gateway memory per waiting call ({m['waiting']:,} "
                   f"callers waiting, no agent ready) | **{kib:.1f} KiB**"
                   f"{extra} (the router: {m['router_kib_per_call']:.1f} "
                   f"KiB) | | < 20 KiB | {verdict(kib < 20)} |")
    out += ["", "Every step (both set-ups at each rate, one after the "
            "other); CPU per call is user + sys of each process over the "
            "step, divided by its calls:", "",
            "| calls/s offered | set-up | completed | retransmissions | "
            "post-dial p50 | p99 | CPU/call: gateway | router | Kamailio "
            "| SIPp | all | |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    rows = [(r, name) for name in ("gateway", "baseline")
            for r in sip["steps"].get(name, [])]
    for r, name in sorted(rows, key=lambda x: (x[0]["offered_per_s"],
                                               x[1] != "gateway")):
        p = r["post_dial_ms"]
        c = sip_cpu(r)
        verdict_text = "pass" if r["passed"] else (
            "fail: " + "; ".join(r["problems"]))
        out.append(
            f"| {r['offered_per_s']:,.0f} | "
            f"{'gateway' if name == 'gateway' else 'Kamailio alone'} | "
            f"{r['completed']:,} of {r['calls']:,} | {r['retransmissions']:,}"
            f" | {fmt_ms(p['p50'])} | {fmt_ms(p['p99'])} | "
            f"{fmt_us(c.get('gateway'))} | {fmt_us(c.get('router'))} | "
            f"{fmt_us(c['kamailio'])} | {fmt_us(c['sipp'])} | "
            f"{fmt_us(c['all'])} | {verdict_text} |")
    return out


def replace_block(text, begin, end, lines, readme_path):
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        sys.exit(f"report: {readme_path} has no {begin} ... {end} section")
    block = "\n".join([begin, ""] + lines + ["", end])
    return pattern.sub(lambda _: block, text)


def write_sip(sip_path, readme_path):
    with open(sip_path) as f:
        sip = json.load(f)
    with open(readme_path) as f:
        text = f.read()
    text = replace_block(text, SIP_BEGIN, SIP_END, sip_section(sip),
                         readme_path)
    with open(readme_path, "w") as f:
        f.write(text)
    print(f"report: wrote the SIP results into {readme_path}")


def main():
    if sys.argv[1] == "--sip":
        write_sip(sys.argv[2], sys.argv[3])
        return
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
    sip_path = os.path.join(os.path.dirname(os.path.abspath(data_path)),
                            "sip.json")
    if os.path.exists(sip_path):
        write_sip(sip_path, readme_path)


if __name__ == "__main__":
    main()
