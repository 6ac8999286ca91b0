package jobs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// stateLockFile is the claim file inside a state directory.
const stateLockFile = ".lock"

// StateDirBusyError is ClaimStateDir's error when a live job already holds
// the state directory.
type StateDirBusyError struct {
	Dir   string // the state directory
	JobID string // the holder's job id; empty if it was not written yet
}

// Error names the running job and the ways out.
func (e *StateDirBusyError) Error() string {
	holder := "another running job"
	if e.JobID != "" {
		holder = "running job " + e.JobID
	}
	return fmt.Sprintf("state directory %s is in use by %s: stop it first, or pass another --state-dir", e.Dir, holder)
}

// ClaimStateDir claims the state directory dir (created 0700 if missing) for
// job jobID, so that one live job at a time uses it. The claim is a flock on
// dir/.lock, which records jobID; it lasts until release is called or the
// process ends, however it ends (release may be called more than once), so a job killed with kill -9 never blocks
// the next run. If a live job holds dir, the error is a *StateDirBusyError.
func ClaimStateDir(dir, jobID string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("claim state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, stateLockFile)
	f, err := tryLock(path)
	if errors.Is(err, errLocked) {
		holder, _ := os.ReadFile(path)
		return nil, &StateDirBusyError{Dir: dir, JobID: strings.TrimSpace(string(holder))}
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
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = f.Truncate(0)
			f.Close()
		})
	}, nil
}
