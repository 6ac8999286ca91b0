package connectors

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/internal/testkit"
)

// kafkaSourceFor makes subtask i of p of a kafka source reading {id: int} records.
func kafkaSourceFor(t *testing.T, brokers string, opts Options, typ string, subtask, par int) *kafkaSource {
	t.Helper()
	o := Options{"brokers": []string{brokers}, "topics": []string{"t"}, "bounded": true, "connect_timeout": 5 * time.Second}
	for k, v := range opts {
		o[k] = v
	}
	if typ == "" {
		typ = "{id: int}"
	}
	src, err := newKafkaSource(SourceConfig{UID: "src", Kind: "kafka", Schema: mustType(t, typ), Options: o, Subtask: subtask, Parallelism: par})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// ids returns the ids of {id: int} records.
func ids(recs []any) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.(map[string]any)["id"].(int64))
	}
	return out
}

// values returns n JSON records {id: from+i}.
func values(from, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf(`{"id":%d}`, from+i))
	}
	return out
}

// TestKafkaSourceAssignment checks that the partitions, sorted by (topic, partition), go to
// subtask i mod parallelism, and that each subtask reports offsets for its own only.
func TestKafkaSourceAssignment(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"a": 3, "b": 2})
	for p := int32(0); p < 3; p++ {
		produceTo(t, brokers, "a", p, values(0, 2)...)
	}
	for p := int32(0); p < 2; p++ {
		produceTo(t, brokers, "b", p, values(0, 2)...)
	}
	cases := []struct {
		par  int
		want [][]string
	}{
		{1, [][]string{{"a/0", "a/1", "a/2", "b/0", "b/1"}}},
		{2, [][]string{{"a/0", "a/2", "b/1"}, {"a/1", "b/0"}}},
		{3, [][]string{{"a/0", "b/0"}, {"a/1", "b/1"}, {"a/2"}}},
		{6, [][]string{{"a/0"}, {"a/1"}, {"a/2"}, {"b/0"}, {"b/1"}, nil}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint("parallelism ", c.par), func(t *testing.T) {
			for i := 0; i < c.par; i++ {
				src := kafkaSourceFor(t, brokers, Options{"topics": []string{"b", "a"}}, "", i, c.par)
				ctx := &fakeCtx{}
				if err := src.Run(ctx); err != nil {
					t.Fatal(err)
				}
				var got []string
				for k, v := range src.Offsets() {
					got = append(got, k)
					if v != 2 {
						t.Errorf("subtask %d: offset of %s is %d, want 2", i, k, v)
					}
				}
				sort.Strings(got)
				if !reflect.DeepEqual(got, c.want[i]) {
					t.Errorf("subtask %d reads %v, want %v", i, got, c.want[i])
				}
				if n := len(ctx.records()); n != 2*len(c.want[i]) {
					t.Errorf("subtask %d emitted %d records, want %d", i, n, 2*len(c.want[i]))
				}
			}
		})
	}
}

// TestKafkaSourceOffsetsCoverEmitted checks that the offsets seen from inside Emit (where a
// barrier takes them) cover exactly the records emitted before, and that a restore from them
// goes on with the next record: nothing lost, nothing repeated.
func TestKafkaSourceOffsetsCoverEmitted(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 1})
	produceTo(t, brokers, "t", 0, values(0, 10)...)
	src := kafkaSourceFor(t, brokers, nil, "", 0, 1)
	ctx := &fakeCtx{src: src, stopAfter: 4}
	if err := src.Run(ctx); err != ErrStopped {
		t.Fatalf("Run: %v, want ErrStopped", err)
	}
	for i, o := range ctx.offsets {
		if o["t/0"] != int64(i) {
			t.Errorf("offsets before record %d: %v, want t/0 = %d", i, o, i)
		}
	}
	stored := src.Offsets()
	if !reflect.DeepEqual(stored, Offsets{"t/0": 4}) {
		t.Fatalf("offsets after 4 records: %v", stored)
	}
	again := kafkaSourceFor(t, brokers, nil, "", 0, 1)
	if err := again.Restore(stored); err != nil {
		t.Fatal(err)
	}
	ctx2 := &fakeCtx{}
	if err := again.Run(ctx2); err != nil {
		t.Fatal(err)
	}
	if got := ids(ctx2.records()); !reflect.DeepEqual(got, []int64{4, 5, 6, 7, 8, 9}) {
		t.Errorf("after restore: %v, want 4..9", got)
	}
}

