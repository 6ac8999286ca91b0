package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTestCommand(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	failing, err := filepath.Abs("../pipetest/testdata/failing_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed\n\z`)
	cases := []struct {
		name   string
		files  map[string]string // written into the working directory
		args   []string
		code   int
		stdout []string // substrings of stdout
		stderr []string // substrings of stderr
	}{
		{name: "the examples pass", args: []string{"test", examples}, code: 0,
			stdout: []string{"ok motion in an armed room raises an alarm (", " passed, 0 failed\n"}},
		{name: "a failing file", args: []string{"test", failing}, code: 1,
			stdout: []string{"ok passes (", "FAIL wrong alarm time\n", "1 passed, 5 failed\n"}},
		{name: "--run selects", args: []string{"test", failing, "--run", "^passes$"}, code: 0,
			stdout: []string{"1 passed, 0 failed\n"}},
		{name: "an unknown flag", args: []string{"test", "--bogus", failing}, code: 2},
		{name: "--run selecting no test warns", args: []string{"test", "--run", "^nothing$", failing}, code: 0,
			stdout: []string{"0 passed, 0 failed\n"}, stderr: []string{"no test matches"}},
		{name: "junit", args: []string{"test", failing, "--format", "junit"}, code: 1,
			stdout: []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="pipectl test" tests="6" failures="5" errors="0"`}},
		{name: "a bad format", args: []string{"test", "--format", "xml", failing}, code: 2, stderr: []string{"--format must be text or junit"}},
		{name: "a bad regexp", args: []string{"test", "--run", "(", failing}, code: 2, stderr: []string{"--run: error parsing regexp"}},
		{name: "an unknown key", files: map[string]string{"x_test.yaml": "pipeline: p.yaml\ntests:\n  - name: a\n    expect: {}\n    inputs: {}\n"},
			args: []string{"test", "x_test.yaml"}, code: 2,
			stdout: []string{"0 passed, 0 failed\n"},
			stderr: []string{`error: x_test.yaml:5:5: unknown key "inputs" in a test (did you mean "input"?)`}},
		{name: "a missing file", args: []string{"test", "nowhere_test.yaml"}, code: 2,
			stderr: []string{"test file nowhere_test.yaml: no such file or directory"}},
		{name: "a directory without tests", files: map[string]string{"d/p.yaml": "name: p\n"}, args: []string{"test", "d"}, code: 2,
			stderr: []string{"no *_test.yaml file under d"}},
		{name: "an invalid pipeline", files: map[string]string{"p.yaml": "name: p\n", "t_test.yaml": "pipeline: p.yaml\ntests:\n  - {name: a, expect: {}}\n"},
			args: []string{"test"}, code: 1, stdout: []string{"FAIL a\n    t_test.yaml:3: the pipeline is invalid\n    p.yaml:1:1: "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gs, stdout, stderr := testState(t, c.args...)
			for name, content := range c.files {
				writeFile(t, gs, name, content)
			}
			code := Main(gs)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			for _, s := range c.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if c.code != 2 && !strings.Contains(c.name, "junit") && !summary.MatchString(stdout.String()) {
				t.Errorf("the last line of stdout is not `N passed, M failed`:\n%s", stdout)
			}
		})
	}
}
