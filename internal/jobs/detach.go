package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Detach starts this executable again with args (os.Args[1:] style) as a
// detached job: in a new session (no controlling terminal, out of the
// caller's process group, so the terminal's signals do not reach it), with
// stdin from /dev/null and stdout and stderr appended to logPath (created
// 0600, its directory 0700). The child inherits no other file of the caller
// than extra, so it holds none of the caller's terminal or pipes. env is the child's
// environment (nil: the caller's); its working directory is the caller's.
//
// The caller picks the job id (NewID) and passes it to the child, which
// Creates the job; logPath is normally PathsOf(home, id).Log. Wait for the
// child with WaitRunning. extra are open files the child inherits as its file descriptors 3,
// 4, … (a pit stop's control pipes); the caller closes its copies once Detach returns.
func Detach(args, env []string, logPath string, extra ...*os.File) (pid int, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	defer logFile.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	defer null.Close()

	cmd := exec.Command(exe, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, logFile, logFile
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("detach: %w", err)
	}
	pid = cmd.Process.Pid
	// WaitRunning reaps the child by pid.
	if err := cmd.Process.Release(); err != nil {
		return pid, fmt.Errorf("detach: %w", err)
	}
	return pid, nil
}

// StartError is WaitRunning's error when the detached process exited before
// its job was running.
type StartError struct {
	JobID    string
	ExitCode int    // the child's exit code; -1 if unknown (killed, or not our child)
	Log      string // the last lines of the job's log: normally the child's own error
}

// Error is the child's own last words, or its exit status.
func (e *StartError) Error() string {
	if e.Log != "" {
		return fmt.Sprintf("job %s exited before it was running: %s", e.JobID, e.Log)
	}
	return fmt.Sprintf("job %s exited before it was running (exit status %d)", e.JobID, e.ExitCode)
}

// WaitRunning waits until the job id started by Detach (child pid) is
// running and listed, and returns nil; also when the job already ended
// without failing (a short bounded job). When the child exits first, or the
// job is recorded FAILED, the error is a *StartError carrying the tail of
// the job's log (PathsOf(home, id).Log). ctx bounds the wait. It polls.
func WaitRunning(ctx context.Context, home, id string, pid int) error {
	p := PathsOf(home, id)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	exitCode, exited := -1, false
	for {
		info, err := Find(home, id)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrNotRunning) && info.Status != StatusFailed:
			return nil // it ran and already ended well
		case errors.Is(err, ErrNotRunning):
			if !exited {
				exitCode = waitExit(ctx, pid)
			}
			return &StartError{JobID: id, ExitCode: exitCode, Log: logTail(p.Log, info.Error)}
		case !errors.Is(err, ErrUnknownJob):
			return err
		case exited: // looked once more after the exit: the job never appeared
			return &StartError{JobID: id, ExitCode: exitCode, Log: logTail(p.Log, "")}
		}
		exitCode, exited = reap(pid)
		if exited {
			continue // the job may have appeared and ended since Find
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("job %s did not start: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// waitExit waits for process pid to exit and returns its exit code (-1 if
// unknown or when ctx ends first).
func waitExit(ctx context.Context, pid int) int {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if code, exited := reap(pid); exited {
			return code
		}
		select {
		case <-ctx.Done():
			return -1
		case <-t.C:
		}
	}
}

// reap reports whether process pid has exited, reaping it if it is our
// child, and its exit code (-1 if unknown).
func reap(pid int) (exitCode int, exited bool) {
	var ws syscall.WaitStatus
	wpid, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	if errors.Is(err, syscall.ECHILD) { // not our child: is it still there?
		return -1, errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	if err != nil || wpid != pid {
		return -1, false
	}
	return ws.ExitStatus(), true
}

// Bounds of the log tail quoted by StartError.
const (
	tailBytes = 4 << 10
	tailLines = 10
)

// logTail returns the job's own error from the log at path: its last line that
// starts with "error:" (what pipectl prints when a command fails), and what
// follows it; without one, the log's last lines (logs of warnings and retries
// before it are left out). fallback when the log holds nothing.
func logTail(path, fallback string) string {
	f, err := os.Open(path)
	if err != nil {
		return fallback
	}
	defer f.Close()
	cut := false
	if st, err := f.Stat(); err == nil && st.Size() > tailBytes {
		_, err = f.Seek(-tailBytes, io.SeekEnd)
		cut = err == nil
	}
	b, _ := io.ReadAll(f)
	if i := bytes.IndexByte(b, '\n'); cut && i >= 0 {
		b = b[i+1:] // drop the partial first line
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines {
		lines[i] = logMessage(l)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.ToLower(lines[i]); strings.HasPrefix(l, "error:") {
			lines = lines[i:]
			break
		}
	}
	lines = lines[max(0, len(lines)-tailLines):]
	if tail := strings.TrimSpace(strings.Join(lines, "\n")); tail != "" {
		return tail
	}
	return fallback
}

// logMessage is what a log line says: the msg of a JSON record (--log-format json), else the
// line itself.
func logMessage(line string) string {
	var r struct{ Msg *string }
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &r) == nil && r.Msg != nil {
		return *r.Msg
	}
	return line
}
