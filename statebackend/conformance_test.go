package statebackend

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// conformanceTests hold for every backend kind.
var conformanceTests = []struct {
	name string
	run  func(t *testing.T, k backendKind)
}{
	{"GetPutDelete", testGetPutDelete},
	{"ApplyCopies", testApplyCopies},
	{"ApplyLargeBatch", testApplyLargeBatch},
	{"ApplyLargeBatchInOrder", testApplyLargeBatchInOrder},
	{"Scan", testScan},
	{"ScanStops", testScanStops},
	{"Count", testCount},
	{"Clear", testClear},
	{"Tables", testTables},
	{"ConcurrentKeyGroups", testConcurrentKeyGroups},
	{"Reopen", testReopen},
	{"CacheReadYourWrites", testCacheReadYourWrites},
	{"CacheDelete", testCacheDelete},
	{"CacheCapacity", testCacheCapacity},
	{"CacheClock", testCacheClock},
	{"CacheEvictionSnapshots", testCacheEvictionSnapshots},
	{"CacheByteBudget", testCacheByteBudget},
	{"CacheAbsentKeys", testCacheAbsentKeys},
	{"CacheTTL", testCacheTTL},
	{"CacheCodecErrors", testCacheCodecErrors},
	{"CacheTwoTiers", testCacheTwoTiers},
	{"CacheTwoTiersTTL", testCacheTwoTiersTTL},
}

func TestConformance(t *testing.T) {
	for _, k := range backendKinds {
		t.Run(k.name, func(t *testing.T) {
			for _, c := range conformanceTests {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, k)
				})
			}
		})
	}
}

func testGetPutDelete(t *testing.T, k backendKind) {
	type get struct {
		kg  uint16
		key string
	}
	cases := []struct {
		name    string
		batches [][]Mutation
		get     get
		want    string
		ok      bool
	}{
		{"absent", nil, get{1, "a"}, "", false},
		{"put", [][]Mutation{{put(1, "a", "x")}}, get{1, "a"}, "x", true},
		{"overwrite", [][]Mutation{{put(1, "a", "x")}, {put(1, "a", "y")}}, get{1, "a"}, "y", true},
		{"delete", [][]Mutation{{put(1, "a", "x")}, {del(1, "a")}}, get{1, "a"}, "", false},
		{"delete absent", [][]Mutation{{del(1, "a")}}, get{1, "a"}, "", false},
		{"other key group", [][]Mutation{{put(2, "a", "x")}}, get{1, "a"}, "", false},
		{"prefix key", [][]Mutation{{put(1, "ab", "x")}}, get{1, "a"}, "", false},
		{"last put in batch wins", [][]Mutation{{put(1, "a", "x"), put(1, "a", "y")}}, get{1, "a"}, "y", true},
		{"delete then put in batch", [][]Mutation{{put(1, "a", "x")}, {del(1, "a"), put(1, "a", "z")}}, get{1, "a"}, "z", true},
		{"put then delete in batch", [][]Mutation{{put(1, "a", "x"), del(1, "a")}}, get{1, "a"}, "", false},
		{"empty batch", [][]Mutation{{}}, get{1, "a"}, "", false},
		{"empty key", [][]Mutation{{put(1, "", "e")}}, get{1, ""}, "e", true},
		{"empty value", [][]Mutation{{put(1, "a", "")}}, get{1, "a"}, "", true},
		{"binary key", [][]Mutation{{put(0, "\x00\xff", "b"), put(0, "\x00", "c")}}, get{0, "\x00\xff"}, "b", true},
		{"last key group", [][]Mutation{{put(0xFFFF, "a", "m")}}, get{0xFFFF, "a"}, "m", true},
	}
	b := k.open(t, t.TempDir(), true)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := mustTable(t, b, "get", c.name)
			for _, batch := range c.batches {
				mustApply(t, tb, batch...)
			}
			v, ok, err := tb.Get(c.get.kg, []byte(c.get.key))
			if err != nil || ok != c.ok || string(v) != c.want {
				t.Errorf("Get(%d, %q) = %q, %v, %v; want %q, %v, nil", c.get.kg, c.get.key, v, ok, err, c.want, c.ok)
			}
		})
	}
}

