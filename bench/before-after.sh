#!/usr/bin/env bash
# Before/after/hypercore in one session, interleaved:
#
#   bench/before-after.sh BEFORE_BINARY AFTER_BINARY RUNS OUT.jsonl [flags --] shape ...
#
# For each shape and round it runs the two folio binaries and hypercore 11
# (bench/hypercore, installed with npm ci) once each, rotating which goes
# first, and appends every run's JSON line, tagged with impl (before, after,
# hypercore) and round, to OUT.jsonl. Flags before `--` go to every run
# (--pages, --size, --batch). BEFORE_BINARY - runs only the after binary
# and hypercore. Summarise with bench/summary.py OUT.jsonl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
before="$1" after="$2" runs="$3" out="$4"
shift 4
flags=()
if [[ " $* " == *" -- "* ]]; then
	while [ "$1" != "--" ]; do flags+=("$1"); shift; done
	shift
fi
run() { # impl shape round
	local line
	case "$1" in
	before) line="$("$before" bench "$2" --json "${flags[@]}")" ;;
	after) line="$("$after" bench "$2" --json "${flags[@]}")" ;;
	hypercore) line="$(node "$here/hypercore/bench.mjs" "$2" --json "${flags[@]}")" ;;
	esac
	printf '%s\n' "$line" | jq -c --arg impl "$1" --argjson round "$3" '. + {impl: $impl, round: $round}' >>"$out"
	printf '%s\n' "$line" | jq -r --arg impl "$1" --argjson round "$3" \
		'"  \(.shape) round \($round) \($impl) \(.pages_per_sec|floor) pages/s \(.mb_per_sec*10|floor/10) MB/s p50=\(.p50_us // 0)µs p99=\(.p99_us // 0)µs ratio=\(.ratio // "-")"' >&2
}
impls=(before after hypercore)
[ "$before" != - ] || impls=(after hypercore)
n=${#impls[@]}
for shape in "$@"; do
	for ((i = 1; i <= runs; i++)); do
		for ((k = 0; k < n; k++)); do
			run "${impls[$(((i + k) % n))]}" "$shape" "$i"
		done
	done
done
