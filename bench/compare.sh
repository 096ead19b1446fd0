#!/usr/bin/env bash
# Side-by-side benchmark: folio vs hypercore 11 (Node) on the same shapes.
#
#   bench/compare.sh [--runs N] [--pages N] [--size N] [--batch N] [--settle S] [--out FILE] [shape ...]
#
# Shapes (default: the first three): append-single append-batch get-random
# replicate notify.
# For each shape it runs folio and hypercore alternately, N times each
# (default 5), swapping which goes first on every round so machine noise and
# order effects hit both, then prints each side's median pages/s and the
# ratio folio/hypercore. The raw per-run JSON lines go to --out (default a
# temporary file, whose name is printed).
#
# --settle S waits, before every run, until the CPUs have been at least 90 %
# idle for S consecutive seconds (for shared machines; default 0: no wait).
# Each JSON line records when its run started and ended (t0, t1, Unix s).
#
# FOLIO=/path/to/folio uses that binary instead of building ./cmd/folio.
#
# Needs node (20+), npm, jq, and go unless FOLIO is set.
#
# Not part of `go test` or CI: it needs Node and the npm registry, and takes
# a few minutes. Run it on an otherwise idle machine.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
hc="$here/hypercore"

runs=5
settle=0
flags=()
out=""
shapes=()
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs="$2"; shift 2 ;;
	--runs=*) runs="${1#*=}"; shift ;;
	--pages|--size|--batch) flags+=("$1" "$2"); shift 2 ;;
	--pages=*|--size=*|--batch=*) flags+=("$1"); shift ;;
	--settle) settle="$2"; shift 2 ;;
	--settle=*) settle="${1#*=}"; shift ;;
	--out) out="$2"; shift 2 ;;
	--out=*) out="${1#*=}"; shift ;;
	-h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "compare.sh: unknown flag $1" >&2; exit 2 ;;
	*) shapes+=("$1"); shift ;;
	esac
done
[ ${#shapes[@]} -gt 0 ] || shapes=(append-single append-batch get-random)
for s in "${shapes[@]}"; do
	case "$s" in
	append-single|append-batch|get-random|replicate|notify) ;;
	*) echo "compare.sh: shape $s has no hypercore counterpart (want append-single, append-batch, get-random, replicate or notify)" >&2; exit 2 ;;
	esac
done

command -v node >/dev/null || { echo "compare.sh: node not found" >&2; exit 1; }
command -v jq >/dev/null || { echo "compare.sh: jq not found" >&2; exit 1; }
[ -n "${FOLIO:-}" ] || command -v go >/dev/null || { echo "compare.sh: go not found (or set FOLIO)" >&2; exit 1; }

# Install hypercore (pinned in package.json / package-lock.json) if needed.
if [ ! -f "$hc/node_modules/hypercore/package.json" ] ||
	[ "$(node -p "require('$hc/node_modules/hypercore/package.json').version")" != "$(node -p "require('$hc/package.json').dependencies.hypercore")" ]; then
	echo "== installing hypercore in $hc" >&2
	if [ -f "$hc/package-lock.json" ]; then
		(cd "$hc" && npm ci --no-audit --no-fund >&2)
	else
		(cd "$hc" && npm install --no-audit --no-fund >&2)
	fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${FOLIO:-}" ]; then
	folio="$FOLIO"
	echo "== using folio binary $folio" >&2
else
	folio="$work/folio"
	echo "== building folio" >&2
	(cd "$root" && go build -o "$folio" ./cmd/folio)
fi
[ -n "$out" ] || out="$(mktemp "${TMPDIR:-/tmp}/folio-compare-XXXXXX.jsonl")"
: >"$out"

hcver="$(node -p "require('$hc/node_modules/hypercore/package.json').version")"
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3), node $(node --version), hypercore $hcver" >&2
echo "== $runs runs per side per shape, interleaved; raw results in $out" >&2

run_folio() { "$folio" bench "$1" --json "${flags[@]}"; }
run_hc() { node "$hc/bench.mjs" "$1" --json "${flags[@]}"; }

