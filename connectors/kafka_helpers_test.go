package connectors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaTestCluster starts an in-process Kafka-protocol broker with topics (name -> number of
// partitions); it is closed when the test ends.
func kafkaTestCluster(t *testing.T, topics map[string]int32, extra ...kfake.Opt) string {
	t.Helper()
	opts := append([]kfake.Opt{kfake.NumBrokers(1)}, extra...)
	for name, n := range topics {
		opts = append(opts, kfake.SeedTopics(n, name))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// kafkaClient is a plain client of the test cluster; extra options add to it.
func kafkaClient(t *testing.T, brokers string, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers)}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceTo writes values to one partition of a topic, in order.
func produceTo(t *testing.T, brokers, topic string, partition int32, values ...string) {
	t.Helper()
	cl := kafkaClient(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readCommittedValues reads the values of every committed record of a topic: up to the
// last stable offset of each partition, as a read_committed consumer sees them.
func readCommittedValues(t *testing.T, brokers, topic string) []string {
	t.Helper()
	var out []string
	for _, r := range readCommittedRecords(t, brokers, topic) {
		out = append(out, string(r.Value))
	}
	return out
}

// readCommittedRecords reads every committed record of a topic, up to the last stable offset
// of each partition found first (control records are read to know where a partition ends,
// and left out).
func readCommittedRecords(t *testing.T, brokers, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(kafkaClient(t, brokers)).ListCommittedOffsets(ctx, topic)
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
	cl := kafkaClient(t, brokers, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	var out []*kgo.Record
	for len(left) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: partitions %v not read to their end", topic, left)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() && r.Offset < left[r.Partition] {
				out = append(out, r)
			}
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out
}
