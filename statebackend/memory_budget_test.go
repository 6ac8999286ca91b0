package statebackend

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestMemoryBudget(t *testing.T) {
	const limit = 100 * (memEntryOverhead + 10) // about 100 entries of a 4-byte key and 6-byte value
	b, err := Open(Options{Kind: KindMemory, Memory: limit})
	if err != nil {
		t.Fatal(err)
	}
	small, big := mustTable(t, b, "enricher", "seen"), mustTable(t, b, "alarm-evaluator", "value")
	for i := range 30 {
		mustApply(t, small, put(uint16(i), fmt.Sprintf("k%03d", i), "value!"))
	}
	for i := range 60 {
		mustApply(t, big, put(uint16(i), fmt.Sprintf("k%03d", i), "value!"))
	}
	// Overwrites and deletes free what they replace: the state stays within the budget.
	for i := range 60 {
		mustApply(t, big, put(uint16(i), fmt.Sprintf("k%03d", i), "VALUE!"))
	}
	mustApply(t, small, del(0, "k000"), del(1, "k001"))
	if err := small.Clear(); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		mustApply(t, small, put(uint16(i), fmt.Sprintf("k%03d", i), "value!"))
	}

	err = big.Apply([]Mutation{put(7, "one-more", "value!")})
	if !errors.Is(err, ErrMemoryBudget) {
		t.Fatalf("Apply past the budget = %v; want ErrMemoryBudget", err)
	}
	for _, want := range []string{`operator "alarm-evaluator", state "value" holds the most entries (61,`, "memory:", "--memory", "state_backend: badger"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestMemoryBudgetBulk(t *testing.T) {
	b, err := Open(Options{Kind: KindMemory, Memory: 50 * (memEntryOverhead + 10)})
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := b.(BulkLoader).BeginBulk()
	if err != nil {
		t.Fatal(err)
	}
	w, err := bulk.Table("op", "s")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err = w.Add(uint16(i), fmt.Appendf(nil, "k%03d", i), []byte("value!")); err != nil {
			break
		}
	}
	if err == nil {
		err = bulk.Flush()
	}
	if !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), `operator "op", state "s"`) {
		t.Errorf("bulk load of twice the budget = %v; want ErrMemoryBudget naming op/s", err)
	}
}

func TestMemoryUnbounded(t *testing.T) {
	b, err := Open(Options{Kind: KindMemory})
	if err != nil {
		t.Fatal(err)
	}
	tb := mustTable(t, b, "op", "s")
	for i := range 1000 {
		mustApply(t, tb, put(uint16(i%5), fmt.Sprint(i), strings.Repeat("x", 100)))
	}
}
