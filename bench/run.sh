#!/usr/bin/env bash
# bench/run.sh: run the benchmark workloads on the real binary and print one markdown row each.
#
#   bench/run.sh [-n RUNS] WORKLOAD...
#
# WORKLOAD is one of:
#   motion-alarm     bench/motion-alarm.yaml over 1M events, 10K rooms
#   stateless        bench/stateless.yaml over the same events
#   state-bounded    bench/state-bounded.yaml over 10M events, 1M rooms, --memory 256MiB
#   state-10m-rooms  the same pipeline over 10M events, 10M rooms, --memory 256MiB
#   go-loop          the hand-written Go loop of the motion alarm (runtime BenchmarkMotionAlarm/go-baseline)
#
# Inputs are generated once by bench/gen.py into $BENCH_INPUTS (default /tmp/pipectl-bench).
# Every run gets a fresh PIPECTL_HOME. A row gives wall time, events/s (events / wall),
# user+system CPU seconds and the peak RSS from /usr/bin/time -v, and the output's line count
# and the sha1 of its sorted lines (equal across runs and versions when the output is).
set -euo pipefail

runs=1
if [[ "${1:-}" == "-n" ]]; then
	runs=$2
	shift 2
fi
[[ $# -gt 0 ]] || { sed -n '2,16p' "$0"; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
inputs=${BENCH_INPUTS:-/tmp/pipectl-bench}
mkdir -p "$inputs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/pipectl" ./cmd/pipectl)

# input N ROOMS: the path of gen.py's events for N events over ROOMS rooms, generated once.
input() {
	local f="$inputs/events-$1-$2.jsonl"
	if [[ ! -s $f ]]; then
		python3 "$root/bench/gen.py" "$1" "$2" 42 "$f.tmp" >&2
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# measure NAME EVENTS PIPELINE [FLAGS...]: one run of the binary under /usr/bin/time -v.
measure() {
	local name=$1 events=$2 pipeline=$3
	shift 3
	local n
	n=$(wc -l <"$events")
	export PIPECTL_HOME="$work/home-$name"
	rm -rf "$PIPECTL_HOME"
	local start end
	start=$(date +%s.%N)
	EVENTS=$events /usr/bin/time -v -o "$work/time" "$work/pipectl" run "$root/bench/$pipeline" "$@" >"$work/out" 2>"$work/err" ||
		{ cat "$work/err" >&2; return 1; }
	end=$(date +%s.%N)
	local rss cpu lines sum
	rss=$(awk -F: '/Maximum resident set size/ {printf "%d", $2/1024}' "$work/time")
	cpu=$(awk -F: '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u+s}' "$work/time")
	lines=$(wc -l <"$work/out")
	sum=$(sort "$work/out" | sha1sum | cut -c1-12)
	awk -v name="$name" -v s="$start" -v e="$end" -v n="$n" -v cpu="$cpu" -v rss="$rss" -v lines="$lines" -v sum="$sum" \
		'BEGIN {w = e - s; printf "| %s | %.2f s | %d | %s | %d MiB | %d lines, %s |\n", name, w, n / w, cpu, rss, lines, sum}'
}

echo "| workload | wall | events/s | CPU s | peak RSS | output |"
echo "|---|---|---|---|---|---|"
for w in "$@"; do
	for ((i = 0; i < runs; i++)); do
		case $w in
		motion-alarm) measure "$w" "$(input 1000000 10000)" motion-alarm.yaml ;;
		stateless) measure "$w" "$(input 1000000 10000)" stateless.yaml ;;
		state-bounded) measure "$w" "$(input 10000000 1000000)" state-bounded.yaml --memory 256MiB ;;
		state-10m-rooms) measure "$w" "$(input 10000000 10000000)" state-bounded.yaml --memory 256MiB ;;
		go-loop)
			(cd "$root" && go test -run '^$' -bench 'MotionAlarm/go-baseline' -benchtime 3x ./runtime) |
				awk '/go-baseline/ {for (i = 1; i <= NF; i++) if ($(i) == "events/s") printf "| go-loop | | %d | | | |\n", $(i-1)}'
			;;
		*) echo "unknown workload $w" >&2; exit 2 ;;
		esac
	done
done
