package statebackend

import (
	"fmt"
	"testing"
)

// tierKey is the cache key of key i in key group i%5.
func tierKey(i int) []byte { return append([]byte{0, byte(i % 5)}, fmt.Sprintf("key%05d", i)...) }

// tierSet replaces key i's record (if any) with value v.
func tierSet(t *testing.T, z *compactTier, i int, v string, flags byte) {
	t.Helper()
	if slot, _, _ := z.lookup(tierKey(i)); slot >= 0 {
		z.remove(slot)
	}
	if err := z.put(tierKey(i), []byte(v), flags); err != nil {
		t.Fatalf("put %d: %v", i, err)
	}
}

// TestCompactTier drives the second tier's arena directly: every key written is afterwards
// either in the tier with its last value or, when it was evicted dirty, in the table.
func TestCompactTier(t *testing.T) {
	cases := []struct {
		name     string
		maxBytes int64
		run      func(t *testing.T, z *compactTier) map[int]string // the live keys and values
		count    int                                               // records in the tier, -1: do not check
		table    int                                               // entries in the table, -1: do not check
	}{
		{"insert", 64 << 10, func(t *testing.T, z *compactTier) map[int]string {
			want := map[int]string{}
			for i := range 100 {
				want[i] = fmt.Sprint("v", i)
				tierSet(t, z, i, want[i], recDirty)
			}
			return want
		}, 100, 0},
		{"update leaves one record", 64 << 10, func(t *testing.T, z *compactTier) map[int]string {
			for r := range 10 {
				tierSet(t, z, 7, fmt.Sprint("v", r), recDirty)
			}
			return map[int]string{7: "v9"}
		}, 1, 0},
		{"remove shifts probe runs back", 256 << 10, func(t *testing.T, z *compactTier) map[int]string {
			want := map[int]string{}
			for i := range 1200 { // the index grows twice

				tierSet(t, z, i, "x", 0)
				want[i] = "x"
			}
			for i := 0; i < 1200; i += 3 {
				slot, _, _ := z.lookup(tierKey(i))
				z.remove(slot)
				delete(want, i)
			}
			return want
		}, 800, 0},
		{"compaction reclaims garbage without evicting", 16 << 10, func(t *testing.T, z *compactTier) map[int]string {
			want := map[int]string{}
			for r := range 200 { // far more bytes than the tier holds, over few keys
				for i := range 20 {
					want[i] = fmt.Sprintf("r%03d-%d", r, i)
					tierSet(t, z, i, want[i], recDirty)
				}
			}
			return want
		}, 20, 0},
		{"eviction writes dirty records back", 16 << 10, func(t *testing.T, z *compactTier) map[int]string {
			want := map[int]string{}
			for i := range 3000 {
				want[i] = fmt.Sprint("value-", i)
				tierSet(t, z, i, want[i], recDirty)
			}
			return want
		}, -1, -1},
		{"a full index evicts instead of growing past its share", 16 << 10, func(t *testing.T, z *compactTier) map[int]string {
			want := map[int]string{}
			for i := range 2000 {
				want[i] = "v"
				tierSet(t, z, i, "v", recDirty)
				if len(z.index) != initialIndex || z.count > initialIndex*3/4 {
					t.Fatalf("after %d keys: %d records in an index of %d slots", i+1, z.count, len(z.index))
				}
			}
			return want
		}, -1, -1},
		{"clean records are dropped", 16 << 10, func(t *testing.T, z *compactTier) map[int]string {
			for i := range 3000 {
				tierSet(t, z, i, "clean", 0)
			}
			return nil
		}, -1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, tb := backendKinds[0].table(t)
			z := newCompactTier(tb, c.maxBytes)
			want := c.run(t, z)
			if c.count >= 0 && z.count != c.count {
				t.Errorf("tier holds %d records, want %d", z.count, c.count)
			}
			n, _, err := tb.Count()
			if err != nil {
				t.Fatal(err)
			}
			if c.table >= 0 && int(n) != c.table {
				t.Errorf("table holds %d entries, want %d", n, c.table)
			}
			for i, v := range want {
				slot, _, stored := z.lookup(tierKey(i))
				if slot >= 0 {
					if string(stored) != v {
						t.Errorf("key %d: tier has %q, want %q", i, stored, v)
					}
					continue
				}
				if got, ok := tableHas(t, tb, uint16(i%5), fmt.Sprintf("key%05d", i)); !ok || got != v {
					t.Errorf("key %d: neither in the tier nor in the table (%q, %v), want %q", i, got, ok, v)
				}
			}
			if z.count > 0 && int64(len(z.order))*int64(z.segSize)+z.indexBytes() > max(c.maxBytes, int64(minSegments*z.segSize)+z.indexBytes()) {
				t.Errorf("tier uses %d segments of %d and an index of %d bytes, over its %d bytes",
					len(z.order), z.segSize, z.indexBytes(), c.maxBytes)
			}
			if got, err := z.writeBackDirty(0); err != nil || z.dirty != 0 {
				t.Errorf("writeBackDirty = %d, %v; %d records still dirty", got, err, z.dirty)
			}
		})
	}
}

// TestCompactTierScale checks that a lower scale (the job's heap over its share) shrinks the
// tier at its next write, giving the freed segments back, and a higher one lets it grow again.
func TestCompactTierScale(t *testing.T) {
	_, tb := backendKinds[0].table(t)
	const budget, keys = 8 << 20, 100_000
	z := newCompactTier(tb, budget)
	held := func() int64 { return int64(len(z.order)+len(z.free))*int64(z.segSize) + z.indexBytes() }
	for i := range keys {
		tierSet(t, z, i, "a value of some length", recDirty)
	}
	full := z.count
	z.setScale(ScaleOne / 4)
	tierSet(t, z, 0, "again", recDirty)
	if limit := int64(budget) / 4; held() > limit+int64(z.segSize) {
		t.Errorf("at a quarter scale the tier holds %d bytes; want at most %d", held(), limit)
	}
	if z.count >= full/2 {
		t.Errorf("at a quarter scale the tier keeps %d of %d records", z.count, full)
	}
	z.setScale(ScaleOne)
	for i := range keys {
		tierSet(t, z, i, "a value of some length", recDirty)
	}
	if z.count < full*9/10 {
		t.Errorf("back at full scale the tier holds %d records; it held %d before", z.count, full)
	}
}
