package e2e

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestPipelineTestsOfTheExamples runs `pipectl test examples/` as CI does: every example has
// a test file in examples/tests/, and every test passes.
func TestPipelineTestsOfTheExamples(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range examples {
		test := filepath.Join(filepath.Dir(e), "tests", strings.TrimSuffix(filepath.Base(e), ".yaml")+"_test.yaml")
		if _, err := os.Stat(test); err != nil {
			t.Errorf("example %s has no test file: %v", filepath.Base(e), err)
		}
	}
	h := newHarness(t)
	h.dir = repoRoot
	res := h.mustRun(0, "test", "examples/")
	lines := nonEmptyLines(res.stdout)
	okLine := regexp.MustCompile(`^ok .+ \(\d+ ms\)$`)
	for _, l := range lines[:len(lines)-1] {
		if !okLine.MatchString(l) {
			t.Errorf("not an ok line: %q", l)
		}
	}
	if want := itoa(len(lines)-1) + " passed, 0 failed"; lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
}

// TestPipelineTestsFailing runs a test file whose tests fail: a readable diff per test,
// exit 1, and the same results as JUnit XML.
func TestPipelineTestsFailing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := filepath.Join(repoRoot, "internal", "pipetest", "testdata")
	h.write("failing_test.yaml", readFile(t, filepath.Join(src, "failing_test.yaml")))
	h.write("pipelines/alarm.yaml", readFile(t, filepath.Join(src, "pipelines", "alarm.yaml")))

	res := h.mustRun(1, "test", "failing_test.yaml")
	ms := regexp.MustCompile(`\(\d+ ms\)`)
	testkit.Golden(t, "testdata/pipetest/failing.golden", ms.ReplaceAllString(res.stdout, "(N ms)"))
	if res.stderr != "" {
		t.Errorf("stderr: %s", res.stderr)
	}
	if _, err := os.Stat(h.path("pipelines/alarms.jsonl")); !os.IsNotExist(err) {
		t.Errorf("the file sink of the pipeline was written (%v): a test must not touch it", err)
	}

	res = h.mustRun(1, "test", "--format", "junit", "failing_test.yaml")
	var report struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("not XML: %v\n%s", err, res.stdout)
	}
	if report.Tests != 6 || report.Failures != 5 || len(report.Suites) != 1 || report.Suites[0].Name != "failing_test.yaml" {
		t.Fatalf("report: %+v", report)
	}
	c := report.Suites[0].Cases[1]
	if c.Name != "wrong alarm time" || c.Failure == nil || !strings.Contains(c.Failure.Text, `+ {"type":"ALARM","room":1,"time":2000}`) {
		t.Errorf("testcase %+v", c)
	}
}

// TestPipelineTestsUnreadable: a test file that cannot be read exits 2 with its position.
func TestPipelineTestsUnreadable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p_test.yaml", "pipeline: p.yaml\ntests:\n  - name: a\n    expect: {outptu: {}}\n")
	res := h.mustRun(2, "test", ".")
	if want := `p_test.yaml:4:14: unknown key "outptu" in expect (did you mean "output"?)`; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q lacks %q", res.stderr, want)
	}
	h.mustRun(2, "test", "missing_test.yaml")
}

// readFile returns a file's content, failing the test when it cannot be read.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
