#!/usr/bin/env python3
"""bench/report.py WORKDIR OUTDIR - the benchmark table from scripts/bench.sh's raw results.

Reads WORKDIR/{env.json, classify-*.out, throughput.jsonl, latency.jsonl, users.jsonl,
rebalance.env, rebalance.jsonl}
(whichever sections ran), prints one Markdown table, and writes OUTDIR/<date>.md and
OUTDIR/<date>.json (the figures plus every raw run). Each figure is the median of the runs
with the spread (min-max). Targets are judged PASS/MISS; they never change the exit status.
Exit status: 0, or 1 when a section's raw results are unusable (the harness broke).
"""
import json
import os
import statistics
import sys
import time


def load_lines(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def fmt_num(v, unit):
    if v is None:
        return "n/a"
    if unit == "records/s":
        return f"{v:,.0f}"
    if unit in ("ms", "s", "B/user", "CPU s/M records", "ns/record"):
        return f"{v:,.2f}" if v < 100 else f"{v:,.1f}"
    if unit in ("Ir/record", "records"):
        return f"{v:,.0f}"
    if unit in ("x ceiling", "x passthrough CPU"):
        return f"{v:.3f}"
    return f"{v:,.2f}"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, name, unit, values, target=None, ok=None, note=""):
        values = [v for v in values if v is not None]
        row = {"figure": name, "unit": unit, "runs": values, "note": note}
        if values:
            row.update(median=statistics.median(values), min=min(values), max=max(values))
        else:
            row.update(median=None, min=None, max=None)
        if target is not None:
            row["target"] = target
            row["verdict"] = "n/a" if row["median"] is None else ("PASS" if ok(row["median"]) else "MISS")
        self.rows.append(row)
        return row

    def markdown(self):
        out = ["| figure | median | spread (min–max) | runs | target | result |",
               "|---|---:|---:|---:|---|---|"]
        for r in self.rows:
            med = fmt_num(r["median"], r["unit"])
            unit = r["unit"]
            spread = "–" if r["median"] is None else \
                f"{fmt_num(r['min'], unit)} – {fmt_num(r['max'], unit)}"
            name = r["figure"] + (f" ({r['note']})" if r["note"] else "")
            out.append(f"| {name} | {med} {unit} | {spread} | {len(r['runs'])} | "
                       f"{r.get('target', '')} | {r.get('verdict', '')} |")
        return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    w, outdir = sys.argv[1], sys.argv[2]
    env = json.load(open(os.path.join(w, "env.json")))
    env["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    t = Table()
    raw = {}
    broken = []

    # -- throughput ---------------------------------------------------------------------------
    thr = load_lines(os.path.join(w, "throughput.jsonl"))
    ceiling = None
    if thr is not None:
        raw["throughput"] = thr
        by = {}
        for x in thr:
            r = x["result"]
            if not r.get("done") or r["wall_s"] <= 0:
                broken.append(f"throughput {x['mode']} run {x['run']}")
                continue
            secs = r["wall_s"] - x["users_load_ms"] / 1000.0
            by.setdefault(x["mode"], []).append({
                "run": x["run"], "rps": r["expect"] / secs,
                "cpu_per_m": r["cpu_s"] / (r["expect"] / 1e6),
                "users_ms": x["users_load_ms"], "first": r["first_output_s"]})
        n = thr[0]["result"]["expect"] if thr else 0
        pt = by.get("passthrough", [])
        ceiling_row = t.add("ceiling: passthrough consume→produce", "records/s", [x["rps"] for x in pt],
                            note=f"N={n:,}")
        ceiling = ceiling_row["median"]
        for mode, target in (("at_least_once", 0.9), ("exactly_once", None)):
            xs = by.get(mode, [])
            t.add(f"logclassify {mode}", "records/s", [x["rps"] for x in xs],
                  note="users load time excluded")
            ceil_by_run = {x["run"]: x["rps"] for x in pt}
            ratios = [x["rps"] / ceil_by_run[x["run"]] for x in xs if x["run"] in ceil_by_run]
            if target:
                t.add(f"  {mode} / ceiling", "x ceiling", ratios, target="≥ 0.9",
                      ok=lambda v: v >= 0.9, note="per-run ratio")
            else:
                t.add(f"  {mode} / ceiling", "x ceiling", ratios, note="per-run ratio")
        users = [x["users_ms"] / 1000.0 for m in ("at_least_once", "exactly_once") for x in by.get(m, [])]
        t.add("  users load at start (10k accounts), excluded above", "s", users)
        # The CPU goals (issue 12): CPU seconds per million records for each mode, and
        # at_least_once's CPU over the passthrough's, taken per run (same topic, same round).
        cpu_goal = {"at_least_once": 2.0, "exactly_once": 2.6}
        for mode in ("passthrough", "at_least_once", "exactly_once"):
            goal = cpu_goal.get(mode)
            t.add(f"CPU per million records: {mode}", "CPU s/M records",
                  [x["cpu_per_m"] for x in by.get(mode, [])], note="utime+stime, all threads",
                  target=f"≤ {goal}" if goal else None,
                  ok=(lambda v, g=goal: v <= g) if goal else None)
        pt_cpu = {x["run"]: x["cpu_per_m"] for x in pt}
        for mode, goal in (("at_least_once", 1.15), ("exactly_once", None)):
            ratios = [x["cpu_per_m"] / pt_cpu[x["run"]] for x in by.get(mode, [])
                      if pt_cpu.get(x["run"])]
            t.add(f"  CPU {mode} / passthrough", "x passthrough CPU", ratios,
                  note="per-run ratio" + ("" if goal else "; includes the transactions"),
                  target=f"≤ {goal}" if goal else None,
                  ok=(lambda v, g=goal: v <= g) if goal else None)

    # -- classifier ---------------------------------------------------------------------------
    big = env.get("classify_big_users", 0)
    for mix, title in (("default", "default mix"), ("good", "all good"),
                       ("bigusers", f"default mix, {big / 1e6:g} M users")):
        rows = load_lines(os.path.join(w, f"classify-{mix}.out"))
        if rows is None:
            continue
        head, runs = rows[0], rows[1:]
        truth_path = os.path.join(w, f"classify-{mix}.truth.json")
        match = None
        if os.path.exists(truth_path):
            truth = json.load(open(truth_path))
            match = truth["labels"] == head["labels"] and truth["reasons"] == head["reasons"]
        raw[f"classify_{mix}"] = {"summary": head, "runs": runs, "labels_match_truth": match}
        if not runs:
            broken.append(f"classifier {mix}")
        note = f"{head['records']:,} records, {head['bytes'] / head['records']:.0f} B avg"
        if match is not None:
            note += ", labels = loggen truth" if match else ", LABELS DIFFER FROM TRUTH"
        if mix == "default":
            t.add(f"classifier alone, {title}", "records/s", [r["rps_cpu"] for r in runs],
                  target="≥ 2,000,000 /core", ok=lambda v: v >= 2e6, note="per core; " + note)
        else:
            t.add(f"classifier alone, {title}", "records/s", [r["rps_cpu"] for r in runs],
                  note="per core; " + note)
        t.add(f"  ns per record, {title}", "ns/record", [r["ns_per_record"] for r in runs])
        cg_path = os.path.join(w, f"classify-{mix}.cg.json")
        if os.path.exists(cg_path):
            cg = json.load(open(cg_path))
            raw[f"classify_{mix}"]["callgrind"] = cg
            if cg.get("ir", 0) > 0 and cg.get("calls", 0) > 0:
                t.add(f"  instructions per record, {title}", "Ir/record", [cg["ir"] / cg["calls"]],
                      note="callgrind, lc_classify inclusive: deterministic")
            else:
                broken.append(f"classifier {mix} callgrind")

    # -- latency ------------------------------------------------------------------------------
    lat = load_lines(os.path.join(w, "latency.jsonl"))
    if lat is not None:
        raw["latency"] = lat
        ok = [x for x in lat if x["result"].get("measured", 0) > 0]
        if len(ok) != len(lat):
            broken.append("latency")
        rate = lat[0]["rate"] if lat else 0
        note = f"at {rate:,} records/s offered"
        t.add("latency p50", "ms", [x["result"]["p50_ms"] for x in ok], note=note)
        t.add("latency p99", "ms", [x["result"]["p99_ms"] for x in ok], target="≤ 10 ms",
              ok=lambda v: v <= 10, note=note)
        t.add("latency p99.9", "ms", [x["result"]["p999_ms"] for x in ok], note=note)
        if all("hop_p50_ms" in x["result"] for x in ok):
            for q, qn in (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")):
                t.add(f"  of which the logclassify hop, {qn}", "ms", [x["result"][f"hop_{q}_ms"] for x in ok],
                      note="input visible → output visible")
            for q, qn in (("p50", "p50"), ("p99", "p99")):
                t.add(f"  of which upstream, {qn}", "ms", [x["result"][f"up_{q}_ms"] for x in ok],
                      note="input timestamp → input visible")
        t.add("  CPU per million records at that rate", "CPU s/M records",
              [x["cpu_s"] / (x["count"] / 1e6) for x in ok], note="logclassify")
        if all(x.get("broker_cores", 0) > 0 for x in ok):
            t.add("  broker CPU during the run (it shares the machine)", "cores",
                  [x["broker_cores"] for x in ok], note="local Kafka broker")

    # -- users --------------------------------------------------------------------------------
    us = load_lines(os.path.join(w, "users.jsonl"))
    if us is not None:
        raw["users"] = us
        sizes = sorted({x["users"] for x in us})
        for n in sizes:
            xs = [x["result"] for x in us if x["users"] == n]
            label = f"{n / 1e6:g} M" if n >= 1e6 else f"{n / 1e3:g} k"
            t.add(f"users {label}: load from MariaDB", "s", [x["load_s"] for x in xs],
                  note=f"{xs[0]['rows']:,} rows")
            big = n >= 10_000_000
            t.add(f"users {label}: resident memory per user", "B/user", [x["rss_per_user"] for x in xs],
                  target="≤ 24 B" if big else None, ok=(lambda v: v <= 24) if big else None,
                  note="VmRSS delta / accounts")
            t.add(f"users {label}: snapshot bytes per user", "B/user", [x["mem_per_user"] for x in xs],
                  note="lc_users_memory_bytes / accounts")
            t.add(f"users {label}: load peak per user", "B/user", [x["peak_per_user"] for x in xs],
                  note="VmHWM delta / accounts")

    # -- rebalance ------------------------------------------------------------------------------
    reb = load_lines(os.path.join(w, "rebalance.jsonl"))
    reb_env = None
    if reb is not None:
        reb_env = json.load(open(os.path.join(w, "rebalance.env")))
        raw["rebalance"] = {"settings": reb_env, "runs": reb}

        def event(x, name):
            return next((e for e in x["result"].get("events", []) if e["event"] == name), None)

        for gp in ("classic", "consumer"):
            xs = [x for x in reb if x["protocol"] == gp]
            if not xs:
                continue
            ok = [x for x in xs if x["result"].get("received", 0) > 0
                  and event(x, "join") and event(x, "leave")]
            if len(ok) != len(xs):
                broken.append(f"rebalance {gp}")
            for name, what in (("join", "a second instance joins"), ("leave", "it leaves (SIGTERM)")):
                still = sum(1 for x in ok if event(x, name).get("open"))
                note = "longest stop of one input partition's outputs"
                if still:
                    note += f"; in {still} run(s) a partition had not flowed again by the next mark: at least"
                t.add(f"rebalance, {gp}: pause when {what}", "ms",
                      [event(x, name)["pause_ms"] for x in ok], note=note)
                t.add(f"  {gp}: that partition flowing again, after the {name}", "ms",
                      [event(x, name)["resumed_ms"] for x in ok])
            t.add(f"  {gp}: outputs written twice", "records", [x["result"]["duplicated"] for x in ok],
                  note="at_least_once, join and leave together")
            t.add(f"  {gp}: longest gap before the join", "ms", [x["result"]["steady_gap_ms"] for x in ok],
                  note="what a quiet moment looks like")

    # -- output -------------------------------------------------------------------------------
    head = [
        f"# logclassify benchmarks{' (smoke)' if env.get('smoke') else ''} — {env['date']}",
        "",
        f"- git {env['git']}; {env['logclassify']}",
        f"- machine: {env['host_cpus']} × {env['cpu']}, Linux {env['kernel']}; "
        f"load average {' '.join(env['loadavg_start'])} at start, {' '.join(env['loadavg_end'])} at end",
        f"- brokers {env['brokers']} (local single-node Kafka), MariaDB port {env['mysql_port']}; "
        f"{env['records']:,} input records, {env['partitions']} partitions, {env['runs']} run(s) per figure",
        "- throughput: from process start until the output topic's high watermarks sum to N "
        "(exactly_once: until the group's committed input offsets sum to N), minus the users load "
        "time that logclassify logs; CPU = utime+stime from /proc/PID/stat at that moment",
        "- classifier: one thread, CPU time (CLOCK_THREAD_CPUTIME_ID); latency: output Kafka timestamp "
        f"(= input CreateTime) to receipt, {env['lat_seconds']} s per run, first {env['lat_warmup']} s "
        f"left out, upstream loggen {env['lat_loggen_args'] or 'with its defaults (linger.ms=5, lz4)'}",
    ]
    if reb_env:
        hb, ses = reb_env["heartbeat_ms"] / 1000, reb_env["session_ms"] / 1000
        chb = reb_env.get("classic_heartbeat_ms", reb_env["heartbeat_ms"]) / 1000
        cses = reb_env.get("classic_session_ms", reb_env["session_ms"]) / 1000
        if (chb, cses) == (hb, ses):
            sessions = (f"both protocols with a {hb:g} s heartbeat and a {ses:g} s session (the "
                        "broker's settings for consumer-protocol groups, given to classic in the "
                        "client)")
        else:
            sessions = (f"classic with a {chb:g} s heartbeat and a {cses:g} s session (client), "
                        f"consumer with {hb:g} s and {ses:g} s (broker)")
        head.append(f"- rebalance: {reb_env['rate']:,} records/s, 4 partitions, at_least_once; "
                    f"seconds before the join / to the leave / after it: {reb_env['times']} (the first "
                    "two plus a random part of a heartbeat period); "
                    f"{sessions}; the join is marked when the second instance's process starts")
    head.append("")
    md = "\n".join(head) + "\n" + t.markdown() + "\n"
    if broken:
        md += "\nBROKEN: " + ", ".join(broken) + "\n"
    print(md)
    os.makedirs(outdir, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d_%H%M")
    with open(os.path.join(outdir, f"{stamp}.md"), "w") as f:
        f.write(md)
    with open(os.path.join(outdir, f"{stamp}.json"), "w") as f:
        json.dump({"env": env, "figures": t.rows, "raw": raw, "broken": broken}, f, indent=1)
    print(f"written: {os.path.join(outdir, stamp)}.md and .json", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
