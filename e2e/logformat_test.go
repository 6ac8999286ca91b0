package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLogFormatJSON: with --log-format json every line pipectl writes to its log is one JSON
// object, the job's own lines (started, finished, the error of a failed job) included, in the
// foreground on stderr and in a detached job's job.log.
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ok.yaml", `name: logs
sources:
  - uid: numbers
    kind: generator
    fn: "i => ({n: i})"
    count: 3
    schema: {n: int}
sinks:
  - {uid: out, kind: stdout, input: numbers}
`)
	h.write("bad.yaml", `name: logs-bad
sources:
  - {uid: events, kind: file, path: missing.jsonl, schema: {n: int}}
sinks:
  - {uid: out, kind: stdout, input: events}
`)
	type record struct{ Level, Msg string }
	records := func(what, log string) []record {
		t.Helper()
		var out []record
		for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil || r.Msg == "" {
				t.Fatalf("%s: line %q is not a JSON log record (%v); log:\n%s", what, line, err, log)
			}
			out = append(out, r)
		}
		return out
	}
	has := func(rs []record, level, prefix string) bool {
		for _, r := range rs {
			if r.Level == level && strings.HasPrefix(r.Msg, prefix) {
				return true
			}
		}
		return false
	}

	ok := h.mustRun(0, "run", "ok.yaml", "--log-format", "json")
	if rs := records("run", ok.stderr); !has(rs, "INFO", "Job ") ||
		!strings.Contains(ok.stderr, "(logs) started") || !strings.Contains(ok.stderr, " finished") {
		t.Errorf("run: want the started and finished lines as records:\n%s", ok.stderr)
	}
	if got := strings.Count(ok.stdout, "\n"); got != 3 {
		t.Errorf("stdout %q, want the 3 records alone", ok.stdout)
	}

	bad := h.mustRun(1, "run", "bad.yaml", "--log-format", "json")
	if rs := records("failed run", bad.stderr); !has(rs, "ERROR", "error: job ") {
		t.Errorf("failed run: want the error as an ERROR record:\n%s", bad.stderr)
	}

	// A job that fails as it starts: run -d quotes its error, not its started line.
	badD := h.mustRun(1, "run", "-d", "bad.yaml", "--log-format", "json")
	if rs := records("failed run -d", badD.stderr); len(rs) == 0 || rs[0].Level != "ERROR" || !strings.Contains(rs[0].Msg, "missing.jsonl") {
		t.Errorf("failed run -d: want the first record to be the error naming missing.jsonl:\n%s", badD.stderr)
	}

	// A validation warning is a WARN record.
	h.write("nomatch.yaml", strings.Replace(strings.Replace(h.read("bad.yaml"), "missing.jsonl", "nomatch/*.jsonl", 1), "logs-bad", "logs-nomatch", 1))
	warned := h.mustRun(0, "run", "nomatch.yaml", "--log-format", "json")
	if rs := records("warned run", warned.stderr); !has(rs, "WARN", h.path("nomatch.yaml")+":") && !has(rs, "WARN", "nomatch.yaml:") {
		t.Errorf("run with a glob that matches nothing: want its warning as a WARN record:\n%s", warned.stderr)
	}

	id := h.detach("run", "-d", "ok.yaml", "--log-format", "json")
	h.waitEnded(id)
	if rs := records("job.log", h.jobFile(id, "job.log")); !has(rs, "INFO", "Job "+id) {
		t.Errorf("job.log: want the job's own lines as records")
	}
}
