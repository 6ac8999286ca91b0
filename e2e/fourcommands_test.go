package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// outputTimeout bounds the wait for a running job's records to reach its sinks (they are
// flushed within buffer_timeout, 100 ms).
const outputTimeout = 15 * time.Second

// TestFourCommandPitStop is the pit stop with Flink's four commands on a `follow` file
// source: list, savepoint, cancel, run -d --from-savepoint with v2. The new job processes the
// records appended meanwhile exactly once and does not replay the old ones.
func TestFourCommandPitStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	vars := map[string]string{"FOLLOW": "true"}
	h.pipeline("motion-alarm.yaml", "v1.yaml", vars)
	h.pipeline("motion-alarm-v2.yaml", "v2.yaml", vars)

	v1 := h.detach("run", "v1.yaml", "-d")

	// 1) pipectl list
	listed := h.mustRun(0, "list").stdout
	line := regexp.MustCompile(`(?m)^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d : ` + v1 + ` : motion-alarm \(RUNNING\)$`)
	if !line.MatchString(listed) {
		t.Errorf("pipectl list:\n%s\nwant a line `<dd.mm.yyyy hh:mm:ss> : %s : motion-alarm (RUNNING)`", listed, v1)
	}
	jobs := h.list(false)
	if len(jobs) != 1 || jobs[0].ID != v1 || jobs[0].Status != "RUNNING" || jobs[0].PID <= 0 ||
		jobs[0].Pipeline != h.path("v1.yaml") || jobs[0].Name != "motion-alarm" {
		t.Errorf("pipectl list --output json: %+v", jobs)
	}
	alarmsV1 := "{\"type\":\"ALARM\",\"room\":1,\"time\":2000}\n{\"type\":\"ALARM\",\"room\":1,\"time\":9000}\n{\"type\":\"ALARM\",\"room\":2,\"time\":12000}\n"
	testkit.Eventually(t, outputTimeout, "the three v1 alarms in stdout.jsonl", func() bool {
		return sortedLines(h.jobFile(v1, "stdout.jsonl")) == alarmsV1
	})

	// 2) pipectl savepoint
	sp := h.savepointPath(h.mustRun(0, "savepoint", v1))
	if got, want := filepath.Base(sp)[:len("savepoint-")+6], "savepoint-"+v1[:6]; got != want {
		t.Errorf("savepoint %s: want a name starting with %s", sp, want)
	}
	if filepath.Dir(sp) != filepath.Join(h.home, "savepoints") {
		t.Errorf("savepoint %s: want it under $PIPECTL_HOME/savepoints", sp)
	}
	testkit.Golden(t, "testdata/fourcommands/inspect.txt", h.normalise(h.mustRun(0, "inspect", sp).stdout))
	testkit.Golden(t, "testdata/fourcommands/inspect.json", h.normalise(canonicalJSON(t, h.mustRun(0, "inspect", sp, "--output", "json").stdout)))
	if off := h.offset(sp, "sensor-events", "events.jsonl"); off != int64(len(h.read("events.jsonl"))) {
		t.Errorf("savepoint offset of events.jsonl = %d, want the whole file (%d)", off, len(h.read("events.jsonl")))
	}

	// 3) pipectl cancel
	h.mustRun(0, "cancel", v1)
	if st := h.waitEnded(v1); st != "CANCELED" {
		t.Errorf("cancelled job: status %q, want CANCELED", st)
	}
	if jobs := h.list(false); len(jobs) != 0 {
		t.Errorf("pipectl list after cancel: %+v, want no running job", jobs)
	}

	// Records arrive while no job runs.
	h.appendLines("events.jsonl",
		`{"type":"motion","room":1,"time":20000}`,   // room 1 is deactivated: nothing
		`{"type":"activate","room":3,"time":21000}`, // room 3 had no state
		`{"type":"motion","room":3,"time":24000}`,   // within v2's tolerance: nothing
		`{"type":"motion","room":3,"time":30000}`,   // ALARM
		`{"type":"motion","room":2,"time":30000}`,   // ALARM (active since 3000, restored)
	)

	// 4) pipectl run -d --from-savepoint SP v2.yaml
	v2 := h.detach("run", "-d", "--from-savepoint", sp, "v2.yaml")
	want := "{\"type\":\"ALARM\",\"room\":2,\"time\":30000}\n{\"type\":\"ALARM\",\"room\":3,\"time\":30000}\n"
	testkit.Eventually(t, outputTimeout, "v2's two alarms in its stdout.jsonl", func() bool {
		return sortedLines(h.jobFile(v2, "stdout.jsonl")) == want
	})
	h.appendLines("events.jsonl", `{"type":"motion","room":2,"time":40000}`)
	want += "{\"type\":\"ALARM\",\"room\":2,\"time\":40000}\n"
	testkit.Eventually(t, outputTimeout, "v2's alarm for the appended record", func() bool {
		return sortedLines(h.jobFile(v2, "stdout.jsonl")) == sortedLines(want)
	})

	sp2 := h.savepointPath(h.mustRun(0, "stop", v2))
	if got := sortedLines(h.jobFile(v2, "stdout.jsonl")); got != sortedLines(want) {
		t.Errorf("v2 stdout.jsonl after stop:\n%swant (old records not replayed, new ones once):\n%s", got, want)
	}
	testkit.Golden(t, "testdata/fourcommands/state-after-v2.golden", h.dump(sp2, "alarm-evaluator"))
	if st := h.waitEnded(v2); st != "STOPPED" {
		t.Errorf("stopped job: status %q, want STOPPED", st)
	}
	if got := h.jobFile(v1, "stdout.jsonl"); sortedLines(got) != alarmsV1 {
		t.Errorf("v1 stdout.jsonl changed after cancel:\n%s", got)
	}

	if res := h.mustRun(0, "savepoint", "--dispose", sp); res.stdout != "" {
		t.Errorf("savepoint --dispose printed %q", res.stdout)
	}
	if _, err := os.Stat(sp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disposed savepoint %s still exists (%v)", sp, err)
	}
	if res := h.run("inspect", sp); res.code != 2 || res.stdout != "" {
		t.Errorf("inspect of a disposed savepoint: exit %d, stdout %q; want 2 and nothing", res.code, res.stdout)
	}
}

