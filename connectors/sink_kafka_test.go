package connectors

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/pipectl/pipectl/internal/testkit"
)

// newTestKafkaSink makes subtask i of a kafka sink of {id: int} records into the topic "out";
// its log lines go to logs when given.
func newTestKafkaSink(t *testing.T, brokers, delivery string, subtask int, logs ...*[]string) *kafkaSink {
	t.Helper()
	o := Options{"brokers": []string{brokers}, "topic": "out", "delivery": delivery,
		"transactional_id": "test", "connect_timeout": 5 * time.Second}
	s, err := newKafkaSink(SinkConfig{UID: "snk", Kind: "kafka", Type: mustType(t, "{id: int}"), Options: o,
		Pipeline: "p", Subtask: subtask, Parallelism: 2,
		Key: func(rec any) (any, error) { return rec.(map[string]any)["id"], nil },
		Logf: func(format string, args ...any) {
			for _, l := range logs {
				*l = append(*l, fmt.Sprintf(format, args...))
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeIDs writes {id: i} records.
func writeIDs(t *testing.T, s Sink, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		if err := s.Write(map[string]any{"id": id}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKafkaSinkAtLeastOnce checks the idempotent producer: records and keys arrive once
// Committed returns.
func TestKafkaSinkAtLeastOnce(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"out": 1})
	s := newTestKafkaSink(t, brokers, "at_least_once", 0)
	writeIDs(t, s, 1, 2)
	if o, err := s.Committed(); err != nil || o != nil {
		t.Fatalf("Committed: %v, %v", o, err)
	}
	if got := readCommittedValues(t, brokers, "out"); !reflect.DeepEqual(got, []string{`{"id":1}`, `{"id":2}`}) {
		t.Errorf("topic holds %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestKafkaSinkTwoPhaseCommit checks exactly_once: records are invisible to read_committed
// consumers until the snapshot that pre-committed them completes; records written after the
// pre-commit wait for the next transaction.
func TestKafkaSinkTwoPhaseCommit(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"out": 1})
	s := newTestKafkaSink(t, brokers, "exactly_once", 0)
	defer s.Close()
	writeIDs(t, s, 1, 2)
	o, err := s.Committed()
	if err != nil {
		t.Fatal(err)
	}
	if o["test-0/records"] != 2 || o["test-0/producer_id"] < 0 {
		t.Fatalf("snapshot part %v, want test-0 with 2 records", o)
	}
	writeIDs(t, s, 3) // after the barrier: held back
	if got := readCommittedValues(t, brokers, "out"); len(got) != 0 {
		t.Fatalf("visible before the snapshot completed: %q", got)
	}
	if err := s.SnapshotComplete(o); err != nil {
		t.Fatal(err)
	}
	if got := readCommittedValues(t, brokers, "out"); !reflect.DeepEqual(got, []string{`{"id":1}`, `{"id":2}`}) {
		t.Fatalf("after completion the topic holds %q, want ids 1 and 2", got)
	}
	o2, err := s.Committed()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SnapshotComplete(o); err != nil { // a stale notification commits nothing
		t.Fatal(err)
	}
	if got := readCommittedValues(t, brokers, "out"); len(got) != 2 {
		t.Fatalf("a stale notification committed: %q", got)
	}
	if err := s.SnapshotComplete(o2); err != nil {
		t.Fatal(err)
	}
	if got := readCommittedValues(t, brokers, "out"); len(got) != 3 {
		t.Fatalf("after the second snapshot the topic holds %q, want 3 records", got)
	}
}

// TestKafkaSinkRestoreCommitsRecorded checks the crash window: a snapshot completed but its
// transaction was never committed; a restore from it commits it under the recorded producer
// id and epoch before anything else, and aborts the other transaction left open.
func TestKafkaSinkRestoreCommitsRecorded(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"out": 1})
	a0, a1 := newTestKafkaSink(t, brokers, "exactly_once", 0), newTestKafkaSink(t, brokers, "exactly_once", 1)
	writeIDs(t, a0, 1)
	writeIDs(t, a1, 2)
	p0, err := a0.Committed()
	if err != nil {
		t.Fatal(err)
	}
	p1, err := a1.Committed()
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, a0, 3) // held back: never published
	// The crash: the snapshot of p0 and p1 is durable, nothing is committed; subtask 1 goes on
	// into a transaction no snapshot covers.
	if err := a1.SnapshotComplete(Offsets{}); err != nil {
		t.Fatal(err)
	}
	writeIDs(t, a1, 4)
	a0.cl.Close()
	a1.cl.Close()

	merged := Offsets{}
	for _, p := range []Offsets{p0, p1} {
		for k, v := range p {
			merged[k] = v
		}
	}
	b0 := newTestKafkaSink(t, brokers, "exactly_once", 0)
	defer b0.Close()
	if err := b0.Restore(merged); err != nil {
		t.Fatal(err)
	}
	if got := readCommittedValues(t, brokers, "out"); !reflect.DeepEqual(sortedStrings(got), []string{`{"id":1}`, `{"id":2}`}) {
		t.Fatalf("after restore the topic holds %q, want ids 1 and 2 (the recorded transactions)", got)
	}
	// A second restore of the same snapshot finds them committed: no error (a broker that
	// detects the retry says so as success, an older one answers with a warning).
	var logs []string
	b1 := newTestKafkaSink(t, brokers, "exactly_once", 0, &logs)
	defer b1.Close()
	if err := b1.Restore(merged); err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || !strings.Contains(logs[0], "test-0") || !strings.Contains(logs[1], "test-1") {
		t.Errorf("a second restore logs %q, want a line for each recorded transaction", logs)
	}
	writeIDs(t, b1, 5)
	p, err := b1.Committed()
	if err != nil {
		t.Fatal(err)
	}
	if err := b1.SnapshotComplete(p); err != nil {
		t.Fatal(err)
	}
	if got := readCommittedValues(t, brokers, "out"); !reflect.DeepEqual(sortedStrings(got), []string{`{"id":1}`, `{"id":2}`, `{"id":5}`}) {
		t.Fatalf("the topic holds %q, want ids 1, 2 and 5", got)
	}
}

// TestKafkaSinkDiscard checks that a canceled job's transaction, pre-committed or not, is
// aborted.
func TestKafkaSinkDiscard(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"out": 1})
	s := newTestKafkaSink(t, brokers, "exactly_once", 0)
	writeIDs(t, s, 1)
	if _, err := s.Committed(); err != nil {
		t.Fatal(err)
	}
	if err := s.Discard(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Records after the aborted transaction are readable: it no longer blocks the topic.
	produceTo(t, brokers, "out", 0, `{"id":9}`)
	if got := readCommittedValues(t, brokers, "out"); !reflect.DeepEqual(got, []string{`{"id":9}`}) {
		t.Fatalf("the topic holds %q, want only id 9", got)
	}
}

// TestKafkaSinkUnreachable checks that a sink fails within connect_timeout, naming the brokers.
func TestKafkaSinkUnreachable(t *testing.T) {
	o := Options{"brokers": []string{"127.0.0.1:1"}, "topic": "out", "connect_timeout": 500 * time.Millisecond}
	_, err := newKafkaSink(SinkConfig{UID: "snk", Kind: "kafka", Type: mustType(t, "{id: int}"), Options: o})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v, want one naming 127.0.0.1:1", err)
	}
}

// sortedStrings returns a sorted copy.
func sortedStrings(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

// TestKafkaSinkProduceFailure checks that a record the broker refuses (its topic was deleted
// under the running sink) fails the snapshot that waits for it, naming the topic, and every
// later write.
func TestKafkaSinkProduceFailure(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"gone": 1})
	o := Options{"brokers": []string{brokers}, "topic": "gone", "connect_timeout": 5 * time.Second}
	s, err := newKafkaSink(SinkConfig{UID: "snk", Kind: "kafka", Type: mustType(t, "{id: int}"), Options: o})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := kadm.NewClient(kafkaClient(t, brokers)).DeleteTopics(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, 1)
	if _, err := s.Committed(); err == nil || !strings.Contains(err.Error(), "produce to gone") {
		t.Fatalf("Committed: %v, want the produce failure", err)
	}
	if err := s.Write(map[string]any{"id": int64(2)}); err == nil || !IsRetryable(err) {
		t.Errorf("Write after a failure: %v, want the retryable produce failure", err)
	}
}

