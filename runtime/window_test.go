package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// eventsPipeline builds a pipeline over a fixed list of events {room, time, v} (in that
// order, out of order in time) with the given operators and a stdout sink per output uid.
func eventsPipeline(events string, ooo string, operators string, outputs ...string) string {
	var sinks strings.Builder
	for i, o := range outputs {
		fmt.Fprintf(&sinks, "  - {uid: out%d, kind: stdout, input: %s}\n", i, o)
	}
	return fmt.Sprintf(`name: window-test
parallelism: 2
state_backend: memory
script: |
  const events = %s
sources:
  - uid: events
    kind: generator
    count: %d
    fn: i => events[i]
    schema: {room: string, time: int, v: int}
    timestamp: e => e.time
    watermark: {max_out_of_orderness: %s}
operators:
%s
sinks:
%s`, events, strings.Count(events, "room:"), ooo, operators, sinks.String())
}

// outOfOrderCounts are the tumbling 10s counts of outOfOrder with 5s out-of-orderness: the
// late record (t=4000) is in none of them.
var outOfOrderCounts = []string{
	`{"room":"a","start":0,"end":10000,"n":3,"vs":[1,2,5]}`,
	`{"room":"a","start":10000,"end":20000,"n":1,"vs":[4]}`,
	`{"room":"a","start":20000,"end":30000,"n":1,"vs":[8]}`,
	`{"room":"b","start":0,"end":10000,"n":1,"vs":[3]}`,
	`{"room":"b","start":10000,"end":20000,"n":2,"vs":[6,9]}`,
}

// outOfOrder is the input of most window tests: rooms a and b, out of order within 5s, and
// one record of a (t=4000) that arrives after the watermark passed its window (late).
const outOfOrder = `[
    {room: "a", time: 1000, v: 1}, {room: "a", time: 3000, v: 2}, {room: "b", time: 2000, v: 3},
    {room: "a", time: 12000, v: 4}, {room: "a", time: 9000, v: 5}, {room: "b", time: 16000, v: 6},
    {room: "a", time: 4000, v: 7}, {room: "a", time: 24000, v: 8}, {room: "b", time: 15000, v: 9},
  ]`

// sessionEvents are the input of the session window tests: a's record at 5000 comes after
// 9000 and joins the sessions of 1000 and 9000 (gap 4s).
const sessionEvents = `[
    {room: "a", time: 1000, v: 1}, {room: "a", time: 9000, v: 2}, {room: "a", time: 5000, v: 3},
    {room: "b", time: 1000, v: 4}, {room: "b", time: 3000, v: 6}, {room: "a", time: 30000, v: 5},
  ]`

