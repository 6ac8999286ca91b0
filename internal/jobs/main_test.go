package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the child process of the tests that need a
// real process to die: with childEnv set, TestMain runs that child mode
// instead of the tests.
const (
	childEnv     = "PIPECTL_JOBS_TEST_CHILD"
	childHomeEnv = "PIPECTL_JOBS_TEST_HOME"
	childIDEnv   = "PIPECTL_JOBS_TEST_ID"
	// markerFile is written into the job dir by the "serve" child when a
	// savepoint request has arrived.
	markerFile = "got-request"
	// childLifetime is a safety net: a child no test killed exits by itself.
	childLifetime = 2 * time.Minute
	// testWait bounds every poll in the tests.
	testWait = 10 * time.Second
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		err := runChild(mode)
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// exitCode is a child error that sets the child's exit code.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// runChild plays one child mode, configured by the child*Env variables.
func runChild(mode string) error {
	home, id := os.Getenv(childHomeEnv), os.Getenv(childIDEnv)
	info := Info{ID: id, Name: "child-" + mode, Pipeline: "/p/" + mode + ".yaml"}
	switch mode {
	case "create": // a running job until killed
		if _, err := Create(home, info, []byte("name: child\n")); err != nil {
			return err
		}
	case "finish": // a job that ends well at once
		j, err := Create(home, info, nil)
		if err != nil {
			return err
		}
		if err := j.SetStatus(StatusFinished, Extra{}); err != nil {
			return err
		}
		return j.Close()
	case "fail": // a run that fails before its job exists
		fmt.Fprintln(os.Stderr, "starting")
		fmt.Fprintln(os.Stderr, "boom: pipeline.yaml:3:5: unknown operator")
		return exitCode(3)
	case "serve": // a job whose savepoints never finish
		j, err := Create(home, info, nil)
		if err != nil {
			return err
		}
		if _, err := Serve(j.SocketPath(), HandlerFunc(func(ctx context.Context, req Request) Response {
			if req.Op == OpSavepoint {
				_ = os.WriteFile(filepath.Join(j.Dir(), markerFile), nil, 0o600)
				<-ctx.Done()
			}
			return Response{OK: true}
		})); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown child mode %q", mode)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	select {
	case <-sig:
	case <-time.After(childLifetime):
	}
	return nil
}

// childEnviron is the environment of a child in mode.
func childEnviron(mode, home, id string) []string {
	return append(os.Environ(), childEnv+"="+mode, childHomeEnv+"="+home, childIDEnv+"="+id)
}

// startChild starts the test binary as a child in mode; the test's cleanup
// kills it.
func startChild(t *testing.T, mode, home, id string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = childEnviron(mode, home, id)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// killChild kills cmd with SIGKILL and reaps it.
func killChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// netDialer dials raw connections in tests.
var netDialer net.Dialer

// timeZero asks Create for the current time.
var timeZero time.Time
