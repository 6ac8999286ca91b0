package jobs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pipectl/pipectl/internal/testkit"
)

// newJob creates a job under home in this process and closes it at cleanup.
func newJob(t *testing.T, home, name string, started time.Time) *Job {
	t.Helper()
	j, err := Create(home, Info{ID: NewID(), Name: name, Pipeline: "/p/" + name + ".yaml", Started: started}, []byte("name: "+name+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestCreateWritesTheJobDirectory(t *testing.T) {
	home := t.TempDir()
	j := newJob(t, home, "motion", time.Time{})
	p := j.Paths()
	checks := []struct {
		path string
		mode fs.FileMode
	}{
		{p.Dir, fs.ModeDir | 0o700},
		{p.Info, 0o600},
		{p.Pipeline, 0o600},
		{p.Lock, 0o600},
	}
	for _, c := range checks {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, st.Mode(), c.mode)
		}
	}
	if b, err := os.ReadFile(p.Pipeline); err != nil || string(b) != "name: motion\n" {
		t.Errorf("pipeline copy = %q, %v", b, err)
	}
	info, err := readInfo(p.Info)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != StatusRunning || info.PID != os.Getpid() || info.Started.IsZero() || info.Name != "motion" {
		t.Errorf("job.json = %+v: want RUNNING, this pid, a start time", info)
	}
	if j.SocketPath() != p.Dir+"/control.sock" || j.LogPath() != p.Dir+"/job.log" || j.StdoutPath() != p.Dir+"/stdout.jsonl" {
		t.Errorf("paths = %+v", p)
	}
}

func TestCreateRefuses(t *testing.T) {
	home := t.TempDir()
	live := newJob(t, home, "live", time.Time{})
	dead := newJob(t, home, "dead", time.Time{})
	dead.Close()
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"invalid id", "not-an-id", "invalid job id"},
		{"id of a live job", live.ID(), "another process holds it"},
		{"id of a dead job", dead.ID(), "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Create(home, Info{ID: tt.id, Name: "x"}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create() error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestStatusRoundTrip follows a job from Create to Close through SetStatus:
// listed while RUNNING and alive, visible with all afterwards, and taken
// for FAILED only when it let go of its lock while still RUNNING.
func TestStatusRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		final     Status // "" : Close while RUNNING
		extra     Extra
		want      Status
		wantSP    string
		wantError string
	}{
		{"finished", StatusFinished, Extra{}, StatusFinished, "", ""},
		{"stopped with savepoint", StatusStopped, Extra{Savepoint: "/sp/savepoint-abc"}, StatusStopped, "/sp/savepoint-abc", ""},
		{"canceled", StatusCanceled, Extra{}, StatusCanceled, "", ""},
		{"failed", StatusFailed, Extra{Error: "sink closed"}, StatusFailed, "", "sink closed"},
		{"closed while running", "", Extra{}, StatusFailed, "", diedMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			j := newJob(t, home, "p", time.Time{})
			id := j.ID()

			got, err := Find(home, id)
			if err != nil || got.Status != StatusRunning {
				t.Fatalf("Find(running) = %+v, %v", got, err)
			}
			assertListed(t, home, false, id)

			if tt.final != "" {
				if err := j.SetStatus(tt.final, tt.extra); err != nil {
					t.Fatal(err)
				}
				// Alive but final: no longer a running job.
				assertListed(t, home, false)
				if _, err := Find(home, id); !errors.Is(err, ErrNotRunning) {
					t.Fatalf("Find(final, alive) error = %v, want ErrNotRunning", err)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			assertListed(t, home, false)
			assertListed(t, home, true, id)

			got, err = Find(home, id)
			if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), string(tt.want)) {
				t.Fatalf("Find(closed) error = %v, want ErrNotRunning naming %s", err, tt.want)
			}
			if got.Status != tt.want || got.Savepoint != tt.wantSP || got.Error != tt.wantError {
				t.Errorf("Find(closed) = %+v, want status %s savepoint %q error %q", got, tt.want, tt.wantSP, tt.wantError)
			}
			if tt.final != "" && got.Finished.IsZero() {
				t.Errorf("final status without finished time: %+v", got)
			}
		})
	}
}

// assertListed checks which jobs List(home, all) returns, in order.
func assertListed(t *testing.T, home string, all bool, ids ...string) {
	t.Helper()
	infos, err := List(home, all)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(infos))
	for i, in := range infos {
		got[i] = in.ID
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("List(all=%v) = %v, want %v", all, got, ids)
	}
}

