package cli

import (
	"path/filepath"
	"testing"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// A job without keyed state does not open a database it would never use.
func TestBackendKind(t *testing.T) {
	const head = `name: p
state_backend: badger
sources:
  - {uid: in, kind: generator, count: 1, schema: {room: int}, fn: "i => ({room: i})"}
`
	tests := []struct {
		name, rest, want string
	}{
		{"stateless", `operators:
  - {uid: m, kind: map, input: in, fn: "e => e", output: {room: int}}
sinks:
  - {uid: out, kind: stdout, input: m}
`, statebackend.KindMemory},
		{"keyed", `operators:
  - {uid: m, kind: max, input: in, key_by: room, field: room}
sinks:
  - {uid: out, kind: stdout, input: m}
`, statebackend.KindBadger},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pipeline.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(head+tc.rest), pipeline.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := backendKind(p); got != tc.want {
				t.Errorf("backend %s, want %s", got, tc.want)
			}
		})
	}
}
