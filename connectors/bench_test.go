package connectors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// countCtx is a SourceContext that only counts records.
type countCtx struct{ n int }

func (c *countCtx) Emit(any) error               { c.n++; return nil }
func (c *countCtx) Idle() error                  { return nil }
func (c *countCtx) Bad(b BadRecord) error        { return b.Err }
func (c *countCtx) Logf(format string, _ ...any) {}

const motionLine = `{"type":"motion","room":17,"time":1700000000000}` + "\n"

// BenchmarkFileSourceJSONL reads a file of motion events; b.N is the number of records.
func BenchmarkFileSourceJSONL(b *testing.B) {
	path := filepath.Join(b.TempDir(), "motion.jsonl")
	if err := os.WriteFile(path, bytes.Repeat([]byte(motionLine), b.N), 0o644); err != nil {
		b.Fatal(err)
	}
	src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(b, motionType), Path: path})
	if err != nil {
		b.Fatal(err)
	}
	ctx := &countCtx{}
	b.SetBytes(int64(len(motionLine)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := src.Run(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(ctx.n)/time.Since(start).Seconds(), "records/s")
	if ctx.n != b.N {
		b.Fatalf("read %d records, want %d", ctx.n, b.N)
	}
}

// BenchmarkFileSinkWrite writes motion events to a file sink, flushing once at the end.
func BenchmarkFileSinkWrite(b *testing.B) {
	snk, err := NewSink(SinkConfig{Kind: "file", Type: mustType(b, motionType), Path: filepath.Join(b.TempDir(), "out.jsonl")})
	if err != nil {
		b.Fatal(err)
	}
	defer snk.Close()
	rec := map[string]any{"type": "motion", "room": int64(17), "time": int64(1700000000000)}
	b.SetBytes(int64(len(motionLine)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := snk.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := snk.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
