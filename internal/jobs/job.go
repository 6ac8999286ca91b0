package jobs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Job is the running job's own handle on its directory. It holds the job's
// lock from Create to Close (or to the death of the process): that lock is
// what makes the job listed.
type Job struct {
	paths Paths
	lock  *os.File

	mu   sync.Mutex // serialises rewrites of job.json
	info Info
}

// Create registers a new job under home and returns it alive: it makes
// jobs/<id>/ (mode 0700; the directory may already exist, e.g. holding the
// job.log of a detached job), takes the job's lock, writes pipelineCopy to
// pipeline.yaml and info to job.json. info.ID must be a valid id
// (NewID); an empty Status becomes RUNNING, a zero Started becomes now and a
// zero PID becomes this process's. The lock is held until Close or the end
// of the process, so Create is meant to be called by the job's own process.
func Create(home string, info Info, pipelineCopy []byte) (*Job, error) {
	if !ValidID(info.ID) {
		return nil, fmt.Errorf("create job: invalid job id %q", info.ID)
	}
	if info.Status == "" {
		info.Status = StatusRunning
	}
	if info.Started.IsZero() {
		info.Started = time.Now()
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	p := PathsOf(home, info.ID)
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create job %s: %w", info.ID, err)
	}
	if err := os.Chmod(p.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create job %s: %w", info.ID, err)
	}
	lock, err := tryLock(p.Lock)
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("create job %s: another process holds it", info.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("create job %s: %w", info.ID, err)
	}
	// job.json appears last: whoever sees it knows the lock was taken.
	if _, err := os.Stat(p.Info); !errors.Is(err, fs.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("create job %s: the job already exists", info.ID)
	}
	if err := writeFileAtomic(p.Pipeline, pipelineCopy); err != nil {
		lock.Close()
		return nil, fmt.Errorf("create job %s: %w", info.ID, err)
	}
	if err := writeInfo(p.Info, info); err != nil {
		lock.Close()
		return nil, fmt.Errorf("create job %s: %w", info.ID, err)
	}
	return &Job{paths: p, lock: lock, info: info}, nil
}

// Paths returns the paths of the job's files.
func (j *Job) Paths() Paths { return j.paths }

// ID returns the job id.
func (j *Job) ID() string { return j.info.ID }

// Dir returns the job directory, jobs/<id>/.
func (j *Job) Dir() string { return j.paths.Dir }

// SocketPath returns the path of the job's control socket, for Serve.
func (j *Job) SocketPath() string { return j.paths.Socket }

// LogPath returns the path of the job's log file, job.log.
func (j *Job) LogPath() string { return j.paths.Log }

// StdoutPath returns where a detached job writes its stdout-sink records.
func (j *Job) StdoutPath() string { return j.paths.Stdout }

// PipelinePath returns the path of the job's pipeline copy.
func (j *Job) PipelinePath() string { return j.paths.Pipeline }

// Info returns the job's current info.
func (j *Job) Info() Info {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.info
}

// Extra is what SetStatus records besides the status. Empty fields keep
// their current value.
type Extra struct {
	Savepoint string // path of a stop-with-savepoint
	Error     string // why the job failed
}

// SetStatus records status (and extra) in job.json atomically. A final
// status also records the finishing time. Call it with the final status
// before Close: the lock must be released only after the final status is
// written, or the job will be taken for dead and marked FAILED.
func (j *Job) SetStatus(status Status, extra Extra) error {
	return j.Update(func(info *Info) {
		info.Status = status
		if status.Final() {
			info.Finished = time.Now()
		}
		if extra.Savepoint != "" {
			info.Savepoint = extra.Savepoint
		}
		if extra.Error != "" {
			info.Error = extra.Error
		}
	})
}

// Update applies fn to the job's info and rewrites job.json atomically. On
// error the in-memory info is left unchanged.
func (j *Job) Update(fn func(*Info)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	next := j.info
	fn(&next)
	if err := writeInfo(j.paths.Info, next); err != nil {
		return fmt.Errorf("update job %s: %w", j.info.ID, err)
	}
	j.info = next
	return nil
}

// Close releases the job's lock: from then on the job is no longer alive.
// It is safe to call more than once.
func (j *Job) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lock == nil {
		return nil
	}
	err := j.lock.Close()
	j.lock = nil
	if err != nil {
		return fmt.Errorf("close job %s: %w", j.info.ID, err)
	}
	return nil
}
