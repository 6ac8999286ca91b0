package statebackend

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// deltaEntries writes an incremental snapshot out as a delta of prev (its entries framed as
// by framed), checking that runs are passed on as prev frames them.
func deltaEntries(tb testing.TB, s *CacheSnapshot, prev []kv, from, to uint16) []kv {
	tb.Helper()
	m, offs := framed(prev)
	lo, _ := slices.BinarySearchFunc(prev, kv{KG: from}, func(e, t kv) int { return compareKey(e.KG, []byte(e.Key), t.KG, []byte(t.Key)) })
	hi, _ := slices.BinarySearchFunc(prev, kv{KG: to}, func(e, t kv) int { return compareKey(e.KG, []byte(e.Key), t.KG, []byte(t.Key)) })
	var got []kv
	err := s.WriteDelta(m.data, offs[lo:hi], from, to, func(kg uint16, key, stored []byte) error {
		got = append(got, kv{kg, string(key), string(stored)})
		return nil
	}, func(run []byte, starts []uint32) error {
		for _, st := range starts {
			p := run[st-starts[0]:]
			kg, key, value := DecodeFramed(p)
			if FramedLen(p) > len(p) {
				return fmt.Errorf("entry at %d runs past the run", st)
			}
			got = append(got, kv{kg, string(key), string(value)})
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("delta write: %v", err)
	}
	return got
}

// TestCacheDeltaModel drives a cache (with and without a lazily restored base) through random
// reads, writes, deletes, evictions, write-backs, base loading and other snapshots between a
// base snapshot and an incremental one, and checks that the incremental snapshot written as a
// delta of the base equals the state (a plain map) and a full snapshot taken at the same
// moment.
func TestCacheDeltaModel(t *testing.T) {
	for _, mc := range modelCaches {
		for _, withBase := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/base=%v", mc.name, withBase), func(t *testing.T) {
				for seed := range uint64(8) {
					testCacheDeltaModel(t, mc.opts, withBase, seed)
				}
			})
		}
	}
}

func testCacheDeltaModel(t *testing.T, opts CacheOptions, withBase bool, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 11))
	_, tb := backendKinds[1].table(t) // badger: snapshots need views
	model := map[kv]string{}
	c := NewCache(tb, stringCodec{}, opts)
	if withBase {
		var restored []kv
		for i := range 2000 {
			restored = append(restored, kv{uint16(i % 7), fmt.Sprintf("k%05d", i), fmt.Sprintf("r%d", i)})
			model[kv{KG: uint16(i % 7), Key: fmt.Sprintf("k%05d", i)}] = fmt.Sprintf("r%d", i)
		}
		slices.SortFunc(restored, func(a, b kv) int { return compareKey(a.KG, []byte(a.Key), b.KG, []byte(b.Key)) })
		m, offs := framed(restored)
		c.SetBase(NewBase(m, offs))
		m.Unref()
	}
	step := func(writes int) {
		for range writes {
			kg, key := uint16(r.IntN(7)), fmt.Sprintf("k%05d", r.IntN(2500))
			id := kv{KG: kg, Key: key}
			switch op := r.IntN(100); {
			case op < 30:
				if _, _, err := c.Get(kg, []byte(key)); err != nil {
					t.Fatal(err)
				}
			case op < 70:
				v := fmt.Sprintf("w%d", r.IntN(1e6))
				mustNoErr(t, c.Put(kg, []byte(key), v))
				model[id] = v
			case op < 82:
				mustNoErr(t, c.Delete(kg, []byte(key)))
				delete(model, id)
			case op < 90:
				if _, err := c.LoadBase(1 + r.IntN(40)); err != nil {
					t.Fatal(err)
				}
			case op < 97:
				if _, err := c.WriteBackSome(1 + r.IntN(50)); err != nil {
					t.Fatal(err)
				}
			case op < 99:
				mustNoErr(t, c.Flush())
			default: // a checkpoint in between records nothing and takes nothing away
				s, _ := c.Snapshot()
				s.Close()
			}
		}
	}
	step(1500)
	base, ok := c.Snapshot()
	if !ok {
		t.Fatal("badger gave no view")
	}
	c.TrackChanges(1)
	baseWant := modelEntries(model)
	step(r.IntN(3000))
	if got := snapshotEntries(t, base, 0, 7); !slices.Equal(got, baseWant) {
		t.Fatalf("seed %d: the base snapshot has %d entries, want %d", seed, len(got), len(baseWant))
	}
	delta, _ := c.SnapshotSince(1)
	full, _ := c.Snapshot()
	if !delta.Incremental() {
		t.Fatalf("seed %d: the snapshot since the base is not incremental", seed)
	}
	want := modelEntries(model)
	if got := deltaEntries(t, delta, baseWant, 0, 7); !slices.Equal(got, want) {
		t.Fatalf("seed %d: the delta snapshot has %d entries, want %d\n got %v\nwant %v", seed, len(got), len(want), got, want)
	}
	if got := snapshotEntries(t, full, 0, 7); !slices.Equal(got, want) {
		t.Fatalf("seed %d: the full snapshot has %d entries, want %d", seed, len(got), len(want))
	}
}

