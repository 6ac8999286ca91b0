package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSmallBudgetManyKeys runs a keyed count over 200,000 rooms with the smallest memory
// budget, so that the state caches evict most keys, dirty, long before every tenth room comes
// back and has to be read from disk; checkpoints flush the caches meanwhile. Every count and
// the final savepoint must be exactly those of unbounded memory.
func TestSmallBudgetManyKeys(t *testing.T) {
	t.Parallel()
	const rooms, again = 200_000, 20_000 // room 10*j comes back as record rooms+j
	h := newHarness(t)
	var events strings.Builder
	for id := range rooms + again {
		fmt.Fprintf(&events, `{"id":%d,"room":%d}`+"\n", id, roomOf(id, rooms))
	}
	h.write("events.jsonl", events.String())
	p := h.pipeline("counter.yaml", "counter.yaml", nil)
	res := h.runWithin(10*time.Minute, "run", p, "--memory", "64MiB", "--checkpoint-interval", "300ms", "--final-savepoint")
	if res.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", res.code, res.stderr)
	}

	lines := nonEmptyLines(h.read("out.jsonl"))
	if len(lines) != rooms+again {
		t.Fatalf("out.jsonl holds %d records; want %d", len(lines), rooms+again)
	}
	seen := make([]bool, rooms+again)
	for _, l := range lines {
		var r struct{ ID, Room, N int }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad record %q: %v", l, err)
		}
		if r.ID < 0 || r.ID >= rooms+again || seen[r.ID] || r.Room != roomOf(r.ID, rooms) || r.N != r.ID/rooms+1 {
			t.Fatalf("record %s: want id %d once", l, r.ID)
		}
		seen[r.ID] = true
	}

	dump := nonEmptyLines(h.dump(finalSavepoint(t, res.stderr), "per-room"))
	if len(dump) != rooms {
		t.Fatalf("the final savepoint holds %d keys; want %d", len(dump), rooms)
	}
	for _, l := range dump {
		var e struct {
			Key   int
			Value struct{ N, Last int }
		}
		err := json.Unmarshal([]byte(l), &e)
		wantN, wantLast := 1, e.Key
		if e.Key%10 == 0 && e.Key/10 < again {
			wantN, wantLast = 2, rooms+e.Key/10
		}
		if err != nil || e.Value.N != wantN || e.Value.Last != wantLast {
			t.Fatalf("savepoint entry %s (%v): want {n: %d, last: %d}", l, err, wantN, wantLast)
		}
	}
}

// roomOf is the room of record id in TestSmallBudgetManyKeys.
func roomOf(id, rooms int) int {
	if id < rooms {
		return id
	}
	return (id - rooms) * 10
}

// TestMemoryBackendOverBudget runs a job on the memory backend whose state cannot fit its
// budget: it fails with exit 1 and an error naming the operator and state, before the
// operating system would kill it.
func TestMemoryBackendOverBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.write("grow.yaml", `name: grow
parallelism: 1
state_backend: memory
memory: 64MiB
sources:
  - uid: gen
    kind: generator
    fn: "i => ({k: i, pad: 'x'.repeat(200)})"
    schema: {k: int, pad: string}
operators:
  - uid: keep-all
    kind: flat_map_with_state
    input: gen
    key_by: k
    state: string
    output: {k: int}
    fn: "(e, s) => [[], e.pad]"
sinks:
  - uid: out
    kind: stdout
    input: keep-all
`)
	res := h.mustRun(1, "run", p)
	for _, want := range []string{`operator "keep-all", state "value" holds the most entries`, "memory budget", "state_backend: badger"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
		}
	}
}

// TestMemoryFlag checks --memory: a job runs the same with another budget, a bad value is a
// usage error (exit 2), and a bad memory: in the file is a validation error at its position.
func TestMemoryFlag(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	p := h.pipeline("motion-alarm.yaml", "p.yaml", nil)
	want := h.mustRun(0, "run", p).stdout
	if got := h.mustRun(0, "run", p, "--memory", "96MiB").stdout; sortedLines(got) != sortedLines(want) {
		t.Errorf("run --memory 96MiB printed\n%swant\n%s", got, want)
	}
	for _, bad := range []string{"32MiB", "1GB", "lots"} {
		res := h.mustRun(2, "run", p, "--memory", bad)
		if !strings.Contains(res.stderr, "--memory: ") || res.stdout != "" {
			t.Errorf("run --memory %s: stderr %q, stdout %q; want a usage error", bad, res.stderr, res.stdout)
		}
	}
	bad := h.write("bad.yaml", strings.Replace(h.read("p.yaml"), "name:", "memory: 10MiB\nname:", 1))
	res := h.mustRun(1, "validate", bad)
	if !strings.Contains(res.stdout+res.stderr, `bad.yaml:2:9: memory: "10MiB" is below the minimum of 64MiB`) {
		t.Errorf("validate of memory: 10MiB:\n%s%s", res.stdout, res.stderr)
	}
}
