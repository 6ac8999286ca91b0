package runtime

import (
	"os"
	goruntime "runtime"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/statebackend"
)

// heldStatePipeline keeps 100,000 keys of about 200 bytes each (20 MB of state) and keeps
// running (an idle followed source) once the generator is done.
const heldStatePipeline = `name: held
parallelism: 2
sources:
  - uid: gen
    kind: generator
    fn: "i => ({k: i, v: i})"
    count: 100000
    schema: {k: int, v: int}
  - uid: idle
    kind: file
    path: in/*.jsonl
    follow: true
    format: jsonl
    schema: {k: int, v: int}
operators:
  - uid: u
    kind: union
    inputs: [gen, idle]
  - uid: st
    kind: flat_map_with_state
    input: u
    key_by: k
    state: string
    output: {k: int}
    fn: |
      (e, s) => [[], 'x'.repeat(200) + e.v]
sinks:
  - {uid: o, kind: stdout, input: st}
`

// TestSavepointsLeaveNoHeapBehind: once a savepoint is written, what the snapshot built (its
// chunks) is freed: a job's heap does not grow with every savepoint or checkpoint it takes.
func TestSavepointsLeaveNoHeapBehind(t *testing.T) {
	h := newHarness(t, statebackend.KindMemory)
	if err := os.MkdirAll(h.path("in"), 0o755); err != nil {
		t.Fatal(err)
	}
	hj := h.mustJob(heldStatePipeline, jobSpec{}).start()
	defer func() {
		hj.job.Cancel()
		hj.wait()
	}()
	testkit.Eventually(t, jobDeadline, "the keys loaded", func() bool { return recordsIn(hj.job, "st") >= 100000 })
	savepoint := func() {
		if _, err := hj.job.Savepoint(h.path("sps"), "manual"); err != nil {
			t.Fatal(err)
		}
	}
	heap := func() uint64 {
		var ms goruntime.MemStats
		goruntime.GC()
		goruntime.GC()
		goruntime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	savepoint()
	before := heap()
	for range 6 {
		savepoint()
	}
	// Six savepoints kept alive would hold 13 MB and more (buffers and entry offsets).
	if grown := int64(heap()) - int64(before); grown > 4<<20 {
		t.Errorf("the heap grew by %d MB over 6 savepoints", grown>>20)
	}
}
