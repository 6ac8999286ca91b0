package runtime

import (
	"slices"
	"strings"
	"testing"
)

// joinPipeline joins motions {room, time} with readings {id, time, temp} per room in
// tumbling windows of 10s, with the given window_join or co_group operator.
func joinPipeline(op string) string {
	return `name: join-test
parallelism: 2
state_backend: memory
script: |
  const motions = [{room: 1, time: 1000}, {room: 2, time: 2000}, {room: 1, time: 4000}, {room: 1, time: 12000}, {room: 3, time: 30000}]
  const readings = [{id: "r1", time: 500, temp: 20}, {id: "r1", time: 8000, temp: 21}, {id: "r2", time: 3000, temp: 18}, {id: "r4", time: 15000, temp: 30}, {id: "r1", time: 31000, temp: 22}]
sources:
  - uid: motions
    kind: generator
    count: 5
    fn: i => motions[i]
    schema: {room: int, time: int}
    timestamp: e => e.time
  - uid: readings
    kind: generator
    count: 5
    fn: i => readings[i]
    schema: {id: string, time: int, temp: int}
    timestamp: e => e.time
operators:
` + op + `
sinks:
  - {uid: out, kind: stdout, input: j}
`
}

func TestJoins(t *testing.T) {
	cases := []struct {
		name, op string
		want     []string
	}{{
		name: "window_join pairs each left and right record of a key and window",
		op: `  - uid: j
    kind: window_join
    inputs: [motions, readings]
    key_by: [room, "r => Number(r.id.slice(1))"]
    key_type: int
    window: {tumbling: 10s}
    fn: |
      (m, r) => ({room: m.room, motion: m.time, reading: r.time, temp: r.temp})
    output: {room: int, motion: int, reading: int, temp: int}`,
		want: []string{
			`{"room":1,"motion":1000,"reading":500,"temp":20}`,
			`{"room":1,"motion":1000,"reading":8000,"temp":21}`,
			`{"room":1,"motion":4000,"reading":500,"temp":20}`,
			`{"room":1,"motion":4000,"reading":8000,"temp":21}`,
			`{"room":2,"motion":2000,"reading":3000,"temp":18}`,
		},
	}, {
		name: "co_group runs once per key and window where either side has records",
		op: `  - uid: j
    kind: co_group
    inputs: [motions, readings]
    key_by: [room, "r => Number(r.id.slice(1))"]
    key_type: int
    window: {tumbling: 10s}
    fn: |
      (k, ms, rs) => [{room: k, motions: ms.length, readings: rs.length}]
    output: {room: int, motions: int, readings: int}`,
		want: []string{
			`{"room":1,"motions":0,"readings":1}`,
			`{"room":1,"motions":1,"readings":0}`,
			`{"room":1,"motions":2,"readings":2}`,
			`{"room":2,"motions":1,"readings":1}`,
			`{"room":3,"motions":1,"readings":0}`,
			`{"room":4,"motions":0,"readings":1}`,
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runLines(t, joinPipeline(c.op))
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
