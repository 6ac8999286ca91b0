package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// The end-to-end benchmarks of the runtime (docs/PERFORMANCE.md records their numbers):
//
//   - BenchmarkMotionAlarm runs the motion alarm over 1,000,000 generated events of
//     10,000 rooms on each backend, beside a hand-written Go loop doing the same work;
//   - BenchmarkSavepoint1M and BenchmarkRestore1M time a savepoint and a restore of a job
//     holding 1,000,000 keys, beside BenchmarkDiskSequentialWrite, the disk's own speed for
//     the same number of small entries.
const (
	motionEvents = 1_000_000
	motionRooms  = 10_000
	stateKeys    = 1_000_000
)

// benchJobID is the job id of every benchmark job.
const benchJobID = "0123456789abcdef0123456789abcdef"

// motionEventFn is the generator of the motion benchmark: event i is for room i % 10000, and
// round i / 10000 of every room is an activation (rooms divisible by 7) or a deactivation
// (the others) when the round is a multiple of 5, and a motion otherwise. So 1,429 rooms raise
// an alarm in 80 of the 100 rounds: 114,320 alarms.
const motionEventFn = `
      i => {
        const room = i % 10000, round = Math.floor(i / 10000)
        let type = "motion"
        if (round % 5 === 0) type = room % 7 === 0 ? "activate" : "deactivate"
        return {type: type, room: room, time: i}
      }`

// motionEvaluatorFn is the operator of examples/motion-alarm.yaml.
const motionEvaluatorFn = `
      (e, s) => {
        switch (e.type) {
          case "activate":   return [[], [true, e.time]]
          case "deactivate": return [[], [false, e.time]]
          case "motion":
            if (s && s[0]) return [[{type: "ALARM", room: e.room, time: e.time}], s]
            return [[], s]
          default:
            return [[], s]
        }
      }`

// motionYAML is the motion alarm pipeline with a generator source of count events and a
// file sink at out.
func motionYAML(count int, out string) string {
	return `name: motion-alarm-bench
parallelism: 2
sources:
  - uid: sensor-events
    kind: generator
    count: ` + strconv.Itoa(count) + `
    schema: {type: string, room: int, time: int}
    fn: |` + motionEventFn + `
operators:
  - uid: alarm-evaluator
    kind: flat_map_with_state
    input: sensor-events
    key_by: room
    state: [bool, int]
    output: {type: string, room: int, time: int}
    fn: |` + motionEvaluatorFn + `
sinks:
  - uid: alarms
    kind: file
    input: alarm-evaluator
    path: ` + strconv.Quote(out) + `
`
}

// motionFileYAML is motionYAML reading the events from a JSONL file, as the bench workload
// (bench/motion-alarm.yaml) does: the operator's input then comes from the file source's
// decoder, not from a JS generator.
func motionFileYAML(events, out string) string {
	src := motionYAML(0, out)
	from := strings.Index(src, "  - uid: sensor-events")
	to := strings.Index(src, "operators:")
	return src[:from] + `  - uid: sensor-events
    kind: file
    path: ` + strconv.Quote(events) + `
    format: jsonl
    schema: {type: string, room: int, time: int}
` + src[to:]
}

// writeMotionEvents writes the events of the motion benchmark as JSONL.
func writeMotionEvents(b *testing.B, path string) {
	b.Helper()
	buf := make([]byte, 0, 48*motionEvents)
	for i := range int64(motionEvents) {
		e := motionEventAt(i)
		buf = append(buf, `{"type":"`...)
		buf = append(buf, e.typ...)
		buf = append(buf, `","room":`...)
		buf = strconv.AppendInt(buf, e.room, 10)
		buf = append(buf, `,"time":`...)
		buf = strconv.AppendInt(buf, e.time, 10)
		buf = append(buf, "}\n"...)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
}

// benchParse parses and compiles a benchmark pipeline.
func benchParse(b *testing.B, src string) *pipeline.Pipeline {
	b.Helper()
	p, err := pipeline.Parse(filepath.Join(b.TempDir(), "pipeline.yaml"), []byte(src), pipeline.LoadOptions{})
	if err != nil {
		b.Fatalf("parse: %v", err)
	}
	return p
}

// benchBackend opens a fresh backend of the given kind in a new directory.
func benchBackend(b *testing.B, kind string) statebackend.Backend {
	b.Helper()
	be, err := statebackend.Open(statebackend.Options{Kind: kind, Dir: filepath.Join(b.TempDir(), "state"), Fresh: true})
	if err != nil {
		b.Fatalf("open %s backend: %v", kind, err)
	}
	return be
}

// benchNewJob compiles p and plans a job on be (restoring sp when not nil).
func benchNewJob(b *testing.B, p *pipeline.Pipeline, be statebackend.Backend, sp *savepoints.Savepoint, finalDir string) *Job {
	b.Helper()
	prog, err := p.Compile()
	if err != nil {
		b.Fatalf("compile: %v", err)
	}
	j, err := New(Config{Pipeline: p, Program: prog, JobID: benchJobID, Backend: be, Restore: sp, FinalSavepointDir: finalDir})
	if err != nil {
		b.Fatalf("new job: %v", err)
	}
	return j
}

// countLines returns the number of lines of a file.
func countLines(b *testing.B, path string) int {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Count(data, []byte{'\n'})
}

// reportEventsPerSec reports the throughput of b.N runs of n events each.
func reportEventsPerSec(b *testing.B, n int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/s, "events/s")
	}
}

