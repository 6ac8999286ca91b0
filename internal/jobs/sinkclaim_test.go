package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestClaimSinkFiles(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	out := filepath.Join(dir, "sub", "out.jsonl")
	a, b := NewID(), NewID()
	release, err := ClaimSinkFiles(home, []string{out}, a, "first")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC() // the claim holds its files open: nothing a collection may close
	_, err = ClaimSinkFiles(home, []string{filepath.Join(dir, "other.jsonl"), out}, b, "second")
	var busy *SinkBusyError
	if !errors.As(err, &busy) || busy.JobID != a || busy.JobName != "first" || busy.Path != out {
		t.Fatalf("second claim error = %v, want SinkBusyError naming %s (first)", err, a)
	}
	release()
	release() // twice is harmless
	releaseB, err := ClaimSinkFiles(home, []string{out}, b, "second")
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	releaseB()
}

// TestClaimSinkFilesAfter: a pit stop's new job waits while the old job writes the sink and
// claims it once released; a third job's claim, or the deadline, ends the wait.
func TestClaimSinkFilesAfter(t *testing.T) {
	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	old, next, third := NewID(), NewID(), NewID()
	releaseOld, err := ClaimSinkFiles(home, []string{out}, old, "v1")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	var releaseNext func()
	go func() {
		var err error
		releaseNext, err = ClaimSinkFilesAfter(context.Background(), home, []string{out}, next, "v2", old)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("ClaimSinkFilesAfter returned (%v) while the old job held the sink", err)
	default:
	}
	releaseOld()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("ClaimSinkFilesAfter after the release: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("ClaimSinkFilesAfter did not claim the released sink")
	}
	defer releaseNext()

	_, err = ClaimSinkFilesAfter(context.Background(), home, []string{out}, third, "v3", old)
	var busy *SinkBusyError
	if !errors.As(err, &busy) || busy.JobID != next {
		t.Errorf("waiting for a job that no longer holds the sink: %v, want SinkBusyError naming %s", err, next)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = ClaimSinkFilesAfter(ctx, home, []string{out}, third, "v3", next)
	if !errors.As(err, &busy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ClaimSinkFilesAfter past its deadline: %v, want SinkBusyError and DeadlineExceeded", err)
	}
}