// TestKafkaSinkMissingTopic: a sink whose topic does not exist asks the brokers to create it,
// as a Kafka producer does; brokers that do not create topics on first use fail the sink at its
// start, naming the topic.
func TestKafkaSinkMissingTopic(t *testing.T) {
	sink := func(brokers string) (*kafkaSink, error) {
		o := Options{"brokers": []string{brokers}, "topic": "fresh", "connect_timeout": 5 * time.Second}
		return newKafkaSink(SinkConfig{UID: "snk", Kind: "kafka", Type: mustType(t, "{id: int}"), Options: o})
	}
	t.Run("created on first use", func(t *testing.T) {
		brokers := kafkaTestCluster(t, nil, kfake.AllowAutoTopicCreation())
		s, err := sink(brokers)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		writeIDs(t, s, 1)
		if _, err := s.Committed(); err != nil {
			t.Fatal(err)
		}
		if got := readCommittedValues(t, brokers, "fresh"); !reflect.DeepEqual(got, []string{`{"id":1}`}) {
			t.Errorf("topic holds %q", got)
		}
	})
	t.Run("brokers that do not create topics", func(t *testing.T) {
		_, err := sink(kafkaTestCluster(t, nil))
		if err == nil || !strings.Contains(err.Error(), "topic fresh does not exist") || !strings.Contains(err.Error(), "create it") {
			t.Fatalf("error %v, want one saying topic fresh does not exist", err)
		}
	})
}

