package connectors

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestFileSourceFollow(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	writeFiles(t, dir, map[string]string{"a.jsonl": `{"type":"motion","room":1,"time":1}` + "\n"})
	src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, "*.jsonl"), Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	if src.Bounded() {
		t.Fatal("a follow source is bounded")
	}
	ctx := &fakeCtx{}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()

	count := func(n int) func() bool { return func() bool { return len(ctx.records()) >= n } }
	waitFor(t, "the first record", count(1))

	appendFile(t, a, `{"type":"motion","room":1,"time":2}`+"\n")
	waitFor(t, "an appended record", count(2))

	// A line without its newline is not read, however many polls go by.
	appendFile(t, a, `{"type":"motion","room":1,`)
	idles := ctx.idles.Load()
	waitFor(t, "several polls", func() bool { return ctx.idles.Load() > idles+3*int64(pollInterval/idleStep) })
	if got := len(ctx.records()); got != 2 {
		t.Fatalf("a partial line was emitted: %v", ctx.records())
	}
	if got := src.Offsets()[a]; got != 72 {
		t.Errorf("offset with a partial line: got %d, want 72", got)
	}
	appendFile(t, a, `"time":3}`+"\n")
	waitFor(t, "the completed line", count(3))

	// A new file matched by the glob is read from its start.
	writeFiles(t, dir, map[string]string{"b.jsonl": `{"type":"motion","room":2,"time":1}` + "\n"})
	waitFor(t, "a new file", count(4))

	want := []any{motion(1, 1), motion(1, 2), motion(1, 3), motion(2, 1)}
	if got := ctx.records(); !reflect.DeepEqual(got, want) {
		t.Errorf("records: got %v, want %v", got, want)
	}
	if got, want := src.Offsets(), (Offsets{a: 108, b: 36}); !reflect.DeepEqual(got, want) {
		t.Errorf("offsets: got %v, want %v", got, want)
	}

	ctx.stopped.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("Run returned %v, want ErrStopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ErrStopped")
	}
}

func TestFileSourceFollowTruncated(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jsonl")
	writeFiles(t, dir, map[string]string{"a.jsonl": `{"type":"motion","room":1,"time":1}` + "\n"})
	src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: a, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := &fakeCtx{}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	waitFor(t, "the first record", func() bool { return len(ctx.records()) == 1 })
	writeFiles(t, dir, map[string]string{"a.jsonl": "{}\n"})
	select {
	case err := <-done:
		if err == nil || err.Error() != "file "+a+" is 3 bytes, shorter than its stored offset 36: it was truncated or replaced" {
			t.Fatalf("Run returned %v, want a truncation error", err)
		}
	case <-time.After(5 * time.Second):
		ctx.stopped.Store(true)
		t.Fatal("Run did not notice the truncation")
	}
}
