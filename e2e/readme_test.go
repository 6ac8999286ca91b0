package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestExamples runs the repository's examples as the README does: records on stdout, the
// status on stderr.
func TestExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, golden, job string
		args              []string
	}{
		{"motion-alarm", "examples/motion-alarm.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm.yaml"}},
		{"event-counts", "examples/event-counts.golden", "event-counts",
			[]string{"run", "examples/event-counts.yaml"}},
		{"v2 tolerance from the file", "examples/motion-alarm-v2.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml"}},
		{"v2 --param after the file", "examples/motion-alarm-v2.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml", "--param", "tolerance=5000"}},
		{"v2 --param before the file", "examples/motion-alarm-v2-tolerance-8000.golden", "motion-alarm",
			[]string{"run", "--param", "tolerance=8000", "examples/motion-alarm-v2.yaml"}},
		{"v2 --param=K=V", "examples/motion-alarm.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml", "--param=tolerance=0"}},
		{"v2 tolerance above every gap", "examples/empty.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml", "--param", "tolerance=20000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.dir = repoRoot // the README runs the examples from the repository's root
			res := h.mustRun(0, c.args...)
			testkit.Golden(t, filepath.Join("testdata", c.golden), sortedLines(res.stdout))
			started := regexp.MustCompile(`^Job [0-9a-f]{32} \(` + regexp.QuoteMeta(c.job) + `\) started$`)
			if first, _, _ := strings.Cut(res.stderr, "\n"); !started.MatchString(first) {
				t.Errorf("first stderr line %q, want `Job <32 hex> (%s) started`", first, c.job)
			}
		})
	}
}

// TestMotionAlarmKeepsPerRoomOrder checks that the alarms of one room come out in the order
// of their events, whatever the interleaving of rooms.
func TestMotionAlarmKeepsPerRoomOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	h.pipeline("motion-alarm.yaml", "p.yaml", map[string]string{"PAR": "3"})
	res := h.mustRun(0, "run", "p.yaml")
	var room1 []string
	for _, l := range nonEmptyLines(res.stdout) {
		if strings.Contains(l, `"room":1,`) {
			room1 = append(room1, l)
		}
	}
	want := []string{`{"type":"ALARM","room":1,"time":2000}`, `{"type":"ALARM","room":1,"time":9000}`}
	if strings.Join(room1, "\n") != strings.Join(want, "\n") {
		t.Errorf("room 1 alarms %q, want %q in this order", room1, want)
	}
}

// skipMarker, on a line of its own before a shell block, keeps TestDocShellBlocks from
// running it: `<!-- e2e: skip: REASON -->` (for blocks that need a broker, a database, perf,
// or minutes of benchmarks). Keep it rare.
var skipMarker = regexp.MustCompile(`^<!-- e2e: skip: (.+) -->$`)

// shellBlock is one ```sh block of a Markdown file.
type shellBlock struct {
	line int    // of its opening fence
	code string // its lines
	skip string // why it is not run ("" to run it)
}

// shellBlocks returns the ```sh (or bash, shell) blocks of a Markdown file in order.
func shellBlocks(t *testing.T, path string) []shellBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []shellBlock
	var cur *shellBlock
	skip := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		case line == "```sh" || line == "```bash" || line == "```shell":
			cur = &shellBlock{line: n, skip: skip}
			skip = ""
		case skipMarker.MatchString(line):
			skip = skipMarker.FindStringSubmatch(line)[1]
		case strings.TrimSpace(line) != "":
			skip = "" // a marker applies to the block right after it
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// TestDocShellBlocks runs every shell block of README.md and docs/*.md as written, one bash
// session per file (so a later block sees the variables of an earlier one), from the
// repository's root with the binary under test first on PATH; every command must succeed.
func TestDocShellBlocks(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range append([]string{filepath.Join(repoRoot, "README.md")}, docs...) {
		name, _ := filepath.Rel(repoRoot, doc)
		blocks := shellBlocks(t, doc)
		if len(blocks) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			script := "set -euo pipefail\n"
			for _, b := range blocks {
				if b.skip != "" {
					t.Logf("%s:%d: not run: %s", name, b.line, b.skip)
					continue
				}
				script += "echo '>>> " + name + ":" + itoa(b.line) + "' >&2\n" + b.code
			}
			tmp := t.TempDir() // mktemp -d of a block lands here
			defer stopJobsUnder(t, tmp)
			ctx, cancel := context.WithTimeout(context.Background(), 3*commandTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", script)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "PIPECTL_HOME="+filepath.Join(tmp, "home"),
				"PATH="+filepath.Dir(pipectlBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the shell blocks of %s fail as written (%v); output, each block after its >>> line:\n%s", name, err, out)
			}
		})
	}
}

// stopJobsUnder kills the processes of the jobs that a doc's blocks left running under dir.
func stopJobsUnder(t *testing.T, dir string) {
	infos, _ := filepath.Glob(filepath.Join(dir, "*", "jobs", "*", "job.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "home", "jobs", "*", "job.json"))
	for _, p := range append(infos, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var info jobInfo
		if json.Unmarshal(b, &info) == nil && info.Status == "RUNNING" && processAlive(info.PID) {
			t.Errorf("%s: a job the blocks started is still running; killed", p)
			_ = syscall.Kill(info.PID, syscall.SIGKILL)
		}
	}
}
