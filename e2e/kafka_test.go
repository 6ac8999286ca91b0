package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/internal/testkit"
)

// kafkaPipeline reads events {id, room} from the topic "in", numbers them per room (a keyed
// running count, so that a record lost or read twice changes the numbers) and writes
// {room, id, n} to the topic OUT with exactly-once transactions. BROKERS, BOUNDED and OUT come
// from the environment of the commands that name the file (harness.bindEnv).
const kafkaPipeline = `name: kafka-count
parallelism: 2
checkpoint: {interval: 200ms}
sources:
  - uid: events
    kind: kafka
    brokers: "${BROKERS}"
    topics: [in]
    bounded: ${BOUNDED:-false}
    parallelism: 2
    schema: {id: int, room: int}
operators:
  - uid: numbered
    kind: flat_map_with_state
    input: events
    key_by: room
    state: int
    output: {room: int, id: int, n: int}
    fn: "(e, s) => [[{room: e.room, id: e.id, n: (s || 0) + 1}], (s || 0) + 1]"
sinks:
  - uid: out
    kind: kafka
    brokers: "${BROKERS}"
    input: numbered
    topic: ${OUT:-out}
    key: room
    delivery: exactly_once
`

// kafkaRooms is the number of rooms (and keys) of the test events.
const kafkaRooms = 5

// kafkaCluster starts an in-process Kafka-protocol broker on 127.0.0.1 with the topics "in"
// (4 partitions), "out" and "out2"; it is closed when the test ends.
func kafkaCluster(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "in", "out", "out2"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// kafkaPipelineFile writes kafkaPipeline for brokers into the harness as name.
func (h *harness) kafkaPipelineFile(name, brokers string, bounded bool, out string) {
	h.write(name, kafkaPipeline)
	h.bindEnv(name, map[string]string{"BROKERS": brokers, "BOUNDED": fmt.Sprint(bounded), "OUT": out})
}

// event is the i-th test event as JSON.
func event(i int) string { return fmt.Sprintf(`{"id":%d,"room":%d}`, i, i%kafkaRooms) }

// produceEvents writes events from..to-1 to the topic "in", keyed by room (so that one room's
// events keep their order in one partition).
func produceEvents(t *testing.T, brokers string, from, to int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprint(i % kafkaRooms)), Value: []byte(event(i))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// output is one record of the output topic.
type output struct {
	Room int `json:"room"`
	ID   int `json:"id"`
	N    int `json:"n"`
}

// readCommitted reads every committed record of a topic with a read_committed consumer, up
// to the last stable offset each partition had first (control records tell where a partition
// ends; they are left out).
func readCommitted(t *testing.T, brokers, topic string) []output {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	ends, err := kadm.NewClient(adm).ListCommittedOffsets(ctx, topic)
	adm.Close()
	if err != nil {
		t.Fatal(err)
	}
	from := map[int32]kgo.Offset{}
	left := map[int32]int64{} // partition -> its last stable offset, while not reached
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			from[o.Partition] = kgo.NewOffset().AtStart()
			left[o.Partition] = o.Offset
		}
	})
	if len(left) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []output
	for len(left) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: partitions %v not read to their end", topic, left)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() && r.Offset < left[r.Partition] {
				var o output
				if err := json.Unmarshal(r.Value, &o); err != nil {
					t.Fatalf("output record %q: %v", r.Value, err)
				}
				out = append(out, o)
			}
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out
}

// checkExactlyOnce checks that out holds, for the events 0..n-1, each event once with its
// running number in its room.
func checkExactlyOnce(t *testing.T, out []output, n int) {
	t.Helper()
	want := map[output]bool{}
	count := map[int]int{}
	for i := 0; i < n; i++ {
		r := i % kafkaRooms
		count[r]++
		want[output{Room: r, ID: i, N: count[r]}] = true
	}
	seen := map[output]int{}
	for _, o := range out {
		seen[o]++
	}
	var problems []string
	for o, c := range seen {
		switch {
		case !want[o]:
			problems = append(problems, fmt.Sprintf("unexpected %+v (x%d)", o, c))
		case c > 1:
			problems = append(problems, fmt.Sprintf("%+v %d times", o, c))
		}
	}
	for o := range want {
		if seen[o] == 0 {
			problems = append(problems, fmt.Sprintf("missing %+v", o))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("… %d more", len(problems)-10))
		}
		t.Errorf("read_committed output (%d records, want %d once each):\n%s", len(out), n, strings.Join(problems, "\n"))
	}
}

