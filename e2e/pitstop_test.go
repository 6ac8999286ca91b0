package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// pitStopV1 is a bounded, paced job with keyed state: a running sum per key into a file sink,
// so that a record lost or counted twice across the pit stop changes the output. It runs for
// 12 s, so that a pit stop on a busy machine still finds it running. pitStopV2 is
// its next version: the same sums through a filter that keeps every record, so its output
// equals v1's and its state carries over unchanged.
const (
	pitStopV1 = `name: pit-stop
parallelism: 2
sources:
  - uid: numbers
    kind: generator
    count: 6000
    rate: 500
    schema: {id: int, k: int}
    fn: "i => ({id: i, k: i % 7})"
operators:
  - uid: sums
    kind: sum
    input: numbers
    key_by: k
    field: id
sinks:
  - uid: out
    kind: file
    path: out.jsonl
    input: sums
`
	pitStopV2 = `name: pit-stop
parallelism: 2
sources:
  - uid: numbers
    kind: generator
    count: 6000
    rate: 500
    schema: {id: int, k: int}
    fn: "i => ({id: i, k: i % 7})"
operators:
  - uid: sums
    kind: sum
    input: numbers
    key_by: k
    field: id
  - uid: all
    kind: filter
    input: sums
    fn: "e => true"
sinks:
  - uid: out
    kind: file
    path: out.jsonl
    input: all
`
)

// downtimeLine is the pit stop's `downtime: N ms` line.
var downtimeLine = regexp.MustCompile(`(?m)^downtime: \d+ ms$`)

// pitStopWorld writes both versions and starts v1 detached; it returns once v1 has written
// some output, so that the pit stop happens while it runs.
func pitStopWorld(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	h.write("v1.yaml", pitStopV1)
	h.write("v2.yaml", pitStopV2)
	id := h.detach("run", "-d", "v1.yaml")
	testkit.Eventually(t, 20*time.Second, "v1's first output", func() bool { return len(h.read("out.jsonl")) > 0 })
	return h, id
}

// lockWatch records, by polling /proc/locks, which processes hold a file's flock.
type lockWatch struct {
	inode string
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	most    int   // the most holders seen at once
	holders []int // each holder, in the order they were first seen
}

