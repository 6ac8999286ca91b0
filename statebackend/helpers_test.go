package statebackend

import (
	"errors"
	"fmt"
	"testing"
)

// backendKind opens fresh backends of one kind for tests and benchmarks.
type backendKind struct {
	name string
	// persistent backends keep their data across Close and a reopen with Fresh=false.
	persistent bool
	// bulkAfterWrites backends can start a bulk load after ordinary writes.
	bulkAfterWrites bool
}

var backendKinds = []backendKind{{name: KindMemory, bulkAfterWrites: true}, {name: KindBadger, persistent: true}}

// open opens a backend of kind k in dir and closes it when the test ends.
func (k backendKind) open(tb testing.TB, dir string, fresh bool) Backend {
	tb.Helper()
	b, err := Open(Options{Kind: k.name, Dir: dir, Fresh: fresh})
	if err != nil {
		tb.Fatalf("open %s: %v", k.name, err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("close %s: %v", k.name, err)
		}
	})
	return b
}

// table opens a fresh backend and returns one of its tables.
func (k backendKind) table(tb testing.TB) (Backend, Table) {
	tb.Helper()
	b := k.open(tb, tb.TempDir(), true)
	return b, mustTable(tb, b, "op", "s")
}

func mustTable(tb testing.TB, b Backend, uid, state string) Table {
	tb.Helper()
	t, err := b.Table(uid, state)
	if err != nil {
		tb.Fatalf("table %s/%s: %v", uid, state, err)
	}
	return t
}

func mustApply(tb testing.TB, t Table, batch ...Mutation) {
	tb.Helper()
	if err := t.Apply(batch); err != nil {
		tb.Fatalf("apply: %v", err)
	}
}

func put(kg uint16, key, value string) Mutation {
	return Mutation{KG: kg, Key: []byte(key), Value: []byte(value)}
}

func del(kg uint16, key string) Mutation { return Mutation{KG: kg, Key: []byte(key), Delete: true} }

// kv is one scanned entry, comparable with ==.
type kv struct {
	KG         uint16
	Key, Value string
}

func scanAll(tb testing.TB, t Table, from, to uint16) []kv {
	tb.Helper()
	var got []kv
	err := t.Scan(from, to, func(kg uint16, key, value []byte) error {
		got = append(got, kv{kg, string(key), string(value)})
		return nil
	})
	if err != nil {
		tb.Fatalf("scan [%d,%d): %v", from, to, err)
	}
	return got
}

// stringCodec encodes string values as their bytes; "!bad" fails to encode and bytes
// starting with '!' fail to decode.
type stringCodec struct{}

var errCodec = errors.New("codec refuses")

func (stringCodec) Append(dst []byte, v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok || s == "!bad" {
		return dst, fmt.Errorf("encode %v: %w", v, errCodec)
	}
	return append(dst, s...), nil
}

func (stringCodec) Decode(b []byte) (any, error) {
	if len(b) > 0 && b[0] == '!' {
		return nil, fmt.Errorf("decode %q: %w", b, errCodec)
	}
	return string(b), nil
}

// fakeClock is an injected processing-time clock in Unix ms.
type fakeClock struct{ ms int64 }

func (c *fakeClock) now() int64 { return c.ms }
