package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// TestExamples runs the repository's examples as the README does: records on stdout, the
// status on stderr.
func TestExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, golden, job string
		args              []string
	}{
		{"motion-alarm", "examples/motion-alarm.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm.yaml"}},
		{"event-counts", "examples/event-counts.golden", "event-counts",
			[]string{"run", "examples/event-counts.yaml"}},
		{"v2 tolerance from the file", "examples/motion-alarm-v2.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml"}},
		{"v2 --param after the file", "examples/motion-alarm-v2.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml", "--param", "tolerance=5000"}},
		{"v2 --param before the file", "examples/motion-alarm-v2-tolerance-8000.golden", "motion-alarm",
			[]string{"run", "--param", "tolerance=8000", "examples/motion-alarm-v2.yaml"}},
		{"v2 --param=K=V", "examples/motion-alarm.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml", "--param=tolerance=0"}},
		{"v2 tolerance above every gap", "examples/empty.golden", "motion-alarm",
			[]string{"run", "examples/motion-alarm-v2.yaml", "--param", "tolerance=20000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.dir = repoRoot // the README runs the examples from the repository's root
			res := h.mustRun(0, c.args...)
			golden(t, c.golden, sortedLines(res.stdout))
			started := regexp.MustCompile(`^Job [0-9a-f]{32} \(` + regexp.QuoteMeta(c.job) + `\) started$`)
			if first, _, _ := strings.Cut(res.stderr, "\n"); !started.MatchString(first) {
				t.Errorf("first stderr line %q, want `Job <32 hex> (%s) started`", first, c.job)
			}
		})
	}
}

// TestMotionAlarmKeepsPerRoomOrder checks that the alarms of one room come out in the order
// of their events, whatever the interleaving of rooms.
func TestMotionAlarmKeepsPerRoomOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	h.pipeline("motion-alarm.yaml", "p.yaml", map[string]string{"@PAR@": "3"})
	res := h.mustRun(0, "run", "p.yaml")
	var room1 []string
	for _, l := range nonEmptyLines(res.stdout) {
		if strings.Contains(l, `"room":1,`) {
			room1 = append(room1, l)
		}
	}
	want := []string{`{"type":"ALARM","room":1,"time":2000}`, `{"type":"ALARM","room":1,"time":9000}`}
	if strings.Join(room1, "\n") != strings.Join(want, "\n") {
		t.Errorf("room 1 alarms %q, want %q in this order", room1, want)
	}
}
