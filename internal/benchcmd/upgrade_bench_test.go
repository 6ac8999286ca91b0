// Package benchcmd holds benchmarks of the pipectl binary itself, driven as a user drives it
// (build, `run -d`, `upgrade --job`): numbers that only the whole process shows, such as the
// pit stop's downtime. It has test files only; docs/PERFORMANCE.md records its numbers.
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/benchcmd
package benchcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/runtime"
)

// envBench10M, set to 1, runs BenchmarkUpgradeJob10M: it writes a 10,000,000-line input
// (about 500 MB) and needs minutes to load it before its first pit stop.
const envBench10M = "PIPECTL_BENCH_10M"

// oldPipeline keeps the latest event of each room (a max: its state is the event record),
// reading a followed JSONL file; newPipeline is the next version: it adds a stateless map
// behind the max, so its state carries over unchanged. Each can take over the other's state.
const (
	oldPipeline = `name: pit-stop-bench
parallelism: 2
sources:
  - uid: sensor-events
    kind: file
    path: events.jsonl
    format: jsonl
    follow: true
    schema: {type: string, room: int, time: int}
operators:
  - uid: latest
    kind: max
    input: sensor-events
    key_by: room
    field: time
sinks:
  - uid: out
    kind: file
    input: latest
    path: out.jsonl
`
	newPipeline = `name: pit-stop-bench
parallelism: 2
sources:
  - uid: sensor-events
    kind: file
    path: events.jsonl
    format: jsonl
    follow: true
    schema: {type: string, room: int, time: int}
operators:
  - uid: latest
    kind: max
    input: sensor-events
    key_by: room
    field: time
  - uid: tagged
    kind: map
    input: latest
    output: {type: string, room: int, time: int}
    fn: "e => ({type: e.type.toUpperCase(), room: e.room, time: e.time})"
sinks:
  - uid: out
    kind: file
    input: tagged
    path: out.jsonl
`
)

// The lines the benchmark reads its numbers from: the pit stop's downtime and the old job's
// savepoint pause on upgrade's stderr, the steps of the hand-over in the new job's log.
var (
	downtimeLine = regexp.MustCompile(`(?m)^downtime: (\d+) ms$`)
	pauseLine    = regexp.MustCompile(`(?m)^Savepoint completed: .*, pause (\d+) ms,`)
	handOverLine = regexp.MustCompile(`(?m)^Took over from job .*: savepoint verified in (\d+) ms, state directory taken (\d+) ms after the savepoint arrived, database opened in (\d+) ms, restored and planned in (\d+) ms, sources started (\d+) ms later \(until planned: (\d+) ms of CPU, (\d+) page faults\)$`)
)

// BenchmarkUpgradeJob1M is the pit stop of a detached job holding 1,000,000 keys:
// `pipectl upgrade NEW --job ID -d`, alternating between two versions, one pit stop per
// iteration. It reports the downtime the command prints (sources stopped to sources started)
// as downtime-ms, and the command's whole wall time as upgrade-ms; and, to show where the
// downtime goes, the old job's savepoint pause (pause-ms), the new job's restore and
// planning (restore-ms) and the rest of its hand-over (verify-ms: the savepoint opened and checked;
// lock-ms: until the old job released the state directory; open-ms: its database opened,
// while the savepoint is verified; start-ms: from the restore's end to the sources reading).
//
// state-dir=default is the plain command, both versions using the pipeline's default state
// directory; state-dir=alternating gives each version its own --state-dir, so the new job
// never waits for the old one to release its state directory.
func BenchmarkUpgradeJob1M(b *testing.B) {
	b.Run("state-dir=default", func(b *testing.B) { benchUpgrade(b, 1_000_000, false) })
	b.Run("state-dir=alternating", func(b *testing.B) { benchUpgrade(b, 1_000_000, true) })
}