# settle S: return once `vmstat 1` has shown >= 90 % idle S times in a row.
settle_wait() {
	[ "$1" -gt 0 ] || return 0
	local n=0 first=1 line f
	while read -r line; do
		read -ra f <<<"$line"
		[[ ${f[0]} =~ ^[0-9]+$ ]] || continue
		if ((first)); then first=0; continue; fi # since boot, not the last second
		if [ "${f[14]}" -ge 90 ]; then n=$((n + 1)); else n=0; fi
		[ "$n" -ge "$1" ] && break
	done < <(vmstat -n 1)
}

one() { # impl shape round
	local line t0 t1
	settle_wait "$settle"
	t0="$(date +%s.%N)"
	if [ "$1" = folio ]; then line="$(run_folio "$2")"; else line="$(run_hc "$2")"; fi
	t1="$(date +%s.%N)"
	printf '%s\n' "$line" | jq -c --arg impl "$1" --argjson round "$3" --argjson t0 "$t0" --argjson t1 "$t1" \
		'. + {impl: $impl, round: $round, t0: $t0, t1: $t1}' >>"$out"
	printf '%s\n' "$line" | jq -r --arg impl "$1" --argjson round "$3" \
		'"  \(.shape) round \($round) \($impl|.+"         "|.[0:9]) \(.pages_per_sec|floor) pages/s  p50=\(.p50_us)µs p99=\(.p99_us)µs"' >&2
}

for shape in "${shapes[@]}"; do
	echo "== $shape" >&2
	for ((i = 1; i <= runs; i++)); do
		if ((i % 2)); then
			one folio "$shape" "$i"; one hypercore "$shape" "$i"
		else
			one hypercore "$shape" "$i"; one folio "$shape" "$i"
		fi
	done
done

# Summary: the median is the middle run by pages/s (the upper middle for an
# even count), as `folio bench --runs` picks it.
echo
printf '%-14s %6s %8s %14s %14s %8s   %s\n' shape batch runs "folio p/s" "hypercore p/s" ratio "spread (min-max p/s): folio | hypercore"
for shape in "${shapes[@]}"; do
	jq -rs --arg shape "$shape" '
		def med: sort | .[(length/2|floor)];
		map(select(.shape==$shape)) as $g
		| ($g | map(select(.impl=="folio") | .pages_per_sec)) as $f
		| ($g | map(select(.impl=="hypercore") | .pages_per_sec)) as $h
		| [$shape, $g[0].batch, ($f|length), ($f|med), ($h|med), (($f|med)/($h|med)),
		   ($f|min), ($f|max), ($h|min), ($h|max)]
		| @tsv' "$out"
done |
	while IFS=$'\t' read -r shape batch n f h r fmin fmax hmin hmax; do
		printf '%-14s %6s %8s %14.0f %14.0f %7.2fx   %.0f-%.0f | %.0f-%.0f\n' \
			"$shape" "$batch" "$n" "$f" "$h" "$r" "$fmin" "$fmax" "$hmin" "$hmax"
	done

# Latency medians (each percentile's median over the runs, on its own) and
# the median of folio's own baseline ratio, where the shape has them.
echo
for shape in "${shapes[@]}"; do
	jq -rs --arg shape "$shape" '
		def med: sort | .[(length/2|floor)];
		map(select(.shape==$shape)) as $g
		| ($g | map(select(.impl=="folio"))) as $f
		| ($g | map(select(.impl=="hypercore"))) as $h
		| "\($shape): median p50 folio \($f|map(.p50_us // 0)|med) µs, hypercore \($h|map(.p50_us // 0)|med) µs (ratio \((($f|map(.p50_us // 0)|med)/(($h|map(.p50_us // 0)|med)+1e-9))*100|round/100)); "
		+ "median p99 folio \($f|map(.p99_us // 0)|med) µs, hypercore \($h|map(.p99_us // 0)|med) µs"
		+ (if ($f|map(.ratio // empty)|length) > 0 then "; folio/baseline ratio median \($f|map(.ratio)|med*100|round/100)" else "" end)' "$out"
done
