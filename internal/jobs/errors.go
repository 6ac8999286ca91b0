package jobs

import (
	"errors"
	"fmt"
)

// Sentinel errors. They are wrapped with a sentence naming the job; test
// them with errors.Is.
var (
	// ErrUnknownJob means no job with that id exists under the home.
	// The CLI exits 2 on it.
	ErrUnknownJob = errors.New("unknown job")
	// ErrNotRunning means the job exists but its process is not alive
	// (or, for Call, nothing listens on its control socket).
	ErrNotRunning = errors.New("job is not running")
	// ErrJobExited means the job's process went away while a Call waited
	// for its answer.
	ErrJobExited = errors.New("the job exited before answering")
)

// jobError is an error whose message is one sentence for the user and which
// matches a sentinel with errors.Is.
type jobError struct {
	msg  string
	kind error
}

func (e *jobError) Error() string { return e.msg }
func (e *jobError) Unwrap() error { return e.kind }

// unknownJob is the error for an id that names no job.
func unknownJob(id string) error {
	return &jobError{fmt.Sprintf("no job with id %s (pipectl list shows the running jobs)", id), ErrUnknownJob}
}

// notRunning is the error for a job whose process is gone.
func notRunning(info Info) error {
	return &jobError{fmt.Sprintf("job %s (%s) is not running: it is %s", info.ID, info.Name, info.Status), ErrNotRunning}
}
