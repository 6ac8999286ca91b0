package runtime

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/schema"
)

func TestRecordContext(t *testing.T) {
	long := map[string]any{"s": strings.Repeat("é", 300)}
	tests := []struct {
		name  string
		e     element
		typ   string // the record's type ("": unknown)
		key   string // the key's type ("": unknown)
		where string
		want  string
	}{
		{"unkeyed", element{value: map[string]any{"n": int64(1)}}, "", "", "", `record {"n":1}`},
		{"keyed", element{value: map[string]any{"room": int64(2)}, key: int64(2), keyBytes: []byte{2}}, "", "", "", `key 2, record {"room":2}`},
		{"string key", element{value: "x", key: "a\"b", keyBytes: []byte("a")}, "", "", "", `key "a\"b", record "x"`},
		{"long", element{value: long}, "", "", "", `record {"s":"` + strings.Repeat("é", (maxRecordInMessage-6)/2) + "…"},
		{"position", element{value: int64(3), key: int64(3), keyBytes: []byte{3}}, "", "", "in.jsonl:7", `key 3, record 3, read at in.jsonl:7`},
		{"declared order", element{value: map[string]any{"k": int64(0), "i": int64(2), "b": []byte("x")}}, "{k: int, i: int, b: bytes}", "", "", `record {"k":0,"i":2,"b":"eA=="}`},
		{"nested declared order", element{value: map[string]any{"z": map[string]any{"y": true, "a": 1.5}}}, "{z: {y: bool, a: float}}", "", "", `record {"z":{"y":true,"a":1.5}}`},
		{"record key in declared order", element{value: map[string]any{"u": map[string]any{"z": "a", "b": int64(1)}}, key: map[string]any{"z": "a", "b": int64(1)}, keyBytes: []byte{1}}, "{u: {z: string, b: int}}", "{z: string, b: int}", "", `key {"z":"a","b":1}, record {"u":{"z":"a","b":1}}`},
		{"value not of its type", element{value: map[string]any{"k": "x", "i": int64(2)}}, "{k: int, i: int}", "", "", `record {"i":2,"k":"x"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var types recordTypes
			if tc.typ != "" {
				types.value = schema.MustParse(tc.typ)
			}
			if tc.key != "" {
				types.key = schema.MustParse(tc.key)
			}
			if got := recordContext(&tc.e, types, tc.where); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
