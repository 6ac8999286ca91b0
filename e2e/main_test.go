// Package e2e drives the real pipectl binary as a user would: it builds the binary once, then
// runs its commands in temporary directories with their own PIPECTL_HOME, real files, real
// processes, signals, detached jobs and savepoints. Stable outputs are compared with golden
// files under testdata/ (refresh them with `go test ./e2e/ -update` and review the diff).
//
// PIPECTL_E2E_BIN=/path/to/pipectl runs the suite against a prebuilt binary instead.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pipectlBin is the binary under test, built once by TestMain.
var pipectlBin string

// repoRoot is the repository's root directory (the examples live there).
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	repoRoot = root
	if bin := os.Getenv("PIPECTL_E2E_BIN"); bin != "" {
		pipectlBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "pipectl-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	pipectlBin = filepath.Join(dir, "pipectl")
	build := exec.Command("go", "build", "-o", pipectlBin, "./cmd/pipectl")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build ./cmd/pipectl:", err)
		return 2
	}
	return m.Run()
}
