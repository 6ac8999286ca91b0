package jobs

import (
	"os"

	"github.com/pipectl/pipectl/internal/flock"
)

// errLocked is returned by tryLock when another open file holds the lock.
var errLocked = flock.ErrLocked

// tryLock opens (creating if needed) the file at path and takes an exclusive, non-blocking
// flock on it (see flock.Try).
func tryLock(path string) (*os.File, error) {
	return tryLockMode(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// tryLockMode is tryLock opening the file with flag and perm.
func tryLockMode(path string, flag int, perm os.FileMode) (*os.File, error) {
	return flock.Try(path, flag, perm)
}