// TestKafkaExactlyOnceWithKcat produces the input with kcat, runs a bounded kafka → kafka
// exactly_once job with checkpoints, and reads the output with kcat in read_committed
// isolation: every record once.
func TestKafkaExactlyOnceWithKcat(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Skip("kcat is not installed (Debian package kcat): it is the independent Kafka client of this test")
	}
	brokers := kafkaCluster(t)
	const n = 2000
	var in strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "%d:%s\n", i%kafkaRooms, event(i))
	}
	kcat := exec.Command("kcat", "-P", "-b", brokers, "-t", "in", "-K:")
	kcat.Stdin = strings.NewReader(in.String())
	if b, err := kcat.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, b)
	}
	h := newHarness(t)
	h.kafkaPipelineFile("p.yaml", brokers, true, "out")
	h.mustRun(0, "run", "p.yaml")

	b, err := exec.Command("kcat", "-C", "-b", brokers, "-t", "out", "-e", "-q", "-X", "isolation.level=read_committed").Output()
	if err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	var out []output
	for _, l := range nonEmptyLines(string(b)) {
		var o output
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		out = append(out, o)
	}
	checkExactlyOnce(t, out, n)
}

// TestKafkaKillNineExactlyOnce kills a running exactly_once job with SIGKILL after a complete
// checkpoint while input still arrives, runs it again (it resumes from the checkpoint), and
// checks that a read_committed consumer sees every output record exactly once.
func TestKafkaKillNineExactlyOnce(t *testing.T) {
	t.Parallel()
	brokers := kafkaCluster(t)
	h := newHarness(t)
	h.kafkaPipelineFile("p.yaml", brokers, false, "out")
	const n = 3000
	produceEvents(t, brokers, 0, 1000)
	run := h.start("run", "p.yaml")
	checkpoints := h.home + "/state/kafka-count/checkpoints"
	testkit.Eventually(t, 30*time.Second, "a complete checkpoint and committed output", func() bool {
		return completeCheckpoints(checkpoints) > 0 && len(readCommitted(t, brokers, "out")) > 0
	})
	produceEvents(t, brokers, 1000, 2000)
	run.signal(t, syscall.SIGKILL)
	select {
	case <-run.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed process did not end")
	}
	produceEvents(t, brokers, 2000, n)

	run = h.start("run", "p.yaml")
	testkit.Eventually(t, 60*time.Second, "all output committed", func() bool { return len(readCommitted(t, brokers, "out")) >= n })
	run.signal(t, syscall.SIGTERM)
	if code := run.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, run.stderr.String())
	}
	if !strings.Contains(run.stderr.String(), "Resuming from checkpoint") {
		t.Errorf("the second run does not say it resumes:\n%s", run.stderr.String())
	}
	checkExactlyOnce(t, readCommitted(t, brokers, "out"), n)
}

// TestKafkaCrashBetweenCheckpointAndCommit crashes the job right after its first checkpoint
// is complete and before the sink commits the transaction that checkpoint recorded (a
// fault-injection hook): nothing is visible yet; the next run commits the recorded
// transaction before it starts and goes on, and every record is there once.
func TestKafkaCrashBetweenCheckpointAndCommit(t *testing.T) {
	t.Parallel()
	brokers := kafkaCluster(t)
	h := newHarness(t)
	h.kafkaPipelineFile("p.yaml", brokers, true, "out")
	const n = 1500
	produceEvents(t, brokers, 0, n)
	crash := h.command(context.Background(), "run", "p.yaml")
	crash.Env = append(crash.Env, "PIPECTL_KAFKA_CRASH_BEFORE_COMMIT=1")
	out, err := crash.CombinedOutput()
	if ws, ok := crash.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the run with the fault hook did not die by SIGKILL (%v):\n%s", err, out)
	}
	if got := readCommitted(t, brokers, "out"); len(got) != 0 {
		t.Fatalf("%d records visible before any commit", len(got))
	}
	res := h.mustRun(0, "run", "p.yaml")
	if !regexp.MustCompile(`committed the recorded transaction pipectl-kafka-count-out-\d`).MatchString(res.stderr) {
		t.Errorf("the rerun does not say it committed the recorded transaction:\n%s", res.stderr)
	}
	checkExactlyOnce(t, readCommitted(t, brokers, "out"), n)
}