// BenchmarkUpgradeJob10M is BenchmarkUpgradeJob1M's default case at 10,000,000 keys; it
// runs only with PIPECTL_BENCH_10M=1 (see envBench10M).
func BenchmarkUpgradeJob10M(b *testing.B) {
	if os.Getenv(envBench10M) != "1" {
		b.Skipf("set %s=1 to run it: it writes ~500 MB of input and loads it for minutes", envBench10M)
	}
	benchUpgrade(b, 10_000_000, false)
}

// pitStopMetrics sums the numbers of the benchmark's pit stops.
type pitStopMetrics struct {
	n                                        int
	downtime, wall                           time.Duration
	pause, restore, verify, lock, open, plan int
}

// add reads one pit stop's numbers from upgrade's stderr and the new job's log.
func (m *pitStopMetrics) add(b *testing.B, stderr, jobLog string, wall time.Duration) {
	b.Helper()
	ms := func(re *regexp.Regexp, text string, group int) int {
		match := re.FindStringSubmatch(text)
		if match == nil {
			b.Fatalf("no line matching %s; upgrade's stderr:\n%s\nthe new job's log:\n%s", re, stderr, jobLog)
		}
		v, _ := strconv.Atoi(match[group])
		return v
	}
	m.n++
	m.wall += wall
	m.downtime += time.Duration(ms(downtimeLine, stderr, 1)) * time.Millisecond
	m.pause += ms(pauseLine, stderr, 1)
	m.restore += ms(handOverLine, jobLog, 4)
	m.verify += ms(handOverLine, jobLog, 1)
	m.lock += ms(handOverLine, jobLog, 2)
	m.open += ms(handOverLine, jobLog, 3)
	m.plan += ms(handOverLine, jobLog, 5)
}

// report reports the means.
func (m *pitStopMetrics) report(b *testing.B) {
	mean := func(v int) float64 { return float64(v) / float64(m.n) }
	b.ReportMetric(mean(int(m.downtime.Milliseconds())), "downtime-ms")
	b.ReportMetric(mean(int(m.wall.Milliseconds())), "upgrade-ms")
	b.ReportMetric(mean(m.pause), "pause-ms")
	b.ReportMetric(mean(m.restore), "restore-ms")
	b.ReportMetric(mean(m.verify), "verify-ms")
	b.ReportMetric(mean(m.lock), "lock-ms")
	b.ReportMetric(mean(m.open), "open-ms")
	b.ReportMetric(mean(m.plan), "start-ms")
}

// benchUpgrade runs the pit stop benchmark on a job holding keys keys, with a --state-dir
// per version when alternate.
func benchUpgrade(b *testing.B, keys int, alternate bool) {
	h := newHarness(b)
	h.writeEvents("events.jsonl", keys)
	versions := []string{h.write("old.yaml", oldPipeline), h.write("new.yaml", newPipeline)}
	args := func(v int) []string {
		a := []string{versions[v], "-d"}
		if alternate {
			a = append(a, "--state-dir", filepath.Join(h.dir, fmt.Sprintf("state-%d", v)))
		}
		return a
	}
	id := h.detach(append([]string{"run"}, args(0)...)...)
	// Loading takes 10–60 s a million keys on a quiet machine; at a load average of 20 a
	// million took 3 minutes, and 10,000,000 keys more than 30 minutes.
	h.waitRecordsIn(id, "latest", int64(keys), max(30*time.Minute, time.Duration(keys/1_000_000)*12*time.Minute))

	var m pitStopMetrics
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		stdout, stderr := h.mustRun(append(append([]string{"upgrade"}, args((i+1)%2)...), "--job", id)...)
		wall := time.Since(start)
		b.StopTimer()
		id = strings.TrimSpace(stdout)
		h.track(id)
		if st := h.status(id); st.Restored == "" {
			b.Fatalf("job %s did not restore a savepoint: %+v", id, st)
		}
		log, _ := os.ReadFile(jobs.PathsOf(h.home, id).Log)
		m.add(b, stderr, string(log), wall)
		b.StartTimer()
	}
	b.StopTimer()
	m.report(b)
}

// harness runs the pipectl binary in a temporary directory with its own PIPECTL_HOME and
// cancels the jobs it started when the benchmark ends.
type harness struct {
	b    *testing.B
	bin  string
	dir  string
	home string
	jobs []string
}

