package cli

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pipectl/pipectl/savepoints"
)

// staleCheckpoints are the checkpoints that a run restoring a savepoint found in its state
// directory. They are not removed before the restore (the savepoint may be one of them: the
// usual recovery after a crash), but once the new job has a snapshot of its own: its first
// checkpoint prunes them itself, its first savepoint calls prune. Until then a crash still
// leaves them to resume from.
type staleCheckpoints struct {
	once  sync.Once
	paths []string
}

// findStaleCheckpoints lists the complete checkpoints in dir.
func findStaleCheckpoints(dir string) *staleCheckpoints {
	entries, _ := os.ReadDir(dir)
	s := &staleCheckpoints{}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			s.paths = append(s.paths, filepath.Join(dir, e.Name()))
		}
	}
	return s
}

// prune disposes of the stale checkpoints (once; a nil s does nothing).
func (s *staleCheckpoints) prune() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		for _, p := range s.paths {
			savepoints.Dispose(p)
		}
	})
}