func BenchmarkMotionAlarm(b *testing.B) {
	want := motionBaseline(io.Discard)
	for _, kind := range []string{statebackend.KindBadger, statebackend.KindMemory} {
		b.Run(kind, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "alarms.jsonl")
			benchMotionJob(b, kind, motionYAML(motionEvents, out), out, want, "alarms")
		})
	}
	for _, kind := range []string{statebackend.KindBadger, statebackend.KindMemory} {
		b.Run("file-"+kind, func(b *testing.B) {
			dir := b.TempDir()
			events, out := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "alarms.jsonl")
			writeMotionEvents(b, events)
			benchMotionJob(b, kind, motionFileYAML(events, out), out, want, "alarms")
		})
	}
	b.Run("go-baseline", func(b *testing.B) {
		out := filepath.Join(b.TempDir(), "alarms.jsonl")
		b.ReportAllocs()
		for range b.N {
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriterSize(f, 256<<10)
			if got := motionBaseline(w); got != want {
				b.Fatalf("%d alarms, want %d", got, want)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		reportEventsPerSec(b, motionEvents)
		b.ReportMetric(float64(want), "alarms")
	})
}

// statelessYAML is the stateless workload (bench/stateless.yaml): one map over the events of a
// JSONL file, written to a file.
func statelessYAML(events, out string) string {
	return `name: stateless-bench
parallelism: 2
sources:
  - uid: sensor-events
    kind: file
    path: ` + strconv.Quote(events) + `
    format: jsonl
    schema: {type: string, room: int, time: int}
operators:
  - uid: flag-motion
    kind: map
    input: sensor-events
    output: {room: int, time: int, motion: bool}
    fn: |
      e => ({room: e.room, time: e.time, motion: e.type === "motion"})
sinks:
  - uid: out
    kind: file
    input: flag-motion
    path: ` + strconv.Quote(out) + `
`
}

// BenchmarkStatelessMap runs the stateless workload over the motion benchmark's 1,000,000
// events (memory backend: the job has no keyed state).
func BenchmarkStatelessMap(b *testing.B) {
	dir := b.TempDir()
	events, out := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "out.jsonl")
	writeMotionEvents(b, events)
	benchMotionJob(b, statebackend.KindMemory, statelessYAML(events, out), out, motionEvents, "records")
}

// benchMotionJob runs the motion alarm job src b.N times on a fresh backend of the given kind
// and checks that it wrote want lines (reported as unit) to out.
func benchMotionJob(b *testing.B, kind, src, out string, want int, unit string) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		be := benchBackend(b, kind)
		j := benchNewJob(b, benchParse(b, src), be, nil, "")
		b.StartTimer()
		if err := j.Run(context.Background()); err != nil {
			b.Fatalf("run: %v", err)
		}
		b.StopTimer()
		if err := be.Close(); err != nil {
			b.Fatal(err)
		}
		if got := countLines(b, out); got != want {
			b.Fatalf("%d alarms, want %d", got, want)
		}
		b.StartTimer()
	}
	reportEventsPerSec(b, motionEvents)
	b.ReportMetric(float64(want), unit)
}

// motionState is the state of one room in the Go baseline.
type motionState struct {
	active bool
	time   int64
}

// motionEvent is one generated event of the Go baseline.
type motionEvent struct {
	typ        string
	room, time int64
}

// motionEventAt is event i of the motion benchmark (see motionEventFn).
func motionEventAt(i int64) motionEvent {
	e := motionEvent{typ: "motion", room: i % motionRooms, time: i}
	if (i/motionRooms)%5 == 0 {
		if e.room%7 == 0 {
			e.typ = "activate"
		} else {
			e.typ = "deactivate"
		}
	}
	return e
}

