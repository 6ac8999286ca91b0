package schema

import "testing"

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
