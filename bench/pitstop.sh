#!/usr/bin/env bash
# bench/pitstop.sh: the pit stop's numbers on the real binary.
#
#   bench/pitstop.sh [KEYS]        KEYS rooms (default 1000000)
#
# The workload: bench/motion-alarm.yaml with `follow: true`, detached, fed one `activate` per
# room for KEYS rooms. Then, one line each:
#   - `pipectl savepoint` right after the feed, and again after the job was idle for $IDLE
#     seconds (default 60; its caches are written back by then): wall time and pause;
#   - three `pipectl upgrade --job ID -d` in a row (the same pipeline again): the `downtime:`
#     line and the stop's savepoint line;
#   - the restore: `run --fresh --from-savepoint` of the bounded pipeline over one new event,
#     minus the same run from empty state;
#   - the job's peak resident memory (VmHWM) before it is canceled.
set -euo pipefail

keys=${1:-1000000}
idle=${IDLE:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
export PIPECTL_HOME=$work/home
trap 'pipectl cancel "$id" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
id=

(cd "$root" && go build -o "$work/pipectl" ./cmd/pipectl)
pipectl() { "$work/pipectl" "$@"; }

awk -v n="$keys" 'BEGIN { for (i = 0; i < n; i++) printf "{\"type\":\"activate\",\"room\":%d,\"time\":%d}\n", i, i }' >"$work/events.jsonl"
echo '{"type":"activate","room":5,"time":5}' >"$work/one.jsonl"
sed 's/    schema:/    follow: true\n    schema:/' "$root/bench/motion-alarm.yaml" >"$work/follow.yaml"
sed 's/    follow: true//' "$work/follow.yaml" >"$work/bounded.yaml"
export EVENTS=$work/events.jsonl

port=$((20000 + RANDOM % 20000))
id=$(pipectl run -d "$work/follow.yaml" --metrics-addr "127.0.0.1:$port")
until curl -s "127.0.0.1:$port/metrics" |
	awk -v n="$keys" '/^pipectl_records_in_total\{.*uid="alarm-evaluator"/ { s += $2 } END { exit !(s >= n) }'; do
	sleep 0.5
done

# savepoint WHEN: one `pipectl savepoint` of the job, timed.
savepoint() {
	/usr/bin/time -f '%e' -o "$work/wall" "$work/pipectl" savepoint "$id" "$work/sps" >/dev/null 2>"$work/err"
	echo "savepoint $1: wall $(cat "$work/wall") s; $(grep -h 'Savepoint completed' "$work/err")"
}
savepoint "right after the feed"
sleep "$idle"
savepoint "after $idle s idle"

for i in 1 2 3; do
	next=$(pipectl upgrade "$work/follow.yaml" --job "$id" -d 2>"$work/up")
	echo "pit stop $i: $(grep -h '^downtime' "$work/up"); the stop's $(grep -h 'Savepoint completed' "$work/up")"
	id=$next
done
echo "peak RSS of the last job: $(awk '/VmHWM/ {print $2, $3}' "/proc/$(pipectl list -o json | sed 's/.*"pid":\([0-9]*\).*/\1/')/status")"
pipectl cancel "$id" >/dev/null

sp=$(ls -d "$work"/sps/savepoint-* | head -1)
ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $((($(date +%s%N) - s) / 1000000)); }
from=$(EVENTS=$work/one.jsonl ms "$work/pipectl" run "$work/bounded.yaml" --fresh --from-savepoint "$sp")
empty=$(EVENTS=$work/one.jsonl ms "$work/pipectl" run "$work/bounded.yaml" --fresh)
echo "restore: $((from - empty)) ms (run from the savepoint $from ms, from empty state $empty ms)"
