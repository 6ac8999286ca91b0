package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hiddenEntry reports whether dir holds an entry whose name starts with "." and, when
// withFile, that entry is a directory holding at least one file.
func hiddenEntry(dir string, withFile bool) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !withFile {
			return true
		}
		inside, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		if len(inside) > 0 {
			return true
		}
	}
	return false
}

// spin waits, checking every millisecond, until cond holds or timeout passes. It is for
// catching a short-lived state of the file system (a savepoint being written), where
// testkit.Poll, backing off to 20 ms, would miss it.
func spin(timeout time.Duration, cond func() bool) bool {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return false
		}
	}
	return true
}

// TestKillDuringSavepoint kills a job with SIGKILL while `pipectl savepoint` is writing its
// savepoint, at several moments: the command exits 1 within seconds and prints no path, and
// the savepoint directory holds only complete savepoints (which inspect accepts) and hidden
// temporary ones. The killed job is FAILED and does not block the next run of its pipeline.
func TestKillDuringSavepoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.pipeline("big-state.yaml", "big.yaml", nil)
	spDir := filepath.Join(h.home, "savepoints")
	moments := []struct {
		name string
		when func() bool
	}{
		{"as the command starts", func() bool { return true }},
		{"when the temporary directory appears", func() bool { return hiddenEntry(spDir, false) }},
		{"when the temporary directory holds a file", func() bool { return hiddenEntry(spDir, true) }},
	}
	for _, m := range moments {
		t.Run(m.name, func(t *testing.T) {
			h := h.in(t)
			id := h.detach("run", "-d", "big.yaml")
			h.savepointPath(h.mustRun(0, "savepoint", id)) // a complete one, with state in it
			info, ok := h.jobInfo(id)
			if !ok {
				t.Fatal("no job.json")
			}
			sp := h.start("savepoint", id)
			if !spin(20*time.Second, func() bool { return m.when() || sp.exited() }) {
				t.Fatal("the moment to kill never came")
			}
			if sp.exited() {
				t.Skipf("the savepoint completed before the kill: %s", sp.stdout.String())
			}
			if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if code := sp.wait(t, 15*time.Second); code != 1 || sp.stdout.String() != "" {
				t.Errorf("pipectl savepoint of a killed job: exit %d, stdout %q; want exit 1 and no path", code, sp.stdout.String())
			}
			entries, err := os.ReadDir(spDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if res := h.run("inspect", filepath.Join(spDir, e.Name())); res.code != 0 {
					t.Errorf("%s is not hidden and inspect refuses it: %s", e.Name(), res.stderr)
				}
			}
			if st := h.waitEnded(id); st != "FAILED" {
				t.Errorf("killed job: status %q, want FAILED", st)
			}
		})
	}
}
