package statedir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pipectl/pipectl/internal/flock"
)

// lockFile is the claim file inside a state directory.
const lockFile = ".lock"

// claimPoll is how often ClaimAfter tries the lock while the previous job releases it.
const claimPoll = time.Millisecond

// BusyError is the error of a claim on a state directory that a live job holds.
type BusyError struct {
	Dir   string // the state directory
	JobID string // the holder's job id; empty if it was not written yet (or is being erased)
}

// Error names the running job and the ways out.
func (e *BusyError) Error() string {
	holder := "another running job"
	if e.JobID != "" {
		holder = "running job " + e.JobID
	}
	return fmt.Sprintf("state directory %s is in use by %s: stop it first, or pass another --state-dir", e.Dir, holder)
}

// Lock is a job's claim on a state directory.
type Lock struct {
	dir  string
	f    *os.File
	once sync.Once
}

// Dir returns the claimed state directory.
func (l *Lock) Dir() string { return l.dir }

// Release gives the claim up (once; later calls do nothing). The claim also ends with the
// process, however it ends, so a job killed with kill -9 never blocks the next run.
func (l *Lock) Release() {
	l.once.Do(func() {
		_ = l.f.Truncate(0) // the holder's id goes first: an empty id means "being released"
		l.f.Close()
	})
}

// Claim claims the state directory dir (created 0700 if missing) for job jobID, so that one
// live job at a time uses it: a flock on dir/.lock, which records jobID. If a live job holds
// dir, the error is a *BusyError.
func Claim(dir, jobID string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("claim state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, lockFile)
	f, err := flock.Try(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, flock.ErrLocked) {
		holder, _ := os.ReadFile(path)
		return nil, &BusyError{Dir: dir, JobID: strings.TrimSpace(string(holder))}
	}
	if err != nil {
		return nil, fmt.Errorf("claim state directory %s: %w", dir, err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(jobID+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("claim state directory %s: %w", dir, err)
	}
	return &Lock{dir: dir, f: f}, nil
}

// ClaimAfter claims dir for jobID as the successor of job previous: while previous holds
// dir (or a holder is releasing it: its id is already erased), it tries again every
// millisecond until the claim succeeds or ctx ends. A claim held by any other job fails at
// once with its *BusyError; ctx ending first fails with a *BusyError wrapping ctx's error.
// The two jobs never hold the directory at the same time.
func ClaimAfter(ctx context.Context, dir, jobID, previous string) (*Lock, error) {
	t := time.NewTicker(claimPoll)
	defer t.Stop()
	for {
		l, err := Claim(dir, jobID)
		var busy *BusyError
		if !errors.As(err, &busy) || (busy.JobID != "" && busy.JobID != previous) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited for it to be released: %w)", busy, ctx.Err())
		case <-t.C:
		}
	}
}
