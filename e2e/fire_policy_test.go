package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// firePolicyPipeline has a window, a window_join and a process whose functions throw once
// when a window or a timer fires, each with the on_error keys put in place of @POLICY uid@.
const firePolicyPipeline = `name: fire-policy
parallelism: 1
state_backend: memory
sources:
  - {uid: src, kind: generator, count: 4, fn: "i => ({k: i % 2, t: i * 1000})", schema: {k: int, t: int}, timestamp: "e => e.t"}
  - {uid: l, kind: generator, count: 2, fn: "i => ({id: 1, a: i == 0 ? 'x' : 'y', t: i * 1000})", schema: {id: int, a: string, t: int}, timestamp: "e => e.t"}
  - {uid: r, kind: generator, count: 1, fn: "i => ({rid: 1, b: 10, t: 1500})", schema: {rid: int, b: int, t: int}, timestamp: "e => e.t"}
operators:
  - uid: w
    kind: window
    input: src
    key_by: k
    window: {tumbling: 10s}
    fn: "(k, w, es) => { if (k == 1) throw new Error('no'); return [{k, n: es.length}] }"
    output: {k: int, n: int}
    @POLICY w@
  - uid: p
    kind: process
    input: src
    key_by: k
    output: {k: int, t: int}
    fn: "(e, ctx) => ctx.timers.at(e.t)"
    on_timer: "(t, ctx) => { if (t == 3000) throw new Error('timer ' + t); ctx.emit({k: ctx.key, t}) }"
    @POLICY p@
  - uid: j
    kind: window_join
    inputs: [l, r]
    key_by: [id, rid]
    window: {tumbling: 10s}
    fn: "(l, r) => { if (l.a == 'y') throw new Error('pair'); return {id: l.id, a: l.a, b: r.b} }"
    output: {id: int, a: string, b: int}
    @POLICY j@
sinks:
  - {uid: ow, kind: file, path: w.out, input: w}
  - {uid: op, kind: file, path: p.out, input: p}
  - {uid: oj, kind: file, path: j.out, input: j}
`

// TestOnErrorWhenFiring: a window function, a process on_timer and a window_join pair
// function that throw when they fire are under the operator's on_error, as a per-record
// function is: skip and dead_letter drop that call and the job goes on to its end.
func TestOnErrorWhenFiring(t *testing.T) {
	out := map[string]string{
		"w.out": `{"k":0,"n":2}` + "\n",
		"p.out": `{"k":0,"t":0}` + "\n" + `{"k":1,"t":1000}` + "\n" + `{"k":0,"t":2000}` + "\n",
		"j.out": `{"id":1,"a":"x","b":10}` + "\n",
	}
	for _, policy := range []string{"fail", "skip", "dead_letter"} {
		t.Run(policy, func(t *testing.T) {
			h := newHarness(t)
			src := withPolicy(firePolicyPipeline, policy)
			file := h.write("fire.yaml", src)
			// at is the position of the throw on the line of src that holds it.
			at := func(line string, col int) string {
				for i, l := range strings.Split(src, "\n") {
					if strings.Contains(l, line) {
						return file + ":" + itoa(i+1) + ":" + itoa(col)
					}
				}
				t.Fatalf("no line holds %q", line)
				return ""
			}
			errs := map[string]string{
				"w": `operator "w": ` + at("Error('no')", 44) + `: w.fn: Error: no`,
				"p": `operator "p": ` + at("Error('timer '", 60) + `: p.on_timer: Error: timer 3000`,
				"j": `operator "j": ` + at("Error('pair')", 44) + `: j.fn: Error: pair`,
			}
			if policy == "fail" {
				// The first of the three to fire ends the job, naming its key and window or timer.
				res := h.mustRun(1, "run", "fire.yaml", "--state-dir", "sd")
				named := false
				for _, msg := range errs {
					named = named || regexp.MustCompile(regexp.QuoteMeta("failed: "+msg+" (key ")+`[^\n]*(window|timer)[^\n]*\)\n`).MatchString(res.stderr)
				}
				if !named {
					t.Errorf("stderr does not end the job with one of %q:\n%s", errs, res.stderr)
				}
				return
			}
			res := h.mustRun(0, "run", "fire.yaml", "--state-dir", "sd")
			for name, want := range out {
				if got := h.read(name); got != want {
					t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
				}
			}
			records := map[string]string{
				"w": `{"key":1,"window":{"start":0,"end":10000}}`,
				"p": `{"key":1,"timer":3000}`,
				"j": `{"key":1,"window":{"start":0,"end":10000},"left":{"id":1,"a":"y","t":1000},"right":{"rid":1,"b":10,"t":1500}}`,
			}
			dead := map[string]string{}
			for uid, msg := range errs {
				dead[uid] = `{"uid":"` + uid + `","error":` + strconv.Quote(msg) + `,"record":` + records[uid] + `}`
			}
			for uid, line := range dead {
				got := h.read("dl/" + uid + ".jsonl")
				if policy == "skip" {
					if got != "" {
						t.Errorf("skip wrote dead letters for %s: %s", uid, got)
					}
					if want := `msg="records not processed" uid=` + uid + ` skipped=1 dead_lettered=0`; !strings.Contains(res.stderr, want) {
						t.Errorf("stderr has no %s:\n%s", want, res.stderr)
					}
					continue
				}
				if got != line+"\n" {
					t.Errorf("dead letter of %s:\n%s\nwant\n%s", uid, got, line)
				}
			}
		})
	}
}

// withPolicy puts on_error: policy (and each operator's dead-letter file dl/UID.jsonl) in
// place of the @POLICY uid@ lines of src.
func withPolicy(src, policy string) string {
	for _, uid := range []string{"w", "p", "j"} {
		keys := "on_error: " + policy
		if policy == "dead_letter" {
			keys += "\n    dead_letter: dl/" + uid + ".jsonl"
		}
		src = strings.ReplaceAll(src, "@POLICY "+uid+"@", keys)
	}
	return src
}
