package runtime

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/manualclock"
	"github.com/pipectl/pipectl/internal/testkit"
)

func TestFieldArrow(t *testing.T) {
	cases := []struct {
		fn   string
		path []string // nil: the function is called
	}{
		{"e => e.time", []string{"time"}},
		{" (e) => e.meta.ts ", []string{"meta", "ts"}},
		{"e => x.time", nil},
		{"e => e.time * 1000", nil},
		{"e => e.time + 1", nil},
		{"ts", nil},
	}
	for _, c := range cases {
		m := fieldArrow.FindStringSubmatch(c.fn)
		var got []string
		if m != nil && m[1] == m[2] {
			got = strings.Split(strings.TrimPrefix(m[3], "."), ".")
		}
		if !slices.Equal(got, c.path) {
			t.Errorf("%q: path %q, want %q", c.fn, got, c.path)
		}
	}
}

// TestIdleSource: a source without records holds the watermark back until idle_timeout on the
// job's clock; then the other source's watermark fires the window.
func TestIdleSource(t *testing.T) {
	src := `name: idle
parallelism: 1
state_backend: memory
sources:
  - uid: busy
    kind: file
    path: data/busy.jsonl
    follow: true
    schema: {room: string, time: int}
    timestamp: e => e.time
    watermark: {max_out_of_orderness: 0s, idle_timeout: 1s}
  - uid: quiet
    kind: file
    path: data/quiet.jsonl
    follow: true
    schema: {room: string, time: int}
    timestamp: e => e.time
    watermark: {max_out_of_orderness: 0s, idle_timeout: 1s}
operators:
  - uid: both
    kind: union
    inputs: [busy, quiet]
  - uid: op
    kind: window
    input: both
    key_by: room
    window: {tumbling: 1s}
    fn: |
      (k, w, es) => [{room: k, start: w.start, n: es.length}]
    output: {room: string, start: int, n: int}
sinks:
  - {uid: out, kind: stdout, input: op}
`
	dir := t.TempDir()
	writeData(t, dir, "busy.jsonl", `{"room":"a","time":500}`, `{"room":"a","time":700}`, `{"room":"a","time":3000}`)
	writeData(t, dir, "quiet.jsonl")
	clk := manualclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := startRun(t, dir, src, jobSpec{clock: clk})
	testkit.Eventually(t, jobDeadline, "the records", func() bool { return r.recordsIn("op") == 3 })
	if n := r.recordsIn("out"); n != 0 {
		t.Fatalf("%d windows fired while the quiet source held the watermark back", n)
	}
	clk.Advance(2 * time.Second)
	testkit.Eventually(t, jobDeadline, "the first window", func() bool { return r.recordsIn("out") == 1 })
	r.job.Stop()
	got := r.sortedOutput()
	want := []string{`{"room":"a","start":0,"n":2}`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
