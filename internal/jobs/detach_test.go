package jobs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// detach starts the test binary detached in child mode and kills it at
// cleanup.
func detach(t *testing.T, mode, home, id string) int {
	t.Helper()
	pid, err := Detach(nil, childEnviron(mode, home, id), PathsOf(home, id).Log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitExit(testCtx(t), pid)
	})
	return pid
}

func TestDetachRunsAJobOnItsOwn(t *testing.T) {
	home, id := t.TempDir(), NewID()
	pid := detach(t, "create", home, id)
	if err := WaitRunning(testCtx(t), home, id, pid); err != nil {
		t.Fatal(err)
	}
	assertListed(t, home, false, id)

	if sid := sessionOf(t, pid); sid != pid {
		t.Errorf("child session %d, want its own (%d)", sid, pid)
	}
	log := PathsOf(home, id).Log
	for fd, want := range map[int]string{0: os.DevNull, 1: log, 2: log} {
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err != nil || got != want {
			t.Errorf("child fd %d = %q, %v; want %q", fd, got, err, want)
		}
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	info, err := WaitExited(testCtx(t), home, id)
	if err != nil || info.Status != StatusFailed {
		t.Fatalf("WaitExited() = %+v, %v; want the killed job FAILED", info, err)
	}
}

// sessionOf reads the session id of process pid from /proc.
func sessionOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid pgrp session ...
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	sid, err := strconv.Atoi(fields[3])
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

func TestWaitRunningOutcomes(t *testing.T) {
	tests := []struct {
		mode     string
		wantErr  bool
		wantCode int
		wantLog  string
	}{
		{mode: "finish"}, // ended well before we looked: started is enough
		{mode: "fail", wantErr: true, wantCode: 3, wantLog: "starting\nboom: pipeline.yaml:3:5: unknown operator"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			home, id := t.TempDir(), NewID()
			err := WaitRunning(testCtx(t), home, id, detach(t, tt.mode, home, id))
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *StartError
			if !errors.As(err, &se) || se.ExitCode != tt.wantCode || se.Log != tt.wantLog || se.JobID != id {
				t.Fatalf("WaitRunning() error = %#v, want StartError exit %d log %q", err, tt.wantCode, tt.wantLog)
			}
			if !strings.HasPrefix(err.Error(), "job "+id+" exited before it was running: starting") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestWaitRunningFailedJob(t *testing.T) {
	home := t.TempDir()
	j := newJob(t, home, "p", timeZero)
	if err := j.SetStatus(StatusFailed, Extra{Error: "cannot read input.jsonl"}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	// The job's process: one that has exited and been reaped already.
	pid := detach(t, "finish", t.TempDir(), NewID())
	waitExit(testCtx(t), pid)
	err := WaitRunning(testCtx(t), home, j.ID(), pid)
	var se *StartError
	if !errors.As(err, &se) || se.Log != "cannot read input.jsonl" {
		t.Fatalf("WaitRunning() error = %v, want the job's error", err)
	}
}

func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	var long strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	tests := []struct {
		name, content, want string
	}{
		{"short", "a\nb\n", "a\nb"},
		{"last lines only", long.String(), "line 990\nline 991\nline 992\nline 993\nline 994\nline 995\nline 996\nline 997\nline 998\nline 999"},
		{"empty falls back", "\n\n", "fallback"},
		{"the job's error without the warnings before it",
			"time=1 level=WARN msg=\"kafka: connect (retrying)\"\ntime=2 level=WARN msg=\"kafka: connect (retrying)\"\nerror: sink \"k\": cannot reach the Kafka brokers 127.0.0.1:1\n",
			`error: sink "k": cannot reach the Kafka brokers 127.0.0.1:1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dir + "/" + tt.name
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := logTail(path, "fallback"); got != tt.want {
				t.Fatalf("logTail() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := logTail(dir+"/missing", "fallback"); got != "fallback" {
		t.Fatalf("logTail(missing) = %q", got)
	}
}
