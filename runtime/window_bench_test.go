package runtime

import (
	"context"
	"fmt"
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// benchEvents is the number of events of one window benchmark run.
const benchEvents = 1_000_000

// BenchmarkTumblingWindow runs a keyed tumbling event-time window over 1,000,000 generated
// events (100 rooms, 10 ms apart, windows of 1m) end to end: generator, timestamps and
// watermarks, keyed exchange, window state, firing, sink. It reports events/s.
func BenchmarkTumblingWindow(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"fn", `fn: |
      (k, w, es) => [{room: k, start: w.start, n: es.length}]
    output: {room: int, start: int, n: int}`},
		{"aggregate", `aggregate:
      init: () => 0
      fn: (acc, e) => acc + 1
      accumulator: int`},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := fmt.Sprintf(`name: bench
parallelism: 2
state_backend: memory
sources:
  - uid: events
    kind: generator
    count: %d
    fn: |
      i => ({room: i %% 100, time: i * 10})
    schema: {room: int, time: int}
    timestamp: e => e.time
    watermark: {max_out_of_orderness: 1s}
operators:
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 1m}
    %s
sinks:
  - {uid: out, kind: stdout, input: counts}
`, benchEvents, c.body)
			p := parseTest(b, b.TempDir(), src)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				backend, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindMemory})
				if err != nil {
					b.Fatal(err)
				}
				job, err := New(Config{Pipeline: p, JobID: "0123456789abcdef0123456789abcdef", Backend: backend})
				if err != nil {
					b.Fatal(err)
				}
				if err := job.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				backend.Close()
			}
			b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