func TestListSortsByStartAndSkipsNonJobs(t *testing.T) {
	home := t.TempDir()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	late := newJob(t, home, "late", t0.Add(time.Minute))
	early := newJob(t, home, "early", t0)
	// Not jobs: a dir without job.json (a detached job's log dir, before
	// Create), a stray file, a name that is no id.
	if err := os.MkdirAll(PathsOf(home, NewID()).Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(home+"/jobs/README", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(home+"/jobs/not-a-job", 0o700); err != nil {
		t.Fatal(err)
	}
	assertListed(t, home, true, early.ID(), late.ID())
}

func TestListWithoutHome(t *testing.T) {
	infos, err := List(t.TempDir()+"/missing", true)
	if err != nil || infos == nil || len(infos) != 0 {
		t.Fatalf("List(missing home) = %#v, %v; want an empty list", infos, err)
	}
}

func TestFindUnknownJob(t *testing.T) {
	home := t.TempDir()
	for _, id := range []string{NewID(), "nope", "../../../../../../../../etc/pass"} {
		_, err := Find(home, id)
		if !errors.Is(err, ErrUnknownJob) {
			t.Fatalf("Find(%q) error = %v, want ErrUnknownJob", id, err)
		}
		want := "no job with id " + id + " (pipectl list shows the running jobs)"
		if err.Error() != want {
			t.Errorf("Find(%q) error = %q, want %q", id, err, want)
		}
	}
}

// TestKilledJobIsFailed kills a real job process with SIGKILL: it leaves
// the list at once, and list --all shows it FAILED.
func TestKilledJobIsFailed(t *testing.T) {
	home, id := t.TempDir(), NewID()
	child := startChild(t, "create", home, id)
	testkit.Eventually(t, testWait, "the child job to be listed", func() bool {
		infos, err := List(home, false)
		return err == nil && len(infos) == 1
	})
	if info, err := Find(home, id); err != nil || info.PID != child.Process.Pid {
		t.Fatalf("Find(child) = %+v, %v; want it running with the child's pid", info, err)
	}
	killChild(t, child)

	assertListed(t, home, false)
	infos, err := List(home, true)
	if err != nil || len(infos) != 1 || infos[0].Status != StatusFailed || infos[0].Error != diedMessage {
		t.Fatalf("List(all) = %+v, %v; want the job FAILED", infos, err)
	}
	// The cleanup was written down: job.json says FAILED too.
	if info, err := readInfo(PathsOf(home, id).Info); err != nil || info.Status != StatusFailed {
		t.Fatalf("job.json = %+v, %v", info, err)
	}
	// It ended when it was last seen alive (its job.json's last change), before it was found
	// dead: its run time does not keep growing.
	if f := infos[0].Finished; f.IsZero() || f.Before(infos[0].Started) || f.After(time.Now()) {
		t.Errorf("finished %v (started %v), want the time of its last sign of life", f, infos[0].Started)
	}
}

// TestWaitExitedWaitsForTheProcess: a job that recorded its final status
// but still holds its lock (it is exiting) has not exited yet.
func TestWaitExitedWaitsForTheProcess(t *testing.T) {
	home := t.TempDir()
	j := newJob(t, home, "p", timeZero)
	if err := j.SetStatus(StatusStopped, Extra{Savepoint: "/sp/x"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*pollInterval)
	defer cancel()
	if _, err := WaitExited(ctx, home, j.ID()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitExited(exiting job) error = %v, want DeadlineExceeded", err)
	}
	j.Close()
	info, err := WaitExited(testCtx(t), home, j.ID())
	if err != nil || info.Status != StatusStopped || info.Savepoint != "/sp/x" {
		t.Fatalf("WaitExited() = %+v, %v", info, err)
	}
	if _, err := WaitExited(testCtx(t), home, NewID()); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("WaitExited(unknown) error = %v", err)
	}
}

// TestErrorBounded: a huge error message is cut in job.json, at a rune boundary, saying so.
func TestErrorBounded(t *testing.T) {
	home := t.TempDir()
	j, err := Create(home, Info{ID: NewID(), Name: "big"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.SetStatus(StatusFailed, Extra{Error: strings.Repeat("é", 1<<20)}); err != nil {
		t.Fatal(err)
	}
	info, err := readInfo(j.Paths().Info)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Error) > MaxErrorBytes || !utf8.ValidString(info.Error) || !strings.Contains(info.Error, "more bytes; the job's log has them all") {
		t.Errorf("stored error: %d bytes, valid UTF-8 %v, ends %q", len(info.Error), utf8.ValidString(info.Error), info.Error[max(0, len(info.Error)-80):])
	}
}