// TestKafkaStopUpgradeAndReprocess stops a detached job with a savepoint and upgrades it from
// there: the output is exactly once across the pit stop. Then an older savepoint is restored
// into a new output topic: the job reprocesses from that savepoint's offsets.
func TestKafkaStopUpgradeAndReprocess(t *testing.T) {
	t.Parallel()
	brokers := kafkaCluster(t)
	h := newHarness(t)
	h.kafkaPipelineFile("p.yaml", brokers, false, "out")
	const n = 2000
	produceEvents(t, brokers, 0, 500)
	id := h.detach("run", "-d", "p.yaml")
	testkit.Eventually(t, 30*time.Second, "the first records", func() bool { return len(readCommitted(t, brokers, "out")) >= 500 })
	older := h.savepointPath(h.mustRun(0, "savepoint", id))
	offsets := h.kafkaOffsets(older)
	var covered int64
	for _, v := range offsets {
		covered += v
	}
	if covered != 500 {
		t.Fatalf("the savepoint's offsets %v cover %d records, want all 500", offsets, covered)
	}
	produceEvents(t, brokers, 500, 1000)
	testkit.Eventually(t, 30*time.Second, "1000 records", func() bool { return len(readCommitted(t, brokers, "out")) >= 1000 })
	stopped := h.savepointPath(h.mustRun(0, "stop", id))
	produceEvents(t, brokers, 1000, n) // while the job is down

	id2 := h.detach("upgrade", "-d", "p.yaml", "--from-savepoint", stopped)
	testkit.Eventually(t, 30*time.Second, "all records after the upgrade", func() bool { return len(readCommitted(t, brokers, "out")) >= n })
	h.savepointPath(h.mustRun(0, "stop", id2))
	checkExactlyOnce(t, readCommitted(t, brokers, "out"), n)

	// Reprocess from the older savepoint into out2: the events from its offsets on, numbered
	// on from its state.
	h.kafkaPipelineFile("p2.yaml", brokers, true, "out2")
	h.mustRun(0, "run", "p2.yaml", "--from-savepoint", older)
	got := readCommitted(t, brokers, "out2")
	all := map[output]bool{}
	count := map[int]int{}
	for i := 0; i < n; i++ {
		count[i%kafkaRooms]++
		all[output{Room: i % kafkaRooms, ID: i, N: count[i%kafkaRooms]}] = true
	}
	ids := map[int]bool{}
	for _, o := range got {
		if !all[o] || ids[o.ID] {
			t.Errorf("reprocessed record %+v is not one of the original outputs, or repeated", o)
		}
		ids[o.ID] = true
	}
	if len(got) != n-500 {
		t.Errorf("reprocessing from the older savepoint wrote %d records, want %d (the events after its offsets)", len(got), n-500)
	}
	for i := 500; i < n; i++ {
		if !ids[i] {
			t.Errorf("event %d is missing from the reprocessed output", i)
			break
		}
	}
}

// kafkaOffsets returns the offsets `inspect` shows for the kafka source "events".
func (h *harness) kafkaOffsets(sp string) map[string]int64 {
	h.t.Helper()
	for _, op := range h.inspect(sp).Operators {
		if op.UID == "events" {
			for k := range op.Offsets {
				if !regexp.MustCompile(`^in/\d+$`).MatchString(k) {
					h.t.Errorf("offset key %q is not <topic>/<partition>", k)
				}
			}
			return op.Offsets
		}
	}
	h.t.Fatalf("savepoint %s has no operator events", sp)
	return nil
}

// TestKafkaUnreachableBrokers checks that run fails within connect_timeout when no broker
// answers, naming the brokers it tried.
func TestKafkaUnreachableBrokers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", `name: unreachable
sources:
  - uid: events
    kind: kafka
    brokers: "127.0.0.1:1,127.0.0.1:2"
    topics: [in]
    connect_timeout: 2s
    schema: {id: int, room: int}
sinks:
  - uid: out
    kind: stdout
    input: events
`)
	start := time.Now()
	res := h.run("run", "p.yaml")
	took := time.Since(start)
	if res.code == 0 {
		t.Fatalf("run against unreachable brokers succeeded:\n%s", res.stderr)
	}
	if !strings.Contains(res.stderr, "127.0.0.1:1, 127.0.0.1:2") {
		t.Errorf("the error does not name the brokers:\n%s", res.stderr)
	}
	if took > 10*time.Second {
		t.Errorf("run took %v to fail, want about connect_timeout (2s)", took)
	}
}

// TestKafkaEventTimeIdleSubtasks runs a source with timestamp: kafka at parallelism 3 on a
// topic of one partition: the two subtasks without a partition are idle and never hold the
// watermark back, so an event-time window fires as soon as the partition's records pass its
// end, without idle_timeout and while the job keeps running.
func TestKafkaEventTimeIdleSubtasks(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "one"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	h := newHarness(t)
	h.write("p.yaml", `name: kafka-windows
