package runtime

import (
	"slices"
	"strings"
	"testing"
)

// routedPipeline has a postgres sink keyed by @KEY@ with @PAR@ subtasks behind an operator of
// parallelism 2. Parsing it opens no connection.
const routedPipeline = `name: routed
parallelism: 2
sources:
  - uid: in
    kind: generator
    count: 10
    schema: {room: int, day: string, n: int}
    fn: "i => ({room: i % 3, day: 'mon', n: i})"
operators:
  - uid: pass
    kind: filter
    input: in
    fn: "e => true"
sinks:
  - uid: out
    kind: postgres
    input: pass
    parallelism: @PAR@
    dsn: postgres://app@localhost/db
    table: rooms
    @KEY@
`

func TestSinkRouting(t *testing.T) {
	tests := []struct {
		name, key, par string
		fields         []string
		chained        bool
		keys           []any // the keys of records {room: 1, day: "mon"} and {room: 2, ...}
	}{
		{"one key field", "key: [room]", "2", []string{"room"}, false, []any{int64(1), int64(2)}},
		{"two key fields", "key: [room, day]", "2", []string{"room", "day"}, false, []any{[]any{int64(1), "mon"}, []any{int64(2), "mon"}}},
		{"one subtask needs no routing", "key: [room]", "1", nil, false, nil},
		{"no key, same parallelism: chained", "", "2", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "memory")
			src := strings.NewReplacer("@KEY@", tt.key, "@PAR@", tt.par).Replace(routedPipeline)
			p, err := h.parse(src, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := p.Nodes["out"]
			if got := routeFields(n); !slices.Equal(got, tt.fields) {
				t.Errorf("routeFields = %q, want %q", got, tt.fields)
			}
			if got := chained(p, n); got != tt.chained {
				t.Errorf("chained = %v, want %v", got, tt.chained)
			}
			if tt.fields == nil {
				return
			}
			sel := sinkRoute(n, tt.fields)
			for i, room := range []int64{1, 2} {
				e := &element{value: map[string]any{"room": room, "day": "mon", "n": int64(7)}}
				if err := sel.assign(e, &keyArena{}); err != nil {
					t.Fatal(err)
				}
				if !equalKeys(e.key, tt.keys[i]) {
					t.Errorf("key of room %d = %#v, want %#v", room, e.key, tt.keys[i])
				}
				again := &element{value: map[string]any{"room": room, "day": "mon", "n": int64(8)}}
				if err := sel.assign(again, &keyArena{}); err != nil {
					t.Fatal(err)
				}
				if string(again.keyBytes) != string(e.keyBytes) {
					t.Errorf("room %d: records with the same key have key bytes %x and %x", room, e.keyBytes, again.keyBytes)
				}
			}
		})
	}
}

// equalKeys compares a scalar or tuple key.
func equalKeys(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok || bok {
		return aok && bok && slices.Equal(as, bs)
	}
	return a == b
}
