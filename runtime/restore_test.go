package runtime

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// restoreEvents are read in two runs: the first generates events 0..3 (COUNT=4) and ends
// with a final savepoint; the second, restored from it, goes on with events 4 (key a) and
// 5 (key b). Key c is only in the first run.
var restoreEvents = []string{
	`{k: "a", v: 1, tag: "x"}`, `{k: "b", v: 2, tag: "y"}`, `{k: "a", v: 3, tag: "z"}`, `{k: "c", v: 4, tag: "w"}`,
	`{k: "a", v: 5, tag: "q"}`, `{k: "b", v: 6, tag: "r"}`,
}

// counterV1 keeps a count and total per key; it emits the state it found as JSON (by
// genPipeline's show).
const counterV1 = `
  - uid: out
    kind: flat_map_with_state
    input: events
    key_by: k
    state: "{n: int, total: int}"
    output: {k: string, seen: string}
    fn: |
      (e, s) => [[{k: e.k, seen: show(s)}], {n: (s ? s.n : 0) + 1, total: (s ? s.total : 0) + e.v}]`

// observer is a second version of counterV1 with the given key_by and state declaration: it
// emits the state it finds as JSON and leaves it as it is.
func observer(keyBy, state string) string {
	return fmt.Sprintf(`
  - uid: out
    kind: flat_map_with_state
    input: events
    key_by: %s
    state: %s
    output: {k: string, seen: string}
    fn: |
      (e, s) => [[{k: e.k, seen: show(s)}], s]`, keyBy, state)
}

// firstRun runs operators over the first four restoreEvents and returns the path of its final
// savepoint.
func firstRun(h *harness, operators string, s jobSpec) string {
	h.t.Helper()
	s.vars = map[string]string{"COUNT": "4"}
	s.finalSavepointDir = h.path("savepoints")
	hj := h.mustJob(genPipeline(kv, restoreEvents, operators), s).start()
	if err := hj.wait(); err != nil {
		h.t.Fatalf("first run: %v", err)
	}
	res := hj.job.FinalSavepoint()
	if res == nil {
		h.t.Fatal("the first run wrote no final savepoint")
	}
	return res.Path
}

func TestRestoreRules(t *testing.T) {
	cases := []struct {
		name    string
		v2      string
		maxPar  string
		allow   bool
		wantErr []string
		want    []string // outputs of events 4 (a) and 5 (b)
		summary RestoreSummary
		badger  bool // run with the badger backend too
	}{{
		name: "same pipeline restores the state", badger: true,
		v2: counterV1,
		want: []string{
			`{"k":"a","seen":"{\"n\":2,\"total\":4}"}`, `{"k":"b","seen":"{\"n\":1,\"total\":2}"}`,
		},
		summary: RestoreSummary{States: 1, Entries: 3},
	}, {
		name: "a uid missing from the new pipeline fails the restore",
		v2: `
  - uid: renamed
    kind: map
    input: events
    fn: "e => ({k: e.k, seen: ''})"
    output: {k: string, seen: string}
  - {uid: out, kind: filter, input: renamed, fn: "e => true"}`,
		wantErr: []string{`"out"`, `"value"`, "--allow-non-restored-state"},
	}, {
		name: "allow non-restored state drops it",
		v2: `
  - uid: renamed
    kind: map
    input: events
    fn: "e => ({k: e.k, seen: 'new'})"
    output: {k: string, seen: string}
  - {uid: out, kind: filter, input: renamed, fn: "e => true"}`,
		allow:   true,
		want:    []string{`{"k":"a","seen":"new"}`, `{"k":"b","seen":"new"}`},
		summary: RestoreSummary{Dropped: []string{"out/value"}},
	}, {
		name:    "a max_parallelism change is refused",
		v2:      counterV1,
		maxPar:  "32",
		wantErr: []string{"max_parallelism", "32", "16"},
	}, {
		name: "an optional field added to the state is null",
		v2:   observer("k", `"{n: int, total: int, note: string?}"`),
		want: []string{
			`{"k":"a","seen":"{\"n\":2,\"note\":null,\"total\":4}"}`, `{"k":"b","seen":"{\"n\":1,\"note\":null,\"total\":2}"}`,
		},
		summary: RestoreSummary{States: 1, Entries: 3, Migrated: 3},
	}, {
		name: "a migrate function rewrites every entry", badger: true,
		v2: observer("k", `{type: "{count: int, label: string}", migrate: "old => ({count: old.total * 10, label: 'n=' + old.n})"}`),
		want: []string{
			`{"k":"a","seen":"{\"count\":40,\"label\":\"n=2\"}"}`, `{"k":"b","seen":"{\"count\":20,\"label\":\"n=1\"}"}`,
		},
		summary: RestoreSummary{States: 1, Entries: 3, Migrated: 3},
	}, {
		name:    "a migrate function that returns null drops the entry",
		v2:      observer("k", `{type: "{count: int}", migrate: "old => old.n > 1 ? {count: old.total} : null"}`),
		want:    []string{`{"k":"a","seen":"{\"count\":4}"}`, `{"k":"b","seen":"undefined"}`},
		summary: RestoreSummary{States: 1, Entries: 1, Migrated: 1},
	}, {
		name:    "an incompatible state type without migrate fails, naming uid and state",
		v2:      observer("k", `"{n: string, total: int}"`),
		wantErr: []string{`"out"`, `"value"`, "migrate"},
	}, {
		name:    "a key type change fails",
		v2:      observer("e => e.v", `{type: "{n: int, total: int}"}`+"\n    key_type: int"),
		wantErr: []string{`"out"`, "key type", "string", "int"},
	}}
	for _, c := range cases {
		backends := []string{statebackend.KindMemory}
		if c.badger {
			backends = append(backends, statebackend.KindBadger)
		}
		for _, backend := range backends {
			t.Run(c.name+"/"+backend, func(t *testing.T) {
				h := newHarness(t, backend)
				sp := firstRun(h, counterV1, jobSpec{})
				vars := map[string]string{"MAXPAR": c.maxPar}
				if c.maxPar == "" {
					vars["MAXPAR"] = "16"
				}
				hj, err := h.newJob(genPipeline(kv, restoreEvents, c.v2), jobSpec{vars: vars, restore: sp, allowNonRestored: c.allow})
				if c.wantErr != nil {
					wantErrContaining(t, err, c.wantErr...)
					return
				}
				if err != nil {
					t.Fatalf("restore: %v", err)
				}
				got := *hj.job.Restored()
				got.Path, got.Duration = "", 0
				if !reflect.DeepEqual(got, c.summary) {
					t.Errorf("restore summary %+v, want %+v", got, c.summary)
				}
				if err := hj.start().wait(); err != nil {
					t.Fatalf("restored run: %v", err)
				}
				diffLines(t, hj.lines(), c.want)
			})
		}
	}
}

