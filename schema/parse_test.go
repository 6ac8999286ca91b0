package schema

import (
	"errors"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bool", "bool"},
		{"int", "int"},
		{" float ", "float"},
		{"string", "string"},
		{"bytes", "bytes"},
		{"any", "any"},
		{"{active:bool,time:int}", "{active: bool, time: int}"},
		{"{ a : int , b : { c : string } }", "{a: int, b: {c: string}}"},
		{"(bool,int)", "(bool, int)"},
		{"(bool, int, (string, float))", "(bool, int, (string, float))"},
		{"list<int>", "list<int>"},
		{"list < list<int> >", "list<list<int>>"},
		{"map<string,int>", "map<string, int>"},
		{"map<int, {a: int}>", "map<int, {a: int}>"},
		{"int?", "int?"},
		{"optional<int>", "int?"},
		{"int??", "int?"},
		{"optional<int?>", "int?"},
		{"{a: int}?", "{a: int}?"},
		{"list<int>?", "list<int>?"},
		{"optional<list<int>>", "list<int>?"},
		{"(int, string)?", "(int, string)?"},
		{"map<string, int?>?", "map<string, int?>?"},
		{"{int: int, _x9: string}", "{int: int, _x9: string}"},
		{"\tlist<\n int >", "list<int>"},
	}
	for _, tt := range tests {
		ty, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := ty.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		again, err := Parse(ty.String())
		if err != nil || !again.Equal(ty) {
			t.Errorf("round trip of %q: %v, %v", tt.in, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "expected a type, found end of expression"},
		{"strng", 0, `unknown type "strng" (did you mean string?)`},
		{"{a: integer}", 4, `unknown type "integer" (did you mean int?)`},
		{"list<int", 8, "expected '>' after list element type, found end of expression"},
		{"list int", 5, `expected '<' after list, found "int"`},
		{"map<float, int>", 4, "map key type must be string or int, not float"},
		{"map<string int>", 11, `expected ',' after map key type, found "int"`},
		{"map<string, int", 15, "expected '>' after map value type, found end of expression"},
		{"{}", 0, "a record needs at least one field"},
		{"{a: int, a: string}", 9, `duplicate field "a"`},
		{"{a int}", 3, `expected ':' after field name "a", found "int"`},
		{"{a: int b: int}", 8, `expected ',' or '}' after field "a", found "b"`},
		{"{1a: int}", 1, "expected a field name, found '1'"},
		{"(int)", 0, "a tuple needs at least two elements"},
		{"(int, string", 12, "expected ',' or ')' after tuple element, found end of expression"},
		{"int string", 4, `unexpected "string" after the type`},
		{"int>", 3, "unexpected '>' after the type"},
		{"optional<int", 12, "expected '>' after optional type, found end of expression"},
		{"?", 0, "expected a type, found '?'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || se.Msg != tt.msg {
			t.Errorf("Parse(%q): offset %d %q, want offset %d %q", tt.in, se.Offset, se.Msg, tt.offset, tt.msg)
		}
	}
}

func TestSyntaxErrorString(t *testing.T) {
	_, err := Parse("list<int")
	want := `type "list<int": expected '>' after list element type, found end of expression (offset 8)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestParseDeepNesting(t *testing.T) {
	expr := ""
	for range maxDepth + 5 {
		expr += "list<"
	}
	if _, err := Parse(expr + "int"); err == nil {
		t.Error("deeply nested type parsed")
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"int", "int", true},
		{"int", "float", false},
		{"{a: int, b: int}", "{b: int, a: int}", false},
		{"{a: int}", "{a: int?}", false},
		{"(int, int)", "(int, int, int)", false},
		{"map<string, int>", "map<int, int>", false},
		{"list<int>", "list<int>", true},
		{"int?", "optional<int>", true},
	}
	for _, tt := range tests {
		if got := MustParse(tt.a).Equal(MustParse(tt.b)); got != tt.want {
			t.Errorf("%s == %s: %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	nested := &Type{Kind: Optional, Elem: &Type{Kind: Optional, Elem: ScalarOf(Int)}}
	if !nested.Equal(MustParse("int?")) || nested.String() != "int?" {
		t.Errorf("optional of optional: %s", nested)
	}
}
