package pipeline

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRestartKey(t *testing.T) {
	tests := []struct {
		top      string
		attempts int
		delay    time.Duration
		err      string // substring of the error; "" for none
	}{
		{"", 0, 0, ""},
		{"restart: {attempts: 3, delay: 2s}", 3, 2 * time.Second, ""},
		{"restart: {attempts: 0, delay: 0}", 0, 0, ""},
		{"restart: {attempts: 3}", 3, DefaultRestartDelay, ""},
		{`restart: {attempts: "${RA:-4}", delay: 1s}`, 4, time.Second, ""},
		{"restart: {delay: 1s}", 0, 0, `p.yaml:2:10: restart: missing required key "attempts"`},
		{"restart: {attempts: -1, delay: 1s}", 0, 0, "p.yaml:2:21: restart.attempts"},
		{"restart: {attempts: 2, delay: soon}", 0, 0, "p.yaml:2:31: restart.delay"},
		{"restart: {attempts: 2, delay: 1s, backoff: 2}", 0, 0, `p.yaml:2:35: unknown key "backoff" in restart`},
		{"restart: 3", 0, 0, "p.yaml:2:10: restart must be a mapping"},
	}
	for _, tc := range tests {
		p, err := load(t, tc.top, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.top, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.top, err)
			continue
		}
		if p.Restart.Attempts != tc.attempts || p.Restart.Delay != tc.delay {
			t.Errorf("%q: restart %+v, want %d attempts %v apart", tc.top, p.Restart, tc.attempts, tc.delay)
		}
	}
}

// renamed is a pipeline whose items may carry previous_uids.
const renamed = `name: t
sources:
  - uid: events
    kind: generator
    schema: int
    fn: i => i
    previous_uids: [%s]
operators:
  - uid: counter
    kind: reduce
    input: events
    key_by: "e => e % 2"
    key_type: int
    fn: (a, b) => a + b
    previous_uids: [%s]
sinks:
  - uid: out
    kind: stdout
    input: counter
    previous_uids: [%s]
`

func TestPreviousUIDs(t *testing.T) {
	tests := []struct {
		source, operator, sink string
		err                    string
	}{
		{"old-events", "count-v1, count-v0", "", ""},
		{"", "counter", "", `p.yaml:15:21: operator "counter": previous uid "counter" is the uid of an item of this file (line 9)`},
		{"", "out", "", `p.yaml:15:21: operator "counter": previous uid "out" is the uid of an item of this file (line 17)`},
		{"x", "", "x", `p.yaml:20:21: sink "out": previous uid "x" is already claimed by "events" (line 3)`},
		{"", "a, a", "", `p.yaml:15:24: operator "counter": previous uid "a" is already claimed by "counter"`},
		{"", "a b", "", `p.yaml:15:21: operator "counter": previous uid "a b" may only hold`},
	}
	for _, tc := range tests {
		src := strings.Replace(renamed, "%s", tc.source, 1)
		src = strings.Replace(src, "%s", tc.operator, 1)
		src = strings.Replace(src, "%s", tc.sink, 1)
		p, err := Parse("p.yaml", []byte(src), LoadOptions{})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc, err)
			continue
		}
		if got := p.Nodes["counter"].PreviousUIDs; !slices.Equal(got, []string{"count-v1", "count-v0"}) {
			t.Errorf("counter previous uids %v", got)
		}
		if got := p.Nodes["events"].PreviousUIDs; !slices.Equal(got, []string{"old-events"}) {
			t.Errorf("events previous uids %v", got)
		}
	}
}

// TestQuotedEnvWhereANumberIsExpected: a quoted ${VAR} (the only way to write one inside a
// one-line {...}) is read as a number or a boolean where one is expected, and stays a string
// elsewhere.
func TestQuotedEnvWhereANumberIsExpected(t *testing.T) {
	p, err := load(t, "parallelism: \"${PAR:-3}\"\nparams: {region: \"${REGION:-5}\"}", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Parallelism != 3 {
		t.Errorf("parallelism %d, want 3", p.Parallelism)
	}
	if _, err := load(t, "parallelism: \"${PAR:-three}\"", nil); err == nil || !strings.Contains(err.Error(), "parallelism must be an integer") {
		t.Errorf("a quoted non-number: %v", err)
	}
}

// TestEnvRecordsTheVariablesRead: a loaded pipeline names every variable its ${…} references
// read, with the value it had, or nil when it was unset and a default applied.
func TestEnvRecordsTheVariablesRead(t *testing.T) {
	p, err := load(t, "parallelism: ${PAR}\nparams: {region: \"${REGION:-eu}\", zone: \"${ZONE:-a}\"}", map[string]string{"PAR": "2", "REGION": "us", "OTHER": "x"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for name, v := range p.Env {
		got[name] = "<unset>"
		if v != nil {
			got[name] = *v
		}
	}
	if want := map[string]string{"PAR": "2", "REGION": "us", "ZONE": "<unset>"}; !maps.Equal(got, want) {
		t.Errorf("Env %v, want %v", got, want)
	}
}