func TestWindows(t *testing.T) {
	count := `(key, w, es) => [{room: key, start: w.start, end: w.end, n: es.length, vs: es.map(e => e.v)}]`
	countOut := `{room: string, start: int, end: int, n: int, vs: list<int>}`
	cases := []struct {
		name      string
		events    string
		ooo       string
		operators string
		outputs   []string
		want      []string
	}{{
		name:   "tumbling on out-of-order input drops the late record",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    fn: |
      ` + count + `
    output: "` + countOut + `"`,
		outputs: []string{"counts"},
		want:    outOfOrderCounts,
	}, {
		name:   "late records go to late_output",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    late_output: late
    fn: |
      ` + count + `
    output: "` + countOut + `"
  - uid: late-tagged
    kind: map
    input: late
    fn: 'e => ({late: e.time})'
    output: {late: int}`,
		outputs: []string{"counts", "late-tagged"},
		want:    append([]string{`{"late":4000}`}, outOfOrderCounts...),
	}, {
		name:   "allowed lateness fires the window again with the late record",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: counts
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    allowed_lateness: 2s
    late_output: late
    fn: |
      ` + count + `
    output: "` + countOut + `"`,
		outputs: []string{"counts", "late"},
		want: []string{
			`{"room":"a","start":0,"end":10000,"n":3,"vs":[1,2,5]}`,
			`{"room":"a","start":0,"end":10000,"n":4,"vs":[1,2,5,7]}`,
			`{"room":"a","start":10000,"end":20000,"n":1,"vs":[4]}`,
			`{"room":"a","start":20000,"end":30000,"n":1,"vs":[8]}`,
			`{"room":"b","start":0,"end":10000,"n":1,"vs":[3]}`,
			`{"room":"b","start":10000,"end":20000,"n":2,"vs":[6,9]}`,
		},
	}, {
		name:   "sliding windows with reduce",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: sums
    kind: window
    input: events
    key_by: room
    window: {sliding: {size: 10s, slide: 5s}}
    reduce: |
      (a, b) => ({room: a.room, time: Math.max(a.time, b.time), v: a.v + b.v})`,
		outputs: []string{"sums"},
		want: []string{
			// a: [-5,5) 1+2; [0,10) 1+2+5; [5,15) 5+4; [10,20) 4; [15,25) and [20,30) 8
			`{"room":"a","time":12000,"v":4}`,
			`{"room":"a","time":12000,"v":9}`,
			`{"room":"a","time":24000,"v":8}`,
			`{"room":"a","time":24000,"v":8}`,
			`{"room":"a","time":3000,"v":3}`,
			`{"room":"a","time":9000,"v":8}`,
			// b: 2000 in [-5,5) and [0,10); 16000 and 15000 in [10,20) and [15,25)
			`{"room":"b","time":16000,"v":15}`,
			`{"room":"b","time":16000,"v":15}`,
			`{"room":"b","time":2000,"v":3}`,
			`{"room":"b","time":2000,"v":3}`,
		},
	}, {
		name:   "session windows merge out-of-order records",
		events: sessionEvents, ooo: "10s",
		operators: `
  - uid: sessions
    kind: window
    input: events
    key_by: room
    window: {session: {gap: 4s}}
    fn: |
      ` + count + `
    output: "` + countOut + `"`,
		outputs: []string{"sessions"},
		want: []string{
			`{"room":"a","start":1000,"end":13000,"n":3,"vs":[1,2,3]}`,
			`{"room":"a","start":30000,"end":34000,"n":1,"vs":[5]}`,
			`{"room":"b","start":1000,"end":7000,"n":2,"vs":[4,6]}`,
		},
	}, {
		name:   "an aggregate over sessions folds the records of sessions an out-of-order record joined",
		events: sessionEvents, ooo: "10s",
		operators: `
  - uid: sessions
    kind: window
    input: events
    key_by: room
    window: {session: {gap: 4s}}
    aggregate:
      init: () => [0, ""]
      fn: (acc, e) => [acc[0] + e.v, acc[1] + e.v]
      result: 'acc => ({sum: acc[0], vs: acc[1]})'
      accumulator: "(int, string)"
    output: {sum: int, vs: string}`,
		outputs: []string{"sessions"},
		want:    []string{`{"sum":6,"vs":"123"}`, `{"sum":5,"vs":"5"}`, `{"sum":10,"vs":"46"}`},
	}, {
		name:   "aggregate with result",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: avg
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    aggregate:
      init: () => [0, 0]
      fn: (acc, e) => [acc[0] + e.v, acc[1] + 1]
      result: 'acc => ({sum: acc[0], n: acc[1]})'
      accumulator: "(int, int)"
    output: {sum: int, n: int}`,
		outputs: []string{"avg"},
		want: []string{
			`{"sum":15,"n":2}`,
			`{"sum":3,"n":1}`,
			`{"sum":4,"n":1}`,
			`{"sum":8,"n":1}`,
			`{"sum":8,"n":3}`,
		},
	}, {
		name:   "aggregate without result emits the accumulator",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: n
    kind: window
    input: events
    key_by: room
    window: {tumbling: 1m}
    aggregate:
      init: () => 0
      fn: (acc, e) => acc + 1
      accumulator: int`,
		outputs: []string{"n"},
		want:    []string{`3`, `6`},
	}, {
		name:   "window_all counts every room",
		events: outOfOrder, ooo: "5s",
		operators: `
  - uid: all
    kind: window_all
    input: events
    window: {tumbling: 10s}
    fn: |
      (key, w, es) => [{key: key === null ? "none" : "some", start: w.start, n: es.length}]
    output: {key: string, start: int, n: int}`,
		outputs: []string{"all"},
		want: []string{
			`{"key":"none","start":0,"n":4}`,
			`{"key":"none","start":10000,"n":3}`,
			`{"key":"none","start":20000,"n":1}`,
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := eventsPipeline(c.events, c.ooo, c.operators, c.outputs...)
			got := runLines(t, src)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestWindowLateDroppedCounted checks that the records a window without late_output drops are
// counted per uid in the job's status (late_dropped in /job), and only for such windows.
func TestWindowLateDroppedCounted(t *testing.T) {
	window := func(uid, late string) string {
		return `
  - uid: ` + uid + `
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}` + late + `
    fn: '(key, w, es) => [{room: key, n: es.length}]'
    output: {room: string, n: int}`
	}
	src := eventsPipeline(outOfOrder, "5s", window("dropping", "")+window("keeping", "\n    late_output: late"), "dropping", "keeping", "late")
	hj := startRun(t, t.TempDir(), src, jobSpec{})
	if err := hj.wait(); err != nil {
		t.Fatal(err)
	}
	got := map[string]*int64{}
	for _, c := range hj.job.Status().Records {
		got[c.UID] = c.LateDropped
	}
	if d := got["dropping"]; d == nil || *d != 1 {
		t.Errorf("late_dropped of the window without late_output: %v, want 1 (the record at t=4000)", d)
	}
	if got["keeping"] != nil || got["events"] != nil {
		t.Errorf("late_dropped of the window with late_output %v, of the source %v: want none", got["keeping"], got["events"])
	}
}
