#!/usr/bin/env python3
"""Medians of bench/group-before-after.sh output, per impl and group size.

   bench/group-summary.py OUT.jsonl

Each figure is the median over rounds of that figure alone (the upper
middle for an even count). The growth line divides the largest size's CPU
per message by the smallest's: per round (same round, same impl), their
median, and the ratio of the two medians."""
import json
import sys


def med(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0


rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = ("formed_ms", "cpu_ms_per_message", "send_p50_ms", "send_p99_ms",
        "deliver_p50_ms", "deliver_p99_ms", "idle_cpu_ms_per_s", "heap_mb", "conns_opened")
sizes = sorted({r["members"] for r in rows})
for impl in dict.fromkeys(r["impl"] for r in rows):
    print(f"== {impl}")
    cpu = {}
    for n in sizes:
        rs = [r for r in rows if r["impl"] == impl and r["members"] == n]
        if not rs:
            continue
        cpu[n] = {r["round"]: r["cpu_ms_per_message"] for r in rs}
        f = ", ".join(f"{k} {med([r.get(k) or 0 for r in rs]):g}" for k in keys)
        print(f"  members {n} (n={len(rs)}): {f}")
    if len(cpu) >= 2:
        lo, hi = min(cpu), max(cpu)
        rounds = sorted(set(cpu[lo]) & set(cpu[hi]))
        each = [cpu[hi][k] / cpu[lo][k] for k in rounds if cpu[lo][k]]
        print(f"  cpu/msg {hi} ÷ {lo}: per round " + ", ".join("%.2f" % x for x in each)
              + f"; median {med(each):.2f}; ratio of medians {med(list(cpu[hi].values())) / med(list(cpu[lo].values())):.2f}")
