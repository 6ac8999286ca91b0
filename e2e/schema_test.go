package e2e

import (
	"encoding/json"
	"testing"
)

// TestSchemaCommand runs `pipectl schema`: a JSON Schema alone on stdout, exit 0; an argument
// is a usage error.
func TestSchemaCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.mustRun(0, "schema")
	var doc struct {
		Schema     string         `json:"$schema"`
		Properties map[string]any `json:"properties"`
		Defs       map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", doc.Schema)
	}
	for _, k := range []string{"name", "sources", "operators", "sinks", "checkpoint"} {
		if doc.Properties[k] == nil {
			t.Errorf("no property %q", k)
		}
	}
	for _, d := range []string{"source", "operator", "sink"} {
		if doc.Defs[d] == nil {
			t.Errorf("no $defs/%s", d)
		}
	}
	if res.stderr != "" {
		t.Errorf("stderr not empty: %s", res.stderr)
	}
	h.mustRun(2, "schema", "extra")
}
