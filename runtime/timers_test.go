package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/manualclock"
	"github.com/pipectl/pipectl/internal/testkit"
)

// timerPipeline is a process that counts the records of each room and, 5s after each one,
// emits and clears the count from on_timer (the given function).
func timerPipeline(onTimer string) string {
	return `name: timer-policy
parallelism: 2
state_backend: memory
script: |
  const events = [{room: "a", time: 1000}, {room: "b", time: 2000}, {room: "a", time: 3000}, {room: "a", time: 20000}, {room: "b", time: 40000}]
sources:
  - uid: events
    kind: generator
    count: 5
    fn: i => events[i]
    schema: {room: string, time: int}
    timestamp: e => e.time
operators:
  - uid: p
    kind: process
    input: events
    key_by: room
    states:
      n: int
    output: {room: string, fired: int, n: int}
    fn: |
      (e, ctx) => {
        ctx.state.n.set((ctx.state.n.get() || 0) + 1)
        ctx.timers.at(e.time + 5000)
      }
    on_timer: |
      ` + onTimer + `
sinks:
  - {uid: out, kind: stdout, input: p}
`
}

// TestProcessEventTimers: a process's event-time timers fire as the watermark passes them.
func TestProcessEventTimers(t *testing.T) {
	src := timerPipeline(`(t, ctx) => {
        ctx.emit({room: ctx.key, fired: t, n: ctx.state.n.get() || 0})
        ctx.state.n.clear()
      }`)
	got := runLines(t, src)
	want := []string{
		// a's 20000 moves the watermark to 19999: a's timers at 6000 and 8000 and b's at 7000
		// fire, after a's count took in the 20000 record itself.
		`{"room":"a","fired":25000,"n":0}`,
		`{"room":"a","fired":6000,"n":3}`,
		`{"room":"a","fired":8000,"n":0}`,
		`{"room":"b","fired":45000,"n":1}`,
		`{"room":"b","fired":7000,"n":1}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// followPipeline reads data/*.jsonl with follow (no event time) into the given operator.
func followPipeline(op string) string {
	return `name: proc-time
parallelism: 2
state_backend: memory
sources:
  - uid: events
    kind: file
    path: data/*.jsonl
    format: jsonl
    follow: true
    schema: {room: string, v: int}
operators:
` + op + `
sinks:
  - {uid: out, kind: stdout, input: op}
`
}

// writeData writes lines into dir/data/name.
func writeData(t *testing.T, dir, name string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordsIn is the number of records that reached uid.
func (r *harnessJob) recordsIn(uid string) int64 {
	var n int64
	for _, in := range r.job.instancesOf(uid) {
		n += in.recordsIn.Load()
	}
	return n
}

func TestProcessingTime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	cases := []struct {
		name    string
		op      string
		advance time.Duration
		want    []string
	}{{
		name: "tumbling processing-time window fires when the clock passes its end",
		op: `  - uid: op
    kind: window
    input: events
    key_by: room
    window: {tumbling: 1m}
    fn: |
      (k, w, es) => [{room: k, start: w.start, n: es.length}]
    output: {room: string, start: int, n: int}`,
		advance: 50 * time.Second,
		want: []string{
			`{"room":"a","start":1767225600000,"n":3}`,
			`{"room":"b","start":1767225600000,"n":1}`,
		},
	}, {
		name: "processing-time timers fire after their delay",
		op: `  - uid: op
    kind: process
    input: events
    key_by: room
    output: {room: string, at: int}
    fn: |
      (e, ctx) => ctx.timers.after(e.v * 1000)
    on_timer: |
      (t, ctx) => ctx.emit({room: ctx.key, at: t})`,
		advance: 5 * time.Second,
		want: []string{
			`{"room":"a","at":1767225611000}`,
			`{"room":"a","at":1767225613000}`,
			`{"room":"b","at":1767225612000}`,
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeData(t, dir, "a.jsonl", `{"room":"a","v":1}`, `{"room":"b","v":2}`, `{"room":"a","v":3}`, `{"room":"a","v":60}`)
			clk := manualclock.New(start)
			r := startRun(t, dir, followPipeline(c.op), jobSpec{clock: clk})
			testkit.Eventually(t, jobDeadline, "the records to arrive", func() bool { return r.recordsIn("op") == 4 })
			if n := r.recordsIn("out"); n != 0 {
				t.Fatalf("%d records out before the clock moved", n)
			}
			clk.Advance(c.advance)
			testkit.Eventually(t, jobDeadline, "the output", func() bool { return r.recordsIn("out") >= int64(len(c.want)) })
			r.job.Stop()
			got := r.sortedOutput()
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
