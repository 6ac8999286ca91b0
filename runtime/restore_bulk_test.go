package runtime

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// TestStateSink checks that a restore loads through a bulk load when the backend offers one
// for the table, through Apply otherwise, and that both leave the same entries.
func TestStateSink(t *testing.T) {
	cases := []struct {
		name     string
		kind     string
		prefill  bool // the backend took an ordinary write first
		wantBulk bool
	}{
		{"fresh badger", statebackend.KindBadger, false, true},
		{"written badger", statebackend.KindBadger, true, false},
		{"fresh memory", statebackend.KindMemory, false, true},
		{"memory table with entries", statebackend.KindMemory, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be, err := statebackend.Open(statebackend.Options{Kind: c.kind, Dir: t.TempDir(), Fresh: true})
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			var want []string
			if c.prefill {
				tb, err := be.Table("op", "s")
				if err != nil {
					t.Fatal(err)
				}
				if err := tb.Apply([]statebackend.Mutation{{KG: 0, Key: []byte("old"), Value: []byte("o")}}); err != nil {
					t.Fatal(err)
				}
				want = append(want, "0/old=o")
			}
			j := &Job{backend: be}
			sink, err := j.openStateSink("op", "s")
			if err != nil {
				t.Fatal(err)
			}
			if _, isBulk := sink.(*bulkSink); isBulk != c.wantBulk {
				t.Fatalf("sink %T; want bulk %v", sink, c.wantBulk)
			}
			const n = restoreBatch + 10 // more than one Apply batch
			key, value := []byte("k"), []byte("v")
			for i := range n {
				kg := uint16(1 + i/1000)
				key, value = fmt.Appendf(key[:0], "k%06d", i), fmt.Appendf(value[:0], "v%d", i)
				if err := sink.add(kg, key, value); err != nil {
					t.Fatal(err)
				}
				want = append(want, fmt.Sprintf("%d/%s=%s", kg, key, value))
			}
			if err := sink.finish(); err != nil {
				t.Fatal(err)
			}
			tb, err := be.Table("op", "s")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			err = tb.Scan(0, 1<<15, func(kg uint16, key, value []byte) error {
				got = append(got, fmt.Sprintf("%d/%s=%s", kg, key, value))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("table holds %d entries; want %d (first %q, want %q)", len(got), len(want), got[:min(len(got), 2)], want[:2])
			}
		})
	}
}
