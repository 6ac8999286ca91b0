package cli

// The live databases of a state directory: one per job, removed when no process holds them.

import (
	"os"
	"path/filepath"
	"syscall"
)

// removeStaleDatabases removes the live databases of earlier jobs of this state directory
// (they ended, or died: live state is rebuilt from savepoints and checkpoints, never reused).
// A database still open — its job is closing it after a stop — is left to that job, which
// removes it itself.
func removeStaleDatabases(stateDir, keep string) {
	dirs, _ := filepath.Glob(filepath.Join(stateDir, "db*"))
	for _, d := range dirs {
		if d != keep && !databaseInUse(d) {
			os.RemoveAll(d)
		}
	}
}

// databaseInUse reports whether a Badger database directory is open in some process: Badger
// holds an exclusive flock on the directory while it is open.
func databaseInUse(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
