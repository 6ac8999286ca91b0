package runtime

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// firingOps are operators whose function throws once when a window or a timer fires: the
// output the rest of the job writes under skip and dead_letter, and the record of the one
// dead letter.
var firingOps = []struct {
	name, uid, msg string // msg: the error after its position
	src            func(policy string) string
	out            []string
	record         string
}{{
	name: "window", uid: "w", msg: "w.fn: Error: no b",
	src: func(policy string) string {
		return eventsPipeline(outOfOrder, "5s", `  - uid: w
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    fn: |
      (key, w, es) => { if (key === "b" && w.start === 10000) throw new Error("no " + key); return [{room: key, start: w.start, end: w.end, n: es.length, vs: es.map(e => e.v)}] }
    output: {room: string, start: int, end: int, n: int, vs: list<int>}`+policy, "w")
	},
	out: []string{
		`{"room":"a","start":0,"end":10000,"n":3,"vs":[1,2,5]}`,
		`{"room":"a","start":10000,"end":20000,"n":1,"vs":[4]}`,
		`{"room":"a","start":20000,"end":30000,"n":1,"vs":[8]}`,
		`{"room":"b","start":0,"end":10000,"n":1,"vs":[3]}`,
	},
	record: `{"key":"b","window":{"start":10000,"end":20000}}`,
}, {
	name: "window fn that times out", uid: "w", msg: "w.fn: timed out after 50ms",
	src: func(policy string) string {
		return eventsPipeline(outOfOrder, "5s", `  - uid: w
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    function_timeout: 50ms
    fn: |
      (key, w, es) => { while (key === "b" && w.start === 10000) {} return [{room: key, start: w.start, end: w.end, n: es.length, vs: es.map(e => e.v)}] }
    output: {room: string, start: int, end: int, n: int, vs: list<int>}`+policy, "w")
	},
	out:    outOfOrderCounts[:4],
	record: `{"key":"b","window":{"start":10000,"end":20000}}`,
}, {
	name: "window fired again by a late record", uid: "w", msg: "w.fn: Error: no 4",
	src: func(policy string) string {
		return eventsPipeline(outOfOrder, "5s", `  - uid: w
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    allowed_lateness: 2s
    fn: |
      (key, w, es) => { if (es.length === 4) throw new Error("no " + es.length); return [{room: key, start: w.start, n: es.length}] }
    output: {room: string, start: int, n: int}`+policy, "w")
	},
	out: []string{
		`{"room":"a","start":0,"n":3}`,
		`{"room":"a","start":10000,"n":1}`,
		`{"room":"a","start":20000,"n":1}`,
		`{"room":"b","start":0,"n":1}`,
		`{"room":"b","start":10000,"n":2}`,
	},
	record: `{"key":"a","window":{"start":0,"end":10000}}`,
}, {
	name: "session window", uid: "w", msg: "w.fn: Error: no a",
	src: func(policy string) string {
		return eventsPipeline(`[
    {room: "a", time: 1000, v: 1}, {room: "a", time: 9000, v: 2}, {room: "a", time: 5000, v: 3},
    {room: "b", time: 1000, v: 4}, {room: "b", time: 3000, v: 6}, {room: "a", time: 30000, v: 5},
  ]`, "10s", `  - uid: w
    kind: window
    input: events
    key_by: room
    window: {session: {gap: 4s}}
    fn: |
      (key, w, es) => { if (key === "a" && w.start === 1000) throw new Error("no " + key); return [{room: key, start: w.start, n: es.length}] }
    output: {room: string, start: int, n: int}`+policy, "w")
	},
	out:    []string{`{"room":"a","start":30000,"n":1}`, `{"room":"b","start":1000,"n":2}`},
	record: `{"key":"a","window":{"start":1000,"end":13000}}`,
}, {
	name: "window aggregate result", uid: "w", msg: "w.aggregate.result: Error: no 15",
	src: func(policy string) string {
		return eventsPipeline(outOfOrder, "5s", `  - uid: w
    kind: window
    input: events
    key_by: room
    window: {tumbling: 10s}
    aggregate:
      init: () => 0
      fn: (acc, e) => acc + e.v
      accumulator: int
      result: |
        acc => { if (acc === 15) throw new Error("no " + acc); return acc }
    output: int`+policy, "w")
	},
	out:    []string{"3", "4", "8", "8"},
	record: `{"key":"b","window":{"start":10000,"end":20000}}`,
}, {
	name: "window_all", uid: "w", msg: "w.fn: Error: no 10000",
	src: func(policy string) string {
		return eventsPipeline(outOfOrder, "5s", `  - uid: w
    kind: window_all
    input: events
    window: {tumbling: 10s}
    fn: |
      (key, w, es) => { if (w.start === 10000) throw new Error("no " + w.start); return [{start: w.start, n: es.length}] }
    output: {start: int, n: int}`+policy, "w")
	},
	out:    []string{`{"start":0,"n":4}`, `{"start":20000,"n":1}`},
	record: `{"window":{"start":10000,"end":20000}}`,
}, {
	name: "window_join", uid: "j", msg: "j.fn: Error: no pair",
	src: func(policy string) string {
		return joinPipeline(`  - uid: j
    kind: window_join
    inputs: [motions, readings]
    key_by: [room, "r => Number(r.id.slice(1))"]
    key_type: int
    window: {tumbling: 10s}
    fn: |
      (m, r) => { if (m.time === 4000 && r.time === 500) throw new Error("no pair"); return {room: m.room, motion: m.time, reading: r.time, temp: r.temp} }
    output: {room: int, motion: int, reading: int, temp: int}` + policy)
	},
	out: []string{
		`{"room":1,"motion":1000,"reading":500,"temp":20}`,
		`{"room":1,"motion":1000,"reading":8000,"temp":21}`,
		`{"room":1,"motion":4000,"reading":8000,"temp":21}`,
		`{"room":2,"motion":2000,"reading":3000,"temp":18}`,
	},
	record: `{"key":1,"window":{"start":0,"end":10000},"left":{"room":1,"time":4000},"right":{"id":"r1","time":500,"temp":20}}`,
}, {
	name: "co_group", uid: "j", msg: "j.fn: Error: no 2",
	src: func(policy string) string {
		return joinPipeline(`  - uid: j
    kind: co_group
    inputs: [motions, readings]
    key_by: [room, "r => Number(r.id.slice(1))"]
    key_type: int
    window: {tumbling: 10s}
    fn: |
      (k, ms, rs) => { if (k === 2) throw new Error("no " + k); return [{room: k, motions: ms.length, readings: rs.length}] }
    output: {room: int, motions: int, readings: int}` + policy)
	},
	out: []string{
		`{"room":1,"motions":0,"readings":1}`,
		`{"room":1,"motions":1,"readings":0}`,
		`{"room":1,"motions":2,"readings":2}`,
		`{"room":3,"motions":1,"readings":0}`,
		`{"room":4,"motions":0,"readings":1}`,
	},
	record: `{"key":2,"window":{"start":0,"end":10000}}`,
}, {
	name: "process on_timer", uid: "p", msg: "p.on_timer: Error: no 6000",
	src: func(policy string) string {
		return timerPipeline(`(t, ctx) => { if (t === 6000) throw new Error("no " + t); ctx.emit({room: ctx.key, fired: t, n: ctx.state.n.get() || 0}); ctx.state.n.clear() }` + policy)
	},
	// a's count is not cleared by the timer that threw: the next one emits it.
	out: []string{
		`{"room":"a","fired":25000,"n":0}`,
		`{"room":"a","fired":8000,"n":3}`,
		`{"room":"b","fired":45000,"n":1}`,
		`{"room":"b","fired":7000,"n":1}`,
	},
	record: `{"key":"a","timer":6000}`,
}}

