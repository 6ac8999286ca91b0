package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compiledSchema compiles JSONSchema with an independent JSON Schema validator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("pipeline.schema.json", parsed); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("pipeline.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlAsJSON reads a YAML document as the JSON value an editor's validator sees.
func yamlAsJSON(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJSONSchemaAcceptsExamples validates every example pipeline against the schema.
func TestJSONSchemaAcceptsExamples(t *testing.T) {
	s := compiledSchema(t)
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.yaml") {
			continue // pipeline test files, not pipelines
		}
		n++
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlAsJSON(t, string(text))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if n == 0 {
		t.Fatal("no example pipelines found")
	}
}

// TestJSONSchemaRejects checks that the schema refuses what validate refuses about shapes.
func TestJSONSchemaRejects(t *testing.T) {
	s := compiledSchema(t)
	const base = `
name: p
sources:
  - {uid: in, kind: file, path: a.jsonl, schema: "{n: int}"}
sinks:
  - {uid: out, kind: stdout, input: in}
`
	for _, tc := range []struct{ name, yaml string }{
		{"unknown top-level key", base + "paralelism: 2\n"},
		{"unknown source key", strings.Replace(base, "path: a.jsonl", "path: a.jsonl, folow: true", 1)},
		{"key of another kind", strings.Replace(base, "path: a.jsonl", "path: a.jsonl, count: 3", 1)},
		{"unknown kind", strings.Replace(base, "kind: stdout", "kind: stdot", 1)},
		{"missing required option", strings.Replace(base, "path: a.jsonl, ", "", 1)},
		{"bad enum", strings.Replace(base, "path: a.jsonl", "path: a.jsonl, format: xml", 1)},
		{"bad duration", base + "function_timeout: soon\n"},
		{"missing name", strings.Replace(base, "name: p\n", "", 1)},
		{"sink without input", strings.Replace(base, ", input: in", "", 1)},
		{"bad uid", strings.Replace(base, "uid: out", "uid: o/ut", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Validate(yamlAsJSON(t, tc.yaml)); err == nil {
				t.Errorf("accepted:\n%s", tc.yaml)
			}
		})
	}
	// Any scalar may be a ${VAR}: uids, kinds and inputs too.
	for _, env := range []string{
		base + "parallelism: ${PAR:-2}\n",
		strings.NewReplacer("uid: in", `uid: "${SRC:-in}"`, "input: in", `input: "${SRC:-in}"`).Replace(base),
		strings.Replace(base, "kind: stdout", `kind: "${OUT:-stdout}"`, 1),
		base + "operators:\n  - {uid: j, kind: union, inputs: [in, \"${OTHER}\"], previous_uids: [\"${OLD}\"]}\n",
	} {
		if err := s.Validate(yamlAsJSON(t, env)); err != nil {
			t.Errorf("a ${VAR} scalar is refused: %v\n%s", err, env)
		}
	}
}

// TestJSONSchemaCoversEveryKey fails when validate takes a key the schema does not describe.
func TestJSONSchemaCoversEveryKey(t *testing.T) {
	if _, err := JSONSchema(); err != nil {
		t.Fatal(err)
	}
	for _, k := range topKeys {
		if _, ok := topKeySchemas[k]; !ok && !slices.Contains([]string{"sources", "operators", "sinks"}, k) {
			t.Errorf("top-level key %q has no schema", k)
		}
	}
}

// TestJSONSchemaDescriptionsAreTheirKeys checks that keys built from one shared schema keep
// their own descriptions (editors show them as hover help).
func TestJSONSchemaDescriptionsAreTheirKeys(t *testing.T) {
	want := map[string]string{
		"parallelism":     "default subtasks per operator",
		"max_parallelism": "number of key groups, fixed for the life of the state",
	}
	for key, desc := range want {
		if got := topKeySchemas[key].(map[string]any)["description"]; got != desc {
			t.Errorf("%s: description %q, want %q", key, got, desc)
		}
	}
}
