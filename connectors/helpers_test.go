package connectors

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/schema"
)

// waitTimeout bounds how long a test waits for a source to do something.
const waitTimeout = 5 * time.Second

// fakeCtx is a SourceContext that records what a source does.
type fakeCtx struct {
	src Source // when set, its Offsets are recorded at each Emit, before the record

	mu        sync.Mutex
	emitted   []any
	offsets   []Offsets
	bad       []BadRecord
	logs      []string
	badErr    error // returned by Bad
	stopAfter int   // when > 0, Emit returns ErrStopped once this many records went through
	stopped   atomic.Bool
	idles     atomic.Int64
}

func (c *fakeCtx) Emit(rec any) error {
	if c.stopped.Load() {
		return ErrStopped
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopAfter > 0 && len(c.emitted) >= c.stopAfter {
		return ErrStopped
	}
	if c.src != nil {
		c.offsets = append(c.offsets, c.src.Offsets())
	}
	c.emitted = append(c.emitted, rec)
	return nil
}

func (c *fakeCtx) Idle() error {
	c.idles.Add(1)
	if c.stopped.Load() {
		return ErrStopped
	}
	return nil
}

func (c *fakeCtx) Bad(b BadRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, b)
	return c.badErr
}

func (c *fakeCtx) Logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, fmt.Sprintf(format, args...))
}

// records returns a copy of the records emitted so far.
func (c *fakeCtx) records() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]any(nil), c.emitted...)
}

// mustType parses a type expression.
func mustType(t testing.TB, expr string) *schema.Type {
	t.Helper()
	typ, err := schema.Parse(expr)
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	return typ
}

// writeFiles writes name -> content under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		testkit.WriteFile(t, filepath.Join(dir, name), content)
	}
}

// appendFile appends content to a file.
func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

// motion is the canonical motion event of the tests.
func motion(room, time int64) map[string]any {
	return map[string]any{"type": "motion", "room": room, "time": time}
}

const motionType = "{type: string, room: int, time: int}"
