package jobs

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
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
