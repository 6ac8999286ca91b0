package runtime

import (
	"strings"
	"testing"
)

// renameV1 counts events per key (two counters, so a rename can take one and drop the other)
// into a file sink.
const renameV1 = `name: rename
parallelism: 1
state_backend: memory
sources:
  - uid: events
    kind: generator
    count: ${COUNT}
    fn: "i => ({k: i % 2, v: i})"
    schema: {k: int, v: int}
operators:
  - uid: count
    kind: flat_map_with_state
    input: events
    key_by: k
    state: int
    output: {k: int, n: int}
    fn: "(e, s) => [[{k: e.k, n: (s || 0) + 1}], (s || 0) + 1]"
  - uid: other
    kind: reduce
    input: events
    key_by: k
    fn: "(a, b) => b"
sinks:
  - {uid: out, kind: file, path: out.jsonl, input: count}
  - {uid: other-out, kind: stdout, input: other}
`

// renameV2 is renameV1 with every uid renamed; @PREV@ is the counter's previous_uids.
const renameV2 = `name: rename
parallelism: 1
state_backend: memory
sources:
  - uid: events-v2
    kind: generator
    count: ${COUNT}
    fn: "i => ({k: i % 2, v: i})"
    schema: {k: int, v: int}
    previous_uids: [events]
operators:
  - uid: count-v2
    kind: flat_map_with_state
    input: events-v2
    key_by: k
    state: int
    output: {k: int, n: int}
    fn: "(e, s) => [[{k: e.k, n: (s || 0) + 1}], (s || 0) + 1]"
    previous_uids: [@PREV@]
sinks:
  - {uid: out-v2, kind: file, path: out.jsonl, input: count-v2, previous_uids: [gone, out]}
`

// TestRestoreRenamedUIDs: renamed items take the state, offsets and committed length stored
// under their previous uids; a second listed uid that the savepoint holds is dropped.
func TestRestoreRenamedUIDs(t *testing.T) {
	cases := []struct {
		name, prev string
		allow      bool
		wantErr    []string
		dropped    string
	}{
		{name: "state moves to the new uid", prev: "count, old-count", allow: true, dropped: "other/reduce"},
		{name: "own uid missing, first held one taken", prev: "never-there, count", allow: true, dropped: "other/reduce"},
		{name: "a second held uid is dropped", prev: "count, other", allow: true, dropped: "other/reduce"},
		{name: "dropping needs the flag", prev: "count", wantErr: []string{`"other"`, "--allow-non-restored-state"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, "memory")
			first := h.mustJob(renameV1, jobSpec{vars: map[string]string{"COUNT": "6"}, finalSavepointDir: h.path("sp")}).start()
			if err := first.wait(); err != nil {
				t.Fatal(err)
			}
			sp := first.job.FinalSavepoint().Path
			vars := map[string]string{"COUNT": "10"}
			v2 := strings.Replace(renameV2, "@PREV@", c.prev, 1)
			hj, err := h.newJob(v2, jobSpec{vars: vars, restore: sp, allowNonRestored: c.allow})
			if c.wantErr != nil {
				wantErrContaining(t, err, c.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(hj.job.Restored().Dropped, ","); got != c.dropped {
				t.Errorf("dropped %q, want %q", got, c.dropped)
			}
			if err := hj.start().wait(); err != nil {
				t.Fatal(err)
			}
			// The counts go on from the stored ones, the generator from index 6, and the file
			// keeps the first run's records.
			want := []string{
				`{"k":0,"n":1}`, `{"k":1,"n":1}`, `{"k":0,"n":2}`, `{"k":1,"n":2}`, `{"k":0,"n":3}`, `{"k":1,"n":3}`,
				`{"k":0,"n":4}`, `{"k":1,"n":4}`, `{"k":0,"n":5}`, `{"k":1,"n":5}`,
			}
			diffLines(t, h.fileLines("out.jsonl"), want)
		})
	}
}

// TestRestoreSourceKindChanged: a source's offsets under a source of another kind are dropped,
// which needs --allow-non-restored-state.
func TestRestoreSourceKindChanged(t *testing.T) {
	h := newHarness(t, "memory")
	first := h.mustJob(renameV1, jobSpec{vars: map[string]string{"COUNT": "4"}, finalSavepointDir: h.path("sp")}).start()
	if err := first.wait(); err != nil {
		t.Fatal(err)
	}
	sp := first.job.FinalSavepoint().Path
	h.writeFile("in.jsonl", `{"k": 0, "v": 9}`+"\n")
	v2 := strings.Replace(renameV1, `    kind: generator
    count: ${COUNT}
    fn: "i => ({k: i % 2, v: i})"`, `    kind: file
    path: in.jsonl`, 1)
	_, err := h.newJob(v2, jobSpec{restore: sp})
	wantErrContaining(t, err, `generator "events"`, "now a file", "--allow-non-restored-state")
	hj, err := h.newJob(v2, jobSpec{restore: sp, allowNonRestored: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(hj.job.Restored().Dropped, ","); got != "events (offsets)" {
		t.Errorf("dropped %q", got)
	}
	if err := hj.start().wait(); err != nil {
		t.Fatal(err)
	}
	if got := h.fileLines("out.jsonl"); len(got) != 5 || got[4] != `{"k":0,"n":3}` {
		t.Errorf("output %v: the file source must read from its start, the state go on", got)
	}
}
