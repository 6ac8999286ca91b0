// Package flock takes exclusive, non-blocking flock(2) locks on files: the liveness signal
// of jobs, state directories and file sinks. A lock lives as long as the file it was taken on
// stays open and dies with the process, however the process ends.
package flock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by Try when another open file holds the lock.
var ErrLocked = errors.New("locked")

// Try opens (creating it if flag says so) the file at path with flag and perm and takes an
// exclusive, non-blocking flock on it, held until the returned file is closed. A second Try
// of the same file fails with ErrLocked even from the same process, because flock locks
// belong to open files, not to processes.
func Try(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
