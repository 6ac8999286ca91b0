package statebackend

import (
	"fmt"
	"testing"
)

func TestWrittenFilter(t *testing.T) {
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }
	cases := []struct {
		name    string
		size    int64
		written int
		// wantOff: the filter holds too many keys and answers "may have" for every key.
		wantOff bool
	}{
		{"empty", 8 << 10, 0, false},
		{"some keys", 8 << 10, 1000, false},
		{"over full", 8 << 10, 20_000, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newWrittenFilter(c.size)
			for i := range c.written {
				f.add(key(i))
				f.add(key(i)) // written twice: counted once
			}
			for i := range c.written {
				if !f.mayHave(key(i)) {
					t.Fatalf("written key %d: mayHave false", i)
				}
			}
			falsePos := 0
			const probes = 10_000
			for i := range probes {
				if f.mayHave(key(1_000_000 + i)) {
					falsePos++
				}
			}
			if c.wantOff && falsePos != probes {
				t.Errorf("an over-full filter answered absent for %d keys; want none", probes-falsePos)
			}
			if !c.wantOff && falsePos > probes/20 {
				t.Errorf("%d of %d never-written keys may have been written; want under 5%%", falsePos, probes)
			}
		})
	}
	var none *writtenFilter // a database opened with its entries
	none.add(key(1))
	if !none.mayHave(key(2)) {
		t.Error("a nil filter answered absent")
	}
}

// TestBadgerFilterReads checks that a fresh database answers reads of never-written keys without
// Badger and still finds every key written by Apply or a bulk load, and that a reopened one
// reads Badger.
func TestBadgerFilterReads(t *testing.T) {
	dir := t.TempDir()
	b := backendKinds[1].open(t, dir, true)
	if b.(*badgerBackend).filter == nil {
		t.Fatal("a fresh database has no filter")
	}
	bulk, err := b.(BulkLoader).BeginBulk() // a restore, before any other write
	if err != nil {
		t.Fatal(err)
	}
	w, err := bulk.Table("op", "bulk")
	if err != nil {
		t.Fatal(err)
	}
	mustNoErr(t, w.Add(2, []byte("loaded"), []byte("l")))
	mustNoErr(t, bulk.Flush())
	bt := mustTable(t, b, "op", "bulk")
	tb := mustTable(t, b, "op", "s")
	mustApply(t, tb, put(1, "applied", "a"), del(1, "deleted"))
	for _, c := range []struct {
		tb   Table
		kg   uint16
		key  string
		want bool
	}{{tb, 1, "applied", true}, {tb, 1, "deleted", false}, {tb, 1, "never", false}, {bt, 2, "loaded", true}} {
		if _, ok := tableHas(t, c.tb, c.kg, c.key); ok != c.want {
			t.Errorf("Get(%q) found %v, want %v", c.key, ok, c.want)
		}
	}
	mustNoErr(t, b.Close())
	b = backendKinds[1].open(t, dir, false)
	if b.(*badgerBackend).filter != nil {
		t.Error("a reopened database has a filter: it does not know what the files hold")
	}
	if _, ok := tableHas(t, mustTable(t, b, "op", "s"), 1, "applied"); !ok {
		t.Error("reopened: the applied key is gone")
	}
}
