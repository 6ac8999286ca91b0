package jobs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"
)

// Status is the life-cycle state of a job as recorded in job.json.
type Status string

// The statuses a job can have. RUNNING is the only non-final one.
const (
	StatusRunning  Status = "RUNNING"
	StatusFinished Status = "FINISHED" // bounded input done
	StatusCanceled Status = "CANCELED" // pipectl cancel
	StatusStopped  Status = "STOPPED"  // stop-with-savepoint; Info.Savepoint holds it
	StatusFailed   Status = "FAILED"   // the job failed or its process died
)

// Final reports whether s is a final status (anything but RUNNING).
func (s Status) Final() bool { return s != StatusRunning }

// Info is the content of a job's job.json.
type Info struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`     // the pipeline's name
	Pipeline string    `json:"pipeline"` // absolute path of the pipeline file the user ran
	PID      int       `json:"pid"`
	Status   Status    `json:"status"`
	Started  time.Time `json:"started"`             // RFC 3339
	Finished time.Time `json:"finished,omitzero"`   // set with a final status
	StateDir string    `json:"state_dir,omitempty"` // the job's state directory
	// Savepoint is the path of the last stop-with-savepoint (status STOPPED).
	Savepoint string `json:"savepoint,omitempty"`
	// Error is why the job failed (status FAILED).
	Error string `json:"error,omitempty"`
	// Checkpoints and Savepoints are the job's latest snapshots, oldest first (history.go).
	Checkpoints []Snapshot `json:"checkpoints,omitempty"`
	Savepoints  []Snapshot `json:"savepoints,omitempty"`
}

// readInfo reads a job.json.
func readInfo(path string) (Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Info{}, err
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return Info{}, fmt.Errorf("read %s: %w", path, err)
	}
	return info, nil
}

// MaxErrorBytes bounds the error message kept in job.json: a job that failed on a huge
// record or a long chain of causes must not leave a huge file that every list reads.
const MaxErrorBytes = 4 << 10

// boundError cuts msg to MaxErrorBytes (at a UTF-8 boundary), saying how much was cut.
func boundError(msg string) string {
	if len(msg) <= MaxErrorBytes {
		return msg
	}
	cut := MaxErrorBytes - 64
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes; the job's log has them all)", msg[:cut], len(msg)-cut)
}

// writeInfo replaces a job.json atomically; the error message is bounded.
func writeInfo(path string, info Info) error {
	info.Error = boundError(info.Error)
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode job info: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes data to path so that readers see either the old
// content or the new one, never a part: a synced temporary file in the same
// directory renamed over path, then the directory synced.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
