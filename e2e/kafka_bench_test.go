package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchMotionPipeline is the motion alarm (checkpoint every second) between a @SOURCE@ and a
// @SINK@, filled in by BenchmarkKafkaMotionAlarm.
const benchMotionPipeline = `name: bench-motion
parallelism: 2
checkpoint: {interval: 1s}
sources:
  - uid: sensor-events
@SOURCE@
    schema: {type: string, room: int, time: int}
operators:
  - uid: alarm-evaluator
    kind: flat_map_with_state
    input: sensor-events
    key_by: room
    state: [bool, int]
    output: {type: string, room: int, time: int}
    fn: |
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
      }
sinks:
  - uid: alarms
    input: alarm-evaluator
@SINK@
`

// benchEvents is the number of events of BenchmarkKafkaMotionAlarm: 1,000,000, the size of
// the bar (PIPECTL_BENCH_EVENTS overrides it, e.g. 200000 for a quick look).
func benchEvents(b *testing.B) int {
	if s := os.Getenv("PIPECTL_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("PIPECTL_BENCH_EVENTS=%q: %v", s, err)
		}
		return n
	}
	return 1_000_000
}

// benchInputCompression is the compression of the benchmark's input topic: franz-go's
// default, snappy, unless PIPECTL_BENCH_INPUT_COMPRESSION names another (none, lz4, zstd,
// gzip).
func benchInputCompression(b *testing.B) kgo.CompressionCodec {
	switch c := os.Getenv("PIPECTL_BENCH_INPUT_COMPRESSION"); c {
	case "", "snappy":
		return kgo.SnappyCompression()
	case "none":
		return kgo.NoCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	case "gzip":
		return kgo.GzipCompression()
	default:
		b.Fatalf("PIPECTL_BENCH_INPUT_COMPRESSION=%q: want none, snappy, lz4, zstd or gzip", c)
		return kgo.NoCompression()
	}
}

// motionEvent is the i-th event of the benchmark: 1,000 rooms, each cycling through activate,
// motion, deactivate, motion (one alarm in four events).
func motionEvent(i int) (room int, line string) {
	room = i % 1000
	kind := [...]string{"activate", "motion", "deactivate", "motion"}[(i/1000)%4]
	return room, fmt.Sprintf(`{"type":%q,"room":%d,"time":%d}`, kind, room, 1000+i)
}

// BenchmarkKafkaMotionAlarm runs the motion alarm with the binary from a Kafka topic of 8
// partitions (snappy-compressed, or as PIPECTL_BENCH_INPUT_COMPRESSION says) to a Kafka topic
// with exactly-once transactions, and the same job from a file to a file as the baseline of
// the same run; each reports events/s, the CPU time of the pipectl process per op
// (pipectl-cpu-s/op) and that of the benchmark's own process meanwhile, which is the
// in-process broker's (broker-cpu-s/op): on a loaded machine the CPU times compare better
// than the rates.
//
//	go test ./e2e -run '^$' -bench KafkaMotionAlarm -benchtime 3x
func BenchmarkKafkaMotionAlarm(b *testing.B) {
	n := benchEvents(b)
	var file strings.Builder
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "in", "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic("in"), kgo.ProducerLinger(10*time.Millisecond),
		kgo.ProducerBatchCompression(benchInputCompression(b)))
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]*kgo.Record, 0, 10_000)
	flush := func() {
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
	}
	for i := 0; i < n; i++ {
		room, line := motionEvent(i)
		file.WriteString(line + "\n")
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(room)), Value: []byte(line)})
		if len(recs) == cap(recs) {
			flush()
		}
	}
	flush()
	cl.Close()

	cases := []struct{ name, source, sink string }{
		{"file-to-file", "    kind: file\n    path: events.jsonl", "    kind: file\n    path: alarms.jsonl"},
		{"kafka-to-kafka-exactly-once",
			"    kind: kafka\n    brokers: \"" + brokers + "\"\n    topics: [in]\n    bounded: true\n    parallelism: 2",
			"    kind: kafka\n    brokers: \"" + brokers + "\"\n    topic: out\n    delivery: exactly_once"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(dir+"/events.jsonl", []byte(file.String()), 0o644); err != nil {
				b.Fatal(err)
			}
			p := strings.NewReplacer("@SOURCE@", c.source, "@SINK@", c.sink).Replace(benchMotionPipeline)
			if err := os.WriteFile(dir+"/p.yaml", []byte(p), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start, self := time.Now(), processCPU(b)
			var pipectlCPU time.Duration
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(pipectlBin, "run", "p.yaml")
				cmd.Dir, cmd.Env = dir, append(os.Environ(), "PIPECTL_HOME="+dir+"/home")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("pipectl run: %v\n%s", err, out)
				}
				pipectlCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(pipectlCPU.Seconds()/float64(b.N), "pipectl-cpu-s/op")
			b.ReportMetric((processCPU(b)-self).Seconds()/float64(b.N), "broker-cpu-s/op")
		})
	}
}

// processCPU is the user and system CPU time of the benchmark's own process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
