package runtime

import (
	"strings"
	"testing"
)

func TestRecordContext(t *testing.T) {
	long := map[string]any{"s": strings.Repeat("é", 300)}
	tests := []struct {
		name  string
		e     element
		where string
		want  string
	}{
		{"unkeyed", element{value: map[string]any{"n": int64(1)}}, "", `record {"n":1}`},
		{"keyed", element{value: map[string]any{"room": int64(2)}, key: int64(2), keyBytes: []byte{2}}, "", `key 2, record {"room":2}`},
		{"string key", element{value: "x", key: "a\"b", keyBytes: []byte("a")}, "", `key "a\"b", record "x"`},
		{"long", element{value: long}, "", `record {"s":"` + strings.Repeat("é", (maxRecordInMessage-6)/2) + "…"},
		{"position", element{value: int64(3), key: int64(3), keyBytes: []byte{3}}, "in.jsonl:7", `key 3, record 3, read at in.jsonl:7`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := recordContext(&tc.e, tc.where); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
