package statedir

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/pipectl/pipectl/runtime"
	"github.com/pipectl/pipectl/savepoints"
)

// CheckpointDir is where the job of stateDir keeps its checkpoints.
func CheckpointDir(stateDir string) string { return filepath.Join(stateDir, "checkpoints") }

// DatabaseDir is the live database of job jobID in stateDir: each job has its own, so the
// next job never waits for the previous one to close and remove its database.
func DatabaseDir(stateDir, jobID string) string { return filepath.Join(stateDir, "db-"+jobID) }

// Origin is where a run's state comes from.
type Origin int

// The origins of a run's state.
const (
	Empty          Origin = iota // empty state
	FromSavepoint                // the savepoint the run was given
	FromCheckpoint               // the state directory's latest checkpoint: the run resumes
)

// Start is where a run starts: the snapshot it restores, and the checkpoints of earlier runs
// that it prunes once it has a snapshot of its own.
type Start struct {
	Snapshot *savepoints.Savepoint // nil: empty state
	Origin   Origin

	once  sync.Once
	stale []string
}

// Resolve decides where a run on stateDir starts; call it holding the directory's Lock.
//   - fresh: the checkpoints are removed, and the run starts from sp, or empty without one;
//   - sp given: the run restores sp. The checkpoints found are not removed before the restore
//     (sp may be one of them: the usual recovery after a crash) but by PruneStale, once the
//     new job has a snapshot of its own; until then a crash still leaves them to resume from;
//   - otherwise the run resumes from the latest complete checkpoint, or starts empty.
func Resolve(stateDir string, fresh bool, sp *savepoints.Savepoint) (*Start, error) {
	cpDir := CheckpointDir(stateDir)
	switch {
	case fresh:
		if err := runtime.RemoveCheckpoints(cpDir); err != nil {
			return nil, err
		}
	case sp != nil:
		return &Start{Snapshot: sp, Origin: FromSavepoint, stale: completeCheckpoints(cpDir)}, nil
	default:
		cp, err := runtime.LatestCheckpoint(cpDir)
		if err != nil {
			return nil, err
		}
		if cp != nil {
			return &Start{Snapshot: cp, Origin: FromCheckpoint}, nil
		}
	}
	if sp != nil {
		return &Start{Snapshot: sp, Origin: FromSavepoint}, nil
	}
	return &Start{Origin: Empty}, nil
}

// PruneStale disposes of the checkpoints of earlier runs that Resolve left for a run
// restoring a savepoint (once; later calls, and calls on a nil Start, do nothing). The job
// calls it after its first savepoint; its first checkpoint prunes them itself.
func (s *Start) PruneStale() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		for _, p := range s.stale {
			savepoints.Dispose(p)
		}
	})
}

// completeCheckpoints lists the complete checkpoints in dir (hidden names are being written).
func completeCheckpoints(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var paths []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	return paths
}

// RemoveStaleDatabases removes the live databases of earlier jobs of stateDir but keep (they
// ended, or died: live state is rebuilt from savepoints and checkpoints, never reused). A
// database still open — its job is closing it after a stop — is left to that job, which
// removes it itself.
func RemoveStaleDatabases(stateDir, keep string) {
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
