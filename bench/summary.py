#!/usr/bin/env python3
"""Medians of bench/before-after.sh (or compare.sh) output, per shape and impl.

   bench/summary.py OUT.jsonl

Each figure is the median over runs of that figure alone (the upper middle
for an even count); ratios against hypercore are of those medians, and the
baseline ratio is the median of each run's own ratio."""
import json
import sys


def med(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0


rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for shape in dict.fromkeys(r["shape"] for r in rows):
    g = [r for r in rows if r["shape"] == shape]
    impls = list(dict.fromkeys(r["impl"] for r in g))
    hc = [r for r in g if r["impl"] == "hypercore"]
    print(f"== {shape}")
    for impl in impls:
        rs = [r for r in g if r["impl"] == impl]
        f = {k: med([r.get(k) or 0 for r in rs]) for k in ("pages_per_sec", "mb_per_sec", "p50_us", "p99_us")}
        line = f"  {impl:10} n={len(rs)} {f['pages_per_sec']:,.0f} pages/s {f['mb_per_sec']:.1f} MB/s p50 {f['p50_us']:.1f} µs p99 {f['p99_us']:.1f} µs"
        if any("ratio" in r for r in rs):
            base = med([r.get("baseline_pages_per_sec") or r.get("baseline_mb_per_sec") or 0 for r in rs])
            each = ", ".join("%.2f" % r.get("ratio", 0) for r in rs)
            line += f"; baseline {base:,.1f}, ratio to it {med([r.get('ratio', 0) for r in rs]):.2f} (runs: {each})"
        if hc and impl != "hypercore":
            h = {k: med([r.get(k) or 0 for r in hc]) for k in ("pages_per_sec", "p50_us", "p99_us")}
            line += f"; vs hypercore {f['pages_per_sec'] / h['pages_per_sec']:.2f}x"
            if h["p50_us"]:
                line += f", p50 {f['p50_us'] / h['p50_us']:.2f}, p99 {f['p99_us'] / h['p99_us']:.2f} of hypercore's"
        print(line)
