package connectors

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// positionCtx records the position given before each record.
type positionCtx struct {
	fakeCtx
	at  []Position
	got []Position // the position in force at each Emit
}

// At keeps p with a copy of its raw record, which is valid only until the record's Emit returns.
func (c *positionCtx) At(p Position) {
	p.Raw = bytes.Clone(p.Raw)
	c.at = append(c.at, p)
}

func (c *positionCtx) Emit(rec any) error {
	if n := len(c.at); n > 0 {
		c.got = append(c.got, c.at[n-1])
	}
	return c.fakeCtx.Emit(rec)
}

// A file source gives the runtime the byte offset of each record's line, blank lines and
// all, so a failure behind a keyed exchange can name the line, and the line as read, for the
// dead letter of a record whose timestamp fails.
func TestFileSourceGivesPositions(t *testing.T) {
	dir := t.TempDir()
	line := `{"type":"motion","room":1,"time":1}` + "\n"
	writeFiles(t, dir, map[string]string{"a.jsonl": line + "\n" + line + line})
	path := filepath.Join(dir, "a.jsonl")
	src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := &positionCtx{}
	if err := src.Run(ctx); err != nil {
		t.Fatal(err)
	}
	n, raw := int64(len(line)), []byte(strings.TrimSuffix(line, "\n"))
	want := []Position{{File: path, Line: 1, Raw: raw}, {File: path, Offset: n + 1, Line: 3, Raw: raw}, {File: path, Offset: 2*n + 1, Line: 4, Raw: raw}}
	if !reflect.DeepEqual(ctx.got, want) {
		t.Fatalf("positions %+v, want %+v", ctx.got, want)
	}
	for i, p := range want {
		if l, err := LineAt(p.File, p.Offset); err != nil || l != []int64{1, 3, 4}[i] {
			t.Errorf("LineAt(%d) = %d, %v; want line %d", p.Offset, l, err, []int64{1, 3, 4}[i])
		}
	}
}

// A Kafka record's position is its topic, partition and offset, given on the same path.
func TestKafkaEmitGivesPosition(t *testing.T) {
	ctx := &positionCtx{}
	tp := topicPartition{topic: "events", partition: 3}
	if err := newKafkaEmitter(ctx).emit("rec", tp, tp.String(), &kgo.Record{Offset: 41, Value: []byte(`{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
	want := []Position{{Topic: "events", Partition: 3, Offset: 41, Raw: []byte(`{"v":1}`)}}
	if !reflect.DeepEqual(ctx.got, want) {
		t.Fatalf("positions %+v, want %+v", ctx.got, want)
	}
}
