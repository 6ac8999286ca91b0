package savepoints

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A savepoint being written lives in a hidden directory, ".savepoint-…", which its writer
// holds an exclusive flock on from creation to Commit or Abort. The lock dies with the
// writer's process, so a hidden directory nobody holds was left by a writer killed mid-write:
// the next savepoint into the same directory removes it.

// lockDir opens dir and takes an exclusive, non-blocking flock on it. The lock lasts until
// the returned file is closed or the process ends.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// removeStaleTemps removes the hidden savepoint directories in dir that no live writer holds.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".savepoint-") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		lock, err := lockDir(p)
		if err != nil {
			continue // being written (or unreadable: not ours to judge)
		}
		os.RemoveAll(p)
		lock.Close()
	}
}
