package jobs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// errLocked is returned by tryLock when another open file holds the lock.
var errLocked = errors.New("locked")

// tryLock opens (creating if needed) the file at path and takes an
// exclusive, non-blocking flock on it. The lock lives as long as the
// returned file stays open, and dies with the process. A second tryLock of
// the same file fails with errLocked even from the same process, because
// flock locks belong to open files, not to processes.
func tryLock(path string) (*os.File, error) {
	return tryLockMode(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// tryLockMode is tryLock opening the file with flag and perm.
func tryLockMode(path string, flag int, perm os.FileMode) (*os.File, error) {
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
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