// TestKafkaSourceStart checks where a source begins: start for a fresh source, the stored
// offset for a restored partition, earliest for a partition the stored offsets lack.
func TestKafkaSourceStart(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 2})
	cl := kafkaClient(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 6; i++ {
		r := &kgo.Record{Topic: "t", Partition: 0, Value: []byte(fmt.Sprintf(`{"id":%d}`, i)), Timestamp: base.Add(time.Duration(i) * time.Minute)}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produceTo(t, brokers, "t", 1, values(100, 2)...)
	cases := []struct {
		name     string
		opts     Options
		restored Offsets
		want     []int64
	}{
		{"earliest", nil, nil, []int64{0, 1, 2, 3, 4, 5, 100, 101}},
		{"latest", Options{"start": "latest"}, nil, nil},
		{"a time", Options{"start": "2024-05-01T00:03:00Z"}, nil, []int64{3, 4, 5, 100, 101}}, // partition 1 was written now
		{"restored, one partition lacking", Options{"start": "latest"}, Offsets{"t/0": 5}, []int64{5, 100, 101}},
		{"restored offset out of range, earliest", Options{"offset_out_of_range": "earliest"}, Offsets{"t/0": 50, "t/1": 2}, []int64{0, 1, 2, 3, 4, 5}},
		{"restored offset out of range, latest", Options{"offset_out_of_range": "latest"}, Offsets{"t/0": 50, "t/1": 0}, []int64{100, 101}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := kafkaSourceFor(t, brokers, c.opts, "", 0, 1)
			if c.restored != nil {
				if err := src.Restore(c.restored); err != nil {
					t.Fatal(err)
				}
			}
			ctx := &fakeCtx{}
			if err := src.Run(ctx); err != nil {
				t.Fatal(err)
			}
			got := ids(ctx.records())
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("read %v, want %v", got, c.want)
			}
		})
	}
}

// TestKafkaSourceOffsetOutOfRange checks that a stored offset the cluster does not hold fails
// the source, naming topic, partition and both offsets.
func TestKafkaSourceOffsetOutOfRange(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 1})
	produceTo(t, brokers, "t", 0, values(0, 3)...)
	src := kafkaSourceFor(t, brokers, nil, "", 0, 1)
	if err := src.Restore(Offsets{"t/0": 42}); err != nil {
		t.Fatal(err)
	}
	err := src.Run(&fakeCtx{})
	if err == nil {
		t.Fatal("Run succeeded")
	}
	for _, want := range []string{"topic t partition 0", "stored offset 42", "offsets 0 to 3", "offset_out_of_range"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestKafkaSourceReadCommitted checks that records of aborted transactions are never emitted,
// open ones not before their commit, and that a bounded source ends past the control records.
func TestKafkaSourceReadCommitted(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 1})
	produceTo(t, brokers, "t", 0, values(0, 2)...)
	txn := kafkaClient(t, brokers, kgo.TransactionalID("test-txn"), kgo.DefaultProduceTopic("t"))
	ctx := context.Background()
	for _, commit := range []kgo.TransactionEndTry{kgo.TryAbort, kgo.TryCommit} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		id := 10
		if commit == kgo.TryCommit {
			id = 20
		}
		if err := txn.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf(`{"id":%d}`, id))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	src := kafkaSourceFor(t, brokers, nil, "", 0, 1)
	fc := &fakeCtx{}
	if err := src.Run(fc); err != nil {
		t.Fatal(err)
	}
	if got := ids(fc.records()); !reflect.DeepEqual(got, []int64{0, 1, 20}) {
		t.Errorf("read %v, want [0 1 20] (the aborted 10 never)", got)
	}
	if o := src.Offsets(); o["t/0"] != 6 { // 2 records, 2 transactional ones, 2 markers
		t.Errorf("offsets %v, want t/0 = 6 (past the commit marker)", o)
	}
}

