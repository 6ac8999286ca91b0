package savepoints

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// openFixed opens a savepoint of testMeta holding data, with a fixed ID for golden output.
func openFixed(t *testing.T, data stateData) *Savepoint {
	t.Helper()
	sp, err := Open(writeSavepoint(t, t.TempDir(), testMeta(), data))
	if err != nil {
		t.Fatal(err)
	}
	sp.Meta.ID = "savepoint-0a1b2c-5f3e9d2c41aa"
	return sp
}

func TestInspectTable(t *testing.T) {
	var buf bytes.Buffer
	if err := openFixed(t, corruptData).WriteInspectTable(&buf); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/inspect.txt", buf.Bytes())
}

func TestInspectJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := openFixed(t, corruptData).WriteInspectJSON(&buf); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/inspect.json", buf.Bytes())

	// The shape of docs/operations.md, checked apart from the golden file.
	var doc struct {
		ID             *string `json:"id"`
		JobID          *string `json:"job_id"`
		Pipeline       *string `json:"pipeline"`
		Created        *string `json:"created"`
		Trigger        *string `json:"trigger"`
		FormatVersion  *int    `json:"format_version"`
		MaxParallelism *int    `json:"max_parallelism"`
		Operators      []struct {
			UID     *string          `json:"uid"`
			Offsets map[string]int64 `json:"offsets"`
			States  []map[string]any `json:"states"`
		} `json:"operators"`
	}
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.ID == nil || doc.JobID == nil || doc.Pipeline == nil || doc.Created == nil || doc.Trigger == nil ||
		doc.FormatVersion == nil || doc.MaxParallelism == nil || len(doc.Operators) != 5 {
		t.Fatalf("inspect JSON lacks a field: %+v", doc)
	}
	if got := doc.Operators[0].Offsets["/data/a.jsonl"]; got != 1234 {
		t.Errorf("file source offset = %d, want 1234", got)
	}
	if got := doc.Operators[1].Offsets["next"]; got != 42 {
		t.Errorf("generator offset = %d, want 42", got)
	}
	st := doc.Operators[2].States[0]
	for _, k := range []string{"name", "kind", "schema", "key_type", "entries", "bytes"} {
		if _, ok := st[k]; !ok {
			t.Errorf("state lacks %q: %v", k, st)
		}
	}
	if _, ok := st["entries"].(float64); !ok {
		t.Errorf("entries is %T, want a number", st["entries"])
	}
}
