package schema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"int", "{a: int, b: list<string?>}", "(bool, map<int, bytes>)?", "optional<any>", "{a: {b: (int, int)}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		typ, err := Parse(expr)
		if err != nil {
			return
		}
		s := typ.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", expr, s, err)
		}
		if !again.Equal(typ) || again.String() != s {
			t.Fatalf("Parse(%q): %q re-parses as %q", expr, s, again)
		}
	})
}

// FuzzDecodeJSON checks the schema-driven decoder against encoding/json + Convert: both accept
// the same documents and agree on the value.
func FuzzDecodeJSON(f *testing.F) {
	f.Add(uint8(0), `{"a": [1, 2.5, "x\u00e9", null, {"b": true}]}`)
	f.Add(uint8(1), `{"type":"motion","room":17,"time":1700000000000}`)
	f.Add(uint8(2), `[true, 3]`)
	types := []*Type{MustParse("any"), MustParse("{type: string, room: int, time: int?}"), MustParse("(bool, float)"),
		MustParse("map<int, list<string>>")}
	f.Fuzz(func(t *testing.T, which uint8, doc string) {
		typ := types[int(which)%len(types)]
		got, err := typ.DecodeJSON([]byte(doc))
		if !json.Valid([]byte(doc)) {
			if err == nil {
				t.Fatalf("invalid JSON %q decoded to %#v", doc, got)
			}
			return
		}
		var generic any
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		if dec.Decode(&generic) != nil {
			return
		}
		want, werr := typ.Convert(generic)
		if (err == nil) != (werr == nil) {
			if strings.Contains(doc, `"`) && !utf8.ValidString(doc) {
				return // both replace invalid UTF-8, but keys may then collide differently
			}
			t.Fatalf("%s: %q: DecodeJSON err %v, Convert err %v", typ, doc, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %q: DecodeJSON %#v, Convert %#v", typ, doc, got, want)
		}
	})
}