// TestOnErrorWhenFiring: on_error applies to the functions that run when a window or a timer
// fires: fail ends the job naming the operator; skip and dead_letter drop that call's output,
// count it, and go on with every other window, pair and timer.
func TestOnErrorWhenFiring(t *testing.T) {
	for _, op := range firingOps {
		for _, policy := range []string{"fail", "skip", "dead_letter"} {
			t.Run(op.name+"/"+policy, func(t *testing.T) {
				h := newHarness(t, statebackend.KindMemory)
				keys := "\n    on_error: " + policy
				if policy == "dead_letter" {
					keys += "\n    dead_letter: bad/dl.jsonl"
				}
				hj, err := h.newJob(op.src(keys), jobSpec{})
				if err != nil {
					t.Fatal(err)
				}
				err = hj.start().wait()
				if policy == "fail" {
					wantErrContaining(t, err, `operator "`+op.uid+`": `, op.msg)
					if m := regexp.MustCompile(`\((key [^)]*, )?(window \{|timer )[^()]*\)$`); err != nil && !m.MatchString(err.Error()) {
						t.Errorf("failure %q does not end naming the firing: (key …, window …) or (key …, timer …)", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				diffLines(t, sorted(hj.lines()), op.out)
				dead := h.fileLines("bad/dl.jsonl")
				var skipped, wantSkipped int64 = hj.job.skipped.Load(), 0
				if policy == "skip" {
					wantSkipped = 1
					if dead != nil {
						t.Errorf("skip wrote dead letters: %q", dead)
					}
				} else {
					if len(dead) != 1 {
						t.Fatalf("dead letters %q, want 1", dead)
					}
					want := `^\{"uid":"` + op.uid + `","error":"operator \\"` + op.uid + `\\": ` +
						regexp.QuoteMeta(h.path("pipeline.yaml")) + `:\d+:\d+: ` + regexp.QuoteMeta(op.msg) +
						`","record":` + regexp.QuoteMeta(op.record) + `\}$`
					if !regexp.MustCompile(want).MatchString(dead[0]) {
						t.Errorf("dead letter\n  %s\ndoes not match\n  %s", dead[0], want)
					}
				}
				if skipped != wantSkipped {
					t.Errorf("skipped %d records, want %d", skipped, wantSkipped)
				}
			})
		}
	}
}

// TestEmitFailureDownstreamIsNotSkipped: a failure of the node a process's ctx.emit feeds is
// that node's, and ends the job, from fn or on_timer, even under the process's on_error: skip
// and when the function catches it.
func TestEmitFailureDownstreamIsNotSkipped(t *testing.T) {
	for _, c := range []struct{ name, fn, onTimer, want string }{{
		name:    "fn",
		fn:      `(e, ctx) => { ctx.timers.at(e.time); if (e.room === "b") ctx.emit({room: "x", fired: 0, n: 0}) }`,
		onTimer: `(t, ctx) => {}`,
		want:    `m.fn: Error: down x (record {"room":"x","fired":0,"n":0})`,
	}, {
		name:    "on_timer",
		fn:      `(e, ctx) => ctx.timers.at(e.time)`,
		onTimer: `(t, ctx) => ctx.emit({room: ctx.key, fired: t, n: 0})`,
		want:    `m.fn: Error: down b (record {"room":"b","fired":2000,"n":0})`,
	}, {
		name:    "on_timer that catches",
		fn:      `(e, ctx) => ctx.timers.at(e.time)`,
		onTimer: `(t, ctx) => { try { ctx.emit({room: ctx.key, fired: t, n: 0}) } catch (e) {} }`,
		want:    `m.fn: Error: down b (record {"room":"b","fired":2000,"n":0})`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(timerPipeline(c.onTimer+`
    on_error: skip
  - uid: m
    kind: map
    input: p
    fn: |
      e => { if (e.room !== "a") throw new Error("down " + e.room); return e }
    output: {room: string, fired: int, n: int}`), "input: p}", "input: m}", 1)
			src = strings.Replace(src, `(e, ctx) => {
        ctx.state.n.set((ctx.state.n.get() || 0) + 1)
        ctx.timers.at(e.time + 5000)
      }`, c.fn, 1)
			_, err := newHarness(t, statebackend.KindMemory).run(src, jobSpec{})
			wantErrContaining(t, err, `operator "m": `, c.want)
			if err != nil && strings.Contains(err.Error(), `operator "p"`) {
				t.Errorf("error %q names p", err)
			}
		})
	}
}
