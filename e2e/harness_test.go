package e2e

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// commandTimeout bounds every pipectl command that is expected to return by itself.
const commandTimeout = 60 * time.Second

// jobIDPattern is a job id: 32 lowercase hex characters.
var jobIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// harness is one test's world: a working directory with its pipelines and data files, and a
// PIPECTL_HOME of its own.
type harness struct {
	t    *testing.T
	dir  string // working directory of every command
	home string // PIPECTL_HOME
	// env is what bindEnv bound to each pipeline file, by absolute path.
	env map[string]fileEnv
}

// fileEnv is the environment a pipeline file is run with.
type fileEnv struct {
	reads []string          // every variable the file reads with ${NAME} or ${NAME:-default}
	set   map[string]string // the values a test gives some of them
}

// newHarness makes a fresh working directory and PIPECTL_HOME for t.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: filepath.Join(dir, "work"), home: filepath.Join(dir, "home"), env: map[string]fileEnv{}}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// in is the same world seen from another test (a subtest), which then owns its failures and
// clean-ups.
func (h *harness) in(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

// path is name inside the working directory (an absolute name is kept).
func (h *harness) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(h.dir, name)
}

// write creates the file name in the working directory and returns its path.
func (h *harness) write(name, content string) string {
	h.t.Helper()
	p := h.path(name)
	testkit.WriteFile(h.t, p, content)
	return p
}

// read returns the content of a file ("" when it does not exist).
func (h *harness) read(name string) string {
	h.t.Helper()
	b, err := os.ReadFile(h.path(name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.t.Fatal(err)
	}
	return string(b)
}

// appendLines appends lines (each gets its newline) to a file.
func (h *harness) appendLines(name string, lines ...string) {
	h.t.Helper()
	f, err := os.OpenFile(h.path(name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		h.t.Fatal(err)
	}
}

// pipeline copies testdata/pipelines/<src> into the working directory as name and returns its
// path. Those files read what tests vary (PAR, BACKEND, SOURCE, FOLLOW, SINK) as
// ${NAME:-default}: vars gives some of them a value for every command that names the file
// (bindEnv), and pipectl's own substitution does the rest.
func (h *harness) pipeline(src, name string, vars map[string]string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pipelines", src))
	if err != nil {
		h.t.Fatal(err)
	}
	p := h.write(name, string(b))
	h.bindEnv(p, vars)
	return p
}

// envRefRE is a variable reference in a pipeline file; group 1 is the name.
var envRefRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// bindEnv makes every later command with the pipeline file name among its arguments run with
// vars in its environment. A name in vars that the file does not read fails the test (it
// would silently change nothing).
func (h *harness) bindEnv(name string, vars map[string]string) {
	h.t.Helper()
	p := h.path(name)
	var fe fileEnv
	for _, m := range envRefRE.FindAllStringSubmatch(h.read(p), -1) {
		if !slices.Contains(fe.reads, m[1]) {
			fe.reads = append(fe.reads, m[1])
		}
	}
	for k := range vars {
		if !slices.Contains(fe.reads, k) {
			h.t.Fatalf("%s reads no ${%s} (it reads %v)", name, k, fe.reads)
		}
	}
	fe.set = maps.Clone(vars)
	h.env[p] = fe
}

// environ is the environment of a pipectl command: the test's own without the variables any
// bound pipeline file reads (so that they cannot leak in), PIPECTL_HOME, and the values bound
// to the pipeline files among args.
func (h *harness) environ(args []string) []string {
	h.t.Helper()
	read := map[string]bool{}
	for _, fe := range h.env {
		for _, name := range fe.reads {
			read[name] = true
		}
	}
	set := map[string]string{}
	for _, a := range args {
		for k, v := range h.env[h.path(a)].set {
			if prev, ok := set[k]; ok && prev != v {
				h.t.Fatalf("pipectl %v: %s is %q for one pipeline file and %q for another", args, k, prev, v)
			}
			set[k] = v
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !read[name] {
			env = append(env, kv)
		}
	}
	env = append(env, "PIPECTL_HOME="+h.home)
	for _, k := range slices.Sorted(maps.Keys(set)) {
		env = append(env, k+"="+set[k])
	}
	return env
}

// motionEvents copies the repository's testdata/motion-events.jsonl into the working
// directory as name, keeping only its first n lines (n < 0: all of them).
func (h *harness) motionEvents(name string, n int) []string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "motion-events.jsonl"))
	if err != nil {
		h.t.Fatal(err)
	}
	lines := nonEmptyLines(string(b))
	if n >= 0 {
		lines = lines[:n]
	}
	h.write(name, strings.Join(lines, "\n")+"\n")
	return lines
}

