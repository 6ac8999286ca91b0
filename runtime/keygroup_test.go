package runtime

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/schema"
)

func TestKeyGroupFrozen(t *testing.T) {
	// These values are part of the savepoint format: if this test fails, restored state
	// would be routed to the wrong key groups. Do not update them.
	tests := []struct {
		key  []byte
		hash uint32
		kg   uint16
	}{
		{[]byte{}, 2166136261, 2166136261 % 128},
		{[]byte("a"), 0xe40c292c, 0xe40c292c % 128},
		{[]byte("foobar"), 0xbf9cf968, 0xbf9cf968 % 128},
	}
	for _, tt := range tests {
		if got := keyHash(tt.key); got != tt.hash {
			t.Errorf("keyHash(%q) = %#x, want %#x", tt.key, got, tt.hash)
		}
		if got := keyGroupOf(tt.key, 128); got != tt.kg {
			t.Errorf("keyGroupOf(%q) = %d, want %d", tt.key, got, tt.kg)
		}
	}
}

func TestKeyGroupRangeInvertsSubtaskOf(t *testing.T) {
	for _, maxP := range []int{1, 7, 128, 1000} {
		for p := 1; p <= maxP && p <= 16; p++ {
			next := uint16(0)
			for i := 0; i < p; i++ {
				from, to := keyGroupRange(i, p, maxP)
				if from != next {
					t.Fatalf("maxP=%d p=%d subtask %d: range starts at %d, want %d", maxP, p, i, from, next)
				}
				for kg := from; kg < to; kg++ {
					if got := subtaskOf(kg, p, maxP); got != i {
						t.Fatalf("maxP=%d p=%d: kg %d in range of %d but subtaskOf = %d", maxP, p, kg, i, got)
					}
				}
				next = to
			}
			if int(next) != maxP {
				t.Fatalf("maxP=%d p=%d: ranges end at %d", maxP, p, next)
			}
		}
	}
}

func BenchmarkKeyRouting(b *testing.B) {
	key := []byte{0x22} // an encoded small int key
	b.ReportAllocs()
	sum := 0
	for i := 0; i < b.N; i++ {
		key[0] = byte(i)
		sum += subtaskOf(keyGroupOf(key, 128), 2, 128)
	}
	_ = sum
}

// The keys an exchange appends to its arena stay intact while later keys are appended, also
// when a key is larger than what is left of an arena, and an arena costs one allocation for
// many keys.
func TestKeyArena(t *testing.T) {
	sel := &keySelector{uid: "op", typ: schema.MustParse("string"), steps: []pathStep{{field: "k", index: -1}}}
	var arena keyArena
	var elems []element
	var want []string
	for i := range 3000 {
		k := strconv.Itoa(i)
		if i%500 == 7 {
			k = strings.Repeat("x", keyArenaSize) + k // outgrows the arena
		}
		e := element{value: map[string]any{"k": k}}
		if err := sel.assign(&e, &arena); err != nil {
			t.Fatal(err)
		}
		elems, want = append(elems, e), append(want, k)
	}
	for i, e := range elems {
		kb, err := schema.MustParse("string").AppendBinary(nil, want[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.keyBytes, kb) {
			t.Fatalf("key %d is %q, want %q", i, e.keyBytes, kb)
		}
	}
	e := element{value: map[string]any{"k": "room-1"}}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := sel.assign(&e, &arena); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.01 {
		t.Errorf("%v allocations per key", allocs)
	}
}
