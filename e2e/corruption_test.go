package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corruption damages one file of a savepoint directory.
type corruption struct {
	name  string
	apply func(path string, data []byte) error
}

// corruptions are the ways each file of a savepoint gets damaged.
var corruptions = []corruption{
	{"flip first byte", flipAt(func(n int) int { return 0 })},
	{"flip middle byte", flipAt(func(n int) int { return n / 2 })},
	{"flip last byte", flipAt(func(n int) int { return n - 1 })},
	{"truncate to empty", truncateTo(func(n int) int { return 0 })},
	{"truncate to half", truncateTo(func(n int) int { return n / 2 })},
	{"cut the last 2 bytes", truncateTo(func(n int) int { return n - 2 })},
	{"append a byte", func(p string, b []byte) error { return os.WriteFile(p, append(b, 'x'), 0o644) }},
	{"delete", func(p string, _ []byte) error { return os.Remove(p) }},
}

func flipAt(pos func(n int) int) func(string, []byte) error {
	return func(p string, b []byte) error {
		b[pos(len(b))] ^= 0x01
		return os.WriteFile(p, b, 0o644)
	}
}

func truncateTo(size func(n int) int) func(string, []byte) error {
	return func(p string, b []byte) error { return os.WriteFile(p, b[:size(len(b))], 0o644) }
}

// TestCorruptSavepointIsRefused damages every file of a savepoint in every way and checks
// that inspect, dump, check-compat and run --from-savepoint refuse it with exit 2, a message on
// stderr and nothing on stdout (no partial restore, no record emitted).
func TestCorruptSavepointIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", 6)
	h.pipeline("motion-alarm.yaml", "v1.yaml", map[string]string{"BACKEND": "memory"})
	sp := finalSavepoint(t, h.mustRun(0, "run", "v1.yaml", "--final-savepoint").stderr)
	// v2 over the whole file would raise alarms if it ran from the savepoint.
	h.motionEvents("events.jsonl", -1)
	h.pipeline("motion-alarm.yaml", "v2.yaml", nil)
	if out := h.mustRun(0, "run", "v2.yaml", "--from-savepoint", sp).stdout; out == "" {
		t.Fatal("the intact savepoint restores to no alarm: the test could not see a partial restore")
	}

	files, err := os.ReadDir(sp)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("savepoint %s holds %d files, want _metadata.json and data files", sp, len(files))
	}
	for _, f := range files {
		for _, c := range corruptions {
			t.Run(f.Name()+"/"+c.name, func(t *testing.T) {
				h := h.in(t)
				dir := h.path(fmt.Sprintf("corrupt-%s-%s", f.Name(), strings.ReplaceAll(c.name, " ", "-")))
				copyDir(t, sp, mkdir(t, dir), "")
				target := filepath.Join(dir, f.Name())
				data, err := os.ReadFile(target)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.apply(target, data); err != nil {
					t.Fatal(err)
				}
				for _, args := range [][]string{
					{"inspect", dir},
					{"inspect", dir, "--output", "json"},
					{"dump", dir, "--uid", "alarm-evaluator"},
					{"check-compat", "v2.yaml", "--savepoint", dir},
					{"run", "v2.yaml", "--from-savepoint", dir},
					{"run", "v2.yaml", "--from-savepoint", filepath.Join(dir, "_metadata.json")},
				} {
					res := h.run(args...)
					if res.code != 2 || res.stdout != "" || !strings.HasPrefix(res.stderr, "error: ") {
						t.Errorf("pipectl %s: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, an error on stderr",
							strings.Join(args, " "), res.code, res.stdout, res.stderr)
					}
				}
			})
		}
	}
}

// mkdir creates dir and returns it.
func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
