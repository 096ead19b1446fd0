#!/usr/bin/env bash
# Interleaved side-by-side benchmark: folio's peerstore vs go-libp2p's
# pstoremem, single runs alternating store by store, so that load on a
# shared machine weighs on both sides alike (go test -count runs one
# store's sub-benchmark N times in a row, which does not).
#
#   bench/peerstore-compare.sh [--runs N] [--benchtime T] [PATTERN ...]
#
# PATTERN selects sub-benchmarks of BenchmarkPeerstoreCompare (go-libp2p's
# own suite) by name below the store, e.g. 'SetAddrs-10' (default: the
# writes AddAddrs/SetAddrs and the read GetAddrs at 1 and 10 addresses),
# or of BenchmarkReadsCompare with a 'reads:' prefix, e.g. 'reads:PubKey'.
# Each round runs every pattern once per store, the store going first
# swapped each round. Prints, per pattern, each store's median ns/op
# over the rounds and the ratio folio/pstoremem (below 1: folio faster).
#
# Not part of `go test` or CI: it takes minutes. Run it on an idle machine.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
runs=5 benchtime=1s
pats=()
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--benchtime) benchtime=$2; shift 2 ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) pats+=("$1"); shift ;;
	esac
done
[ ${#pats[@]} -gt 0 ] || pats=(AddAddrs-1 SetAddrs-1 GetAddrs-1 AddAddrs-10 SetAddrs-10 GetAddrs-10)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go test -c -o "$work/peerstore.test" ./db/peerstore/)
out="$work/runs.txt"

one() { # store pattern
	local store=$1 pat=$2 sel
	case "$pat" in
	reads:*) sel="ReadsCompare/${pat#reads:}/$store\$" ;;
	*) sel="PeerstoreCompare/$store/$pat\$" ;;
	esac
	(cd "$root/db/peerstore" && TMPDIR="$work" "$work/peerstore.test" -test.run '^$' \
		-test.bench "$sel" -test.benchtime "$benchtime") |
		awk -v s="$store" -v p="$pat" '$1 ~ /^Benchmark/ { for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") print p, s, $i }' >>"$out"
}

for r in $(seq "$runs"); do
	for pat in "${pats[@]}"; do
		if [ $((r % 2)) -eq 1 ]; then one folio "$pat"; one pstoremem "$pat"; else one pstoremem "$pat"; one folio "$pat"; fi
	done
	echo "round $r of $runs done ($(uptime | sed 's/.*load average: //') load)" >&2
done

python3 - "$out" <<'PY'
import sys, statistics, collections
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p, s, ns = line.split()
    v[(p, s)].append(float(ns))
pats = sorted({p for p, _ in v}, key=lambda p: list(dict.fromkeys(p for p, _ in v)).index(p))
print(f"{'benchmark':<28} {'folio ns/op':>12} {'pstoremem':>12} {'ratio':>6}  runs")
for p in pats:
    f, m = v.get((p, 'folio'), []), v.get((p, 'pstoremem'), [])
    if not f or not m:
        continue
    fm, mm = statistics.median(f), statistics.median(m)
    print(f"{p:<28} {fm:>12.0f} {mm:>12.0f} {fm/mm:>6.2f}  {len(f)}/{len(m)}")
PY
