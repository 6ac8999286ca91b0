package jobs

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkList lists a home of 50 jobs, half of them live.
func BenchmarkList(b *testing.B) {
	home := b.TempDir()
	for i := range 50 {
		j, err := Create(home, Info{ID: NewID(), Name: "p"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if err := j.SetStatus(StatusFinished, Extra{}); err != nil {
				b.Fatal(err)
			}
			j.Close()
		} else {
			b.Cleanup(func() { j.Close() })
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := List(home, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCall is one control round trip over the unix socket.
func BenchmarkCall(b *testing.B) {
	path := filepath.Join(b.TempDir(), "c.sock")
	s, err := Serve(path, echoHandler)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Call(ctx, path, Request{Op: OpStatus}); err != nil {
			b.Fatal(err)
		}
	}
}