// result is what a finished command left behind.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

// command builds an exec.Cmd for pipectl with this harness's directory and home.
func (h *harness) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, pipectlBin, args...)
	cmd.Dir = h.dir
	cmd.Env = h.environ(args)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs pipectl to completion and returns its outputs and exit code.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runWithin(commandTimeout, args...)
}

// runWithin is run with another deadline than commandTimeout (a job that processes hundreds
// of thousands of records on a machine that may be busy).
func (h *harness) runWithin(timeout time.Duration, args ...string) result {
	h.t.Helper()
	return h.runCmd(timeout, nil, args)
}

// runEnv is run with extra NAME=VALUE variables in the command's environment (a test-only
// fault hook, a limit).
func (h *harness) runEnv(env []string, args ...string) result {
	h.t.Helper()
	return h.runCmd(commandTimeout, env, args)
}

// runCmd runs pipectl to completion within timeout, env added to its environment.
func (h *harness) runCmd(timeout time.Duration, env, args []string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := h.command(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		res.code = exit.ExitCode()
	default:
		h.t.Fatalf("pipectl %s: %v\nstderr:\n%s", strings.Join(args, " "), err, res.stderr)
	}
	return res
}

// mustRun runs pipectl and fails the test unless it exits with want.
func (h *harness) mustRun(want int, args ...string) result {
	h.t.Helper()
	return h.must(want, h.run(args...))
}

// must fails the test unless the command of res exited with want; it returns res.
func (h *harness) must(want int, res result) result {
	h.t.Helper()
	if res.code != want {
		h.t.Fatalf("pipectl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(res.args, " "), res.code, want, res.stdout, res.stderr)
	}
	return res
}

// detach runs `pipectl ARGS` (which must include -d), checks that it printed a job id alone
// on stdout, and cancels the job when the test ends if it is still running.
func (h *harness) detach(args ...string) string {
	h.t.Helper()
	res := h.mustRun(0, args...)
	id := strings.TrimSuffix(res.stdout, "\n")
	if !jobIDPattern.MatchString(id) {
		h.t.Fatalf("pipectl %s: stdout %q, want a job id alone", strings.Join(args, " "), res.stdout)
	}
	h.cleanupJob(id)
	return id
}

// cleanupJob makes sure the job's process is gone when the test ends: it is cancelled, and
// killed (by its own pid) if it does not end.
func (h *harness) cleanupJob(id string) {
	h.t.Cleanup(func() {
		info, ok := h.jobInfo(id)
		if !ok || !processAlive(info.PID) {
			return
		}
		h.run("cancel", id)
		if !testkit.Poll(10*time.Second, func() bool { return !processAlive(info.PID) }) {
			_ = syscall.Kill(info.PID, syscall.SIGKILL)
		}
	})
}

// processAlive reports whether a process with this pid exists (and is not a zombie we own).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// jobDir is the folder of a job under PIPECTL_HOME.
func (h *harness) jobDir(id string) string { return filepath.Join(h.home, "jobs", id) }

// jobFile reads a file of a job's folder ("" when absent).
func (h *harness) jobFile(id, name string) string {
	h.t.Helper()
	return h.read(filepath.Join(h.jobDir(id), name))
}

// proc is a pipectl process running in the background (a foreground `run` or `upgrade`).
type proc struct {
	cmd    *exec.Cmd
	stdout testkit.Buffer
	stderr testkit.Buffer
	done   chan struct{}
	err    error
}

// start starts pipectl in the background; the process is killed when the test ends if it
// is still running.
func (h *harness) start(args ...string) *proc {
	h.t.Helper()
	return h.startCmd(h.command(context.Background(), args...))
}

// startCmd starts cmd in the background like start.
func (h *harness) startCmd(cmd *exec.Cmd) *proc {
	h.t.Helper()
	p := &proc{done: make(chan struct{}), cmd: cmd}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	h.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("pipectl %v still running after %v\nstderr:\n%s", p.cmd.Args[1:], timeout, p.stderr.String())
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit) && exit.Exited():
		return exit.ExitCode()
	}
	t.Fatalf("pipectl %v: %v", p.cmd.Args[1:], p.err)
	return -1
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
