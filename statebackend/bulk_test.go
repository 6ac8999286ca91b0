package statebackend

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// bulkTests hold for every backend kind that implements BulkLoader.
var bulkTests = []struct {
	name string
	run  func(t *testing.T, k backendKind)
}{
	{"LoadThenUse", testBulkLoadThenUse},
	{"Sessions", testBulkSessions},
	{"LargeTables", testBulkLargeTables},
	{"Order", testBulkOrder},
	{"Refusals", testBulkRefusals},
	{"Cancel", testBulkCancel},
	{"Reopen", testBulkReopen},
}

func TestBulkConformance(t *testing.T) {
	for _, k := range backendKinds {
		t.Run(k.name, func(t *testing.T) {
			for _, c := range bulkTests {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, k)
				})
			}
		})
	}
}

// beginBulk starts a bulk session on b, failing the test when b cannot.
func beginBulk(tb testing.TB, b Backend) Bulk {
	tb.Helper()
	bl, ok := b.(BulkLoader)
	if !ok {
		tb.Fatalf("%T does not implement BulkLoader", b)
	}
	bulk, err := bl.BeginBulk()
	if err != nil {
		tb.Fatalf("BeginBulk: %v", err)
	}
	return bulk
}

// bulkLoad loads each table's entries (already sorted) in one session.
func bulkLoad(tb testing.TB, b Backend, tables map[TableID][]kv) {
	tb.Helper()
	bulk := beginBulk(tb, b)
	for _, id := range slices.SortedFunc(func(yield func(TableID) bool) {
		for id := range tables {
			if !yield(id) {
				return
			}
		}
	}, func(a, b TableID) int { return strings.Compare(a.UID+"/"+a.State, b.UID+"/"+b.State) }) {
		w, err := bulk.Table(id.UID, id.State)
		if err != nil {
			tb.Fatalf("bulk Table(%v): %v", id, err)
		}
		for _, e := range tables[id] {
			if err := w.Add(e.KG, []byte(e.Key), []byte(e.Value)); err != nil {
				tb.Fatalf("Add(%v): %v", e, err)
			}
		}
	}
	if err := bulk.Flush(); err != nil {
		tb.Fatalf("bulk Flush: %v", err)
	}
}

// sortedEntries returns n entries spread over kgs key groups, sorted by key group and key.
func sortedEntries(n, kgs int, valuePrefix string) []kv {
	out := make([]kv, n)
	for i := range out {
		out[i] = kv{uint16(i * kgs / n), fmt.Sprintf("k%06d", i), fmt.Sprintf("%s%d", valuePrefix, i)}
	}
	return out
}

// testBulkLoadThenUse checks that bulk-loaded entries behave like applied ones: Tables, Get,
// Scan, Count, a Cache, then Apply and Clear on top of them.
func testBulkLoadThenUse(t *testing.T, k backendKind) {
	b := k.open(t, t.TempDir(), true)
	a := sortedEntries(3000, 40, "a")
	a = append(a, kv{0xFFFF, "", "last"}) // empty key, last key group
	bEntries := []kv{{0, "\x00", "x"}, {0, "\x00\xff", "y"}, {7, "z", ""}}
	bulkLoad(t, b, map[TableID][]kv{{"op", "a"}: a, {"op", "b"}: bEntries, {"op", "empty"}: nil})

	if ids, err := b.Tables(); err != nil || !slices.Equal(ids, []TableID{{"op", "a"}, {"op", "b"}, {"op", "empty"}}) {
		t.Errorf("Tables() = %v, %v; want op/a, op/b, op/empty", ids, err)
	}
	ta, tbl, te := mustTable(t, b, "op", "a"), mustTable(t, b, "op", "b"), mustTable(t, b, "op", "empty")
	if got := scanAll(t, ta, 0, 0xFFFF); !slices.Equal(got, a[:len(a)-1]) {
		t.Errorf("Scan op/a = %d entries; want %d", len(got), len(a)-1)
	}
	if got := scanAll(t, tbl, 0, 10); !slices.Equal(got, bEntries) {
		t.Errorf("Scan op/b = %+v; want %+v", got, bEntries)
	}
	counts := []struct {
		table         Table
		entries, size int64
	}{{ta, int64(len(a)), entriesSize(a)}, {tbl, 3, 6}, {te, 0, 0}}
	for i, c := range counts {
		if n, size, err := c.table.Count(); err != nil || n != c.entries || size != c.size {
			t.Errorf("table %d: Count() = %d, %d, %v; want %d, %d", i, n, size, err, c.entries, c.size)
		}
	}
	for _, e := range []kv{a[0], a[1234], a[len(a)-1], bEntries[1], bEntries[2]} {
		tb := map[bool]Table{true: ta, false: tbl}[strings.HasPrefix(e.Value, "a") || e.Value == "last"]
		if v, ok, err := tb.Get(e.KG, []byte(e.Key)); err != nil || !ok || string(v) != e.Value {
			t.Errorf("Get(%d, %q) = %q, %v, %v; want %q", e.KG, e.Key, v, ok, err, e.Value)
		}
	}
	if v, ok, err := ta.Get(0, []byte("k999999")); err != nil || ok {
		t.Errorf("Get(absent) = %q, %v, %v; want absent", v, ok, err)
	}

	c := NewCache(ta, stringCodec{}, CacheOptions{})
	if v, ok := cacheGet(t, c, a[42].KG, a[42].Key); !ok || v != a[42].Value {
		t.Errorf("cache Get(%q) = %v, %v; want %q", a[42].Key, v, ok, a[42].Value)
	}
	if err := c.Put(a[42].KG, []byte(a[42].Key), "new"); err != nil {
		t.Fatal(err)
	}
	mustFlush(t, c)
	mustApply(t, ta, del(a[0].KG, a[0].Key), put(3, "fresh", "f"))
	want := map[string]struct {
		v  string
		ok bool
	}{a[42].Key: {"new", true}, a[0].Key: {"", false}, "fresh": {"f", true}, a[43].Key: {a[43].Value, true}}
	for key, w := range want {
		kg := uint16(3)
		if i := slices.IndexFunc(a, func(e kv) bool { return e.Key == key }); i >= 0 {
			kg = a[i].KG
		}
		if v, ok, err := ta.Get(kg, []byte(key)); err != nil || ok != w.ok || string(v) != w.v {
			t.Errorf("after Apply: Get(%q) = %q, %v, %v; want %q, %v", key, v, ok, err, w.v, w.ok)
		}
	}
	if n, _, err := ta.Count(); err != nil || n != int64(len(a)) {
		t.Errorf("Count after Apply = %d, %v; want %d", n, err, len(a))
	}
	if err := tbl.Clear(); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, tbl, 0, 10); len(got) != 0 {
		t.Errorf("Scan after Clear = %+v", got)
	}
}

