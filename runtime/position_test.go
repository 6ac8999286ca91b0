package runtime

import (
	"fmt"
	"testing"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/statebackend"
)

// A failure of an operator behind a keyed exchange names the record's input position: the
// position travels in the element from the file source through the exchange.
func TestFailureBehindKeyByNamesFileLine(t *testing.T) {
	events := `{"k":"a","v":1,"tag":"x"}` + "\n\n" + `{"k":"b","v":2,"tag":"y"}` + "\n" +
		`{"k":"a","v":4,"tag":"z"}` + "\n" + `{"k":"b","v":3,"tag":"w"}` + "\n"
	for _, par := range []int{1, 2} {
		t.Run(fmt.Sprintf("parallelism %d", par), func(t *testing.T) {
			h := newHarness(t, statebackend.KindMemory)
			h.writeFile("in/events.jsonl", events)
			src := fmt.Sprintf(`name: position
parallelism: %d
state_backend: memory
sources:
  - uid: events
    kind: file
    path: in/*.jsonl
    format: jsonl
    schema: %s
operators:
  - uid: count
    kind: flat_map_with_state
    input: events
    key_by: k
    state: int
    output: {k: string, n: int}
    fn: |
      (e, s) => { if (e.v === 3) throw new Error("boom " + e.tag); return [[{k: e.k, n: (s || 0) + 1}], (s || 0) + 1] }
sinks:
  - {uid: sink, kind: stdout, input: count}
`, par, kv)
			_, err := h.run(src, jobSpec{})
			wantErrContaining(t, err, `"count"`, "boom w", `key "b"`, `record {"k":"b","v":3,"tag":"w"}`,
				"read at "+h.path("in/events.jsonl")+":5")
		})
	}
}

// The position costs no allocation: it is carried by value, and the input table is looked up
// only when the input changes.
func TestSourcePositionDoesNotAllocate(t *testing.T) {
	j := &Job{}
	in := &instance{job: j}
	s := &sourceTask{job: j, inst: in}
	pos := connectors.Position{File: "in.jsonl", Offset: 10}
	s.At(pos)
	allocs := testing.AllocsPerRun(100, func() {
		pos.Offset += 10
		s.At(pos)
	})
	if allocs != 0 {
		t.Errorf("At allocates %v times a record", allocs)
	}
	if got, want := j.inputs.where(in.pos), fmt.Sprintf("in.jsonl (byte offset %d)", pos.Offset); got != want {
		t.Errorf("where = %q, want %q (a file that cannot be read)", got, want)
	}
}
