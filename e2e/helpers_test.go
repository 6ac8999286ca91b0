package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

func itoa(i int) string { return strconv.Itoa(i) }

// nonEmptyLines splits s into lines, dropping empty ones.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// sortedLines is s's non-empty lines sorted, joined with newlines (a trailing one included).
// Output order is guaranteed per key only, so multi-key outputs are compared sorted.
func sortedLines(s string) string {
	lines := nonEmptyLines(s)
	slices.Sort(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// normalisers replace what changes from run to run with stable placeholders.
var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`savepoint-[0-9a-f]{6}-[0-9a-f]{12}`), "savepoint-<SP>"},
	{regexp.MustCompile(`\b[0-9a-f]{32}\b`), "<JOB>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<TIME>"},
	{regexp.MustCompile(`\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d`), "<TIME>"},
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<SUM>"},
}

// normalise makes an output stable: the harness's directories become <DIR> and <HOME>, ids,
// savepoint names, times and checksums become placeholders.
func (h *harness) normalise(s string) string {
	s = strings.ReplaceAll(s, h.home, "<HOME>")
	s = strings.ReplaceAll(s, h.dir, "<DIR>")
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// canonicalJSON re-encodes a JSON document with sorted keys, two-space indentation and no
// HTML escaping, so that golden files compare content, not formatting.
func canonicalJSON(t *testing.T, doc string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// jobInfo is the part of a job's job.json the tests look at.
type jobInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Pipeline  string `json:"pipeline"`
	PID       int    `json:"pid"`
	Status    string `json:"status"`
	Started   string `json:"started"`
	Savepoint string `json:"savepoint"`
}

// jobInfo reads a job's job.json; ok is false when it does not exist (yet).
func (h *harness) jobInfo(id string) (jobInfo, bool) {
	b, err := os.ReadFile(filepath.Join(h.jobDir(id), "job.json"))
	if err != nil {
		return jobInfo{}, false
	}
	var info jobInfo
	if json.Unmarshal(b, &info) != nil {
		return jobInfo{}, false
	}
	return info, true
}

// list runs `pipectl list --output json` (with --all when all) and returns the jobs.
func (h *harness) list(all bool) []jobInfo {
	h.t.Helper()
	args := []string{"list", "--output", "json"}
	if all {
		args = append(args, "--all")
	}
	res := h.mustRun(0, args...)
	var jobs []jobInfo
	if err := json.Unmarshal([]byte(res.stdout), &jobs); err != nil {
		h.t.Fatalf("pipectl list --output json: %v\n%s", err, res.stdout)
	}
	return jobs
}

// status is a job's status as `list --all --output json` shows it ("" when not listed).
func (h *harness) status(id string) string {
	h.t.Helper()
	for _, j := range h.list(true) {
		if j.ID == id {
			return j.Status
		}
	}
	return ""
}

// waitEnded waits until the job's process has exited and returns its final status.
func (h *harness) waitEnded(id string) string {
	h.t.Helper()
	info, ok := h.jobInfo(id)
	if !ok {
		h.t.Fatalf("job %s has no job.json", id)
	}
	testkit.Eventually(h.t, 20*time.Second, "the job's process gone", func() bool { return !processAlive(info.PID) })
	return h.status(id)
}

// savepointInfo is the part of `inspect --output json` the tests look at.
type savepointInfo struct {
	ID             string `json:"id"`
	JobID          string `json:"job_id"`
	Pipeline       string `json:"pipeline"`
	Trigger        string `json:"trigger"`
	MaxParallelism int    `json:"max_parallelism"`
	Operators      []struct {
		UID         string           `json:"uid"`
		Kind        string           `json:"kind"`
		Parallelism int              `json:"parallelism"`
		Offsets     map[string]int64 `json:"offsets"`
		States      []struct {
			Name    string `json:"name"`
			Kind    string `json:"kind"`
			Schema  string `json:"schema"`
			KeyType string `json:"key_type"`
			Entries int    `json:"entries"`
			Bytes   int    `json:"bytes"`
		} `json:"states"`
	} `json:"operators"`
}

// inspect runs `pipectl inspect SP --output json`.
func (h *harness) inspect(sp string) savepointInfo {
	h.t.Helper()
	res := h.mustRun(0, "inspect", sp, "--output", "json")
	var info savepointInfo
	if err := json.Unmarshal([]byte(res.stdout), &info); err != nil {
		h.t.Fatalf("pipectl inspect --output json: %v\n%s", err, res.stdout)
	}
	return info
}

// offset is the byte offset a savepoint holds for file under the source uid (-1: none).
func (h *harness) offset(sp, uid, file string) int64 {
	h.t.Helper()
	for _, op := range h.inspect(sp).Operators {
		if op.UID == uid {
			if off, ok := op.Offsets[h.path(file)]; ok {
				return off
			}
		}
	}
	return -1
}

// savepointPath checks that a command printed a savepoint path alone on stdout and returns it.
func (h *harness) savepointPath(res result) string {
	h.t.Helper()
	sp := strings.TrimSuffix(res.stdout, "\n")
	if sp == "" || strings.Contains(sp, "\n") {
		h.t.Fatalf("pipectl %v: stdout %q, want a savepoint path alone", res.args, res.stdout)
	}
	if !regexp.MustCompile(`/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$`).MatchString(sp) {
		h.t.Errorf("savepoint path %q is not named savepoint-<6 hex>-<12 hex>", sp)
	}
	if _, err := os.Stat(filepath.Join(sp, "_metadata.json")); err != nil {
		h.t.Fatalf("savepoint %s: %v", sp, err)
	}
	return sp
}

// finalSavepoint is the path of the `savepoint: <path>` line on a run's stderr.
func finalSavepoint(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^savepoint: (\S+)$`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no `savepoint: <path>` line on stderr:\n%s", stderr)
	}
	return m[1]
}

// dump is `pipectl dump SP --uid UID [--state S]`, sorted.
func (h *harness) dump(sp, uid string, extra ...string) string {
	h.t.Helper()
	args := append([]string{"dump", sp, "--uid", uid}, extra...)
	return sortedLines(h.mustRun(0, args...).stdout)
}

// waitCovered waits until a savepoint of the running job covers the whole of file (read by
// the source uid): savepoints taken from another terminal show how far a job has read, and
// flush its sinks.
func (h *harness) waitCovered(id, uid, file string) {
	h.t.Helper()
	testkit.Eventually(h.t, 20*time.Second, "a savepoint covering all of "+file, func() bool {
		sp := h.savepointPath(h.mustRun(0, "savepoint", id))
		return h.offset(sp, uid, file) == int64(len(h.read(file)))
	})
}
