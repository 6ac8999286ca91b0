package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SinkBusyError is ClaimSinkFiles's error when a live job already writes a file sink path.
type SinkBusyError struct {
	Path    string // the sink file
	JobID   string // the holder's job id; empty when unknown (a job of another PIPECTL_HOME)
	JobName string // the holder's pipeline name
}

// Error names the holder and the ways out.
func (e *SinkBusyError) Error() string {
	holder := "another running job"
	if e.JobID != "" {
		holder = fmt.Sprintf("running job %s (%s)", e.JobID, e.JobName)
	}
	return fmt.Sprintf("file sink %s is written by %s: one job owns a sink file; stop that job first, or write to another path", e.Path, holder)
}

// ClaimSinkFiles claims each file sink path (created if missing, with its directory) for job
// jobID of pipeline name, so that two live jobs never write one file: an exclusive flock on
// the file itself, held until release is called or the process ends however it ends (a job
// killed with kill -9 never blocks the next run). The holder is recorded under
// home/sinks/, so that a refusal (a *SinkBusyError) names it.
func ClaimSinkFiles(home string, paths []string, jobID, name string) (func(), error) {
	var held []*os.File
	var records []string
	release := func() {
		for _, r := range records {
			os.Remove(r)
		}
		for _, f := range held {
			f.Close()
		}
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			release()
			return nil, fmt.Errorf("claim file sink %s: %w", p, err)
		}
		f, err := tryLockMode(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if errors.Is(err, errLocked) {
			release()
			id, holder := readSinkHolder(home, p)
			return nil, &SinkBusyError{Path: p, JobID: id, JobName: holder}
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("claim file sink %s: %w", p, err)
		}
		held = append(held, f)
		rec := sinkRecord(home, p)
		if err := os.MkdirAll(filepath.Dir(rec), 0o700); err == nil {
			if err := writeFileAtomic(rec, []byte(jobID+" "+name+"\n")); err == nil {
				records = append(records, rec)
			}
		}
	}
	var once sync.Once
	return func() { once.Do(release) }, nil
}

// sinkClaimPoll is how often ClaimSinkFilesAfter tries the sinks while the previous job
// releases them.
const sinkClaimPoll = time.Millisecond

// ClaimSinkFilesAfter is ClaimSinkFiles for the successor of job previous (a pit stop's new
// job): while previous holds one of the paths (or a holder is releasing it: its record is
// already gone), it tries again every millisecond until the claim succeeds or ctx ends. A
// path held by any other job fails at once with its *SinkBusyError.
func ClaimSinkFilesAfter(ctx context.Context, home string, paths []string, jobID, name, previous string) (func(), error) {
	t := time.NewTicker(sinkClaimPoll)
	defer t.Stop()
	for {
		release, err := ClaimSinkFiles(home, paths, jobID, name)
		var busy *SinkBusyError
		if !errors.As(err, &busy) || (busy.JobID != "" && busy.JobID != previous) {
			return release, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited for it to be released: %w)", busy, ctx.Err())
		case <-t.C:
		}
	}
}

// sinkRecord is where the holder of a sink path is recorded.
func sinkRecord(home, path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(home, "sinks", hex.EncodeToString(sum[:16]))
}

// readSinkHolder returns the job id and name recorded for path ("" when unknown).
func readSinkHolder(home, path string) (id, name string) {
	b, err := os.ReadFile(sinkRecord(home, path))
	if err != nil {
		return "", ""
	}
	id, name, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ValidID(id) {
		return "", ""
	}
	return id, name
}
