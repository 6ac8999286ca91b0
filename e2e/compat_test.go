package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// compatHarness is a working directory with the motion-alarm pipeline versions, its events, and a
// final savepoint of v1 over them.
func compatHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	for _, v := range []string{"motion-alarm", "motion-alarm-v2", "motion-alarm-v3", "motion-alarm-v3-migrate"} {
		h.pipeline(v+".yaml", strings.TrimPrefix(v, "motion-alarm-")+".yaml", nil)
	}
	if err := os.Rename(h.path("motion-alarm.yaml"), h.path("v1.yaml")); err != nil {
		t.Fatal(err)
	}
	sp := finalSavepoint(t, h.mustRun(0, "run", "v1.yaml", "--final-savepoint").stderr)
	return h, sp
}

// compatReport is check-compat's JSON output.
type compatReport struct {
	Compatible *bool `json:"compatible"`
	Results    []struct {
		UID       *string `json:"uid"`
		State     *string `json:"state"`
		Verdict   string  `json:"verdict"`
		Rule      string  `json:"rule"`
		OldSchema *string `json:"old_schema"`
		NewSchema *string `json:"new_schema"`
		Reason    string  `json:"reason"`
		File      string  `json:"file"`
		Line      int     `json:"line"`
		Column    int     `json:"column"`
	} `json:"results"`
}

// TestCheckCompat checks the motion alarm's upgrades against the old pipeline file and against a
// savepoint, in the three output formats.
func TestCheckCompat(t *testing.T) {
	t.Parallel()
	h, sp := compatHarness(t)
	cases := []struct {
		name    string
		newFile string
		code    int
		verdict string // of alarm-evaluator/value
		rule    string
		schema  string // its new schema
		line    int    // of its state declaration in the new file
	}{
		{"v2 tolerance", "v2.yaml", 0, "compatible", "STATE_UNCHANGED", "(bool, int)", 21},
		{"tuple grows", "v3.yaml", 1, "incompatible", "TUPLE_ARITY_CHANGED", "(bool, int, string)", 19},
		{"tuple grows with migrate", "v3-migrate.yaml", 0, "compatible-after-migration", "MIGRATE_FUNCTION", "(bool, int, string)", 19},
	}
	for _, c := range cases {
		for _, old := range [][]string{{"--against", "v1.yaml"}, {"--savepoint", sp}} {
			name := c.name + "/" + strings.TrimPrefix(old[0], "--")
			base := strings.TrimSuffix(c.newFile, ".yaml") + "-" + strings.TrimPrefix(old[0], "--")
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := h.in(t)
				args := append([]string{"check-compat", c.newFile}, old...)

				text := h.mustRun(c.code, args...)
				testkit.Golden(t, "testdata/compat/"+base+".txt", h.normalise(text.stdout))

				res := h.mustRun(c.code, append(args, "--format", "json")...)
				var rep compatReport
				if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
					t.Fatalf("--format json: %v\n%s", err, res.stdout)
				}
				testkit.Golden(t, "testdata/compat/"+base+".json", h.normalise(canonicalJSON(t, res.stdout)))
				if rep.Compatible == nil || *rep.Compatible != (c.code == 0) {
					t.Errorf("compatible = %v, want %v", rep.Compatible, c.code == 0)
				}
				found := false
				for _, r := range rep.Results {
					if r.UID == nil || *r.UID != "alarm-evaluator" || r.State == nil || *r.State != "value" {
						continue
					}
					found = true
					if r.Verdict != c.verdict || r.Rule != c.rule || r.NewSchema == nil || *r.NewSchema != c.schema ||
						r.OldSchema == nil || *r.OldSchema != "(bool, int)" || r.File != c.newFile || r.Line != c.line || r.Column != 5 || r.Reason == "" {
						t.Errorf("alarm-evaluator/value: %+v; want %s by %s, (bool, int) -> %s at %s:%d:5",
							r, c.verdict, c.rule, c.schema, c.newFile, c.line)
					}
				}
				if !found {
					t.Errorf("no result for alarm-evaluator/value in %s", res.stdout)
				}

				gh := h.mustRun(c.code, append(args, "--format", "github")...)
				testkit.Golden(t, "testdata/compat/"+base+".github", h.normalise(gh.stdout))
				annotation := regexp.MustCompile(`(?m)^::error file=` + regexp.QuoteMeta(c.newFile) + `,line=19,col=5::.*TUPLE_ARITY_CHANGED`)
				// Only the incompatible case has an error annotation.
				if got := annotation.MatchString(gh.stdout); got != (c.code == 1) {
					t.Errorf("--format github: an ::error annotation at %s:19:5 is %v, want %v:\n%s", c.newFile, got, c.code == 1, gh.stdout)
				}
			})
		}
	}
}

