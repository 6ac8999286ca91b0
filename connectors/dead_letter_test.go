package connectors

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestDeadLetter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dl", "dead.jsonl")
	d, err := OpenDeadLetter(path)
	if err != nil {
		t.Fatal(err)
	}
	writes := []struct {
		record any
		file   string
		line   int64
		want   string
	}{
		{`{"room":"x"}`, "/in/a.jsonl", 3, `{"uid":"src","error":"$.room: expected int, got \"x\"","record":"{\"room\":\"x\"}","file":"/in/a.jsonl","line":3}`},
		{map[string]any{"room": int64(1)}, "", 0, `{"uid":"src","error":"$.room: expected int, got \"x\"","record":{"room":1}}`},
		{"a<b>&", "", 0, `{"uid":"src","error":"$.room: expected int, got \"x\"","record":"a<b>&"}`},
	}
	for _, w := range writes {
		if err := d.Write("src", `$.room: expected int, got "x"`, w.record, w.file, w.line); err != nil {
			t.Fatal(err)
		}
	}
	// Each write is in the file at once.
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != len(writes) {
		t.Fatalf("%d lines, want %d: %q", len(lines), len(writes), got)
	}
	for i, w := range writes {
		if lines[i] != w.want {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], w.want)
		}
	}
	if err := d.Write("op", "e", func() {}, "", 0); err == nil {
		t.Error("a record that is not JSON was written")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDeadLetterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	d, err := OpenDeadLetter(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if err := d.Write("op", "boom", strings.Repeat("x", 50), "", 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d.Close()
	got, _ := os.ReadFile(path)
	want := `{"uid":"op","error":"boom","record":"` + strings.Repeat("x", 50) + `"}` + "\n"
	if string(got) != strings.Repeat(want, 400) {
		t.Errorf("concurrent writes interleaved or lost: %d bytes, want %d", len(got), 400*len(want))
	}
}