// entriesSize is the total key+value bytes of entries.
func entriesSize(entries []kv) int64 {
	var n int64
	for _, e := range entries {
		n += int64(len(e.Key) + len(e.Value))
	}
	return n
}

// testBulkSessions checks that consecutive sessions load more tables, and whether a session
// may start after ordinary writes.
func testBulkSessions(t *testing.T, k backendKind) {
	b := k.open(t, t.TempDir(), true)
	// More sessions than Badger has levels: each writes one level higher, until Badger has to
	// flatten the tree.
	const sessions = 9
	loaded := make(map[string][]kv, sessions)
	for i := range sessions {
		name, entries := fmt.Sprint("s", i), sortedEntries(300+100*i, 5+i, fmt.Sprint("v", i, "-"))
		bulkLoad(t, b, map[TableID][]kv{{"op", name}: entries})
		loaded[name] = entries
	}
	for name, want := range loaded {
		if got := scanAll(t, mustTable(t, b, "op", name), 0, 100); !slices.Equal(got, want) {
			t.Errorf("Scan op/%s = %d entries; want %d", name, len(got), len(want))
		}
	}
	if ids, err := b.Tables(); err != nil || len(ids) != sessions {
		t.Errorf("Tables() = %v, %v; want %d tables", ids, err, sessions)
	}
	mustApply(t, mustTable(t, b, "op", "third"), put(1, "k", "v"))
	_, err := b.(BulkLoader).BeginBulk()
	if k.bulkAfterWrites {
		if err != nil {
			t.Errorf("BeginBulk after writes = %v; want a session", err)
		}
	} else if !errors.Is(err, ErrBulkUnavailable) {
		t.Errorf("BeginBulk after writes = %v; want ErrBulkUnavailable", err)
	}
}