// testApplyCopies checks that a table keeps its own copy of what Apply passes it.
func testApplyCopies(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	key, value := []byte("key"), []byte("value")
	mustApply(t, tb, Mutation{KG: 3, Key: key, Value: value})
	copy(key, "KEY")
	copy(value, "VALUE")
	if v, ok, err := tb.Get(3, []byte("key")); err != nil || !ok || string(v) != "value" {
		t.Errorf("Get after caller reused its buffers = %q, %v, %v; want \"value\"", v, ok, err)
	}
}

// testApplyLargeBatch applies a batch larger than one Badger transaction may hold, both in
// entries and in bytes.
func testApplyLargeBatch(t *testing.T, k backendKind) {
	const n, valueSize = 5000, 8 << 10
	_, tb := k.table(t)
	value := bytes.Repeat([]byte("v"), valueSize)
	batch := make([]Mutation, n)
	for i := range batch {
		batch[i] = Mutation{KG: uint16(i % 7), Key: fmt.Appendf(nil, "k%05d", i), Value: value}
	}
	batch = append(batch, del(3, "k00003"))
	mustApply(t, tb, batch...)
	if entries, size, err := tb.Count(); err != nil || entries != n-1 || size != (n-1)*(6+valueSize) {
		t.Errorf("Count() = %d, %d, %v; want %d, %d", entries, size, err, n-1, (n-1)*(6+valueSize))
	}
	for _, i := range []int{0, 2047, 2048, n - 1} {
		if v, ok, err := tb.Get(uint16(i%7), fmt.Appendf(nil, "k%05d", i)); err != nil || !ok || len(v) != valueSize {
			t.Errorf("Get(k%05d) = %d bytes, %v, %v", i, len(v), ok, err)
		}
	}
}

// testApplyLargeBatchInOrder checks that the mutations of a batch large enough to be written
// in key order still apply in the batch's order for each key.
func testApplyLargeBatchInOrder(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	var batch []Mutation
	for i := range 100 {
		batch = append(batch, put(1, fmt.Sprintf("k%02d", 99-i), "first"))
	}
	batch = append(batch, del(1, "k05"), put(1, "k07", "second"), put(1, "k05", "third"), del(1, "k09"), put(1, "k00", "x"), put(1, "k00", "last"))
	mustApply(t, tb, batch...)
	for key, want := range map[string]string{"k05": "third", "k07": "second", "k09": "", "k00": "last", "k50": "first"} {
		if v, ok := tableHas(t, tb, 1, key); ok != (want != "") || v != want {
			t.Errorf("Get(%s) = %q, %v; want %q", key, v, ok, want)
		}
	}
}

func testScan(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	var all []kv
	for _, kg := range []uint16{0, 1, 5, 6, 127, 0xFFFE, 0xFFFF} {
		for _, key := range []string{"b", "a", "ab", "\x00", "\xff", ""} {
			all = append(all, kv{kg, key, fmt.Sprintf("%d/%q", kg, key)})
		}
	}
	shuffled := slices.Clone(all)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, e := range shuffled {
		mustApply(t, tb, put(e.KG, e.Key, e.Value))
	}
	mustApply(t, tb, del(5, "ab"), del(127, "a"), del(127, "b"))
	deleted := []kv{{5, "ab", `5/"ab"`}, {127, "a", `127/"a"`}, {127, "b", `127/"b"`}}
	all = slices.DeleteFunc(all, func(e kv) bool { return slices.Contains(deleted, e) })
	slices.SortFunc(all, func(a, b kv) int { return cmp.Or(cmp.Compare(a.KG, b.KG), cmp.Compare(a.Key, b.Key)) })

	cases := []struct{ from, to uint16 }{
		{0, 128}, {5, 7}, {1, 2}, {2, 5}, {6, 6}, {7, 5}, {0, 0xFFFF}, {0xFFFE, 0xFFFF}, {128, 0xFFFE},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d-%d", c.from, c.to), func(t *testing.T) {
			var want []kv
			for _, e := range all {
				if e.KG >= c.from && e.KG < c.to {
					want = append(want, e)
				}
			}
			if got := scanAll(t, tb, c.from, c.to); !slices.Equal(got, want) {
				t.Errorf("Scan(%d, %d) =\n%+v\nwant\n%+v", c.from, c.to, got, want)
			}
		})
	}
}

// testScanStops checks that an error of fn ends the scan and is returned.
func testScanStops(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	mustApply(t, tb, put(1, "a", "1"), put(1, "b", "2"), put(2, "a", "3"))
	errStop := errors.New("stop")
	calls := 0
	err := tb.Scan(0, 10, func(uint16, []byte, []byte) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("Scan with failing fn = %v after %d calls; want %v after 1", err, calls, errStop)
	}
}

