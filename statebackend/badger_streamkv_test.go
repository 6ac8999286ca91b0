package statebackend

import (
	"bytes"
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"google.golang.org/protobuf/proto"
)

// TestAppendStreamKV checks the hand encoding against Badger's own protobuf decoding.
func TestAppendStreamKV(t *testing.T) {
	cases := []struct {
		name    string
		stream  uint32
		version uint64
		key     []byte
		value   []byte
	}{
		{"small", 1, 1, []byte("\x00\x00\x00\x01\x00\x07k"), []byte("v")},
		{"empty value", 0, 2, []byte("\x00\x00\x00\x00reg"), nil},
		{"long key and value", 1 << 31, 1 << 40, bytes.Repeat([]byte("k"), 300), bytes.Repeat([]byte("v"), 70_000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := z.NewBuffer(1<<10, "test")
			defer func() {
				if err := buf.Release(); err != nil {
					t.Error(err)
				}
			}()
			appendStreamKV(buf, c.stream, c.version, c.key, c.value)
			appendStreamKV(buf, c.stream+1, c.version, c.key, c.value)
			var got []*pb.KV
			err := buf.SliceIterate(func(s []byte) error {
				kv := new(pb.KV)
				got = append(got, kv)
				return proto.Unmarshal(s, kv)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("decoded %d entries; want 2", len(got))
			}
			kv := got[0]
			if !bytes.Equal(kv.Key, c.key) || !bytes.Equal(kv.Value, c.value) || kv.Version != c.version || kv.StreamId != c.stream || kv.StreamDone {
				t.Errorf("decoded key %d bytes, value %d bytes, version %d, stream %d, done %v; want %d, %d, %d, %d, false",
					len(kv.Key), len(kv.Value), kv.Version, kv.StreamId, kv.StreamDone, len(c.key), len(c.value), c.version, c.stream)
			}
			if got[1].StreamId != c.stream+1 {
				t.Errorf("second entry: stream %d; want %d", got[1].StreamId, c.stream+1)
			}
		})
	}
}

// TestUvarintLen checks the size computation at every encoding length boundary.
func TestUvarintLen(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		want int
	}{{0, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3}, {1<<63 - 1, 9}, {1 << 63, 10}} {
		if got := uvarintLen(c.v); got != c.want {
			t.Errorf("uvarintLen(%d) = %d; want %d", c.v, got, c.want)
		}
	}
}
