package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// diedMessage is the Error recorded for a job found dead while RUNNING.
const diedMessage = "the job's process exited without recording a final status"

// pollInterval is how often the waiting functions look at a job again.
const pollInterval = 10 * time.Millisecond

// probe reads job p and tells whether it is running: its status is RUNNING
// and its process alive. A job whose process is gone while its job.json
// still says RUNNING died: probe records it as FAILED. A final status is
// final, so probe does not look at the lock then. The error wraps
// fs.ErrNotExist when p holds no job.json.
func probe(p Paths) (info Info, running bool, err error) {
	if info, err = readInfo(p.Info); err != nil || info.Status.Final() {
		return info, false, err
	}
	lock, err := tryLock(p.Lock)
	if errors.Is(err, errLocked) {
		return info, true, nil
	}
	if err != nil {
		return Info{}, false, err
	}
	defer lock.Close()
	// Holding the lock, we know the job's process is gone and that it wrote
	// its last status before it let go: read that one.
	if info, err = readInfo(p.Info); err != nil {
		return Info{}, false, err
	}
	if info.Status == StatusRunning {
		info.Status = StatusFailed
		info.Error = diedMessage
		info.Finished = lastSignOfLife(p, info.Started)
		if err := writeInfo(p.Info, info); err != nil {
			return Info{}, false, err
		}
	}
	return info, false, nil
}

// lastSignOfLife is when a job that died without recording its end was last seen alive: the
// newest change of its job.json, log or stdout file (not before it started), so that its
// run time does not keep growing after its death.
func lastSignOfLife(p Paths, started time.Time) time.Time {
	last := started
	for _, path := range []string{p.Info, p.Log, p.Stdout} {
		if fi, err := os.Stat(path); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}

// List returns the jobs under home sorted by start time: those that are
// running (process alive, status RUNNING), or with all every job, including
// finished ones. Jobs found dead while RUNNING are recorded as FAILED on the
// way. A job directory that cannot be read is skipped.
func List(home string, all bool) ([]Info, error) {
	dir := filepath.Join(home, "jobs")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	infos := []Info{}
	for _, e := range entries {
		if !e.IsDir() || !ValidID(e.Name()) {
			continue
		}
		info, running, err := probe(PathsOf(home, e.Name()))
		if err != nil {
			continue
		}
		if all || running {
			infos = append(infos, info)
		}
	}
	slices.SortFunc(infos, func(a, b Info) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return infos, nil
}

// Find returns the job id under home. The error matches ErrUnknownJob when
// no such job exists (or id is not a job id), and ErrNotRunning, together
// with the job's Info, when its process is gone or it already has a final
// status. Both errors read as one sentence for the user.
func Find(home, id string) (Info, error) {
	if !ValidID(id) {
		return Info{}, unknownJob(id)
	}
	info, running, err := probe(PathsOf(home, id))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, unknownJob(id)
	}
	if err != nil {
		return Info{}, fmt.Errorf("find job %s: %w", id, err)
	}
	if !running {
		return info, notRunning(info)
	}
	return info, nil
}

// WaitExited waits until the process of job id has exited (its lock is
// free), whatever its status says, and returns the job's final Info. It
// polls; ctx bounds the wait.
func WaitExited(ctx context.Context, home, id string) (Info, error) {
	if !ValidID(id) {
		return Info{}, unknownJob(id)
	}
	p := PathsOf(home, id)
	if _, err := os.Stat(p.Info); errors.Is(err, fs.ErrNotExist) {
		return Info{}, unknownJob(id)
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		lock, err := tryLock(p.Lock)
		if err == nil {
			lock.Close()
			info, _, err := probe(p)
			if err != nil {
				return Info{}, fmt.Errorf("wait for job %s: %w", id, err)
			}
			return info, nil
		}
		if !errors.Is(err, errLocked) {
			return Info{}, fmt.Errorf("wait for job %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return Info{}, fmt.Errorf("job %s is still running: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}