sources:
  - uid: events
    kind: kafka
    brokers: "`+brokers+`"
    topics: [one]
    parallelism: 3
    timestamp: kafka
    metadata: {timestamp: ts}
    schema: {room: int, ts: int}
operators:
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    fn: "(room, w, events) => [{room: room, start: w.start, n: events.length}]"
    output: {room: int, start: int, n: int}
sinks:
  - uid: out
    kind: stdout
    input: counts
`)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic("one"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, ms := range []int64{1000, 2000, 3000, 25000} {
		r := &kgo.Record{Value: []byte(`{"room":1}`), Timestamp: time.UnixMilli(ms)}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	run := h.start("run", "p.yaml")
	testkit.Eventually(t, 30*time.Second, "the window [0, 10s) to fire", func() bool {
		return strings.Contains(run.stdout.String(), `{"room":1,"start":0,"n":3}`)
	})
	run.signal(t, syscall.SIGTERM)
	run.wait(t, 30*time.Second)
}

// A source subtask reading several partitions holds its watermark back until every one of
// them has delivered a record: one partition read far ahead does not make the records of the
// others late (they would be dropped from their windows).
func TestKafkaWatermarkWaitsForEveryPartition(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "wm"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic("wm"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := int32(0); p < 4; p++ { // partition by partition: 0 is read far ahead of 1, 2, 3
		for _, ms := range []int{1000, 70000} {
			r := &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf(`{"room":1,"time":%d}`, ms))}
			if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := newHarness(t)
	h.write("p.yaml", `name: kafka-partitions
sources:
  - uid: events
    kind: kafka
    brokers: "`+brokers+`"
    topics: [wm]
    bounded: true
    timestamp: "e => e.time"
    watermark: {max_out_of_orderness: 0s}
    schema: {room: int, time: int}
operators:
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 1m}
    fn: "(room, w, events) => [{room: room, start: w.start, n: events.length}]"
    output: {room: int, start: int, n: int}
sinks:
  - uid: out
    kind: stdout
    input: counts
`)
	out := h.mustRun(0, "run", "p.yaml").stdout
	if want := `{"room":1,"start":0,"n":4}`; !strings.Contains(out, want) {
		t.Fatalf("the first window has lost records of the partitions read later: got\n%s\nwant a line %s", out, want)
	}
}

// A Kafka sink's key function may return any value: numbers are written in decimal, as a
// key path to an int field is.
func TestKafkaSinkKeyFunctionReturnsANumber(t *testing.T) {
	t.Parallel()
	brokers := kafkaCluster(t)
	h := newHarness(t)
	h.write("p.yaml", `name: kafka-keys
sources:
  - {uid: numbers, kind: generator, count: 3, fn: "i => ({n: i})", schema: {n: int}}
sinks:
  - uid: o
    kind: kafka
    brokers: "`+brokers+`"
    input: numbers
    topic: out
    key: "e => e.n * 10"
`)
	h.mustRun(0, "run", "p.yaml")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics("out"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var keys []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(keys) < 3 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { keys = append(keys, string(r.Key)) })
	}
	sort.Strings(keys)
	if got := strings.Join(keys, " "); got != "0 10 20" {
		t.Fatalf("keys %q, want 0 10 20", got)
	}
}

// kafkaRestartSink is a second, at_least_once sink for kafkaPipeline: the topic out2 gets the
// same records as out, through an idempotent producer without transactions.
const kafkaRestartSink = `  - uid: out_alo
    kind: kafka
    brokers: "${BROKERS}"
    input: numbered
    topic: out2
    key: room
