package runtime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/internal/manualclock"
	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// restartPipeline sums a generator's numbers per key into a file sink; RESTART is the
// restart policy.
const restartPipeline = `name: restart
parallelism: 1
restart: ${RESTART}
sources:
  - uid: numbers
    kind: generator
    count: 40
    fn: "i => ({k: i % 3, n: i})"
    schema: {k: int, n: int}
operators:
  - uid: sums
    kind: reduce
    input: numbers
    key_by: k
    fn: "(a, b) => ({k: a.k, n: a.n + b.n})"
sinks:
  - uid: out
    kind: file
    path: out.jsonl
    input: sums
`

// restartJob plans restartPipeline with the given policy on a manual clock, its log in logs.
func restartJob(t *testing.T, h *harness, policy string, clock *manualclock.Clock, logs io.Writer) *harnessJob {
	t.Helper()
	p, err := h.parse(restartPipeline, map[string]string{"RESTART": policy})
	if err != nil {
		t.Fatal(err)
	}
	hj := &harnessJob{h: h, backend: h.openBackend(), stdout: &testkit.Buffer{}, done: make(chan error, 1)}
	hj.job, err = New(Config{Pipeline: p, JobID: "00112233445566778899aabbccddeeff",
		Backend: hj.backend, Stdout: hj.stdout, Clock: clock,
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return hj
}

// awaitRestartWait waits until the job waits for its restart-th restart, delay from now.
func awaitRestartWait(t *testing.T, hj *harnessJob, clock *manualclock.Clock, restart int64, delay time.Duration) {
	t.Helper()
	testkit.Eventually(t, jobDeadline, "the restart's wait", func() bool {
		d := clock.Pending()
		return hj.job.Status().Restarts == restart && len(d) == 1 && d[0] == delay
	})
}

// TestRestartAfterRetryableFailures makes the file sink fail twice; the job restarts with
// doubling delays on the job's clock and its output equals an uninterrupted run's, with
// either backend (the restart clears the backend's tables and restores into them).
func TestRestartAfterRetryableFailures(t *testing.T) {
	for _, backend := range []string{statebackend.KindMemory, statebackend.KindBadger} {
		t.Run(backend, func(t *testing.T) { restartAfterFailures(t, backend) })
	}
}

func restartAfterFailures(t *testing.T, backend string) {
	t.Setenv(connectors.EnvFaultSinkWrite, "")
	base := newHarness(t, backend)
	base.mustRun(strings.Replace(restartPipeline, "${RESTART}", "{attempts: 0, delay: 0}", 1), jobSpec{})
	want := base.fileLines("out.jsonl")
	if len(want) != 40 {
		t.Fatalf("the uninterrupted run wrote %d records, want 40", len(want))
	}

	t.Setenv(connectors.EnvFaultSinkWrite, "out:2:7")
	h := newHarness(t, backend)
	clock := manualclock.New(time.UnixMilli(1_700_000_000_000))
	var logs testkit.Buffer
	hj := restartJob(t, h, "{attempts: 3, delay: 2s}", clock, &logs).start()
	awaitRestartWait(t, hj, clock, 1, 2*time.Second)
	clock.Advance(1999 * time.Millisecond)
	if got := hj.job.Status().Restarts; got != 1 || len(clock.Pending()) != 1 {
		t.Fatalf("before its delay: %d restarts, pending %v", got, clock.Pending())
	}
	clock.Advance(time.Millisecond)
	awaitRestartWait(t, hj, clock, 2, 4*time.Second) // the delay doubles
	clock.Advance(4 * time.Second)
	if err := hj.wait(); err != nil {
		t.Fatalf("the job failed: %v\n%s", err, logs.String())
	}
	diffLines(t, h.fileLines("out.jsonl"), want)
	if got := hj.job.Status().Restarts; got != 2 {
		t.Errorf("restarts = %d, want 2", got)
	}
	for _, part := range []string{"restart 1 of 3 in 2s from empty state", "restart 2 of 3 in 4s", "injected I/O fault"} {
		if !strings.Contains(logs.String(), part) {
			t.Errorf("the log lacks %q:\n%s", part, logs.String())
		}
	}
}

// TestRestartGivesUp fails more often than the policy allows: the job ends with the error.
func TestRestartGivesUp(t *testing.T) {
	t.Setenv(connectors.EnvFaultSinkWrite, "out:5:3")
	h := newHarness(t, "memory")
	clock := manualclock.New(time.UnixMilli(1_700_000_000_000))
	hj := restartJob(t, h, "{attempts: 2, delay: 1s}", clock, io.Discard).start()
	awaitRestartWait(t, hj, clock, 1, time.Second)
	clock.Advance(time.Second)
	awaitRestartWait(t, hj, clock, 2, 2*time.Second)
	clock.Advance(2 * time.Second)
	err := hj.wait()
	wantErrContaining(t, err, "injected I/O fault")
	if got := hj.job.Status().Restarts; got != 2 {
		t.Errorf("restarts = %d, want 2", got)
	}
}

// TestRestartCanceledWhileWaiting cancels a job waiting for its restart.
func TestRestartCanceledWhileWaiting(t *testing.T) {
	t.Setenv(connectors.EnvFaultSinkWrite, "out:1:3")
	h := newHarness(t, "memory")
	clock := manualclock.New(time.UnixMilli(1_700_000_000_000))
	hj := restartJob(t, h, "{attempts: 2, delay: 1m}", clock, io.Discard).start()
	awaitRestartWait(t, hj, clock, 1, time.Minute)
	if _, err := hj.job.Savepoint(t.TempDir(), "manual"); !errors.Is(err, ErrRestarting) {
		t.Errorf("a savepoint while restarting: %v, want ErrRestarting", err)
	}
	hj.job.Cancel()
	if err := hj.wait(); !errors.Is(err, ErrCanceled) {
		t.Errorf("Run = %v, want ErrCanceled", err)
	}
}

// TestNoRestartForFinalFailures: a function error fails at once, whatever the policy.
func TestNoRestartForFinalFailures(t *testing.T) {
	h := newHarness(t, "memory")
	src := strings.Replace(restartPipeline, `"(a, b) => ({k: a.k, n: a.n + b.n})"`, `"(a, b) => { throw new Error('boom') }"`, 1)
	p, err := h.parse(src, map[string]string{"RESTART": "{attempts: 3, delay: 0s}"})
	if err != nil {
		t.Fatal(err)
	}
	job, err := New(Config{Pipeline: p, JobID: "00112233445566778899aabbccddeeff", Backend: h.openBackend()})
	if err != nil {
		t.Fatal(err)
	}
	wantErrContaining(t, job.Run(context.Background()), "boom")
	if got := job.Status().Restarts; got != 0 {
		t.Errorf("restarts = %d, want 0", got)
	}
}

func TestRestartBackoff(t *testing.T) {
	tests := []struct {
		delay time.Duration
		n     int
		want  time.Duration
	}{
		{2 * time.Second, 1, 2 * time.Second},
		{2 * time.Second, 2, 4 * time.Second},
		{2 * time.Second, 5, 32 * time.Second},
		{2 * time.Second, 6, time.Minute},
		{2 * time.Second, 60, time.Minute},
		{0, 3, 0},
		{90 * time.Second, 3, 90 * time.Second},
	}
	for _, tc := range tests {
		if got := restartBackoff(tc.delay, tc.n); got != tc.want {
			t.Errorf("restartBackoff(%v, %d) = %v, want %v", tc.delay, tc.n, got, tc.want)
		}
	}
}

// TestRestartCountResets: ten minutes without a failure start the count of restarts in a
// row again.
func TestRestartCountResets(t *testing.T) {
	clock := manualclock.New(time.UnixMilli(1_700_000_000_000))
	j := &Job{p: &pipeline.Pipeline{Restart: pipeline.Restart{Attempts: 1, Delay: time.Second}},
		now: clock.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	fault := connectors.Retryable(errors.New("disk full"))
	steps := []struct {
		ranFor time.Duration
		want   bool
	}{
		{time.Second, true},      // the first restart
		{9 * time.Minute, false}, // the second in a row: none left
		{10 * time.Minute, true}, // ten minutes without failure: the count starts again
	}
	for i, s := range steps {
		j.rs.attemptStart = clock.Now()
		clock.Advance(s.ranFor)
		if _, ok := j.restartDelay(fault); ok != s.want {
			t.Errorf("step %d: restart %v, want %v", i, ok, s.want)
		}
	}
	if _, ok := j.restartDelay(errors.New("bad record")); ok {
		t.Error("a final error restarts")
	}
}
