package statebackend

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// framed builds a mapping of entries framed as in a savepoint data file, sorted, and their
// offsets.
func framed(entries []kv) (*Mapping, []uint32) {
	var data []byte
	offs := make([]uint32, 0, len(entries))
	for _, e := range entries {
		offs = append(offs, uint32(len(data)))
		data = binary.AppendUvarint(data, uint64(e.KG))
		data = binary.AppendUvarint(data, uint64(len(e.Key)))
		data = append(data, e.Key...)
		data = binary.AppendUvarint(data, uint64(len(e.Value)))
		data = append(data, e.Value...)
	}
	return NewMapping(data, nil), offs
}

// snapshotEntries writes a cache snapshot out.
func snapshotEntries(tb testing.TB, s *CacheSnapshot, from, to uint16) []kv {
	tb.Helper()
	var got []kv
	err := s.Write(from, to, func(kg uint16, key, stored []byte) error {
		got = append(got, kv{kg, string(key), string(stored)})
		return nil
	})
	if err != nil {
		tb.Fatalf("snapshot write: %v", err)
	}
	return got
}

// modelEntries is the sorted content of a model state.
func modelEntries(m map[kv]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k.KG, k.Key, v})
	}
	slices.SortFunc(out, func(a, b kv) int { return compareKey(a.KG, []byte(a.Key), b.KG, []byte(b.Key)) })
	return out
}

// modelCaches are the cache configurations the model tests drive: one tier, and two tiers
// small enough that entries go through both to the table.
var modelCaches = []struct {
	name string
	opts CacheOptions
}{
	{"one tier", CacheOptions{Capacity: 200}},
	{"two tiers", CacheOptions{Capacity: 20, MaxBytes: 16 << 10, SecondTier: true}},
}

// TestCacheBaseModel drives a cache with a base (a lazily restored state) through random
// reads, writes, deletes, loading steps, evictions, write-backs and snapshots, and checks every snapshot
// and the final table against a plain map.
func TestCacheBaseModel(t *testing.T) {
	for _, mc := range modelCaches {
		t.Run(mc.name, func(t *testing.T) { testCacheBaseModel(t, mc.opts) })
	}
}

func testCacheBaseModel(t *testing.T, opts CacheOptions) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			_, tb := backendKinds[1].table(t) // badger: snapshots need views
			model := map[kv]string{}          // (kg, key) -> value
			var restored []kv
			for i := range 3000 {
				e := kv{uint16(i % 7), fmt.Sprintf("k%05d", i), fmt.Sprintf("v%d", i)}
				restored = append(restored, e)
			}
			slices.SortFunc(restored, func(a, b kv) int { return compareKey(a.KG, []byte(a.Key), b.KG, []byte(b.Key)) })
			for _, e := range restored {
				model[kv{KG: e.KG, Key: e.Key}] = e.Value
			}
			m, offs := framed(restored)
			released := false
			m.release = func() { released = true }
			c := NewCache(tb, stringCodec{}, opts)
			c.SetBase(NewBase(m, offs))
			m.Unref()
			var open []frozenWant
			for step := 0; step < 4000; step++ {
				kg, key := uint16(r.IntN(7)), fmt.Sprintf("k%05d", r.IntN(3300)) // some keys are new
				id := kv{KG: kg, Key: key}
				switch op := r.IntN(100); {
				case op < 35:
					v, ok, err := c.Get(kg, []byte(key))
					if err != nil {
						t.Fatal(err)
					}
					if want, has := model[id]; ok != has || ok && v != want {
						t.Fatalf("step %d: get %v = %v, %v; want %q, %v", step, id, v, ok, want, has)
					}
				case op < 60:
					v := fmt.Sprintf("w%d", step)
					if err := c.Put(kg, []byte(key), v); err != nil {
						t.Fatal(err)
					}
					model[id] = v
				case op < 75:
					if err := c.Delete(kg, []byte(key)); err != nil {
						t.Fatal(err)
					}
					delete(model, id)
				case op < 90:
					if _, err := c.LoadBase(1 + r.IntN(40)); err != nil {
						t.Fatal(err)
					}
				case op < 95:
					s, ok := c.Snapshot()
					if !ok {
						t.Fatal("badger gave no view")
					}
					want := modelEntries(model)
					if r.IntN(2) == 0 {
						open = append(open, frozenWant{s, want, step}) // written later, after more changes
						continue
					}
					if got := snapshotEntries(t, s, 0, 7); !slices.Equal(got, want) {
						t.Fatalf("step %d: snapshot of %d entries, want %d", step, len(got), len(want))
					}
				case op < 98:
					if _, err := c.WriteBackSome(1 + r.IntN(50)); err != nil {
						t.Fatal(err)
					}
				default:
					if err := c.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, o := range open {
				if got := snapshotEntries(t, o.s, 0, 7); !slices.Equal(got, o.want) {
					t.Fatalf("snapshot of step %d written at the end: %d entries, want %d as at its freeze", o.step, len(got), len(o.want))
				}
			}
			if err := loadAll(c); err != nil {
				t.Fatal(err)
			}
			if c.BaseLoading() || !released {
				t.Errorf("base still loading %v, mapping released %v", c.BaseLoading(), released)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if got, want := scanAll(t, tb, 0, 7), modelEntries(model); !slices.Equal(got, want) {
				t.Errorf("table holds %d entries, want %d", len(got), len(want))
			}
		})
	}
}