func testCount(t *testing.T, k backendKind) {
	cases := []struct {
		name           string
		batch          []Mutation
		entries, bytes int64
	}{
		{"empty", nil, 0, 0},
		{"puts", []Mutation{put(1, "ab", "xyz"), put(2, "c", "")}, 2, 6},
		{"overwrite counts once", []Mutation{put(1, "ab", "x"), put(1, "ab", "xyz")}, 1, 5},
		{"deleted not counted", []Mutation{put(1, "ab", "x"), put(1, "c", "y"), del(1, "ab")}, 1, 2},
		{"every key group", []Mutation{put(0, "a", "b"), put(0xFFFF, "a", "b")}, 2, 4},
	}
	b := k.open(t, t.TempDir(), true)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := mustTable(t, b, "count", c.name)
			mustApply(t, tb, c.batch...)
			n, size, err := tb.Count()
			if err != nil || n != c.entries || size != c.bytes {
				t.Errorf("Count() = %d, %d, %v; want %d, %d, nil", n, size, err, c.entries, c.bytes)
			}
		})
	}
}

func testClear(t *testing.T, k backendKind) {
	b, a := k.table(t)
	other := mustTable(t, b, "op", "other")
	for kg := range uint16(10) {
		mustApply(t, a, put(kg, "k", "a"), put(kg*1000, "j", "a"))
		mustApply(t, other, put(kg, "k", "o"))
	}
	if err := a.Clear(); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if n, _, err := a.Count(); err != nil || n != 0 {
		t.Errorf("Count after Clear = %d, %v; want 0", n, err)
	}
	if got := scanAll(t, a, 0, 0xFFFF); len(got) != 0 {
		t.Errorf("Scan after Clear = %+v; want nothing", got)
	}
	if n, _, err := other.Count(); err != nil || n != 10 {
		t.Errorf("Count of the other table after Clear = %d, %v; want 10", n, err)
	}
	mustApply(t, a, put(1, "k", "again"))
	if v, ok, err := a.Get(1, []byte("k")); err != nil || !ok || string(v) != "again" {
		t.Errorf("Get after Clear and put = %q, %v, %v; want \"again\"", v, ok, err)
	}
	if ids, err := b.Tables(); err != nil || len(ids) != 2 {
		t.Errorf("Tables after Clear = %v, %v; want both tables still listed", ids, err)
	}
}

func testTables(t *testing.T, k backendKind) {
	b := k.open(t, t.TempDir(), true)
	if ids, err := b.Tables(); err != nil || len(ids) != 0 {
		t.Errorf("Tables of a fresh backend = %v, %v; want none", ids, err)
	}
	created := []TableID{{"b", "x"}, {"a", "z"}, {"ab", "c"}, {"a", "bc"}, {"a", "y"}, {"b", "x"}}
	for _, id := range created {
		mustApply(t, mustTable(t, b, id.UID, id.State), put(1, "k", id.UID+"/"+id.State))
	}
	want := []TableID{{"a", "bc"}, {"a", "y"}, {"a", "z"}, {"ab", "c"}, {"b", "x"}}
	if ids, err := b.Tables(); err != nil || !slices.Equal(ids, want) {
		t.Errorf("Tables() = %v, %v; want %v", ids, err, want)
	}
	for _, id := range want {
		v, ok, err := mustTable(t, b, id.UID, id.State).Get(1, []byte("k"))
		if want := id.UID + "/" + id.State; err != nil || !ok || string(v) != want {
			t.Errorf("table %v: Get = %q, %v, %v; want %q (tables must not share entries)", id, v, ok, err, want)
		}
	}
}

