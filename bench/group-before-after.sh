#!/usr/bin/env bash
# Issue 13's group benchmark, before and after, interleaved:
#
#   bench/group-before-after.sh BEFORE_BINARY AFTER_BINARY RUNS OUT.jsonl [flags --] [MEMBERS ...]
#
# For each round and each group size (default 8 32) it runs
# `folio bench group --members N --json` with both binaries, alternating
# which goes first, and appends every run's JSON line, tagged with impl
# (before, after) and round, to OUT.jsonl. Flags before `--` go to every
# run (--messages, --from-all). Summarise with bench/group-summary.py
# OUT.jsonl (medians, and the CPU per message of the largest size over the
# smallest, per round and of the medians).
set -euo pipefail
before="$1" after="$2" runs="$3" out="$4"
shift 4
flags=()
if [[ " $* " == *" -- "* ]]; then
	while [ "$1" != "--" ]; do flags+=("$1"); shift; done
	shift
fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(8 32)
run() { # impl members round
	local bin line
	bin="$before"
	[ "$1" = after ] && bin="$after"
	line="$("$bin" bench group --members "$2" --json "${flags[@]}")"
	printf '%s\n' "$line" | jq -c --arg impl "$1" --argjson round "$3" '. + {impl: $impl, round: $round}' >>"$out"
	printf '%s\n' "$line" | jq -r --arg impl "$1" --argjson round "$3" \
		'"  round \($round) \($impl) members=\(.members) formed=\(.formed_ms|floor)ms cpu/msg=\(.cpu_ms_per_message)ms send p50=\(.send_p50_ms)ms deliver p99=\(.deliver_p99_ms)ms"' >&2
}
for ((i = 1; i <= runs; i++)); do
	order=(before after)
	((i % 2)) || order=(after before)
	for n in "${sizes[@]}"; do
		for impl in "${order[@]}"; do
			run "$impl" "$n" "$i"
		done
	done
done
