package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// restorePipeline counts events per room in tumbling windows of 10s (event time), and keeps
// event-time timers in a process, at the given parallelism; follow keeps the source open.
func restorePipeline(parallelism int, follow bool) string {
	return fmt.Sprintf(`name: restore
parallelism: %d
state_backend: memory
sources:
  - uid: events
    kind: file
    path: data/*.jsonl
    format: jsonl
    follow: %t
    schema: {room: string, time: int}
    timestamp: e => e.time
    watermark: {max_out_of_orderness: 2s}
operators:
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    fn: |
      (k, w, es) => [{room: k, start: w.start, n: es.length}]
    output: {room: string, start: int, n: int}
  - uid: alarms
    kind: process
    input: events
    key_by: room
    output: {room: string, start: int, n: int}
    fn: |
      (e, ctx) => ctx.timers.at(e.time + 15000)
    on_timer: |
      (t, ctx) => ctx.emit({room: "timer-" + ctx.key, start: t, n: 0})
sinks:
  - {uid: out, kind: stdout, input: counts}
  - {uid: out2, kind: stdout, input: alarms}
`, parallelism, follow)
}

// TestSavepointMidWindow stops with a savepoint while windows and timers are open, restores
// at another parallelism, and checks that the two runs together emit exactly what one
// uninterrupted run emits: every window and timer once.
func TestSavepointMidWindow(t *testing.T) {
	var part1, part2 []string
	for i := 0; i < 40; i++ {
		room := []string{"a", "b", "c"}[i%3]
		part1 = append(part1, fmt.Sprintf(`{"room":%q,"time":%d}`, room, i*700))
		part2 = append(part2, fmt.Sprintf(`{"room":%q,"time":%d}`, room, 28000+i*900))
	}
	whole := t.TempDir()
	writeData(t, whole, "1.jsonl", part1...)
	writeData(t, whole, "2.jsonl", part2...)
	want := startRun(t, whole, restorePipeline(2, false), jobSpec{}).sortedOutput()

	for _, par := range []int{1, 3} {
		t.Run(fmt.Sprintf("restored at parallelism %d", par), func(t *testing.T) {
			dir := t.TempDir()
			writeData(t, dir, "1.jsonl", part1...)
			r1 := startRun(t, dir, restorePipeline(2, true), jobSpec{})
			testkit.Eventually(t, jobDeadline, "part 1 to be read", func() bool { return r1.recordsIn("counts") == int64(len(part1)) })
			sp, err := r1.job.StopWithSavepoint(t.TempDir(), false)
			if err != nil {
				t.Fatalf("stop with savepoint: %v", err)
			}
			first := r1.sortedOutput()
			if len(first) == 0 || len(first) >= len(want) {
				t.Fatalf("the first run emitted %d of %d records: the savepoint is not mid-window", len(first), len(want))
			}
			writeData(t, dir, "2.jsonl", part2...)
			second := startRun(t, dir, restorePipeline(par, false), jobSpec{restore: sp.Path}).sortedOutput()
			got := append(first, second...)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("stop + restore emitted\n%s\nan uninterrupted run\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