// TestCacheSnapshotLater: a snapshot holds the state at its freeze, not the writes after it,
// and keeps the base's memory until it is written.
func TestCacheSnapshotLater(t *testing.T) {
	_, tb := backendKinds[1].table(t)
	m, offs := framed([]kv{{1, "a", "base-a"}, {1, "b", "base-b"}, {2, "c", "base-c"}})
	released := false
	m.release = func() { released = true }
	c := NewCache(tb, stringCodec{}, CacheOptions{})
	c.SetBase(NewBase(m, offs))
	m.Unref()
	mustNoErr(t, c.Put(1, []byte("a"), "new-a"))
	mustNoErr(t, c.Delete(2, []byte("c")))
	mustNoErr(t, c.Put(3, []byte("d"), "new-d"))
	s, _ := c.Snapshot()
	mustNoErr(t, c.Put(1, []byte("b"), "later-b"))
	mustNoErr(t, c.Delete(3, []byte("d")))
	mustNoErr(t, loadAll(c))
	mustNoErr(t, c.Flush())
	if released {
		t.Fatal("the mapping was released while a snapshot still needs it")
	}
	want := []kv{{1, "a", "new-a"}, {1, "b", "base-b"}, {3, "d", "new-d"}}
	if got := snapshotEntries(t, s, 0, 4); !slices.Equal(got, want) {
		t.Errorf("snapshot %v, want %v", got, want)
	}
	if !released {
		t.Error("the mapping outlived its last user")
	}
	later := map[kv]string{{KG: 1, Key: "a"}: "new-a", {KG: 1, Key: "b"}: "later-b"}
	if got := scanAll(t, tb, 0, 4); !slices.Equal(got, modelEntries(later)) {
		t.Errorf("table %v, want %v", got, slices.Collect(maps.Keys(later)))
	}
}

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCacheFreeze is the synchronous phase of a snapshot of a cache holding 300,000
// dirty entries: what a keyed instance pauses for.
func BenchmarkCacheFreeze(b *testing.B) {
	_, tb := backendKinds[1].table(b)
	c := NewCache(tb, stringCodec{}, CacheOptions{MaxBytes: 1 << 40})
	for i := range 300_000 {
		if err := c.Put(uint16(i%128), fmt.Appendf(nil, "k%07d", i), "v"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s, _ := c.Snapshot()
		s.Close()
	}
}

// loadAll loads what is left of the base into the table.
func loadAll(c *Cache) error {
	for c.BaseLoading() {
		if _, err := c.LoadBase(writeBackEntries); err != nil {
			return err
		}
	}
	return nil
}

// frozenWant is a snapshot the model test writes at its end, with the entries it held at its
// freeze.
type frozenWant struct {
	s    *CacheSnapshot
	want []kv
	step int
}
