package statebackend

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestCacheLiveCount: with CacheOptions.Live the cache counts the keys present as writes,
// deletes and expiries change them, whether the key is cached, in the second tier or only in
// the table (a write to a key it does not hold reads it first).
func TestCacheLiveCount(t *testing.T) {
	for _, k := range backendKinds {
		t.Run(k.name, func(t *testing.T) {
			_, tbl := k.table(t)
			mustApply(t, tbl, put(1, "stored", "s")) // a key the table holds: counted at the start
			var live atomic.Int64
			live.Store(1)
			clock := &fakeClock{ms: 1000}
			c := NewCache(tbl, stringCodec{}, CacheOptions{Live: &live, TTL: time.Minute, Now: clock.now, SecondTier: true})
			steps := []struct {
				name string
				do   func() error
				want int64
			}{
				{"a new key", func() error { return c.Put(1, []byte("a"), "1") }, 2},
				{"the same key again", func() error { return c.Put(1, []byte("a"), "2") }, 2},
				{"a key only the table holds", func() error { return c.Put(1, []byte("stored"), "t") }, 2},
				{"a delete", func() error { return c.Delete(1, []byte("a")) }, 1},
				{"a delete of a key never written", func() error { return c.Delete(1, []byte("nope")) }, 1},
				{"a key written back and written again", func() error {
					if err := c.Put(2, []byte("b"), "b"); err != nil {
						return err
					}
					if err := c.Flush(); err != nil {
						return err
					}
					return c.Put(2, []byte("b"), "b2")
				}, 2},
				{"expiry", func() error {
					clock.ms += time.Minute.Milliseconds() + 1
					_, _, err := c.Get(2, []byte("b"))
					return err
				}, 1},
			}
			for _, s := range steps {
				if err := s.do(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got := live.Load(); got != s.want {
					t.Fatalf("after %s: %d keys, want %d", s.name, got, s.want)
				}
			}
		})
	}
}
