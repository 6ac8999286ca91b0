package connectors

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Records produced from the sink's arena keep their values and keys over many chunks: short
// and long values (one past a quarter chunk gets its own allocation), and keys of every kind,
// an empty key apart from a missing one.
func TestKafkaSinkArenaRecords(t *testing.T) {
	brokers := kafkaTestCluster(t, map[string]int32{"out": 1})
	const n = 1000 // about four chunks of records
	pad := func(i int64) string { return strings.Repeat(string(rune('a'+i%26)), int(i%7)*int(i%13)*150) }
	keys := []struct {
		of   func(i int64) any
		want func(i int64) []byte // nil: no key
	}{
		{func(i int64) any { return fmt.Sprint("k", i) }, func(i int64) []byte { return []byte(fmt.Sprint("k", i)) }},
		{func(int64) any { return "" }, func(int64) []byte { return []byte{} }},
		{func(i int64) any { return i }, func(i int64) []byte { return []byte(fmt.Sprint(i)) }},
		{func(int64) any { return nil }, func(int64) []byte { return nil }},
		{func(i int64) any { return []any{i, "x"} }, func(i int64) []byte { return []byte(fmt.Sprintf(`[%d,"x"]`, i)) }},
	}
	o := Options{"brokers": []string{brokers}, "topic": "out", "connect_timeout": 5 * time.Second}
	s, err := newKafkaSink(SinkConfig{UID: "snk", Kind: "kafka", Type: mustType(t, "{id: int, pad: string}"), Options: o,
		Pipeline: "p", Parallelism: 1,
		Key: func(rec any) (any, error) {
			id := rec.(map[string]any)["id"].(int64)
			return keys[id%int64(len(keys))].of(id), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := int64(0); i < n; i++ {
		if err := s.Write(map[string]any{"id": i, "pad": pad(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Committed(); err != nil {
		t.Fatal(err)
	}
	recs := readCommittedRecords(t, brokers, "out")
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		id := int64(i)
		if want := fmt.Sprintf(`{"id":%d,"pad":%q}`, id, pad(id)); string(r.Value) != want {
			t.Fatalf("record %d: value %.80q, want %.80q", i, r.Value, want)
		}
		want := keys[id%int64(len(keys))].want(id)
		if (r.Key == nil) != (want == nil) || string(r.Key) != string(want) {
			t.Fatalf("record %d: key %q (nil %v), want %q (nil %v)", i, r.Key, r.Key == nil, want, want == nil)
		}
	}
}