// motionBaseline does the motion benchmark's work by hand, with no JS and no runtime: it
// generates the same events, keeps the same state per room in a map, takes the same branches
// and writes the same JSON lines to w. It returns the number of alarms.
func motionBaseline(w io.Writer) int {
	state := map[int64]motionState{}
	var line []byte
	alarms := 0
	for i := range int64(motionEvents) {
		e := motionEventAt(i)
		s, ok := state[e.room]
		switch e.typ {
		case "activate":
			state[e.room] = motionState{true, e.time}
		case "deactivate":
			state[e.room] = motionState{false, e.time}
		case "motion":
			if ok && s.active {
				line = append(line[:0], `{"type":"ALARM","room":`...)
				line = strconv.AppendInt(line, e.room, 10)
				line = append(line, `,"time":`...)
				line = strconv.AppendInt(line, e.time, 10)
				line = append(line, "}\n"...)
				w.Write(line)
				alarms++
			}
		}
	}
	return alarms
}

// stateYAML is the pipeline of the 1,000,000 keys benchmarks: the latest event of each room
// (a max, whose state is the input record) read from a JSONL file, followed or not. It runs
// no JS, so building the state takes seconds.
func stateYAML(events string, follow bool, out string) string {
	return fmt.Sprintf(`name: state-bench
parallelism: 2
sources:
  - uid: sensor-events
    kind: file
    path: %q
    format: jsonl
    follow: %t
    schema: {type: string, room: int, time: int}
operators:
  - uid: latest
    kind: max
    input: sensor-events
    key_by: room
    field: time
sinks:
  - uid: out
    kind: file
    input: latest
    path: %q
`, events, follow, out)
}

// writeKeysFile writes n events of n distinct rooms as JSON lines.
func writeKeysFile(b *testing.B, path string, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	var line []byte
	for i := range n {
		line = append(line[:0], `{"type":"activate","room":`...)
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, `,"time":`...)
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, "}\n"...)
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// state1M is a savepoint of 1,000,000 keys, the events file its job read and the file its
// sink wrote (a restored job goes on with both).
type state1M struct {
	savepoint, events, out string
}

// buildState1M writes the savepoint of a bounded job that read 1,000,000 events of distinct
// keys (its final savepoint), in a temporary directory of b.
func buildState1M(b *testing.B) state1M {
	b.Helper()
	dir := b.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	writeKeysFile(b, events, stateKeys)
	out := filepath.Join(dir, "out.jsonl")
	p := benchParse(b, stateYAML(events, false, out))
	be := benchBackend(b, statebackend.KindMemory)
	defer be.Close()
	j := benchNewJob(b, p, be, nil, filepath.Join(dir, "savepoints"))
	start := time.Now()
	if err := j.Run(context.Background()); err != nil {
		b.Fatalf("build 1M keys: %v", err)
	}
	took := time.Since(start)
	b.Logf("1,000,000 distinct keys (memory backend, no JS) in %v: %.0f events/s", took.Round(time.Millisecond), stateKeys/took.Seconds())
	res := j.FinalSavepoint()
	if res == nil || res.Entries != stateKeys {
		b.Fatalf("final savepoint %+v: want %d entries", res, stateKeys)
	}
	return state1M{savepoint: res.Path, events: events, out: out}
}

// openSavepoint1M opens the 1,000,000 keys savepoint.
func openSavepoint1M(b *testing.B, path string) *savepoints.Savepoint {
	b.Helper()
	sp, err := savepoints.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	return sp
}

// BenchmarkSavepoint1M times savepoints of a running job holding 1,000,000 keys and reports
// the mean pause (the time the barrier held records back; the asynchronous phase on badger
// runs after it). badger: the job restored the keys and finished loading them, so they all
// are in the backend; badger/fed: the job read the 1,000,000 events itself, so many are
// still dirty in its cache, as in a pit stop; memory: restored, snapshotted synchronously.
func BenchmarkSavepoint1M(b *testing.B) {
	st := buildState1M(b)
	cases := []struct {
		name, kind string
		fed        bool
	}{{"badger", statebackend.KindBadger, false}, {"badger/fed", statebackend.KindBadger, true}, {"memory", statebackend.KindMemory, false}}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			be := benchBackend(b, c.kind)
			defer be.Close()
			dir := filepath.Join(b.TempDir(), "savepoints")
			events, sp := st.events, openSavepoint1M(b, st.savepoint)
			if c.fed {
				events, sp = filepath.Join(b.TempDir(), "events.jsonl"), nil
				writeKeysFile(b, events, stateKeys)
			}
			p := benchParse(b, stateYAML(events, true, filepath.Join(b.TempDir(), "out.jsonl")))
			j := benchNewJob(b, p, be, sp, "")
			done := make(chan error, 1)
			go func() { done <- j.Run(context.Background()) }()
			defer func() {
				j.Cancel()
				if err := <-done; err != ErrCanceled {
					b.Errorf("run: %v", err)
				}
			}()
			read := int64(0) // events the job reads before the savepoints
			if c.fed {
				read = stateKeys
			}
			waitUntil(b, func() bool { return j.loading.Load() == 0 && recordsIn(j, "latest") == read })
			// A first savepoint, untimed: the file sink syncs what it wrote so far.
			if res, err := j.Savepoint(dir, "manual"); err != nil {
				b.Fatal(err)
			} else if err := savepoints.Dispose(res.Path); err != nil {
				b.Fatal(err)
			}
			var bytes, pause int64
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := j.Savepoint(dir, "manual")
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if res.Entries != stateKeys {
					b.Fatalf("savepoint of %d entries, want %d", res.Entries, stateKeys)
				}
				bytes += res.Bytes
				pause += res.Pause
				if err := savepoints.Dispose(res.Path); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
			b.ReportMetric(float64(bytes)/float64(b.N)/stateKeys, "bytes/entry")
			b.ReportMetric(float64(pause)/float64(b.N), "pause-ms")
		})
	}
}

