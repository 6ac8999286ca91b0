package script

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const syntaxYAML = `name: syntax
script: |
  function ok(e) { return e }
  function broken(e) {
    return e.n * )
  }
operators:
  - uid: a
    fn: |
      e => {
        const y = 1 +
      }
  - uid: b
    fn: e => e.
  - uid: c
    fn: |
      e => {
        let x = 1
        let x = 2
        return x
      }
`

func TestSyntaxErrorsAreAllReportedAtFilePositions(t *testing.T) {
	script := block(t, syntaxYAML, "script", "script: |")
	fns := []Source{
		block(t, syntaxYAML, "a.fn", "uid: a\n    fn: |"),
		plain(t, syntaxYAML, "b.fn", "uid: b\n    fn: "),
		block(t, syntaxYAML, "c.fn", "uid: c\n    fn: |"),
	}
	_, err := Compile(&script, nil, fns)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Compile: got %v, want an ErrorList", err)
	}
	want := []string{
		"p.yaml:5:18: script: SyntaxError: Unexpected token )",
		"p.yaml:12:7: a.fn: SyntaxError: Unexpected token }",
		"p.yaml:14:16: b.fn: SyntaxError: Unexpected end of input",
		"p.yaml:19:13: c.fn: SyntaxError: Identifier 'x' has already been declared",
	}
	got := strings.Split(list.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var one *Error
	if !errors.As(err, &one) || one.Name != "script" {
		t.Errorf("errors.As(*Error) = %v, want the script's error", one)
	}
}

func TestFunctionExpressionsAreChecked(t *testing.T) {
	const script = `function helper(e) { return e.n * 2 }
const twice = x => 2 * x
let notFn = 5
class Box {}
`
	shared := &Source{Name: "script", Code: script, File: "p.yaml", Line: 2, Col: 3}
	tests := []struct {
		code       string
		compileErr string // an error of Compile
		runtimeErr string // else an error of NewRuntime
	}{
		{code: "helper"},
		{code: " twice\n"},
		{code: "e => e.n"},
		{code: "function (e) { return e.n }"},
		{code: "(e => e.n)"},
		{code: "e => e.n // a comment"},
		{code: "missing", compileErr: `p.yaml:1:5: op.fn: "missing" is not a function defined in script`},
		{code: "notFn", runtimeErr: "p.yaml:1:5: op.fn: expected a function, got number"},
		{code: "42", compileErr: "p.yaml:1:5: op.fn: expected a function, got number"},
		{code: "'room'", compileErr: "p.yaml:1:5: op.fn: expected a function, got string"},
		{code: "[1, 2]", compileErr: "p.yaml:1:5: op.fn: expected a function, got array"},
		{code: "null", compileErr: "p.yaml:1:5: op.fn: expected a function, got null"},
		{code: "e => e); (1", compileErr: "p.yaml:1:5: op.fn: expected one function expression"},
		{code: "Math.PI", runtimeErr: "p.yaml:1:5: op.fn: expected a function, got number"},
		{code: "params", compileErr: `p.yaml:1:5: op.fn: "params" is not a function defined in script`},
		{code: "({a: 1})", compileErr: "p.yaml:1:5: op.fn: expected a function, got object"},
		{code: "e => e), (undefined", runtimeErr: "p.yaml:1:5: op.fn: expected a function, got undefined"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			p, err := Compile(shared, nil, []Source{fn(tc.code)})
			if got := fmt.Sprint(err); tc.compileErr != "" || err != nil {
				if got != tc.compileErr {
					t.Fatalf("Compile: got %q, want %q", got, tc.compileErr)
				}
				return
			}
			r, err := p.NewRuntime(nil)
			if got := fmt.Sprint(err); tc.runtimeErr != "" || err != nil {
				if got != tc.runtimeErr {
					t.Fatalf("NewRuntime: got %q, want %q", got, tc.runtimeErr)
				}
				return
			}
			defer r.Close()
			if _, err := r.Func(0, 0).Call(r.ToJS(map[string]any{"n": int64(1)})); err != nil {
				t.Errorf("Call: %v", err)
			}
		})
	}
}

func TestBareIdentifierNeedsAScript(t *testing.T) {
	_, err := Compile(nil, nil, []Source{fn("helper")})
	if want := `p.yaml:1:5: op.fn: "helper" is not a function defined in script`; fmt.Sprint(err) != want {
		t.Errorf("Compile: got %v, want %s", err, want)
	}
}
