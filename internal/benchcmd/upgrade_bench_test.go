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

// upgradeKeys is the number of keys the upgraded job holds.
const upgradeKeys = 1_000_000

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

// downtimeLine is the pit stop's report of its downtime on stderr.
var downtimeLine = regexp.MustCompile(`(?m)^downtime: (\d+) ms$`)

// BenchmarkUpgradeJob1M is the pit stop of a detached job holding 1,000,000 keys:
// `pipectl upgrade NEW --job ID -d`, alternating between two versions, one pit stop per
// iteration. It reports the downtime the command prints (sources stopped to sources started)
// as downtime-ms, and the command's whole wall time as upgrade-ms.
//
// state-dir=default is the plain command, both versions using the pipeline's default state
// directory; state-dir=alternating gives each version its own --state-dir, so the new job
// never waits for the old one to release its state directory.
func BenchmarkUpgradeJob1M(b *testing.B) {
	b.Run("state-dir=default", func(b *testing.B) { benchUpgrade(b, false) })
	b.Run("state-dir=alternating", func(b *testing.B) { benchUpgrade(b, true) })
}

// benchUpgrade runs the pit stop benchmark, with a --state-dir per version when alternate.
func benchUpgrade(b *testing.B, alternate bool) {
	h := newHarness(b)
	h.writeEvents("events.jsonl", upgradeKeys)
	versions := []string{h.write("old.yaml", oldPipeline), h.write("new.yaml", newPipeline)}
	args := func(v int) []string {
		a := []string{versions[v], "-d"}
		if alternate {
			a = append(a, "--state-dir", filepath.Join(h.dir, fmt.Sprintf("state-%d", v)))
		}
		return a
	}
	id := h.detach(append([]string{"run"}, args(0)...)...)
	h.waitRecordsIn(id, "latest", upgradeKeys, 10*time.Minute)

	var downtime, wall time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		stdout, stderr := h.mustRun(append(append([]string{"upgrade"}, args((i+1)%2)...), "--job", id)...)
		wall += time.Since(start)
		b.StopTimer()
		m := downtimeLine.FindStringSubmatch(stderr)
		if m == nil {
			b.Fatalf("upgrade printed no downtime line; stderr:\n%s", stderr)
		}
		ms, _ := strconv.Atoi(m[1])
		downtime += time.Duration(ms) * time.Millisecond
		id = strings.TrimSpace(stdout)
		h.track(id)
		if st := h.status(id); st.Restored == "" {
			b.Fatalf("job %s did not restore a savepoint: %+v", id, st)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(downtime.Milliseconds())/float64(b.N), "downtime-ms")
	b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "upgrade-ms")
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

// waitRecordsIn polls a job until uid has taken n records in.
func (h *harness) waitRecordsIn(id, uid string, n int64, timeout time.Duration) {
	h.b.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, c := range h.status(id).Records {
			if c.UID == uid && c.In >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			h.b.Fatalf("job %s: %s did not take %d records in within %v", id, uid, n, timeout)
		}
		<-tick.C
	}
}
