package connectors

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestStdoutSinkFieldOrder(t *testing.T) {
	var out bytes.Buffer
	w := NewSharedWriter(&out)
	snk, err := NewSink(SinkConfig{UID: "out", Kind: "stdout", Type: mustType(t, "{time: int, room: int, type: string}"), Stdout: w})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []any{motion(1, 10), motion(2, 20)} {
		if err := snk.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout written before Flush: %q", out.String())
	}
	if o, err := snk.Committed(); err != nil || o != nil {
		t.Fatalf("Committed() = %v, %v; want nil, nil", o, err)
	}
	want := `{"time":10,"room":1,"type":"motion"}` + "\n" + `{"time":20,"room":2,"type":"motion"}` + "\n"
	if out.String() != want {
		t.Errorf("stdout:\n got %q\nwant %q", out.String(), want)
	}
	if err := snk.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSharedWriterWholeLines(t *testing.T) {
	var out bytes.Buffer
	w := NewSharedWriter(&out)
	const writers, lines = 4, 500
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			line := []byte(strings.Repeat(fmt.Sprint(i), 100))
			for range lines {
				if err := w.WriteLine(line); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		if len(l) != 100 || strings.Count(l, l[:1]) != 100 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

func TestFileSink(t *testing.T) {
	const line1 = `{"type":"motion","room":1,"time":1}` + "\n"
	const line2 = `{"type":"motion","room":2,"time":2}` + "\n"
	tests := []struct {
		name     string
		existing string
		restore  Offsets
		want     string
		wantErr  string
	}{
		{name: "empty state truncates", existing: "old\nold\n", want: line1 + line2},
		{name: "restore cuts to the length", existing: line1 + "not committed\n", restore: Offsets{"length": 36}, want: line1 + line1 + line2},
		{name: "shorter file", existing: line1, restore: Offsets{"length": 100}, wantErr: "is 36 bytes, shorter than its committed length 100: it was changed by someone else"},
		{name: "an empty file (a new path) starts empty", existing: "", restore: Offsets{"length": 100}, want: line1 + line2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "out.jsonl")
			writeFiles(t, filepath.Dir(path), map[string]string{"out.jsonl": tt.existing})
			snk, err := NewSink(SinkConfig{UID: "out", Kind: "file", Type: mustType(t, motionType), Path: path, Format: "jsonl"})
			if err != nil {
				t.Fatal(err)
			}
			defer snk.Close()
			err = snk.Restore(tt.restore)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Restore error %v, want %q naming the file", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []any{motion(1, 1), motion(2, 2)} {
				if err := snk.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			o, err := snk.Committed()
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file:\n got %q\nwant %q", got, tt.want)
			}
			if o["length"] != int64(len(tt.want)) || len(o) != 1 {
				t.Errorf("Committed() = %v, want length %d", o, len(tt.want))
			}
		})
	}
}

func TestFileSinkRestoreDropsBuffered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	snk, err := NewSink(SinkConfig{UID: "out", Kind: "file", Type: mustType(t, motionType), Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := snk.Write(motion(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := snk.Restore(nil); err != nil {
		t.Fatal(err)
	}
	if err := snk.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); len(got) != 0 {
		t.Errorf("file holds %q after Restore(nil) and Close", got)
	}
}

func TestSinkConfigErrors(t *testing.T) {
	typ := mustType(t, motionType)
	tests := []struct {
		name string
		cfg  SinkConfig
		want string
	}{
		{"kind", SinkConfig{Kind: "mqtt", Type: typ}, `unknown kind "mqtt"`},
		{"format", SinkConfig{Kind: "file", Format: "csv", Type: typ}, `unknown format "csv"`},
		{"relative", SinkConfig{Kind: "file", Path: "out.jsonl", Type: typ}, "not absolute"},
		{"no writer", SinkConfig{Kind: "stdout", Type: typ}, "no stdout writer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.UID = "snk"
			_, err := NewSink(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `sink "snk": `) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