func TestMigrateFrom(t *testing.T) {
	v1 := `
  - uid: out
    kind: process
    input: events
    key_by: k
    states:
      old_total: int
      tags: {kind: list, type: string}
    output: {k: string, total: int}
    on_timer: "(t, ctx) => {}"
    fn: |
      (e, ctx) => {
        ctx.state.old_total.set((ctx.state.old_total.get() || 0) + e.v)
        ctx.state.tags.add(e.tag)
        ctx.emit({k: e.k, total: ctx.state.old_total.get()})
      }`
	v2 := `
  - uid: out
    kind: process
    input: events
    key_by: k
    states:
      total: {type: "{sum: int}", migrate_from: old_total, migrate: "old => ({sum: old})"}
      tags: {kind: list, type: string}
    output: {k: string, total: int, tags: list<string>, old: bool}
    on_timer: "(t, ctx) => {}"
    fn: |
      (e, ctx) => {
        const sum = (ctx.state.total.get() || {sum: 0}).sum + e.v
        ctx.state.total.set({sum})
        ctx.state.tags.add(e.tag)
        ctx.emit({k: e.k, total: sum, tags: ctx.state.tags.get(), old: "old_total" in ctx.state})
      }`
	h := newHarness(t, statebackend.KindMemory)
	sp := firstRun(h, v1, jobSpec{})
	hj := h.mustJob(genPipeline(kv, restoreEvents, v2), jobSpec{restore: sp})
	if r := hj.job.Restored(); r.Dropped != nil || r.Migrated != 3 {
		t.Errorf("restore summary %+v: want 3 migrated, nothing dropped", r)
	}
	if err := hj.start().wait(); err != nil {
		t.Fatal(err)
	}
	diffLines(t, hj.lines(), []string{
		`{"k":"a","total":9,"tags":["x","z","q"],"old":false}`,
		`{"k":"b","total":8,"tags":["y","r"],"old":false}`,
	})
}

func TestStateTTL(t *testing.T) {
	ttlState := `{type: "{n: int, total: int}", ttl: 1h}`
	v1 := `
  - uid: out
    kind: flat_map_with_state
    input: events
    key_by: k
    state: ` + ttlState + `
    output: {k: string, seen: string}
    fn: |
      (e, s) => [[{k: e.k, seen: show(s)}], {n: (s ? s.n : 0) + 1, total: (s ? s.total : 0) + e.v}]`
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		later   time.Duration
		want    []string
		entries int64 // entries of the second run's final savepoint
	}{{
		name: "entries younger than the ttl are returned", later: 30 * time.Minute,
		want: []string{
			`{"k":"a","seen":"{\"n\":2,\"total\":4}"}`, `{"k":"b","seen":"{\"n\":1,\"total\":2}"}`,
		},
		entries: 3,
	}, {
		name: "expired entries are not returned and leave the savepoint", later: 2 * time.Hour,
		want:    []string{`{"k":"a","seen":"undefined"}`, `{"k":"b","seen":"undefined"}`},
		entries: 2,
	}} {
		for _, backend := range []string{statebackend.KindMemory, statebackend.KindBadger} {
			t.Run(c.name+"/"+backend, func(t *testing.T) {
				h := newHarness(t, backend)
				sp := firstRun(h, v1, jobSpec{now: func() time.Time { return t0 }})
				later := func() time.Time { return t0.Add(c.later) }
				spDir := h.path("second")
				hj := h.mustJob(genPipeline(kv, restoreEvents, v1), jobSpec{restore: sp, now: later, finalSavepointDir: spDir})
				if err := hj.start().wait(); err != nil {
					t.Fatal(err)
				}
				diffLines(t, hj.lines(), c.want)
				final, err := savepoints.Open(hj.job.FinalSavepoint().Path)
				if err != nil {
					t.Fatal(err)
				}
				if _, st := findMeta(final.Meta, "out", "value"); st == nil || st.Entries != c.entries {
					t.Errorf("final savepoint state %+v, want %d entries", st, c.entries)
				}
			})
		}
	}
}