// testBulkLargeTables loads two tables, interleaved, each of several badger chunks.
func testBulkLargeTables(t *testing.T, k backendKind) {
	const n = 3 * bulkChunkSize / 1024
	b := k.open(t, t.TempDir(), true)
	bulk := beginBulk(t, b)
	var writers [2]BulkWriter
	for i := range writers {
		var err error
		if writers[i], err = bulk.Table("op", fmt.Sprint("large", i)); err != nil {
			t.Fatal(err)
		}
	}
	value := make([]byte, 1000)
	for i := range n {
		for w, bw := range writers {
			value[0], value[1] = byte(i), byte(w)
			if err := bw.Add(uint16(i/1000), fmt.Appendf(nil, "k%06d", i), value); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := bulk.Flush(); err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		tb := mustTable(t, b, "op", fmt.Sprint("large", w))
		if entries, size, err := tb.Count(); err != nil || entries != n || size != n*(7+1000) {
			t.Errorf("table %d: Count() = %d, %d, %v; want %d, %d", w, entries, size, err, n, n*1007)
		}
		i := 0
		err := tb.Scan(0, 0xFFFF, func(kg uint16, key, v []byte) error {
			if kg != uint16(i/1000) || string(key) != fmt.Sprintf("k%06d", i) || v[0] != byte(i) || v[1] != byte(w) {
				return fmt.Errorf("entry %d: (%d, %q, %d, %d)", i, kg, key, v[0], v[1])
			}
			i++
			return nil
		})
		if err != nil || i != n {
			t.Errorf("table %d: Scan saw %d entries, %v; want %d", w, i, err, n)
		}
	}
}

// testBulkOrder checks that Add refuses entries out of (key group, key) order.
func testBulkOrder(t *testing.T, k backendKind) {
	cases := []struct {
		name    string
		entries []kv
		wantErr bool
	}{
		{"increasing keys", []kv{{1, "a", ""}, {1, "b", ""}, {2, "a", ""}}, false},
		{"key prefix first", []kv{{1, "a", ""}, {1, "ab", ""}}, false},
		{"duplicate key", []kv{{1, "a", ""}, {1, "a", ""}}, true},
		{"decreasing key", []kv{{1, "b", ""}, {1, "a", ""}}, true},
		{"decreasing key group", []kv{{2, "a", ""}, {1, "b", ""}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bulk := beginBulk(t, k.open(t, t.TempDir(), true))
			defer bulk.Cancel()
			w, err := bulk.Table("op", "s")
			if err != nil {
				t.Fatal(err)
			}
			var addErr error
			for _, e := range c.entries {
				if addErr = w.Add(e.KG, []byte(e.Key), []byte(e.Value)); addErr != nil {
					break
				}
			}
			if (addErr != nil) != c.wantErr {
				t.Errorf("Add error = %v; want error %v", addErr, c.wantErr)
			}
		})
	}
}

// testBulkRefusals checks the tables and calls a session refuses.
func testBulkRefusals(t *testing.T, k backendKind) {
	b := k.open(t, t.TempDir(), true)
	bulkLoad(t, b, map[TableID][]kv{{"op", "full"}: {{1, "k", "v"}}, {"op", "empty"}: nil})

	bulk := beginBulk(t, b)
	if _, err := bulk.Table("op", "full"); !errors.Is(err, ErrBulkUnavailable) {
		t.Errorf("bulk Table of a table holding entries = %v; want ErrBulkUnavailable", err)
	}
	if _, err := bulk.Table("op", "empty"); err != nil {
		t.Errorf("bulk Table of an existing empty table = %v", err)
	}
	if _, err := bulk.Table("op", "empty"); err == nil {
		t.Error("second bulk Table of one table in a session: no error")
	}
	w, err := bulk.Table("op", "new")
	if err != nil {
		t.Fatal(err)
	}
	if err := bulk.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(1, []byte("late"), nil); k.name == KindBadger && !errors.Is(err, errBulkDone) {
		t.Errorf("Add after Flush = %v; want errBulkDone", err)
	}
	if _, err := bulk.Table("op", "other"); !errors.Is(err, errBulkDone) {
		t.Errorf("Table after Flush = %v; want errBulkDone", err)
	}
	if err := bulk.Flush(); !errors.Is(err, errBulkDone) {
		t.Errorf("second Flush = %v; want errBulkDone", err)
	}
}

// testBulkCancel checks that a cancelled session leaves a backend that still closes.
func testBulkCancel(t *testing.T, k backendKind) {
	b := k.open(t, t.TempDir(), true)
	bulk := beginBulk(t, b)
	w, err := bulk.Table("op", "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(1, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	bulk.Cancel()
	bulk.Cancel()
	if err := bulk.Flush(); !errors.Is(err, errBulkDone) {
		t.Errorf("Flush after Cancel = %v; want errBulkDone", err)
	}
}

// testBulkReopen checks that a persistent backend keeps bulk-loaded tables across Close.
func testBulkReopen(t *testing.T, k backendKind) {
	if !k.persistent {
		t.Skipf("%s keeps nothing across Close", k.name)
	}
	dir := t.TempDir()
	b, err := Open(Options{Kind: k.name, Dir: dir, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	entries := sortedEntries(2000, 16, "v")
	bulkLoad(t, b, map[TableID][]kv{{"op", "a"}: entries, {"op", "b"}: {{1, "k", "b1"}}})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = k.open(t, dir, false)
	if ids, err := b.Tables(); err != nil || !slices.Equal(ids, []TableID{{"op", "a"}, {"op", "b"}}) {
		t.Errorf("Tables after reopen = %v, %v; want op/a and op/b", ids, err)
	}
	mustApply(t, mustTable(t, b, "op", "c"), put(1, "k", "c1")) // a new table must get a new id
	if got := scanAll(t, mustTable(t, b, "op", "a"), 0, 100); !slices.Equal(got, entries) {
		t.Errorf("op/a after reopen = %d entries; want %d", len(got), len(entries))
	}
	if got := scanAll(t, mustTable(t, b, "op", "b"), 0, 100); !slices.Equal(got, []kv{{1, "k", "b1"}}) {
		t.Errorf("op/b after reopen = %+v", got)
	}
}
