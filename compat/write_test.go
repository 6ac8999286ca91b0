package compat

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pipectl/pipectl/schema"
)

// sampleReport has a job-level, a uid-level and a state result, one without a position.
func sampleReport() *Report {
	return &Report{Compatible: false, Results: []Result{
		{Verdict: schema.Incompatible, Rule: schema.RuleMaxParallelismChanged, Reason: "128 -> 256",
			File: "p.yaml", Line: 3, Column: 1, Severity: SeverityError},
		{UID: "f", Verdict: schema.New, Rule: schema.RuleStateNew, Reason: "new filter",
			File: "p.yaml", Line: 9, Column: 5, Severity: SeverityNote},
		{UID: "a", State: "s", Verdict: schema.Compatible, Rule: schema.RuleFieldRemoved,
			OldSchema: "{x: int, y: int}", NewSchema: "{x: int}", Reason: "field $.y removed,\n50%",
			File: "dir/p,1.yaml", Line: 12, Column: 7, Severity: SeverityWarning},
		{UID: "gone", State: "v", Verdict: schema.Dropped, Rule: schema.RuleStateDropped,
			OldSchema: "int", Reason: "dropped", Severity: SeverityError},
		{UID: "b", Verdict: schema.Compatible, Rule: schema.RuleStateUnchanged, Reason: "stateless",
			File: "p.yaml", Line: 20, Column: 5, Severity: SeverityNote},
	}}
}

func TestWriters(t *testing.T) {
	tests := []struct {
		name  string
		write func(*Report, *bytes.Buffer) error
		want  string
	}{
		{"text", func(r *Report, b *bytes.Buffer) error { return r.WriteText(b) }, "" +
			"incompatible  (job)   MAX_PARALLELISM_CHANGED  p.yaml:3:1         128 -> 256\n" +
			"new           f       STATE_NEW                p.yaml:9:5         new filter\n" +
			"compatible    a/s     FIELD_REMOVED            dir/p,1.yaml:12:7  field $.y removed, 50%\n" +
			"dropped       gone/v  STATE_DROPPED            -                  dropped\n" +
			"compatible    b       STATE_UNCHANGED          p.yaml:20:5        stateless\n" +
			"2 compatible, 0 after migration, 1 incompatible, 1 dropped, 1 new\n"},
		{"github", func(r *Report, b *bytes.Buffer) error { return r.WriteGitHub(b) }, "" +
			"::error file=p.yaml,line=3,col=1::(job) incompatible (MAX_PARALLELISM_CHANGED): 128 -> 256\n" +
			"::notice file=p.yaml,line=9,col=5::f new (STATE_NEW): new filter\n" +
			"::warning file=dir/p%2C1.yaml,line=12,col=7::a/s compatible (FIELD_REMOVED): field $.y removed,%0A50%25\n" +
			"::error::gone/v dropped (STATE_DROPPED): dropped\n" +
			"2 compatible, 0 after migration, 1 incompatible, 1 dropped, 1 new\n"},
		{"empty text", func(_ *Report, b *bytes.Buffer) error { return (&Report{Compatible: true}).WriteText(b) },
			"0 compatible, 0 after migration, 0 incompatible, 0 dropped, 0 new\n"},
		{"empty json", func(_ *Report, b *bytes.Buffer) error { return (&Report{Compatible: true}).WriteJSON(b) },
			"{\n  \"compatible\": true,\n  \"results\": []\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(sampleReport(), &b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

// TestWriteJSONNulls checks the docs/compat-rules.md shape: every key present, absent values null.
func TestWriteJSONNulls(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Compatible bool             `json:"compatible"`
		Results    []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	keys := []string{"uid", "state", "verdict", "rule", "old_schema", "new_schema", "reason",
		"file", "line", "column"}
	wantNull := []map[string]bool{
		{"uid": true, "state": true, "old_schema": true, "new_schema": true},
		{"state": true, "old_schema": true, "new_schema": true},
		{},
		{"new_schema": true, "file": true, "line": true, "column": true},
		{"state": true, "old_schema": true, "new_schema": true},
	}
	if got.Compatible || len(got.Results) != len(wantNull) {
		t.Fatalf("compatible=%v, %d results", got.Compatible, len(got.Results))
	}
	for i, r := range got.Results {
		if len(r) != len(keys) {
			t.Errorf("result %d has keys %v, want exactly %v", i, r, keys)
		}
		for _, k := range keys {
			v, ok := r[k]
			if !ok {
				t.Errorf("result %d lacks %q", i, k)
			} else if (v == nil) != wantNull[i][k] {
				t.Errorf("result %d: %q = %v, want null: %v", i, k, v, wantNull[i][k])
			}
		}
	}
}

func TestRelativeTo(t *testing.T) {
	tests := []struct{ file, dir, want string }{
		{"/repo/pipes/p.yaml", "/repo", "pipes/p.yaml"},
		{"/repo/p.yaml", "/repo", "p.yaml"},
		{"/elsewhere/p.yaml", "/repo", "/elsewhere/p.yaml"},
		{"/repo2/p.yaml", "/repo", "/repo2/p.yaml"},
		{"", "/repo", ""},
		{"p.yaml", "/repo", "p.yaml"},
	}
	for _, tt := range tests {
		rep := &Report{Results: []Result{{File: tt.file}}}
		rep.RelativeTo(tt.dir)
		if got := rep.Results[0].File; got != tt.want {
			t.Errorf("RelativeTo(%q) of %q = %q, want %q", tt.dir, tt.file, got, tt.want)
		}
	}
}