// restartableBroker is an in-process broker that keeps its data (records, producer ids, open
// transactions) in a directory, so that it can be stopped and started again on the same port
// with the same content: a broker restart.
type restartableBroker struct {
	t      *testing.T
	dir    string
	port   int
	topics map[string]int32
	c      *kfake.Cluster
}

// startRestartableBroker starts a broker on a free port with topics (name -> partitions); it
// is closed when the test ends.
func startRestartableBroker(t *testing.T, topics map[string]int32) *restartableBroker {
	t.Helper()
	b := &restartableBroker{t: t, dir: t.TempDir(), topics: topics}
	b.start()
	_, port, _ := strings.Cut(b.c.ListenAddrs()[0], ":")
	b.port, _ = strconv.Atoi(port)
	t.Cleanup(func() { b.c.Close() })
	return b
}

// start starts the broker (again, on the same port, once it has one).
func (b *restartableBroker) start() {
	b.t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(b.dir)}
	for name, n := range b.topics {
		opts = append(opts, kfake.SeedTopics(n, name))
	}
	if b.port != 0 {
		opts = append(opts, kfake.Ports(b.port))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		b.t.Fatalf("start the broker on port %d: %v", b.port, err)
	}
	b.c = c
}

func (b *restartableBroker) addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// TestKafkaSinkBrokerRestart stops the broker, writes records and takes a snapshot while it
// is down: the sink retries (counting the errors) instead of failing, and once the broker is
// back on the same port with the same data the snapshot completes and the records arrive,
// exactly once after their transaction commits, or at least once.
func TestKafkaSinkBrokerRestart(t *testing.T) {
	for _, delivery := range []string{"at_least_once", "exactly_once"} {
		t.Run(delivery, func(t *testing.T) {
			b := startRestartableBroker(t, map[string]int32{"out": 2})
			s := newTestKafkaSink(t, b.addr(), delivery, 0)
			defer s.Close()
			snapshot := func() {
				t.Helper()
				o, err := s.Committed()
				if err != nil {
					t.Fatal(err)
				}
				if err := s.SnapshotComplete(o); err != nil {
					t.Fatal(err)
				}
			}
			writeIDs(t, s, 1, 2)
			snapshot()
			b.c.Close()
			writeIDs(t, s, 3, 4)
			type result struct {
				o   Offsets
				err error
			}
			done := make(chan result, 1)
			go func() {
				o, err := s.Committed()
				done <- result{o, err}
			}()
			testkit.Eventually(t, 20*time.Second, "the sink to count a broker error", func() bool { return s.Errors() > 0 })
			select {
			case r := <-done:
				t.Fatalf("the snapshot ended while the broker was down: %v, %v", r.o, r.err)
			default:
			}
			b.start()
			var r result
			select {
			case r = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the snapshot did not complete after the broker came back")
			}
			if r.err != nil {
				t.Fatalf("the snapshot across the restart: %v", r.err)
			}
			if err := s.SnapshotComplete(r.o); err != nil {
				t.Fatal(err)
			}
			got := readCommittedValues(t, b.addr(), "out")
			if delivery == "at_least_once" {
				got = slices.Compact(sortedStrings(got))
			}
			if want := []string{`{"id":1}`, `{"id":2}`, `{"id":3}`, `{"id":4}`}; !reflect.DeepEqual(sortedStrings(got), want) {
				t.Errorf("the topic holds %q, want %q", got, want)
			}
		})
	}
}