// TestCacheDeltaRange: a delta of some key groups holds just those, from the base and from
// the written keys.
func TestCacheDeltaRange(t *testing.T) {
	_, tb := backendKinds[1].table(t)
	c := NewCache(tb, stringCodec{}, CacheOptions{})
	for kg := range uint16(6) {
		mustNoErr(t, c.Put(kg, []byte("a"), fmt.Sprint("old", kg)))
		mustNoErr(t, c.Put(kg, []byte("b"), fmt.Sprint("old", kg)))
	}
	base, _ := c.Snapshot()
	c.TrackChanges(7)
	prev := snapshotEntries(t, base, 0, 6)
	for kg := range uint16(6) {
		mustNoErr(t, c.Put(kg, []byte("a"), fmt.Sprint("new", kg)))
		mustNoErr(t, c.Put(kg, []byte("c"), fmt.Sprint("new", kg)))
	}
	mustNoErr(t, c.Delete(3, []byte("b")))
	delta, _ := c.SnapshotSince(7)
	want := []kv{{2, "a", "new2"}, {2, "b", "old2"}, {2, "c", "new2"}, {3, "a", "new3"}, {3, "c", "new3"}}
	if got := deltaEntries(t, delta, prev, 2, 4); !slices.Equal(got, want) {
		t.Errorf("delta of key groups [2, 4): %v, want %v", got, want)
	}
}

// TestCacheDeltaTTL: entries of the base that expired since are left out of the delta.
func TestCacheDeltaTTL(t *testing.T) {
	_, tb := backendKinds[1].table(t)
	now := int64(1_000_000)
	c := NewCache(tb, stringCodec{}, CacheOptions{TTL: time.Minute, Now: func() int64 { return now }})
	mustNoErr(t, c.Put(1, []byte("early"), "e"))
	now += 40_000
	mustNoErr(t, c.Put(1, []byte("late"), "l"))
	base, _ := c.Snapshot()
	c.TrackChanges(1)
	prev := snapshotEntries(t, base, 0, 2)
	now += 30_000 // "early" is 70 s old: expired; "late" 30 s
	mustNoErr(t, c.Put(1, []byte("new"), "n"))
	delta, _ := c.SnapshotSince(1)
	var keys []string
	for _, e := range deltaEntries(t, delta, prev, 0, 2) {
		keys = append(keys, e.Key)
	}
	if want := []string{"late", "new"}; !slices.Equal(keys, want) {
		t.Errorf("delta keys %v, want %v", keys, want)
	}
}

// TestCacheDeltaNotIncremental: a snapshot is incremental only for the epoch the cache
// recorded, and only while the record is complete.
func TestCacheDeltaNotIncremental(t *testing.T) {
	cases := []struct {
		name   string
		epoch  int64
		writes int
		want   bool
	}{
		{"same epoch", 5, 10, true},
		{"other epoch", 6, 10, false},
		{"too many keys written", 5, minTrackedKeys + 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, tb := backendKinds[1].table(t)
			c := NewCache(tb, stringCodec{}, CacheOptions{MaxBytes: 64 << 10})
			c.TrackChanges(5)
			for i := range tc.writes {
				mustNoErr(t, c.Put(0, fmt.Appendf(nil, "k%d", i), "v"))
			}
			s, _ := c.SnapshotSince(tc.epoch)
			defer s.Close()
			if s.Incremental() != tc.want {
				t.Errorf("incremental %v, want %v", s.Incremental(), tc.want)
			}
			again, _ := c.SnapshotSince(5)
			defer again.Close()
			if again.Incremental() {
				t.Error("a second snapshot since the same epoch is incremental: the record was not ended")
			}
		})
	}
}
