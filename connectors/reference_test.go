package connectors

import (
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestReference fails when docs/connectors.md differs from what the registrations generate,
// so an option can never go undocumented (rewrite it with go test ./connectors -run
// TestReference -update).
func TestReference(t *testing.T) {
	testkit.Golden(t, "../docs/connectors.md", Reference())
}

// TestRegistry checks every registration is complete enough to document and build.
func TestRegistry(t *testing.T) {
	for _, role := range []Role{RoleSource, RoleSink} {
		for _, s := range Kinds(role) {
			if s.Summary == "" {
				t.Errorf("%s %q: no summary", role, s.Kind)
			}
			for _, k := range s.Keys {
				if k.Doc == "" {
					t.Errorf("%s %q: key %q has no doc line", role, s.Kind, k.Name)
				}
				if k.Type == TypeEnum && len(k.Enum) == 0 {
					t.Errorf("%s %q: enum key %q lists no values", role, s.Kind, k.Name)
				}
			}
		}
	}
}
