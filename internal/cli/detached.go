package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
)

// envStartTimeout overrides how long `run -d` waits for its job to run (a Go duration).
const envStartTimeout = "PIPECTL_START_TIMEOUT"

// defaultStartTimeout is how long `run -d` waits for its job to run before it returns the id
// of a job that is still starting (restoring a large savepoint, say).
const defaultStartTimeout = 60 * time.Second

// detach starts `pipectl run ARGS` as a detached child process, with -d so that it writes
// its records and log into its job folder, and waits until it is running. restoring says
// whether the job restores state, for the message about a job still starting.
func detach(gs *GlobalState, runArgs []string, restoring bool) (string, error) {
	h, err := home(gs)
	if err != nil {
		return "", err
	}
	timeout, err := startTimeout(gs)
	if err != nil {
		return "", err
	}
	if err := secureJobsDir(gs, h); err != nil {
		return "", err
	}
	id := jobs.NewID()
	args := []string{"run", "-d"}
	for _, a := range runArgs {
		if a != "-d" && a != "--d" && a != "--detach" && a != "-detach" {
			args = append(args, a)
		}
	}
	env := append(gs.Environ(), envDetached+"="+id, "PIPECTL_HOME="+h)
	logPath := jobs.PathsOf(h, id).Log
	pid, err := jobs.Detach(args, env, logPath)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err = jobs.WaitRunning(ctx, h, id, pid)
	if err == nil && failedWithin(h, id, startGrace) {
		err = jobs.WaitRunning(ctx, h, id, pid) // its StartError now
	}
	var se *jobs.StartError
	switch {
	case err == nil:
		echoStarted(gs, id, logPath)
		return id, nil
	case errors.As(err, &se):
		return "", &exitError{code: 1, err: startFailure(se, logPath)}
	case errors.Is(err, context.DeadlineExceeded) && processExists(pid):
		// Never an orphan: the job goes on, so its id is the answer.
		what := "starting"
		if restoring {
			what = "restoring its state"
		}
		fmt.Fprintf(gs.Stderr, "Job %s is still %s after %v; `pipectl list` shows it once it runs (log: %s)\n", id, what, timeout, logPath)
		return id, nil
	}
	return "", err
}

// startTimeout is PIPECTL_START_TIMEOUT, else defaultStartTimeout.
func startTimeout(gs *GlobalState) (time.Duration, error) {
	v, ok := gs.LookupEnv(envStartTimeout)
	if !ok || v == "" {
		return defaultStartTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usagef("%s must be a positive duration such as 2m, not %q", envStartTimeout, v)
	}
	return d, nil
}

// processExists reports whether process pid is still there.
func processExists(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// startFailure is the error of a detached job that failed before running: its own last
// words, every `incompatible` line of a compatibility report it printed (a long report
// scrolls them out of the tail), and where its log is.
func startFailure(se *jobs.StartError, logPath string) error {
	msg := se.Error()
	if lines := incompatibleLines(logPath); len(lines) > 0 {
		var extra []string
		for _, l := range lines {
			if !strings.Contains(msg, l) {
				extra = append(extra, l)
			}
		}
		if len(extra) > 0 {
			msg += "\n" + strings.Join(extra, "\n")
		}
	}
	return fmt.Errorf("%s\nlog: %s", msg, logPath)
}

// maxIncompatibleLines bounds the report lines quoted from a failed job's log.
const maxIncompatibleLines = 20

// incompatibleLines returns the `incompatible` result lines of the log at path.
func incompatibleLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(out) < maxIncompatibleLines {
		if l := sc.Text(); strings.HasPrefix(l, "incompatible ") {
			out = append(out, l)
		}
	}
	return out
}

// recordFailedStart records a detached job that failed before its job record existed (its
// savepoint cannot be restored, its state directory is busy…) as FAILED, so that `list
// --all` shows it and why. Outside a detached child, or once the record exists, it does
// nothing.
func recordFailedStart(gs *GlobalState, p *pipeline.Pipeline, startErr error) {
	id, detached := gs.LookupEnv(envDetached)
	if !detached || !jobs.ValidID(id) || startErr == nil {
		return
	}
	h, err := home(gs)
	if err != nil {
		return
	}
	if _, err := os.Stat(jobs.PathsOf(h, id).Info); err == nil {
		return
	}
	jb, err := jobs.Create(h, jobs.Info{ID: id, Name: p.Name, Pipeline: p.File, Status: jobs.StatusFailed,
		Started: time.Now(), Error: startErr.Error()}, p.Raw)
	if err != nil {
		return
	}
	jb.SetStatus(jobs.StatusFailed, jobs.Extra{})
	jb.Close()
}

// startedLines is what a job says on standard error once it runs: that it started, and what it
// restored. It is one string, written at once, so that `run -d` finds both lines together in
// the job's log (echoStarted).
func startedLines(id, name string, restored *runtime.RestoreSummary) string {
	s := fmt.Sprintf("Job %s (%s) started\n", id, name)
	if restored != nil {
		r := restored.String()
		s += strings.ToUpper(r[:1]) + r[1:] + "\n"
	}
	return s
}

// echoStarted copies a detached job's started lines from its log to the caller's standard
// error, as a job in the foreground prints them (JSON lines with --log-format json). A job
// that runs has written them; it looks for them for a few seconds at most.
func echoStarted(gs *GlobalState, id, logPath string) {
	started := "Job " + id + " ("
	for deadline := time.Now().Add(echoWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, _ := os.ReadFile(logPath)
		for rest := string(data); rest != ""; {
			line, after, _ := strings.Cut(rest, "\n")
			if strings.Contains(line, started) {
				fmt.Fprintln(gs.Stderr, line)
				if next, _, _ := strings.Cut(after, "\n"); strings.Contains(next, "Restored ") {
					fmt.Fprintln(gs.Stderr, next)
				}
				return
			}
			rest = after
		}
	}
}

// echoWait is how long echoStarted looks for a running job's started lines.
const echoWait = 3 * time.Second

// startGrace is how long a job must run after it started before `run -d` or `upgrade --job`
// reports it running: one that fails within it (an input it cannot open, a function that
// throws on its first records) failed to start.
const startGrace = 500 * time.Millisecond

// failedWithin reports whether the job id of home failed within d.
func failedWithin(home, id string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; {
		if info, err := jobs.Find(home, id); errors.Is(err, jobs.ErrNotRunning) {
			return info.Status == jobs.StatusFailed
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond) // polling the job's status file
	}
}