// TestKafkaSourceFormatsAndMetadata checks the string format and the metadata fields.
func TestKafkaSourceFormatsAndMetadata(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 1})
	cl := kafkaClient(t, brokers)
	ts := time.UnixMilli(1714521600000)
	r := &kgo.Record{Topic: "t", Key: []byte("k1"), Value: []byte("hello"), Timestamp: ts,
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}}
	if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
	meta := Options{"key": "k", "topic": "tp", "partition": "p", "offset": "o", "timestamp": "ts", "headers": "hd"}
	src := kafkaSourceFor(t, brokers, Options{"format": "string", "metadata": meta},
		"{value: string, k: string?, tp: string, p: int, o: int, ts: int, hd: map<string, string>}", 0, 1)
	fc := &fakeCtx{}
	if err := src.Run(fc); err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{"value": "hello", "k": "k1", "tp": "t", "p": int64(0), "o": int64(0),
		"ts": int64(1714521600000), "hd": map[string]any{"h": "v"}}}
	if got := fc.records(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// A record without a key, read into a key field that is not optional, is a bad record of the
// source (its on_error applies), with its position; an optional field takes it as null.
func TestKafkaSourceKeylessRecord(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 1})
	cl := kafkaClient(t, brokers)
	for _, v := range []string{"a", "b"} {
		r := &kgo.Record{Topic: "t", Value: []byte(v)}
		if v == "b" {
			r.Key = []byte("kb")
		}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		schema  string
		records []any
		bad     int
	}{
		{"{value: string, k: string}", []any{map[string]any{"value": "b", "k": "kb"}}, 1},
		{"{value: string, k: string?}", []any{map[string]any{"value": "a", "k": nil}, map[string]any{"value": "b", "k": "kb"}}, 0},
	} {
		src := kafkaSourceFor(t, brokers, Options{"format": "string", "metadata": Options{"key": "k"}}, c.schema, 0, 1)
		fc := &fakeCtx{}
		if err := src.Run(fc); err != nil {
			t.Fatal(err)
		}
		if got := fc.records(); !reflect.DeepEqual(got, c.records) {
			t.Errorf("%s: records %v, want %v", c.schema, got, c.records)
		}
		if len(fc.bad) != c.bad {
			t.Fatalf("%s: %d bad records, want %d", c.schema, len(fc.bad), c.bad)
		}
		if c.bad > 0 {
			b := fc.bad[0]
			if b.Kafka == nil || b.Kafka.Topic != "t" || b.Kafka.Offset != 0 || !strings.Contains(b.Err.Error(), `declare it string?`) {
				t.Errorf("bad record %+v (error %v): want topic t, offset 0 and the fix", b, b.Err)
			}
		}
	}
}

// TestKafkaSourceConfigErrors checks what a kafka source refuses before it connects.
func TestKafkaSourceConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		typ  string
		want string
	}{
		{"metadata field missing", Options{"metadata": Options{"key": "nope"}}, "", `field "nope" is not in the schema`},
		{"metadata field type", Options{"metadata": Options{"partition": "s"}}, "{id: int, s: string}", `metadata partition: field "s" is string, want int`},
		{"string format schema", Options{"format": "string"}, "{id: int}", "format string: the schema must be {value: string}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Options{"brokers": []string{"127.0.0.1:1"}, "topics": []string{"t"}}
			for k, v := range c.opts {
				o[k] = v
			}
			typ := c.typ
			if typ == "" {
				typ = "{id: int}"
			}
			_, err := newKafkaSource(SourceConfig{UID: "src", Kind: "kafka", Schema: mustType(t, typ), Options: o, Parallelism: 1})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	checks := []struct {
		name string
		opts Options
		want string
	}{
		{"neither topics nor pattern", Options{}, "needs topics or topic_pattern"},
		{"both", Options{"topics": []string{"a"}, "topic_pattern": "a.*"}, "exclude each other"},
		{"bad start", Options{"topics": []string{"a"}, "start": "yesterday"}, "RFC 3339"},
		{"bad pattern", Options{"topic_pattern": "("}, "topic_pattern"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			errs := checkKafkaSource(c.opts)
			if len(errs) == 0 || !strings.Contains(errs[0].Msg, c.want) {
				t.Errorf("findings %v, want one saying %q", errs, c.want)
			}
		})
	}
}