// watchLock starts watching the flock on path (which must exist).
func watchLock(t *testing.T, path string) *lockWatch {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	w := &lockWatch{inode: ":" + strconv.FormatUint(st.Ino, 10) + " ", stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			w.sample()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// sample reads /proc/locks twice and counts as holding the lock at once only the processes
// both reads show: the kernel lists a few KiB of locks per read, so one reading of a long list
// (the parallel tests' locks) can see the old holder in its first part and the new one in its
// second, during a hand-over that never overlapped.
func (w *lockWatch) sample() {
	first, ok := w.read()
	if !ok {
		return
	}
	again, _ := w.read()
	var both int
	for _, pid := range first {
		if slices.Contains(again, pid) {
			both++
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.most = max(w.most, both)
	for _, pid := range first {
		if len(w.holders) == 0 || w.holders[len(w.holders)-1] != pid {
			w.holders = append(w.holders, pid)
		}
	}
}

// read returns the pids that /proc/locks lists as holding the watched file's flock. It reads
// the file in one read call: the kernel lists the locks consistently within one call only, and
// os.ReadFile's small first reads could show the lock's old holder and its new one together.
func (w *lockWatch) read() ([]int, bool) {
	f, err := os.Open("/proc/locks")
	if err != nil {
		return nil, false
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n, err := f.Read(buf)
	if err != nil {
		return nil, false
	}
	b := buf[:n]
	var pids []int
	for _, line := range strings.Split(string(b), "\n") {
		// "1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF"
		fields := strings.Fields(line)
		if len(fields) < 6 || fields[1] != "FLOCK" || !strings.Contains(fields[5]+" ", w.inode) {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, true
}

// finish stops watching and returns the most holders seen at once and the holders in order.
func (w *lockWatch) finish() (int, []int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most, w.holders
}

// TestPitStop is upgrade --job with the new job prepared before the old one stops: the state
// and the read position carry over (the output equals a run that was never upgraded), the
// state directory's lock passes from the old job's process to the new one's and is never held
// by both, and the old job ends STOPPED.
func TestPitStop(t *testing.T) {
	t.Parallel()
	want := referenceOutput(t, pitStopV1)
	for _, detached := range []bool{true, false} {
		name := map[bool]string{true: "detached", false: "foreground"}[detached]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, old := pitStopWorld(t)
			oldInfo, _ := h.jobInfo(old)
			watch := watchLock(t, h.home+"/state/pit-stop/.lock")
			var id, stderr string
			if detached {
				res := h.mustRun(0, "upgrade", "v2.yaml", "--job", old, "-d")
				id, stderr = strings.TrimSuffix(res.stdout, "\n"), res.stderr
				if !jobIDPattern.MatchString(id) {
					t.Fatalf("upgrade -d: stdout %q, want the new job id alone", res.stdout)
				}
				h.cleanupJob(id)
				if st := h.waitEnded(id); st != "FINISHED" {
					t.Errorf("new job: %s, want FINISHED\n%s", st, h.jobFile(id, "job.log"))
				}
			} else {
				up := h.start("upgrade", "v2.yaml", "--job", old)
				if code := up.wait(t, commandTimeout); code != 0 {
					t.Fatalf("upgrade: exit %d\n%s", code, up.stderr.String())
				}
				stderr = up.stderr.String()
				if m := regexp.MustCompile(`(?m)^Job ([0-9a-f]{32}) \(pit-stop\) started$`).FindStringSubmatch(stderr); m != nil {
					id = m[1]
				}
			}
			most, holders := watch.finish()
			if !downtimeLine.MatchString(stderr) {
				t.Errorf("no `downtime: N ms` line on stderr:\n%s", stderr)
			}
			if !strings.Contains(stderr, "Took over from job "+old+": ") && !strings.Contains(h.jobFile(id, "job.log"), "Took over from job "+old+": ") {
				t.Errorf("the new job does not report its hand-over from %s:\n%s", old, stderr)
			}
			if st := h.waitEnded(old); st != "STOPPED" {
				t.Errorf("old job: %s, want STOPPED", st)
			}
			newInfo, ok := h.jobInfo(id)
			if !ok {
				t.Fatalf("no job.json for the new job %q\n%s", id, stderr)
			}
			if most > 1 {
				t.Errorf("the state directory's lock was held by %d processes at once (holders in order: %v)", most, holders)
			}
			if len(holders) < 2 || holders[0] != oldInfo.PID || holders[len(holders)-1] != newInfo.PID {
				t.Errorf("state directory lock holders %v, want the old job's process %d, then the new one's %d", holders, oldInfo.PID, newInfo.PID)
			}
			if got := sortedLines(h.read("out.jsonl")); got != want {
				t.Errorf("after the pit stop the sink holds\n%s\na run without it\n%s", got, want)
			}
			// The old job stopped incrementally: a savepoint while it ran, then the stop's as a
			// delta of it; only the stop's is left.
			if log := h.jobFile(old, "job.log"); !strings.Contains(log, "savepoint before the stop: ") {
				t.Errorf("the old job took no savepoint before its stop:\n%s", log)
			}
			if left, _ := filepath.Glob(filepath.Join(h.home, "savepoints", "savepoint-*")); len(left) != 1 {
				t.Errorf("savepoints left: %v, want the stop's alone", left)
			}
		})
	}
}

// TestPitStopMetricsAddress: the new job serves its metrics on the old job's address, which
// the old job still holds when the new one starts.
func TestPitStopMetricsAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarness(t)
	h.write("v1.yaml", pitStopV1)
	h.write("v2.yaml", pitStopV2)
	old := h.detach("run", "-d", "v1.yaml", "--metrics-addr", addr)
	res := h.mustRun(0, "upgrade", "v2.yaml", "--job", old, "-d", "--metrics-addr", addr)
	id := strings.TrimSuffix(res.stdout, "\n")
	h.cleanupJob(id)
	resp, err := http.Get("http://" + addr + "/job")
	if err != nil {
		t.Fatalf("the new job serves no metrics on %s: %v\n%s", addr, err, h.jobFile(id, "job.log"))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), id) {
		t.Errorf("GET /job: %s %s, want the new job %s", resp.Status, body, id)
	}
}

// TestPitStopRefusedBeforeStop: what makes the new job fail to start is found before the old
// job stops: the old job keeps running, no savepoint is written, no new job is recorded.
func TestPitStopRefusedBeforeStop(t *testing.T) {
	t.Parallel()
	busySink := strings.Replace(pitStopV2, "path: out.jsonl", "path: other.jsonl", 1)
	other := strings.Replace(strings.Replace(pitStopV1, "name: pit-stop", "name: other", 1), "path: out.jsonl", "path: other.jsonl", 1)
	// The key becomes a string: the int-keyed sums cannot be restored.
	incompatible := strings.NewReplacer("k: int}", "k: string}", "k: i % 7", "k: 'k' + i % 7").Replace(pitStopV2)
	tests := []struct {
		name, file string
		args       []string
		want       string // in the error
	}{
		{name: "incompatible", file: incompatible, want: "cannot take over the state"},
		{name: "incompatible detached", file: incompatible, args: []string{"-d"}, want: "cannot take over the state"},
		{name: "file sink of another job", file: busySink, args: []string{"-d"}, want: "file sink "},
		{name: "file sink of another job, foreground", file: busySink, want: "file sink "},
		{name: "state directory of another job", file: pitStopV2, args: []string{"-d", "--state-dir", "@OTHER@"}, want: "is in use by running job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, old := pitStopWorld(t)
			h.write("other.yaml", other)
			third := h.detach("run", "-d", "other.yaml")
			h.write("new.yaml", tt.file)
			args := []string{"upgrade", "new.yaml", "--job", old}
			for _, a := range tt.args {
				args = append(args, strings.Replace(a, "@OTHER@", h.home+"/state/other", 1))
			}
			res := h.mustRun(1, args...)
			if !strings.Contains(res.stderr, tt.want) || res.stdout != "" {
				t.Errorf("stdout %q, stderr:\n%s\nwant nothing on stdout and an error with %q", res.stdout, res.stderr, tt.want)
			}
			if strings.Contains(res.stderr, "Stopping job") {
				t.Errorf("the old job was asked to stop:\n%s", res.stderr)
			}
			var running []string
			for _, j := range h.list(true) {
				if j.ID != old && j.ID != third {
					t.Errorf("a job was recorded: %+v", j)
				}
				if j.Status == "RUNNING" {
					running = append(running, j.ID)
				}
			}
			if len(running) != 2 {
				t.Errorf("running jobs %v, want the old job %s and the other %s", running, old, third)
			}
			if entries, _ := os.ReadDir(h.home + "/savepoints"); len(entries) != 0 {
				t.Errorf("a savepoint was written: %d entries", len(entries))
			}
			if entries, _ := os.ReadDir(h.home + "/jobs"); len(entries) != 2 {
				t.Errorf("%d job folders, want those of the two running jobs", len(entries))
			}
		})
	}
}

// TestPitStopRollback: a new job that fails after the old one stopped restarts the old
// pipeline from the same savepoint; the restarted job carries the state over, so the output
// still equals a run that was never stopped.
func TestPitStopRollback(t *testing.T) {
	t.Parallel()
	want := referenceOutput(t, pitStopV1)
	// A new version whose function throws on its first record fails as soon as it runs.
	throwing := strings.Replace(pitStopV2, `fn: "e => true"`, `fn: "e => { throw new Error('v2 bug') }"`, 1)
	tests := []struct {
		name, fault string
		v2          string // the new pipeline, when not pitStopV2
		detached    bool
	}{
		{name: "detached, the new job fails", fault: "fail", detached: true},
		{name: "detached, the new job is killed", fault: "kill", detached: true},
		{name: "foreground, the new job fails", fault: "fail"},
		{name: "detached, the new job fails on its first record", v2: throwing, detached: true},
		{name: "foreground, the new job fails on its first record", v2: throwing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, old := pitStopWorld(t)
			if tt.v2 != "" {
				h.write("v2.yaml", tt.v2)
			}
			args := []string{"upgrade", "v2.yaml", "--job", old}
			if tt.detached {
				args = append(args, "-d")
			}
			var env []string
			if tt.fault != "" {
				env = []string{"PIPECTL_FAULT_STANDBY=" + tt.fault}
			}
			res := h.must(1, h.runEnv(env, args...))
			m := regexp.MustCompile(`the old pipeline was restarted from (\S+) as job ([0-9a-f]{32})`).FindStringSubmatch(res.stderr)
			if m == nil {
				t.Fatalf("upgrade does not say the old pipeline was restarted:\n%s", res.stderr)
			}
			restarted := m[2]
			h.cleanupJob(restarted)
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			if st := h.waitEnded(restarted); st != "FINISHED" {
				t.Errorf("restarted job: %s, want FINISHED\n%s", st, h.jobFile(restarted, "job.log"))
			}
			if log := h.jobFile(restarted, "job.log"); !strings.Contains(log, "Restored ") || !strings.Contains(log, m[1]) {
				t.Errorf("the restarted job did not restore %s:\n%s", m[1], log)
			}
			if got := sortedLines(h.read("out.jsonl")); got != want {
				t.Errorf("after the rollback the sink holds\n%s\na run without it\n%s", got, want)
			}
		})
	}
}