func newHarness(b *testing.B) *harness {
	b.Helper()
	h := &harness{b: b, dir: b.TempDir()}
	// A short home keeps control socket paths within sun_path (b.TempDir's names are long).
	home, err := os.MkdirTemp("", "pb")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(home) })
	h.home = home
	h.bin = filepath.Join(b.TempDir(), "pipectl")
	build := exec.Command("go", "build", "-o", h.bin, "github.com/pipectl/pipectl/cmd/pipectl")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/pipectl: %v\n%s", err, out)
	}
	b.Cleanup(h.cancelAll)
	return h
}

// write writes a file into the working directory and returns its path.
func (h *harness) write(name, content string) string {
	h.b.Helper()
	path := filepath.Join(h.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.b.Fatal(err)
	}
	return path
}

// writeEvents writes n activations of n distinct rooms as JSON lines.
func (h *harness) writeEvents(name string, n int) {
	h.b.Helper()
	f, err := os.Create(filepath.Join(h.dir, name))
	if err != nil {
		h.b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	for i := range n {
		fmt.Fprintf(w, "{\"type\":\"activate\",\"room\":%d,\"time\":%d}\n", i, i)
	}
	if err := w.Flush(); err != nil {
		h.b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		h.b.Fatal(err)
	}
}

// run runs pipectl with args in the working directory.
func (h *harness) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Dir = h.dir
	cmd.Env = append(os.Environ(), "PIPECTL_HOME="+h.home)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// mustRun runs pipectl and fails the benchmark unless it succeeds.
func (h *harness) mustRun(args ...string) (stdout, stderr string) {
	h.b.Helper()
	stdout, stderr, err := h.run(args...)
	if err != nil {
		h.b.Fatalf("pipectl %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

// detach runs a `run -d` command and returns the job id it prints.
func (h *harness) detach(args ...string) string {
	h.b.Helper()
	stdout, _ := h.mustRun(args...)
	id := strings.TrimSpace(stdout)
	h.track(id)
	return id
}

// track remembers a job to cancel at the end.
func (h *harness) track(id string) { h.jobs = append(h.jobs, id) }

// cancelAll cancels every job still running; a job an upgrade stopped is already gone.
func (h *harness) cancelAll() {
	for _, id := range h.jobs {
		if _, err := h.status1(id); err == nil {
			if _, stderr, err := h.run("cancel", id); err != nil {
				h.b.Errorf("cancel %s: %v\n%s", id, err, stderr)
			}
		}
	}
}

// status1 asks a running job for its status once.
func (h *harness) status1(id string) (runtime.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st runtime.Status
	resp, err := jobs.Call(ctx, jobs.PathsOf(h.home, id).Socket, jobs.Request{Op: jobs.OpStatus})
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(resp.Data, &st); err != nil {
		return st, fmt.Errorf("job %s status: %w", id, err)
	}
	return st, nil
}

// status returns a running job's status, failing the benchmark if it does not answer.
func (h *harness) status(id string) runtime.Status {
	h.b.Helper()
	st, err := h.status1(id)
	if err != nil {
		log, _ := os.ReadFile(jobs.PathsOf(h.home, id).Log)
		list, _, _ := h.run("list", "--all", "--output", "json")
		h.b.Fatalf("status of job %s: %v\njob log:\n%s\njobs: %s", id, err, log, list)
	}
	return st
}

// waitRecordsIn polls a job until uid has taken n records in (a job that does not answer is
// polled again until the deadline).
func (h *harness) waitRecordsIn(id, uid string, n int64, timeout time.Duration) {
	h.b.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		// A job is listed just before its control socket serves: the first calls may miss it.
		st, err := h.status1(id)
		for _, c := range st.Records {
			if c.UID == uid && c.In >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				h.status(id) // fails the benchmark with the job's log
			}
			h.b.Fatalf("job %s: %s did not take %d records in within %v", id, uid, n, timeout)
		}
		<-tick.C
	}
}
