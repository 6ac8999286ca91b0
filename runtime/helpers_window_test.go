package runtime

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// testRun is one in-memory run of a pipeline for tests.
type testRun struct {
	t       *testing.T
	job     *Job
	backend statebackend.Backend
	out     *lockedBuffer
	done    chan error
}

// lockedBuffer is a bytes.Buffer safe for a job's writer and a polling test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runOptions tune startRun.
type runOptions struct {
	clock   *manualClock
	restore string // savepoint path
	backend statebackend.Backend
}

// parseTest parses a pipeline written for a test, in dir (relative paths resolve there).
func parseTest(t testing.TB, dir, src string) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Parse(dir+"/pipeline.yaml", []byte(src), pipeline.LoadOptions{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

// startRun plans and starts a job; wait for it with wait.
func startRun(t *testing.T, p *pipeline.Pipeline, o runOptions) *testRun {
	t.Helper()
	r := &testRun{t: t, out: &lockedBuffer{}, done: make(chan error, 1), backend: o.backend}
	if r.backend == nil {
		b, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindMemory})
		if err != nil {
			t.Fatal(err)
		}
		r.backend = b
	}
	cfg := Config{Pipeline: p, JobID: "0123456789abcdef0123456789abcdef", Backend: r.backend, Stdout: r.out}
	if o.clock != nil {
		cfg.Clock, cfg.Now = o.clock, o.clock.Now
	}
	if o.restore != "" {
		cfg.Restore = openSavepoint(t, o.restore)
	}
	job, err := New(cfg)
	if err != nil {
		t.Fatalf("new job: %v", err)
	}
	r.job = job
	go func() { r.done <- job.Run(context.Background()) }()
	return r
}

// wait waits for the job to end and returns its sorted output lines.
func (r *testRun) wait() []string {
	r.t.Helper()
	if err := awaitRun(r.t, r.job, r.done); err != nil {
		r.t.Fatalf("run: %v", err)
	}
	return sortedLines(r.out.String())
}

// runLines runs a bounded pipeline to its end and returns its sorted output lines.
func runLines(t *testing.T, src string) []string {
	t.Helper()
	return startRun(t, parseTest(t, t.TempDir(), src), runOptions{}).wait()
}

// sortedLines splits output into sorted non-empty lines.
func sortedLines(s string) []string { return sorted(splitLines(s)) }

// manualClock is a Clock that moves only when the test advances it.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newManualClock(start time.Time) *manualClock { return &manualClock{now: start} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	tm := &manualTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	c.mu.Unlock()
	if d <= 0 {
		go c.Advance(0)
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// Advance moves the clock on by d and runs the callbacks that fell due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	kept := c.timers[:0]
	for _, tm := range c.timers {
		switch {
		case tm.stopped:
		case !tm.at.After(c.now):
			tm.stopped = true
			due = append(due, tm.f)
		default:
			kept = append(kept, tm)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, f := range due {
		go f() // like time.AfterFunc: in its own goroutine
	}
}

// openSavepoint opens a savepoint for a restore.
func openSavepoint(t *testing.T, path string) *savepoints.Savepoint {
	t.Helper()
	sp, err := savepoints.Open(path)
	if err != nil {
		t.Fatalf("open savepoint %s: %v", path, err)
	}
	return sp
}
