package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestSavepointsFromUntrustedHands: dispose deletes only a savepoint, and nothing of one that
// holds more than its metadata names; a named pipe as _metadata.json is refused at once
// (exit 2), not read forever; a hidden directory left by a writer killed mid-write is removed
// by the next savepoint into the same directory.
func TestSavepointsFromUntrustedHands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	res := h.mustRun(0, "run", "p.yaml", "--final-savepoint", "--savepoint-dir", "sps")
	sp := regexp.MustCompile(`(?m)^savepoint: (\S+)$`).FindStringSubmatch(res.stderr)
	if sp == nil {
		t.Fatalf("no savepoint line:\n%s", res.stderr)
	}
	precious := filepath.Join(sp[1], "precious.txt")
	h.write(precious, "mine\n")
	h.mustRun(2, "savepoint", "--dispose", sp[1])
	if h.read(precious) != "mine\n" || h.read(filepath.Join(sp[1], "_metadata.json")) == "" {
		t.Fatal("a refused dispose deleted files")
	}
	if err := os.Remove(precious); err != nil {
		t.Fatal(err)
	}

	fifo := h.path("fifo-sp")
	if err := os.MkdirAll(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(fifo, "_metadata.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"inspect", fifo}, {"run", "p.yaml", "--from-savepoint", fifo}} {
		if res := h.mustRun(2, args...); !strings.Contains(res.stderr, "not a regular file but a named pipe") {
			t.Errorf("pipectl %s: %s", args[0], res.stderr)
		}
	}

	stale := h.path("sps/.savepoint-0a1b2c-000000000000")
	h.write(filepath.Join(stale, "state-0001.bin"), "half written")
	h.mustRun(0, "run", "p.yaml", "--final-savepoint", "--savepoint-dir", "sps")
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale hidden directory is still there: %v", err)
	}
	h.mustRun(0, "savepoint", "--dispose", sp[1])
	if _, err := os.Stat(sp[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the savepoint is still there after dispose: %v", err)
	}
}