`

// restartableBroker is an in-process broker that keeps its data (records, producer ids, open
// transactions) in a directory, so that it can be closed and started again on the same port
// with the same content: a broker restart.
type restartableBroker struct {
	t    *testing.T
	dir  string
	port int
	c    *kfake.Cluster
}

// startRestartableBroker starts a broker on a free port with the topics of kafkaCluster.
func startRestartableBroker(t *testing.T) *restartableBroker {
	t.Helper()
	b := &restartableBroker{t: t, dir: t.TempDir()}
	b.start()
	_, port, _ := strings.Cut(b.c.ListenAddrs()[0], ":")
	b.port, _ = strconv.Atoi(port)
	t.Cleanup(func() { b.c.Close() })
	return b
}

// start starts the broker (on b.port once it has one).
func (b *restartableBroker) start() {
	b.t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(4, "in", "out", "out2"), kfake.DataDir(b.dir)}
	if b.port != 0 {
		opts = append(opts, kfake.Ports(b.port))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		b.t.Fatalf("start the broker again on port %d: %v", b.port, err)
	}
	b.c = c
}

func (b *restartableBroker) addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// TestKafkaBrokerRestart closes the broker under a running exactly_once job (a Kafka source,
// an exactly_once and an at_least_once Kafka sink) while events flow, and starts it again on
// the same port with the same data once the source has logged a few failed attempts to reach
// it (with backoff between them). The job
// neither fails nor restarts: its clients retry with backoff (logged, counted in
// connector_errors), then it goes on with the events produced after the restart, and a
// read_committed consumer sees every record once on the exactly_once topic, and every record
// on the at_least_once one.
//
// What it cannot show: kfake keeps an open transaction across its restart (it persists it),
// as Kafka does; a broker that lost it would abort it, and the sink would fail the job on its
// commit (then restart: in the pipeline recovers it from the last checkpoint).
func TestKafkaBrokerRestart(t *testing.T) {
	t.Parallel()
	b := startRestartableBroker(t)
	h := newHarness(t)
	brokers := b.addr()
	h.write("p.yaml", kafkaPipeline+kafkaRestartSink)
	h.bindEnv("p.yaml", map[string]string{"BROKERS": brokers})
	const n = 3000
	produceEvents(t, brokers, 0, 1000)
	run := h.start("run", "--metrics-addr", "127.0.0.1:0", "p.yaml")
	checkpoints := h.home + "/state/kafka-count/checkpoints"
	testkit.Eventually(t, 30*time.Second, "a complete checkpoint and committed output", func() bool {
		return completeCheckpoints(checkpoints) > 0 && len(readCommitted(t, brokers, "out")) >= 1000
	})
	produceEvents(t, brokers, 1000, 2000) // in flight while the broker goes away
	b.c.Close()
	testkit.Eventually(t, 30*time.Second, "the source to retry the broker a few times", func() bool {
		return strings.Count(run.stderr.String(), "events: kafka: connect to broker") >= 4
	})
	b.start()
	produceEvents(t, brokers, 2000, n)
	testkit.Eventually(t, 90*time.Second, "all output committed after the restart", func() bool {
		return len(readCommitted(t, brokers, "out")) >= n && len(readCommitted(t, brokers, "out2")) >= n
	})
	errs := connectorErrors(t, run)
	t.Logf("connector_errors after the restart: %v", errs)
	run.signal(t, syscall.SIGTERM)
	if code := run.wait(t, 30*time.Second); code != 0 { // the pipeline has no restart: policy
		t.Fatalf("the job ended with exit %d after the broker restart:\n%s", code, run.stderr.String())
	}
	if errs["events"] == 0 {
		t.Errorf("connector_errors %v: the source's retried broker errors are not counted", errs)
	}
	checkExactlyOnce(t, readCommitted(t, brokers, "out"), n)
	checkAtLeastOnce(t, readCommitted(t, brokers, "out2"), n)
}

// connectorErrors reads connector_errors per uid from the /job endpoint of a job started with
// --metrics-addr.
func connectorErrors(t *testing.T, run *proc) map[string]int64 {
	t.Helper()
	m := regexp.MustCompile(`url=(http://\S+)/metrics`).FindStringSubmatch(run.stderr.String())
	if m == nil {
		t.Fatalf("the job does not log its metrics address:\n%s", run.stderr.String())
	}
	resp, err := http.Get(m[1] + "/job")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var job struct {
		Operators []struct {
			UID    string `json:"uid"`
			Errors int64  `json:"connector_errors"`
		} `json:"operators"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&job); err != nil {
		t.Fatalf("GET /job: %v", err)
	}
	out := map[string]int64{}
	for _, op := range job.Operators {
		out[op.UID] = op.Errors
	}
	return out
}

// checkAtLeastOnce checks that out holds every record checkExactlyOnce wants, and nothing
// else (a record may repeat).
func checkAtLeastOnce(t *testing.T, out []output, n int) {
	t.Helper()
	seen := map[output]bool{}
	for _, o := range out {
		seen[o] = true
	}
	var unique []output
	for o := range seen {
		unique = append(unique, o)
	}
	checkExactlyOnce(t, unique, n)
}