// TestListAllStatuses runs one job into each final status and checks `list --all`.
func TestListAllStatuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	h.write("bad.jsonl", "{\"type\":\"motion\",\"room\":\"one\",\"time\":1}\n")
	h.pipeline("motion-alarm.yaml", "bounded.yaml", nil)
	h.pipeline("motion-alarm.yaml", "bad.yaml", map[string]string{"SOURCE": "bad.jsonl"})
	h.pipeline("motion-alarm.yaml", "follow.yaml", map[string]string{"FOLLOW": "true"})

	h.mustRun(0, "run", "bounded.yaml")
	failed := h.run("run", "bad.yaml")
	if failed.code != 1 || failed.stdout != "" {
		t.Errorf("run on a bad record: exit %d, stdout %q; want exit 1 and no records", failed.code, failed.stdout)
	}
	if !strings.Contains(failed.stderr, "bad.jsonl") {
		t.Errorf("run on a bad record: stderr does not name the file:\n%s", failed.stderr)
	}
	canceled := h.detach("run", "-d", "follow.yaml")
	h.mustRun(0, "cancel", canceled)
	h.waitEnded(canceled)
	stopped := h.detach("run", "-d", "follow.yaml")
	h.savepointPath(h.mustRun(0, "stop", stopped))
	h.waitEnded(stopped)
	running := h.detach("run", "-d", "follow.yaml")

	got := map[string]int{}
	for _, j := range h.list(true) {
		got[j.Status]++
	}
	want := map[string]int{"FINISHED": 1, "FAILED": 1, "CANCELED": 1, "STOPPED": 1, "RUNNING": 1}
	for st, n := range want {
		if got[st] != n {
			t.Errorf("list --all: %d jobs %s, want %d (all: %v)", got[st], st, n, got)
		}
	}
	if jobs := h.list(false); len(jobs) != 1 || jobs[0].ID != running {
		t.Errorf("list: %+v, want only the running job %s", jobs, running)
	}
	testkit.Golden(t, "testdata/fourcommands/list-all.txt", h.normalise(h.mustRun(0, "list", "--all").stdout))
	// A job that is not running: the error is the first line of stderr (no progress line).
	for _, tc := range []struct {
		id   string
		code int
		want string
	}{
		{strings.Repeat("0", 32), 2, "no job with id " + strings.Repeat("0", 32)},
		{stopped, 1, "is not running: it is STOPPED"},
	} {
		for _, cmd := range [][]string{{"cancel"}, {"stop"}, {"savepoint"}} {
			res := h.run(append(cmd, tc.id)...)
			if first, _, _ := strings.Cut(res.stderr, "\n"); res.code != tc.code || res.stdout != "" ||
				!strings.HasPrefix(first, "error: ") || !strings.Contains(first, tc.want) {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit %d, nothing on stdout, and first \"error: …%s…\"",
					cmd[0], tc.id, res.code, res.stdout, res.stderr, tc.code, tc.want)
			}
		}
	}
}

// TestHelpOnStdout: the help a user asks for is the command's output (stdout, exit 0), so
// `pipectl run --help | grep -- --from-savepoint` works; pipectl with no command is a usage
// error whose hint, the help, goes to stderr.
func TestHelpOnStdout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"run", "-h"}, {"stop", "--help"}, {"check-compat", "--help"}} {
		res := h.mustRun(0, args...)
		if !strings.Contains(res.stdout, "USAGE:") || res.stderr != "" {
			t.Errorf("pipectl %q: stdout %q, stderr %q; want the help on stdout alone", args, res.stdout, res.stderr)
		}
	}
	if res := h.mustRun(0, "run", "--help"); !strings.Contains(res.stdout, "--from-savepoint") || !strings.Contains(res.stdout, "--final-savepoint") {
		t.Errorf("run --help does not list its flags:\n%s", res.stdout)
	}
	res := h.mustRun(2)
	if res.stdout != "" || !strings.Contains(res.stderr, "USAGE:") || !strings.HasSuffix(res.stderr, "error: no command given\n") {
		t.Errorf("pipectl alone: stdout %q, stderr %q; want the help and the error on stderr", res.stdout, res.stderr)
	}
}
