package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// joinKeyThrows is a window_join whose right key_by throws on reading r2 and returns a
// string, not its int key, on reading r4; on_error follows.
const joinKeyThrows = `  - uid: j
    kind: window_join
    inputs: [motions, readings]
    key_by:
      - room
      - |
        r => {
          if (r.id == "r2") throw new Error("kb " + r.id)
          return r.id == "r4" ? "x" : Number(r.id.slice(1))
        }
    key_type: int
    window: {tumbling: 10s}
    fn: |
      (m, r) => ({room: m.room, motion: m.time, reading: r.time, temp: r.temp})
    output: {room: int, motion: int, reading: int, temp: int}
`

// A key_by runs on the sending side of the keyed edge, at parallelism 2 on each sender, yet
// its failures are the keyed operator's, under its on_error; the record shown is of the input
// the key_by reads, its fields in their declared order.
func TestKeyByFailureIsTheKeyedOperators(t *testing.T) {
	joined := []string{
		`{"room":1,"motion":1000,"reading":500,"temp":20}`,
		`{"room":1,"motion":1000,"reading":8000,"temp":21}`,
		`{"room":1,"motion":4000,"reading":500,"temp":20}`,
		`{"room":1,"motion":4000,"reading":8000,"temp":21}`,
	}
	for _, policy := range []string{"fail", "skip", "dead_letter"} {
		t.Run(policy, func(t *testing.T) {
			h := newHarness(t, "memory")
			op := joinKeyThrows + "    on_error: " + policy
			if policy == "dead_letter" {
				op += "\n    dead_letter: dl.jsonl"
			}
			src := joinPipeline(op)
			got, err := h.run(src, jobSpec{})
			throwAt := fmt.Sprintf("%s:%d:", h.path("pipeline.yaml"), lineOf(t, src, "throw"))
			if policy == "fail" {
				wantErrContaining(t, err, `operator "j": `+throwAt, `j.key_by[1]: Error: kb r2 (record {"id":"r2","time":3000,"temp":18})`)
				if strings.HasPrefix(err.Error(), "source") {
					t.Errorf("error %q names the source that sent the record", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			slices.Sort(got)
			diffLines(t, got, joined)
			dead := h.fileLines("dl.jsonl")
			if policy == "skip" {
				if dead != nil {
					t.Errorf("skip wrote dead letters: %q", dead)
				}
				return
			}
			want := []string{
				`{"uid":"j","error":"operator \"j\": ` + throwAt + `.*: j.key_by[1]: Error: kb r2","record":{"id":"r2","time":3000,"temp":18}}`,
				`{"uid":"j","error":"operator \"j\": key_by returned a key that does not fit key_type int: $: expected int, got \"x\"","record":{"id":"r4","time":15000,"temp":30}}`,
			}
			if len(dead) != len(want) {
				t.Fatalf("dead letters %q, want %d", dead, len(want))
			}
			for i, w := range want {
				pre, post, _ := strings.Cut(w, ".*")
				if !strings.HasPrefix(dead[i], pre) || !strings.HasSuffix(dead[i], post) {
					t.Errorf("dead letter %d:\n%s\nwant:\n%s", i+1, dead[i], w)
				}
			}
		})
	}
}