// recordsIn is the number of records the instances of uid have taken in.
func recordsIn(j *Job, uid string) int64 {
	var n int64
	for _, in := range j.instancesOf(uid) {
		n += in.recordsIn.Load()
	}
	return n
}

// waitUntil polls cond until it holds (a benchmark's setup, outside the timer).
func waitUntil(b *testing.B, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond) // polling
	}
}

// BenchmarkRestore1M times the restore of 1,000,000 keys: until the job can serve every key
// (New returns). badger restores lazily and reports in load-ms the background load into the
// backend that follows (the job running idle); badger/eager loads everything before the job
// starts, as restores that convert values do.
func BenchmarkRestore1M(b *testing.B) {
	st := buildState1M(b)
	cases := []struct {
		name, kind string
		eager      bool
	}{{"badger", statebackend.KindBadger, false}, {"badger/eager", statebackend.KindBadger, true}, {"memory", statebackend.KindMemory, false}}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p := benchParse(b, stateYAML(st.events, true, st.out))
			prog, err := p.Compile()
			if err != nil {
				b.Fatal(err)
			}
			var load time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				be := benchBackend(b, c.kind)
				b.StartTimer()
				j, err := New(Config{Pipeline: p, Program: prog, JobID: benchJobID, Backend: be, Restore: openSavepoint1M(b, st.savepoint), EagerRestore: c.eager})
				if err != nil {
					b.Fatalf("restore: %v", err)
				}
				b.StopTimer()
				if got := j.Restored().Entries; got != stateKeys {
					b.Fatalf("restored %d entries, want %d", got, stateKeys)
				}
				if j.loading.Load() > 0 {
					start := time.Now()
					done := make(chan error, 1)
					go func() { done <- j.Run(context.Background()) }()
					waitUntil(b, func() bool { return j.loading.Load() == 0 })
					load += time.Since(start)
					j.Cancel()
					if err := <-done; err != ErrCanceled {
						b.Fatalf("run: %v", err)
					}
				} else if err := j.closeConnectors(); err != nil {
					b.Fatal(err)
				}
				if err := be.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(stateKeys*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			if load > 0 {
				b.ReportMetric(float64(load.Milliseconds())/float64(b.N), "load-ms")
			}
		})
	}
}

// diskEntryKey and diskEntryValue size the baseline's entries so that, with the key group and
// the two lengths, each takes 18 bytes: the size of an entry of the 1,000,000 keys savepoint
// (its bytes/entry metric), so both write the same bytes.
const (
	diskEntryKey   = 4
	diskEntryValue = 11
)

// BenchmarkDiskSequentialWrite is the disk's own speed for 1,000,000 small length-prefixed
// entries written through a bufio.Writer and synced: the floor under a savepoint.
func BenchmarkDiskSequentialWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "baseline.bin")
	key, value := make([]byte, diskEntryKey), make([]byte, diskEntryValue)
	var hdr [binary.MaxVarintLen64]byte
	var size int64
	b.ReportAllocs()
	for range b.N {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 256<<10)
		for i := range stateKeys {
			binary.BigEndian.PutUint32(key, uint32(i))
			binary.BigEndian.PutUint32(value, uint32(i)*7)
			w.Write(binary.AppendUvarint(hdr[:0], uint64(i%128)))
			w.Write(binary.AppendUvarint(hdr[:0], diskEntryKey))
			w.Write(key)
			w.Write(binary.AppendUvarint(hdr[:0], diskEntryValue))
			w.Write(value)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		fi, err := f.Stat()
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
}
