package jobs

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

func TestClaimStateDirInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "motion")
	a, b := NewID(), NewID()
	release, err := ClaimStateDir(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ClaimStateDir(dir, b)
	var busy *StateDirBusyError
	if !errors.As(err, &busy) || busy.JobID != a || busy.Dir != dir {
		t.Fatalf("second claim error = %v, want StateDirBusyError naming %s", err, a)
	}
	want := "state directory " + dir + " is in use by running job " + a + ": stop it first, or pass another --state-dir"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	release()
	release() // twice is harmless
	releaseB, err := ClaimStateDir(dir, b)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	releaseB()
}

func TestStateDirBusyErrorWithoutHolder(t *testing.T) {
	err := &StateDirBusyError{Dir: "/s"}
	if !strings.Contains(err.Error(), "in use by another running job") {
		t.Fatalf("error = %q", err)
	}
}

// TestClaimStateDirDiesWithProcess: a holder killed with SIGKILL never
// blocks the next claim.
func TestClaimStateDirDiesWithProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	holder := NewID()
	child := startChild(t, "claim", "", holder, dir)
	var busy *StateDirBusyError
	testkit.Eventually(t, testWait, "the child to claim the state dir", func() bool {
		release, err := ClaimStateDir(dir, NewID())
		if err == nil {
			release()
		}
		return errors.As(err, &busy) && busy.JobID == holder
	})
	killChild(t, child)
	release, err := ClaimStateDir(dir, NewID())
	if err != nil {
		t.Fatalf("claim after the holder was killed: %v", err)
	}
	release()
}
