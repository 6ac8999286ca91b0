package connectors

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func genConfig(count int64, subtask, parallelism int) SourceConfig {
	return SourceConfig{
		UID: "gen", Kind: "generator", Count: count, Subtask: subtask, Parallelism: parallelism,
		Gen: func(i int64) (any, error) { return motion(i%3, i*1000), nil },
	}
}

// runGen runs a generator restored from restore (nil: none) and returns the times it emitted.
func runGen(t *testing.T, cfg SourceConfig, restore Offsets, stopAfter int) ([]int64, Source) {
	t.Helper()
	src, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Restore(restore); err != nil {
		t.Fatal(err)
	}
	ctx := &fakeCtx{stopAfter: stopAfter}
	if err := src.Run(ctx); err != nil && !errors.Is(err, ErrStopped) {
		t.Fatal(err)
	}
	var idx []int64
	for _, r := range ctx.records() {
		idx = append(idx, r.(map[string]any)["time"].(int64)/1000)
	}
	return idx, src
}

func TestGenerator(t *testing.T) {
	tests := []struct {
		name        string
		cfg         SourceConfig
		restore     Offsets
		stopAfter   int
		want        []int64
		wantOffsets Offsets
	}{
		{name: "count", cfg: genConfig(5, 0, 1), want: []int64{0, 1, 2, 3, 4}, wantOffsets: Offsets{"next": 5}},
		{name: "empty", cfg: genConfig(0, 0, 1), want: nil, wantOffsets: Offsets{"next": 0}},
		{name: "subtask 1 of 3", cfg: genConfig(10, 1, 3), want: []int64{1, 4, 7}, wantOffsets: Offsets{"next": 10}},
		{name: "restore", cfg: genConfig(6, 0, 1), restore: Offsets{"next": 4}, want: []int64{4, 5}, wantOffsets: Offsets{"next": 6}},
		{name: "restore onto the share", cfg: genConfig(10, 1, 3), restore: Offsets{"next": 5}, want: []int64{7}, wantOffsets: Offsets{"next": 10}},
		{name: "stopped", cfg: genConfig(-1, 0, 1), stopAfter: 3, want: []int64{0, 1, 2}, wantOffsets: Offsets{"next": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src := runGen(t, tt.cfg, tt.restore, tt.stopAfter)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("indexes: got %v, want %v", got, tt.want)
			}
			if o := src.Offsets(); !reflect.DeepEqual(o, tt.wantOffsets) {
				t.Errorf("offsets: got %v, want %v", o, tt.wantOffsets)
			}
			if src.Bounded() != (tt.cfg.Count >= 0) {
				t.Errorf("Bounded() = %v with count %d", src.Bounded(), tt.cfg.Count)
			}
		})
	}
}

func TestGeneratorDeterministicSplit(t *testing.T) {
	const n, p = 100, 3
	var all []int64
	for sub := range p {
		a, _ := runGen(t, genConfig(n, sub, p), nil, 0)
		b, _ := runGen(t, genConfig(n, sub, p), nil, 0)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("subtask %d is not deterministic: %v vs %v", sub, a, b)
		}
		all = append(all, a...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for i, v := range all {
		if v != int64(i) {
			t.Fatalf("subtasks together emitted %v, want each of 0..%d once", all, n-1)
		}
	}
}

func TestGeneratorRate(t *testing.T) {
	cfg := genConfig(21, 0, 1)
	cfg.Rate = 200 // 21 events: the last is due 100 ms after the first
	src, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &fakeCtx{}
	start := time.Now()
	if err := src.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 95*time.Millisecond || took > 2*time.Second {
		t.Errorf("21 events at 200/s took %v, want about 100ms", took)
	}
	if ctx.idles.Load() == 0 {
		t.Error("a paced generator never called Idle")
	}
}

func TestGeneratorErrors(t *testing.T) {
	boom := errors.New("boom")
	cfg := genConfig(5, 0, 1)
	cfg.Gen = func(i int64) (any, error) {
		if i == 2 {
			return nil, boom
		}
		return i, nil
	}
	src, _ := NewSource(cfg)
	err := src.Run(&fakeCtx{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "event 2") {
		t.Errorf("Run error %v, want boom at event 2", err)
	}
	for _, c := range []SourceConfig{{Kind: "generator"}, {Kind: "generator", Gen: cfg.Gen, Count: -2}, {Kind: "generator", Gen: cfg.Gen, Rate: -1}} {
		if _, err := NewSource(c); err == nil {
			t.Errorf("NewSource(%+v) succeeded", c)
		}
	}
	if err := src.Restore(Offsets{"next": -1}); err == nil {
		t.Error("restore of a negative index succeeded")
	}
}