// TestCheckCompatJob checks against a running job's pipeline.
func TestCheckCompatJob(t *testing.T) {
	t.Parallel()
	h, _ := compatHarness(t)
	h.pipeline("motion-alarm.yaml", "follow.yaml", map[string]string{"FOLLOW": "true"})
	id := h.detach("run", "-d", "follow.yaml")
	h.mustRun(0, "check-compat", "v2.yaml", "--job", id)
	res := h.mustRun(1, "check-compat", "v3.yaml", "--job", id, "--format", "json")
	if !strings.Contains(res.stdout, `"TUPLE_ARITY_CHANGED"`) {
		t.Errorf("check-compat --job: %s", res.stdout)
	}
	if res := h.run("check-compat", "v2.yaml", "--job", strings.Repeat("a", 32)); res.code != 2 || res.stdout != "" {
		t.Errorf("check-compat --job of an unknown job: exit %d, stdout %q; want 2 and nothing", res.code, res.stdout)
	}
}

// TestUpgradeFromSavepoint refuses an incompatible pipeline before anything runs, and runs a
// compatible one from the savepoint.
func TestUpgradeFromSavepoint(t *testing.T) {
	t.Parallel()
	h, sp := compatHarness(t)
	before := len(h.list(true))
	refused := h.mustRun(1, "upgrade", "v3.yaml", "--from-savepoint", sp)
	if refused.stdout != "" || !strings.Contains(refused.stderr, "TUPLE_ARITY_CHANGED") {
		t.Errorf("refused upgrade: stdout %q, stderr %q; want the report on stderr and nothing on stdout", refused.stdout, refused.stderr)
	}
	if after := len(h.list(true)); after != before {
		t.Errorf("a refused upgrade started a job (%d jobs, were %d)", after, before)
	}

	h.appendLines("events.jsonl", `{"type":"motion","room":2,"time":30000}`, `{"type":"activate","room":1,"time":31000}`)
	res := h.mustRun(0, "upgrade", "v3-migrate.yaml", "--from-savepoint", sp, "--final-savepoint")
	if got, want := res.stdout, "{\"type\":\"ALARM\",\"room\":2,\"time\":30000}\n"; got != want {
		t.Errorf("upgrade stdout %q, want only the new record's alarm %q", got, want)
	}
	testkit.Golden(t, "testdata/compat/upgrade-migrated-state.golden", h.dump(finalSavepoint(t, res.stderr), "alarm-evaluator"))
}

// TestUpgradeJob is the pit stop: upgrade --job stops the running job with a savepoint and
// starts the new pipeline from it, detached or in the foreground; --dry-run stops nothing.
func TestUpgradeJob(t *testing.T) {
	t.Parallel()
	downtime := regexp.MustCompile(`(?m)^downtime: \d+ ms$`)

	t.Run("dry-run", func(t *testing.T) {
		t.Parallel()
		h, _ := compatHarness(t)
		h.pipeline("motion-alarm.yaml", "follow.yaml", map[string]string{"FOLLOW": "true"})
		id := h.detach("run", "-d", "follow.yaml")
		info, _ := h.jobInfo(id)
		spDir := filepath.Join(h.home, "savepoints")
		savepointsBefore, _ := os.ReadDir(spDir)
		h.mustRun(0, "upgrade", "v2.yaml", "--job", id, "--dry-run")
		h.mustRun(1, "upgrade", "v3.yaml", "--job", id, "--dry-run")
		h.mustRun(1, "upgrade", "v3.yaml", "--job", id)
		jobs := h.list(false)
		if len(jobs) != 1 || jobs[0].ID != id || jobs[0].PID != info.PID || !processAlive(info.PID) {
			t.Errorf("after --dry-run and a refused upgrade: %+v, want job %s still running", jobs, id)
		}
		if after, _ := os.ReadDir(spDir); len(after) != len(savepointsBefore) {
			t.Errorf("a dry run or refused upgrade wrote a savepoint: %d entries, were %d", len(after), len(savepointsBefore))
		}
	})

	t.Run("detached", func(t *testing.T) {
		t.Parallel()
		h, _ := compatHarness(t)
		h.pipeline("motion-alarm.yaml", "follow.yaml", map[string]string{"FOLLOW": "true"})
		h.pipeline("motion-alarm-v2.yaml", "follow-v2.yaml", map[string]string{"FOLLOW": "true"})
		old := h.detach("run", "-d", "follow.yaml")
		res := h.mustRun(0, "upgrade", "follow-v2.yaml", "--job", old, "-d")
		id := strings.TrimSuffix(res.stdout, "\n")
		if !jobIDPattern.MatchString(id) || id == old {
			t.Fatalf("upgrade -d: stdout %q, want the new job id alone", res.stdout)
		}
		h.cleanupJob(id)
		if !downtime.MatchString(res.stderr) {
			t.Errorf("no `downtime: N ms` line on stderr:\n%s", res.stderr)
		}
		if st := h.waitEnded(old); st != "STOPPED" {
			t.Errorf("old job: %q, want STOPPED", st)
		}
		if st := h.status(id); st != "RUNNING" {
			t.Errorf("new job: %q, want RUNNING", st)
		}
		h.appendLines("events.jsonl", `{"type":"motion","room":2,"time":30000}`)
		h.waitCovered(id, "sensor-events", "events.jsonl")
		sp := h.savepointPath(h.mustRun(0, "stop", id))
		if got, want := h.jobFile(id, "stdout.jsonl"), "{\"type\":\"ALARM\",\"room\":2,\"time\":30000}\n"; got != want {
			t.Errorf("new job's stdout.jsonl %q, want only the new record's alarm %q", got, want)
		}
		testkit.Golden(t, "testdata/compat/upgrade-job-state.golden", h.dump(sp, "alarm-evaluator"))
	})

	t.Run("foreground", func(t *testing.T) {
		t.Parallel()
		h, _ := compatHarness(t)
		h.pipeline("motion-alarm.yaml", "follow.yaml", map[string]string{"FOLLOW": "true"})
		h.pipeline("motion-alarm-v2.yaml", "follow-v2.yaml", map[string]string{"FOLLOW": "true"})
		old := h.detach("run", "-d", "follow.yaml")
		up := h.start("upgrade", "follow-v2.yaml", "--job", old)
		testkit.Eventually(t, outputTimeout, "a downtime line on upgrade's stderr", func() bool {
			return downtime.MatchString(up.stderr.String()) || up.exited()
		})
		if up.exited() {
			t.Errorf("upgrade --job in the foreground exited (code %d) before its new job ran:\n%s", up.wait(t, time.Second), up.stderr.String())
			if len(h.list(false)) == 0 {
				t.Errorf("and no job runs: the old pipeline was not restarted from the savepoint")
			}
			t.FailNow()
		}
		id := h.runningJob()
		if id == old {
			t.Fatalf("the old job %s still runs", old)
		}
		h.appendLines("events.jsonl", `{"type":"motion","room":2,"time":30000}`)
		h.waitCovered(id, "sensor-events", "events.jsonl")
		h.savepointPath(h.mustRun(0, "stop", id))
		if code := up.wait(t, commandTimeout); code != 0 {
			t.Errorf("foreground upgrade: exit %d after its job was stopped\nstderr:\n%s", code, up.stderr.String())
		}
		if got, want := up.stdout.String(), "{\"type\":\"ALARM\",\"room\":2,\"time\":30000}\n"; got != want {
			t.Errorf("foreground upgrade stdout %q, want only the new record's alarm %q", got, want)
		}
	})
}

