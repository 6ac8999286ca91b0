package compat

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// Expected outputs of a case, by archive file name. report.txt and report.json are always
// checked; report.github only in the cases that hold one.
var outputs = []struct {
	name     string
	required bool
	write    func(*Report, *bytes.Buffer) error
}{
	{"report.txt", true, func(r *Report, b *bytes.Buffer) error { return r.WriteText(b) }},
	{"report.json", true, func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
	{"report.github", false, func(r *Report, b *bytes.Buffer) error { return r.WriteGitHub(b) }},
}

// TestCases runs every testdata/*.txtar: the old side is old.yaml (through Describe) or
// old.json (a savepoint's _metadata.json), the new side new.yaml, and `flags` may hold
// `allow-non-restored-state`. Other files of the archive are written next to them.
// testdata/against/*.txtar are judged the same way, but against an old pipeline only: their
// sources are not generators (a Kafka source needs a broker), so the agreement test, which
// takes a real savepoint of every testdata/*.txtar, cannot run them.
func TestCases(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases in testdata (%v)", err)
	}
	against, err := filepath.Glob("testdata/against/*.txtar")
	if err != nil || len(against) == 0 {
		t.Fatalf("no test cases in testdata/against (%v)", err)
	}
	for _, file := range append(files, against...) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runCase(t, file)
		})
	}
}

// runCase checks the reports of one case; with -rewrite (or -update) it writes them into the
// case instead.
func runCase(t *testing.T, file string) {
	ar, dir := caseFiles(t, file)
	rep := Check(oldSide(t, ar, dir), load(t, filepath.Join(dir, "new.yaml")), caseOptions(ar))
	rep.RelativeTo(dir)

	changed := false
	for _, out := range outputs {
		want, ok := ar.File(out.name)
		if !ok && !out.required {
			continue
		}
		var got bytes.Buffer
		if err := out.write(rep, &got); err != nil {
			t.Fatal(err)
		}
		switch {
		case testkit.Rewriting():
			changed = changed || got.String() != want
			ar.Set(out.name, got.Bytes())
		case !ok:
			t.Errorf("%s: no %s; run `go test ./compat -rewrite` and review it", file, out.name)
		case got.String() != want:
			t.Errorf("%s: %s differs\n--- got\n%s--- want\n%s", file, out.name, got.Bytes(), want)
		}
	}
	if changed {
		if err := os.WriteFile(file, ar.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// oldSide is the old side of a case: old.json, else the description of old.yaml.
func oldSide(t *testing.T, ar *testkit.Archive, dir string) *savepoints.Metadata {
	t.Helper()
	if data, ok := ar.File("old.json"); ok {
		var meta savepoints.Metadata
		if err := json.Unmarshal([]byte(data), &meta); err != nil {
			t.Fatalf("old.json: %v", err)
		}
		return &meta
	}
	return Describe(load(t, filepath.Join(dir, "old.yaml")))
}

func load(t *testing.T, path string) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Load(path, pipeline.LoadOptions{})
	if err != nil {
		t.Fatalf("load %s: %v", filepath.Base(path), err)
	}
	return p
}

// caseOptions are the options a case's `flags` file sets.
func caseOptions(ar *testkit.Archive) Options {
	var opts Options
	flags, _ := ar.File("flags")
	for _, f := range strings.Fields(flags) {
		if f == "allow-non-restored-state" {
			opts.AllowNonRestoredState = true
		}
	}
	return opts
}

// TestSelfCompatible checks every new.yaml of the cases against itself, through the metadata
// a savepoint of it would carry (Describe, then JSON as in _metadata.json): each uid and state
// must be compatible under STATE_UNCHANGED (or UNTYPED_STATE for `any`), nothing new or dropped.
func TestSelfCompatible(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			_, dir := caseFiles(t, file)
			p := load(t, filepath.Join(dir, "new.yaml"))
			stored, err := json.Marshal(Describe(p))
			if err != nil {
				t.Fatal(err)
			}
			var meta savepoints.Metadata
			if err := json.Unmarshal(stored, &meta); err != nil {
				t.Fatal(err)
			}
			rep := Check(&meta, p, Options{})
			if !rep.Compatible || len(rep.Results) != len(p.Nodes)+countStates(p)-statefulNodes(p) {
				t.Errorf("compatible=%v with %d results", rep.Compatible, len(rep.Results))
			}
			for _, r := range rep.Results {
				if r.Verdict != schema.Compatible || (r.Rule != schema.RuleStateUnchanged && r.Rule != schema.RuleUntypedState) {
					t.Errorf("%s: %s %s: %s", r.Name(), r.Verdict, r.Rule, r.Reason)
				}
			}
		})
	}
}

func countStates(p *pipeline.Pipeline) int {
	n := 0
	for _, node := range p.Nodes {
		n += len(node.States)
	}
	return n
}

func statefulNodes(p *pipeline.Pipeline) int {
	n := 0
	for _, node := range p.Nodes {
		if len(node.States) > 0 {
			n++
		}
	}
	return n
}

// BenchmarkCheck measures one check of the motion-alarm upgrade with a migrate function.
func BenchmarkCheck(b *testing.B) {
	_, dir := caseFiles(b, "testdata/pitstop-state-tuple-grows-migrate.txtar")
	oldP, err := pipeline.Load(filepath.Join(dir, "old.yaml"), pipeline.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	newP, err := pipeline.Load(filepath.Join(dir, "new.yaml"), pipeline.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	old := Describe(oldP)
	b.ReportAllocs()
	for b.Loop() {
		if rep := Check(old, newP, Options{}); !rep.Compatible {
			b.Fatal("not compatible")
		}
	}
}
