package connectors

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/connectors.md from the registrations")

// TestReference fails when docs/connectors.md differs from what the registrations generate,
// so an option can never go undocumented.
func TestReference(t *testing.T) {
	const path = "../docs/connectors.md"
	got := Reference()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./connectors -run TestReference -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date: run go test ./connectors -run TestReference -update", path)
	}
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