// TestKafkaSourceBadRecordPosition checks that a malformed value is reported with its topic,
// partition and offset.
func TestKafkaSourceBadRecordPosition(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 1})
	produceTo(t, brokers, "t", 0, `{"id":1}`, `not json`, `{"id":3}`)
	src := kafkaSourceFor(t, brokers, nil, "", 0, 1)
	fc := &fakeCtx{}
	if err := src.Run(fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.bad) != 1 || fc.bad[0].Kafka == nil || *fc.bad[0].Kafka != (KafkaPosition{Topic: "t", Partition: 0, Offset: 1}) {
		t.Fatalf("bad records %+v, want one at t/0 offset 1", fc.bad)
	}
	if got := ids(fc.records()); !reflect.DeepEqual(got, []int64{1, 3}) {
		t.Errorf("read %v, want [1 3]", got)
	}
}

// TestKafkaSourceUnreachable checks that Run fails within connect_timeout, naming the brokers.
func TestKafkaSourceUnreachable(t *testing.T) {
	src := kafkaSourceFor(t, "127.0.0.1:1", Options{"connect_timeout": 500 * time.Millisecond}, "", 0, 1)
	start := time.Now()
	err := src.Run(&fakeCtx{})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v, want one naming 127.0.0.1:1", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v, want about the 500ms connect_timeout", d)
	}
}

// TestKafkaSourceDiscovery checks that an unbounded source with topic_pattern finds a topic
// created while it runs and reads it from its earliest offset.
func TestKafkaSourceDiscovery(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t1": 1, "other": 1})
	produceTo(t, brokers, "t1", 0, values(0, 2)...)
	produceTo(t, brokers, "other", 0, values(50, 1)...)
	src := kafkaSourceFor(t, brokers, Options{"topics": nil, "topic_pattern": "t[0-9]+", "bounded": false,
		"discovery_interval": 100 * time.Millisecond}, "", 0, 1)
	fc := &fakeCtx{}
	done := make(chan error, 1)
	go func() { done <- src.Run(fc) }()
	testkit.Eventually(t, waitTimeout, "the records of t1", func() bool { return len(fc.records()) == 2 })
	adm := kadm.NewClient(kafkaClient(t, brokers))
	if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, "t2"); err != nil {
		t.Fatal(err)
	}
	produceTo(t, brokers, "t2", 0, values(100, 3)...)
	testkit.Eventually(t, waitTimeout, "the records of the new topic t2", func() bool { return len(fc.records()) == 5 })
	fc.stopped.Store(true)
	if err := <-done; err != ErrStopped {
		t.Fatalf("Run: %v, want ErrStopped", err)
	}
	got := ids(fc.records())
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if !reflect.DeepEqual(got, []int64{0, 1, 100, 101, 102}) {
		t.Errorf("read %v, want t1's and t2's records (never other's)", got)
	}
	if o := src.Offsets(); !reflect.DeepEqual(o, Offsets{"t1/0": 2, "t2/0": 3}) {
		t.Errorf("offsets %v", o)
	}
}

// TestKafkaSourceGroupCommit checks that the offsets of a completed snapshot are committed to
// the source's group, also after Run has returned (the final checkpoint of a finished job).
func TestKafkaSourceGroupCommit(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"t": 2})
	produceTo(t, brokers, "t", 0, values(0, 3)...)
	produceTo(t, brokers, "t", 1, values(3, 2)...)
	src := kafkaSourceFor(t, brokers, Options{"group": "lag"}, "", 0, 1)
	defer src.Close()
	if err := src.Run(&fakeCtx{}); err != nil {
		t.Fatal(err)
	}
	if err := src.SnapshotComplete(src.Offsets()); err != nil {
		t.Fatal(err)
	}
	resp, err := kadm.NewClient(kafkaClient(t, brokers)).FetchOffsets(context.Background(), "lag")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	resp.Each(func(o kadm.OffsetResponse) { got[fmt.Sprintf("%s/%d", o.Topic, o.Partition)] = o.At })
	if !reflect.DeepEqual(got, map[string]int64{"t/0": 3, "t/1": 2}) {
		t.Errorf("group lag holds %v, want t/0: 3, t/1: 2", got)
	}
}