// TestVerifyStateFormats runs check-compat --verify-state with a migrate function that fails
// for some entries: every format reports the failing entries on stdout and the exit code is 1;
// the JSON report says it is not compatible.
func TestVerifyStateFormats(t *testing.T) {
	t.Parallel()
	h, sp := compatHarness(t)
	bad := strings.Replace(h.read("v3-migrate.yaml"), `migrate: 's => [s[0], s[1], "unknown"]'`,
		`migrate: 's => s[0] ? [s[0], s[1], "active"] : [s[0], s[1], 7]'`, 1)
	h.write("v3-bad.yaml", bad)

	text := h.mustRun(1, "check-compat", "v3-bad.yaml", "--savepoint", sp, "--verify-state")
	failures := regexp.MustCompile(`(?m)^verify-state: alarm-evaluator/value key \d+: .*string.*$`).FindAllString(text.stdout, -1)
	summary := regexp.MustCompile(`(?m)^verify-state: (\d+) entries of 1 states checked, (\d+) migrated, (\d+) failed$`).FindStringSubmatch(text.stdout)
	if len(failures) == 0 || summary == nil || summary[3] == "0" {
		t.Fatalf("text report: want failing entries and a summary on stdout, got:\n%s", text.stdout)
	}

	js := h.mustRun(1, "check-compat", "v3-bad.yaml", "--savepoint", sp, "--verify-state", "--format", "json")
	var rep struct {
		Compatible *bool `json:"compatible"`
		Verify     *struct {
			States   int   `json:"states"`
			Entries  int64 `json:"entries"`
			Failed   int64 `json:"failed"`
			Failures []struct {
				UID, State, Key, Error, File string
				Line                         int
			} `json:"failures"`
		} `json:"verify_state"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatalf("json report: %v\n%s", err, js.stdout)
	}
	if rep.Compatible == nil || *rep.Compatible || rep.Verify == nil || rep.Verify.States != 1 ||
		rep.Verify.Failed != int64(len(failures)) || len(rep.Verify.Failures) != len(failures) {
		t.Fatalf("json report: want compatible false and %d failures under verify_state, got:\n%s", len(failures), js.stdout)
	}
	if f := rep.Verify.Failures[0]; f.UID != "alarm-evaluator" || f.State != "value" || f.Key == "" ||
		f.File != "v3-bad.yaml" || f.Line != 19 || !strings.Contains(f.Error, "string") {
		t.Errorf("json failure = %+v, want alarm-evaluator/value at v3-bad.yaml:19 naming its key", f)
	}

	gh := h.mustRun(1, "check-compat", "v3-bad.yaml", "--savepoint", sp, "--verify-state", "--format", "github")
	if n := strings.Count(gh.stdout, "::error file=v3-bad.yaml,line=19,col="); n != len(failures) {
		t.Errorf("github report: %d ::error annotations at the state, want %d:\n%s", n, len(failures), gh.stdout)
	}
	if !strings.Contains(gh.stdout, summary[0]) {
		t.Errorf("github report lacks the summary %q:\n%s", summary[0], gh.stdout)
	}
}
