package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/internal/testkit"
)

// motionLines are motion-alarm events from, …, to (excluded), one a line.
func motionLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, `{"type":%q,"room":%d,"time":%d}`+"\n", []string{"activate", "motion", "deactivate", "motion"}[i%4], i%5, i*1000)
	}
	return b.String()
}

// podFiles writes the Kubernetes ConfigMap's pipeline and scripts into the harness, with
// /data and /etc/pipectl moved into the working directory, checkpoints every 200 ms and the
// metrics on a free loopback port; it returns the env the scripts run with (pipectl on PATH).
func podFiles(t *testing.T, h *harness) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "k8s", "configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct{ Data map[string]string }
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	move := strings.NewReplacer("/etc/pipectl/", h.path("etc")+"/", "/data/", h.path("data")+"/",
		"interval: 10s", "interval: 200ms", "0.0.0.0:9249", "127.0.0.1:0")
	for name, text := range cm.Data {
		h.write(filepath.Join("etc", name), move.Replace(text))
	}
	bin := h.path("bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pipectlBin, filepath.Join(bin, "pipectl")); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PIPECTL_HOME="+h.home, "PATH="+bin+":"+os.Getenv("PATH"))
}

// TestDeployPodLifecycle runs the Kubernetes start and preStop scripts for real: a first start
// from nothing, a preStop savepoint, a start that restores it with pipectl upgrade, a kill -9,
// and a start that resumes the checkpoint. The alarms file ends up as one run over all the
// input would write it.
func TestDeployPodLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	env := podFiles(t, h)
	script := func(name string) *exec.Cmd {
		cmd := exec.Command("sh", h.path(filepath.Join("etc", name)))
		cmd.Dir, cmd.Env = h.dir, env
		return cmd
	}
	running := func() string {
		for _, j := range h.list(false) {
			if j.Status == "RUNNING" {
				return j.ID
			}
		}
		return ""
	}
	startPod := func(input string, from, to int) (*proc, string) {
		h.write(filepath.Join("data", "input", input), motionLines(from, to))
		p := h.startCmd(script("start.sh"))
		var id string
		testkit.Eventually(t, 30*time.Second, "the pod's job running", func() bool { id = running(); return id != "" || p.exited() })
		if id == "" {
			t.Fatalf("start.sh ended:\n%s", p.stderr.String())
		}
		h.waitCovered(id, "events", filepath.Join("data", "input", input))
		return p, id
	}

	pod, _ := startPod("events-1.jsonl", 0, 100)
	if out, err := script("stop.sh").CombinedOutput(); err != nil || !strings.Contains(string(out), "savepoint-") {
		t.Fatalf("stop.sh: %v\n%s", err, out)
	}
	if code := pod.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("the pod's job exited %d after preStop:\n%s", code, pod.stderr.String())
	}

	pod, _ = startPod("events-2.jsonl", 100, 200)
	if !strings.Contains(pod.stderr.String(), "0 incompatible") {
		t.Errorf("the second start did not check the savepoint with pipectl upgrade:\n%s", pod.stderr.String())
	}
	cps := filepath.Join(h.home, "state", "motion-alarm", "checkpoints")
	testkit.Eventually(t, 20*time.Second, "a checkpoint", func() bool {
		m, _ := filepath.Glob(filepath.Join(cps, "savepoint-*"))
		return len(m) > 0
	})
	pod.signal(t, syscall.SIGKILL)
	testkit.Eventually(t, 10*time.Second, "the killed job gone", pod.exited)

	pod, _ = startPod("events-3.jsonl", 200, 300)
	if !strings.Contains(pod.stderr.String(), "Resuming from checkpoint") {
		t.Errorf("the start after kill -9 did not resume the checkpoint:\n%s", pod.stderr.String())
	}
	if out, err := script("stop.sh").CombinedOutput(); err != nil {
		t.Fatalf("stop.sh: %v\n%s", err, out)
	}
	pod.wait(t, 30*time.Second)

	// One run over all the input, without follow.
	ref := newHarness(t)
	podFiles(t, ref)
	ref.write(filepath.Join("data", "input", "events-1.jsonl"), motionLines(0, 300))
	ref.write("ref.yaml", strings.Replace(ref.read(filepath.Join("etc", "pipeline.yaml")), "follow: true", "follow: false", 1))
	ref.mustRun(0, "run", "ref.yaml")
	got, want := sortedAll(h.read("data/output/alarms.jsonl")), sortedAll(ref.read("data/output/alarms.jsonl"))
	if got != want || want == "" {
		t.Errorf("the pod's alarms differ from one run's\n--- got\n%s--- want\n%s", got, want)
	}
}

// sortedAll is s's lines sorted (the alarms of two subtasks interleave).
func sortedAll(s string) string {
	lines := nonEmptyLines(s)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
