package statedir

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

const (
	jobA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	jobB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	jobC = "cccccccccccccccccccccccccccccccc"
)

func TestClaim(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "motion")
	a, err := Claim(dir, jobA)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir: %v, %v; want created 0700", fi, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, lockFile)); string(got) != jobA+"\n" {
		t.Errorf("lock file holds %q, want the holder's id", got)
	}
	_, err = Claim(dir, jobB)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.JobID != jobA || busy.Dir != dir {
		t.Fatalf("second claim error = %v, want BusyError naming %s", err, jobA)
	}
	want := "state directory " + dir + " is in use by running job " + jobA + ": stop it first, or pass another --state-dir"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	a.Release()
	a.Release() // twice is harmless
	if got, _ := os.ReadFile(filepath.Join(dir, lockFile)); len(got) != 0 {
		t.Errorf("lock file after release holds %q, want it empty", got)
	}
	b, err := Claim(dir, jobB)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	b.Release()
}

func TestBusyErrorWithoutHolder(t *testing.T) {
	err := &BusyError{Dir: "/s"}
	if !strings.Contains(err.Error(), "in use by another running job") {
		t.Fatalf("error = %q", err)
	}
}

// TestClaimAfter: the successor waits while the previous job holds the directory and gets it
// as soon as it is released; a third job's claim, or the deadline, fails the wait.
func TestClaimAfter(t *testing.T) {
	dir := t.TempDir()
	a, err := Claim(dir, jobA)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	var b *Lock
	go func() {
		var err error
		b, err = ClaimAfter(context.Background(), dir, jobB, jobA)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("ClaimAfter returned (%v) while the previous job still held the directory", err)
	default:
	}
	a.Release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("ClaimAfter after the release: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("ClaimAfter did not claim the released directory")
	}
	defer b.Release()

	// B holds it now: a claim waiting for A (not the holder) fails at once.
	_, err = ClaimAfter(context.Background(), dir, jobC, jobA)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.JobID != jobB {
		t.Errorf("ClaimAfter while a third job holds the directory: %v, want BusyError naming %s", err, jobB)
	}
	// A claim waiting for B gives up at its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = ClaimAfter(ctx, dir, jobC, jobB)
	if !errors.As(err, &busy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ClaimAfter past its deadline: %v, want BusyError and DeadlineExceeded", err)
	}
}

// TestClaimDiesWithProcess: a holder killed with SIGKILL never blocks the next claim.
func TestClaimDiesWithProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holderEnv+"="+dir+" "+jobA)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var busy *BusyError
	testkit.Eventually(t, testWait, "the child to claim the state dir", func() bool {
		l, err := Claim(dir, jobB)
		if err == nil {
			l.Release()
		}
		return errors.As(err, &busy) && busy.JobID == jobA
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := Claim(dir, jobB)
	if err != nil {
		t.Fatalf("claim after the holder was killed: %v", err)
	}
	l.Release()
}

// flockDir locks an open directory the way Badger locks its database directory.
func flockDir(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