// testConcurrentKeyGroups runs subtasks that own disjoint key groups of one table at once
// (run with -race).
func testConcurrentKeyGroups(t *testing.T, k backendKind) {
	const workers, groupsEach, rounds = 8, 4, 50
	_, tb := k.table(t)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			from := uint16(w * groupsEach)
			for r := range rounds {
				kg := from + uint16(r%groupsEach)
				key := fmt.Appendf(nil, "k%03d", r)
				if err := tb.Apply([]Mutation{{KG: kg, Key: key, Value: key}, {KG: kg, Key: []byte("gone"), Delete: true}}); err != nil {
					t.Errorf("worker %d: apply: %v", w, err)
					return
				}
				if v, ok, err := tb.Get(kg, key); err != nil || !ok || !bytes.Equal(v, key) {
					t.Errorf("worker %d: Get(%d, %s) = %q, %v, %v", w, kg, key, v, ok, err)
					return
				}
				n := 0
				if err := tb.Scan(from, from+groupsEach, func(uint16, []byte, []byte) error { n++; return nil }); err != nil || n != r+1 {
					t.Errorf("worker %d round %d: Scan saw %d entries, %v; want %d", w, r, n, err, r+1)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, _, err := tb.Count(); err != nil || n != workers*rounds {
		t.Errorf("Count() = %d, %v; want %d", n, err, workers*rounds)
	}
}

// testReopen checks that a persistent backend keeps its tables across Close unless Fresh.
func testReopen(t *testing.T, k backendKind) {
	if !k.persistent {
		t.Skipf("%s keeps nothing across Close", k.name)
	}
	dir := t.TempDir()
	reopen := func(fresh bool) Backend {
		b, err := Open(Options{Kind: k.name, Dir: dir, Fresh: fresh})
		if err != nil {
			t.Fatalf("open %s (fresh=%v): %v", dir, fresh, err)
		}
		return b
	}
	closeB := func(b Backend) {
		if err := b.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
	b := reopen(true)
	mustApply(t, mustTable(t, b, "op", "a"), put(1, "k", "a1"), put(2, "k", "a2"))
	mustApply(t, mustTable(t, b, "op", "b"), put(1, "k", "b1"))
	closeB(b)

	b = reopen(false)
	if ids, err := b.Tables(); err != nil || !slices.Equal(ids, []TableID{{"op", "a"}, {"op", "b"}}) {
		t.Errorf("Tables after reopen = %v, %v; want op/a and op/b", ids, err)
	}
	mustApply(t, mustTable(t, b, "op", "c"), put(1, "k", "c1")) // a new table must get a new id
	if got := scanAll(t, mustTable(t, b, "op", "a"), 0, 10); !slices.Equal(got, []kv{{1, "k", "a1"}, {2, "k", "a2"}}) {
		t.Errorf("op/a after reopen = %+v", got)
	}
	if got := scanAll(t, mustTable(t, b, "op", "b"), 0, 10); !slices.Equal(got, []kv{{1, "k", "b1"}}) {
		t.Errorf("op/b after reopen = %+v", got)
	}
	closeB(b)
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}

	b = k.open(t, dir, true)
	if ids, err := b.Tables(); err != nil || len(ids) != 0 {
		t.Errorf("Tables after a fresh open = %v, %v; want none", ids, err)
	}
	if v, ok, err := mustTable(t, b, "op", "a").Get(1, []byte("k")); err != nil || ok {
		t.Errorf("Get after a fresh open = %q, %v, %v; want absent", v, ok, err)
	}
}

// cacheGet reads (kg, key) through c and fails the test on error.
func cacheGet(t *testing.T, c *Cache, kg uint16, key string) (any, bool) {
	t.Helper()
	v, ok, err := c.Get(kg, []byte(key))
	if err != nil {
		t.Fatalf("cache Get(%d, %q): %v", kg, key, err)
	}
	return v, ok
}

func mustFlush(t *testing.T, c *Cache) {
	t.Helper()
	if err := c.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func tableHas(t *testing.T, tb Table, kg uint16, key string) (string, bool) {
	t.Helper()
	v, ok, err := tb.Get(kg, []byte(key))
	if err != nil {
		t.Fatalf("table Get(%d, %q): %v", kg, key, err)
	}
	return string(v), ok
}

func testCacheReadYourWrites(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	mustApply(t, tb, put(1, "old", "stored"))
	c := NewCache(tb, stringCodec{}, CacheOptions{})
	if v, ok := cacheGet(t, c, 1, "old"); !ok || v != "stored" {
		t.Errorf("Get of a stored entry = %v, %v; want stored", v, ok)
	}
	if v, ok := cacheGet(t, c, 1, "new"); ok {
		t.Errorf("Get of an absent entry = %v, true; want absent", v)
	}
	for _, p := range []struct{ key, v string }{{"new", "n1"}, {"old", "o1"}, {"new", "n2"}} {
		if err := c.Put(1, []byte(p.key), p.v); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if v, ok := cacheGet(t, c, 1, p.key); !ok || v != p.v {
			t.Errorf("Get(%q) after Put(%q) = %v, %v", p.key, p.v, v, ok)
		}
	}
	if v, ok := tableHas(t, tb, 1, "new"); ok {
		t.Errorf("table holds %q before Flush; want the write held back", v)
	}
	mustFlush(t, c)
	for key, want := range map[string]string{"new": "n2", "old": "o1"} {
		if v, ok := tableHas(t, tb, 1, key); !ok || v != want {
			t.Errorf("table Get(%q) after Flush = %q, %v; want %q", key, v, ok, want)
		}
		if v, ok := cacheGet(t, NewCache(tb, stringCodec{}, CacheOptions{}), 1, key); !ok || v != want {
			t.Errorf("a new cache reads %q = %v, %v; want %q", key, v, ok, want)
		}
	}
	mustFlush(t, c) // nothing dirty: a no-op
}

func testCacheDelete(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	mustApply(t, tb, put(4, "stored", "s"), put(4, "loaded", "l"))
	c := NewCache(tb, stringCodec{}, CacheOptions{})
	if _, ok := cacheGet(t, c, 4, "loaded"); !ok {
		t.Fatal("stored entry not found")
	}
	for _, key := range []string{"stored", "loaded", "never"} {
		if err := c.Delete(4, []byte(key)); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
		if v, ok := cacheGet(t, c, 4, key); ok {
			t.Errorf("Get(%q) after Delete = %v; want absent", key, v)
		}
	}
	if _, ok := tableHas(t, tb, 4, "stored"); !ok {
		t.Error("table lost an entry before Flush")
	}
	if err := c.Put(4, []byte("never"), "back"); err != nil {
		t.Fatal(err)
	}
	mustFlush(t, c)
	for key, want := range map[string]bool{"stored": false, "loaded": false, "never": true} {
		if _, ok := tableHas(t, tb, 4, key); ok != want {
			t.Errorf("table has %q after Flush = %v; want %v", key, ok, want)
		}
	}
}

func testCacheCapacity(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	c := NewCache(tb, stringCodec{}, CacheOptions{Capacity: 3})
	for i := range 10 {
		if err := c.Put(uint16(i%2), fmt.Appendf(nil, "k%d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 3 {
			t.Fatalf("after %d puts the cache holds %d entries; want at most 3", i+1, c.Len())
		}
	}
	// Each insertion into a full cache evicted one entry, written back since it was dirty.
	if n, _, err := tb.Count(); err != nil || n != 7 {
		t.Errorf("table Count after 10 puts into a cache of 3 = %d, %v; want 7", n, err)
	}
	for i := range 10 {
		if v, ok := cacheGet(t, c, uint16(i%2), fmt.Sprintf("k%d", i)); !ok || v != fmt.Sprint(i) {
			t.Errorf("Get(k%d) = %v, %v; want %d", i, v, ok, i)
		}
	}
	mustFlush(t, c)
	if n, _, err := tb.Count(); err != nil || n != 10 {
		t.Errorf("table Count after Flush = %d, %v; want 10", n, err)
	}
}

// testCacheClock checks the eviction order: an entry used since the hand last passed it
// survives, an untouched one goes first.
func testCacheClock(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	c := NewCache(tb, stringCodec{}, CacheOptions{Capacity: 4})
	for _, key := range []string{"a", "b", "c", "d"} {
		if err := c.Put(1, []byte(key), key); err != nil {
			t.Fatal(err)
		}
	}
	// Every entry is used (written): the hand clears them all, then takes "a".
	if err := c.Put(1, []byte("e"), "e"); err != nil {
		t.Fatal(err)
	}
	// "b" is read again; the next victim is "c", the first untouched one after the hand.
	cacheGet(t, c, 1, "b")
	if err := c.Put(1, []byte("f"), "f"); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, tb, 0, 2)
	want := []kv{{1, "a", "a"}, {1, "c", "c"}}
	if !slices.Equal(got, want) {
		t.Errorf("evicted (written back) = %v; want %v", got, want)
	}
}

// testCacheEvictionSnapshots runs the life of a keyed state with a cache far smaller than
// its keys: entries are evicted dirty and read back, deleted while evicted, and snapshots
// (a checkpoint, then a savepoint restored into a new backend) hold exactly the state.
func testCacheEvictionSnapshots(t *testing.T, k backendKind) {
	const keys = 500
	_, tb := k.table(t)
	c := NewCache(tb, stringCodec{}, CacheOptions{Capacity: 16})
	want := map[string]string{}
	step := func(round int) {
		for i := range keys {
			key := fmt.Sprintf("k%03d", i)
			v, ok := cacheGet(t, c, uint16(i%7), key)
			if w, present := want[key]; ok != present || (ok && v != w) {
				t.Fatalf("round %d: Get(%s) = %v, %v; want %q, %v", round, key, v, ok, w, present)
			}
			switch {
			case (i+round)%5 == 0:
				if err := c.Delete(uint16(i%7), []byte(key)); err != nil {
					t.Fatal(err)
				}
				delete(want, key)
			default:
				want[key] = fmt.Sprintf("%s@%d", key, round)
				if err := c.Put(uint16(i%7), []byte(key), want[key]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// snapshot flushes the cache and scans the table, as a checkpoint or savepoint does.
	snapshot := func() []kv {
		mustFlush(t, c)
		got := scanAll(t, tb, 0, 7)
		wantKV := make([]kv, 0, len(want))
		for i := range keys {
			key := fmt.Sprintf("k%03d", i)
			if v, ok := want[key]; ok {
				wantKV = append(wantKV, kv{uint16(i % 7), key, v})
			}
		}
		slices.SortFunc(wantKV, func(a, b kv) int { return cmp.Or(cmp.Compare(a.KG, b.KG), cmp.Compare(a.Key, b.Key)) })
		if !slices.Equal(got, wantKV) {
			t.Fatalf("snapshot holds %d entries, want %d (first difference in %v)", len(got), len(wantKV), firstDiff(got, wantKV))
		}
		return got
	}
	step(1)
	step(2)
	snapshot() // a checkpoint; the job goes on with the same cache
	step(3)
	saved := snapshot() // a savepoint
	step(4)

	// Restore the savepoint into a new backend: the state is the savepoint's, not round 4's.
	_, restored := k.table(t)
	batch := make([]Mutation, len(saved))
	for i, e := range saved {
		batch[i] = put(e.KG, e.Key, e.Value)
	}
	mustApply(t, restored, batch...)
	rc := NewCache(restored, stringCodec{}, CacheOptions{Capacity: 16})
	for _, e := range saved {
		if v, ok := cacheGet(t, rc, e.KG, e.Key); !ok || v != e.Value {
			t.Errorf("restored Get(%s) = %v, %v; want %q", e.Key, v, ok, e.Value)
		}
	}
}

// firstDiff describes the first entry where got and want differ.
func firstDiff(got, want []kv) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("entry %d: got %v, want %v", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

// testCacheByteBudget checks that MaxBytes bounds the entries held.
func testCacheByteBudget(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	c := NewCache(tb, stringCodec{}, CacheOptions{MaxBytes: 64 << 10})
	value := strings.Repeat("v", 100)
	for i := range 5000 {
		if err := c.Put(uint16(i%3), fmt.Appendf(nil, "key%05d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	// An entry costs at least entryOverhead bytes, more with its key and value.
	if limit := (64 << 10) / entryOverhead; c.Len() > limit {
		t.Errorf("a 64 KiB cache holds %d entries; want at most %d", c.Len(), limit)
	}
	mustFlush(t, c)
	if n, _, err := tb.Count(); err != nil || n != 5000 {
		t.Errorf("table Count after Flush = %d, %v; want 5000", n, err)
	}
}

// testCacheAbsentKeys checks that an absent key is read from the table once, however often
// the cache is asked.
func testCacheAbsentKeys(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	counting := &countingTable{Table: tb}
	c := NewCache(counting, stringCodec{}, CacheOptions{})
	for range 10 {
		if v, ok := cacheGet(t, c, 2, "missing"); ok {
			t.Fatalf("Get(missing) = %q; want absent", v)
		}
	}
	if counting.gets != 1 {
		t.Errorf("10 reads of an absent key reached the table %d times; want 1", counting.gets)
	}
}

// countingTable counts the Gets that reach a table and the mutations applied to it.
type countingTable struct {
	Table
	gets, applied int
}

func (t *countingTable) Apply(batch []Mutation) error {
	t.applied += len(batch)
	return t.Table.Apply(batch)
}

func (t *countingTable) Get(kg uint16, key []byte) ([]byte, bool, error) {
	t.gets++
	return t.Table.Get(kg, key)
}

func testCacheTTL(t *testing.T, k backendKind) {
	const ttl = 10 * time.Second
	_, tb := k.table(t)
	clock := &fakeClock{ms: 1_000}
	c := NewCache(tb, stringCodec{}, CacheOptions{TTL: ttl, Now: clock.now})
	for _, key := range []string{"a", "b", "c"} {
		if err := c.Put(1, []byte(key), key); err != nil {
			t.Fatal(err)
		}
	}
	clock.ms = 6_000
	if err := c.Put(1, []byte("b"), "b2"); err != nil { // a write restarts the TTL
		t.Fatal(err)
	}
	mustFlush(t, c)
	if v, ok := tableHas(t, tb, 1, "b"); !ok || v != string(EncodeStored(nil, ttl, 6_000, []byte("b2"))) {
		t.Errorf("stored bytes of b = %q, %v; want the write time in front", v, ok)
	}

	steps := []struct {
		nowMs  int64
		cache  *Cache // nil: the cache that wrote the entries
		key    string
		wantOK bool
	}{
		{10_999, nil, "a", true},
		{11_000, nil, "a", false}, // not written for exactly the TTL
		{11_000, nil, "b", true},
		// A new cache (a restart) reads the write time from the table: downtime counts.
		{15_999, NewCache(tb, stringCodec{}, CacheOptions{TTL: ttl, Now: clock.now}), "b", true},
		{16_000, NewCache(tb, stringCodec{}, CacheOptions{TTL: ttl, Now: clock.now}), "b", false},
		{16_000, NewCache(tb, stringCodec{}, CacheOptions{TTL: ttl, Now: clock.now}), "c", false},
		{0, NewCache(tb, stringCodec{}, CacheOptions{TTL: ttl, Now: clock.now}), "c", true},
	}
	for _, s := range steps {
		clock.ms = s.nowMs
		cache := cmp.Or(s.cache, c)
		if _, ok := cacheGet(t, cache, 1, s.key); ok != s.wantOK {
			t.Errorf("at %d ms: Get(%q) found = %v; want %v", s.nowMs, s.key, ok, s.wantOK)
		}
	}
	// An entry seen expired is removed from the table by the next Flush.
	clock.ms = 20_000
	if _, ok := cacheGet(t, c, 1, "c"); ok {
		t.Error("expired entry returned")
	}
	mustFlush(t, c)
	if _, ok := tableHas(t, tb, 1, "c"); ok {
		t.Error("expired entry still in the table after Flush")
	}
}

func testCacheCodecErrors(t *testing.T, k backendKind) {
	_, tb := k.table(t)
	mustApply(t, tb, put(1, "corrupt", "!x"))
	c := NewCache(tb, stringCodec{}, CacheOptions{})
	if _, _, err := c.Get(1, []byte("corrupt")); !errors.Is(err, errCodec) {
		t.Errorf("Get of undecodable bytes = %v; want %v", err, errCodec)
	}
	if err := c.Put(1, []byte("k"), "!bad"); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); !errors.Is(err, errCodec) {
		t.Errorf("Flush of an unencodable value = %v; want %v", err, errCodec)
	}
	if err := c.Put(1, []byte("k"), "good"); err != nil { // still dirty: the next Flush writes it
		t.Fatal(err)
	}
	mustFlush(t, c)
	if v, ok := tableHas(t, tb, 1, "k"); !ok || v != "good" {
		t.Errorf("table after a retried Flush = %q, %v; want good", v, ok)
	}
	ttlCache := NewCache(tb, stringCodec{}, CacheOptions{TTL: time.Hour})
	mustApply(t, tb, put(1, "noheader", "\xff"))
	if _, _, err := ttlCache.Get(1, []byte("noheader")); !errors.Is(err, ErrCorruptStored) {
		t.Errorf("Get of a value without TTL header = %v; want %v", err, ErrCorruptStored)
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []Options{
		{Kind: "rocksdb", Dir: t.TempDir()},
		{Kind: KindBadger},
		{Dir: ""},
	}
	for _, o := range cases {
		if b, err := Open(o); err == nil {
			b.Close()
			t.Errorf("Open(%+v) succeeded; want an error", o)
		}
	}
}

func TestBadgerDiscard(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	b, err := Open(Options{Kind: KindBadger, Dir: dir, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := b.Table("op", "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Apply([]Mutation{{KG: 1, Key: []byte("k"), Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if err := b.(Discarder).Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after Discard the directory is still there: %v", err)
	}
}

// twoTiers is a cache with a second tier, both tiny: entries go through both to the table.
var twoTiers = CacheOptions{Capacity: 4, MaxBytes: 16 << 10, SecondTier: true}

// testCacheTwoTiers writes more keys than both tiers hold: entries are evicted dirty to the
// second tier and from there to the table, read back from either, deleted while in either, and
// Flush leaves exactly the state in the table.
func testCacheTwoTiers(t *testing.T, k backendKind) {
	const keys = 3000
	_, tb := k.table(t)
	counting := &countingTable{Table: tb}
	c := NewCache(counting, stringCodec{}, twoTiers)
	want := map[int]string{}
	key := func(i int) []byte { return fmt.Appendf(nil, "k%05d", i) }
	for round := range 3 {
		for i := range keys {
			v, ok, err := c.Get(uint16(i%7), key(i))
			if w, has := want[i]; err != nil || ok != has || ok && v != w {
				t.Fatalf("round %d: Get(%d) = %v, %v, %v; want %q, %v", round, i, v, ok, err, w, has)
			}
			if (i+round)%4 == 0 {
				mustNoErr(t, c.Delete(uint16(i%7), key(i)))
				delete(want, i)
				continue
			}
			want[i] = fmt.Sprintf("v%d-%d", i, round)
			mustNoErr(t, c.Put(uint16(i%7), key(i), want[i]))
		}
		if n := c.Len(); n <= twoTiers.Capacity || n >= keys {
			t.Errorf("round %d: the cache holds %d entries; want more than the decoded tier's %d, fewer than %d", round, n, twoTiers.Capacity, keys)
		}
	}
	if n, _, err := tb.Count(); err != nil || n == 0 {
		t.Errorf("table Count before Flush = %d, %v; want entries evicted through both tiers", n, err)
	}
	// A key recently evicted from the decoded tier is read from the second tier, not the table.
	gets := counting.gets
	for i := keys - 10; i < keys; i++ {
		cacheGet(t, c, uint16(i%7), string(key(i)))
	}
	if counting.gets != gets {
		t.Errorf("reading recently evicted keys reached the table %d times; want 0", counting.gets-gets)
	}
	mustFlush(t, c)
	if c.Dirty() {
		t.Error("the cache is dirty after Flush")
	}
	var wantKV []kv
	for i, v := range want {
		wantKV = append(wantKV, kv{uint16(i % 7), string(key(i)), v})
	}
	slices.SortFunc(wantKV, func(a, b kv) int { return cmp.Or(cmp.Compare(a.KG, b.KG), cmp.Compare(a.Key, b.Key)) })
	if got := scanAll(t, tb, 0, 7); !slices.Equal(got, wantKV) {
		t.Errorf("table after Flush holds %d entries, want %d (%s)", len(got), len(wantKV), firstDiff(got, wantKV))
	}
}

// testCacheTwoTiersTTL checks that an entry keeps its write time through the second tier: it
// expires there as in the decoded tier, and its stored bytes carry the time.
func testCacheTwoTiersTTL(t *testing.T, k backendKind) {
	const ttl = 10 * time.Second
	_, tb := k.table(t)
	clock := &fakeClock{ms: 1_000}
	opts := twoTiers
	opts.TTL, opts.Now = ttl, clock.now
	c := NewCache(tb, stringCodec{}, opts)
	mustNoErr(t, c.Put(1, []byte("old"), "o"))
	clock.ms = 5_000
	mustNoErr(t, c.Put(1, []byte("new"), "n"))
	for i := range 20 { // push both out of the decoded tier
		mustNoErr(t, c.Put(2, fmt.Appendf(nil, "filler%d", i), "f"))
	}
	if c.tier.count == 0 {
		t.Fatal("nothing reached the second tier")
	}
	clock.ms = 11_000
	if _, ok := cacheGet(t, c, 1, "old"); ok {
		t.Error("an entry expired in the second tier was returned")
	}
	if v, ok := cacheGet(t, c, 1, "new"); !ok || v != "n" {
		t.Errorf("Get(new) = %v, %v; want n", v, ok)
	}
	mustFlush(t, c)
	if _, ok := tableHas(t, tb, 1, "old"); ok {
		t.Error("expired entry in the table after Flush")
	}
	if v, ok := tableHas(t, tb, 1, "new"); !ok || v != string(EncodeStored(nil, ttl, 5_000, []byte("n"))) {
		t.Errorf("stored bytes of new = %q, %v; want its write time in front", v, ok)
	}
}
