package compat

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/schema"
)

// Severity is how loudly a result is reported (GitHub annotation level).
type Severity string

// Severities, loudest first.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityNote    Severity = "note"
)

// Result is the verdict for one state of one uid, for a stateless uid (State empty), or for
// the whole job (UID and State empty). Empty strings and zero positions are null in JSON.
type Result struct {
	UID       string
	State     string
	Verdict   schema.Verdict
	Rule      schema.Rule
	OldSchema string // canonical type expression stored by the old side; "" when none
	NewSchema string // canonical type expression declared by the new side; "" when none
	Reason    string // names the path, both types and the fix
	// RenamedFrom is the old uid whose state the result's uid takes over (previous_uids);
	// "" when it restores its own.
	RenamedFrom string
	// File, Line and Column locate the new file's declaration that decides the result;
	// Line and Column are 0 when no declaration does (a dropped uid).
	File     string
	Line     int
	Column   int
	Severity Severity
}

// Name is the result's subject as `uid/state`, `uid`, or `(job)` for job-level results.
func (r *Result) Name() string {
	switch {
	case r.UID == "":
		return "(job)"
	case r.State == "":
		return r.UID
	}
	return r.UID + "/" + r.State
}

// Note is the reason with the rename noted: "… (renamed from OLD: UID_RENAMED)".
func (r *Result) Note() string {
	if r.RenamedFrom == "" {
		return r.Reason
	}
	return r.Reason + " (renamed from " + r.RenamedFrom + ": " + string(schema.RuleUIDRenamed) + ")"
}

// Location is `file:line:col`, `file` without a line, or `-` without a file.
func (r *Result) Location() string {
	switch {
	case r.File == "":
		return "-"
	case r.Line == 0:
		return r.File
	}
	return r.File + ":" + strconv.Itoa(r.Line) + ":" + strconv.Itoa(r.Column)
}

// resultJSON is the wire form of a Result (docs/compat-rules.md): absent values are null.
type resultJSON struct {
	UID       *string        `json:"uid"`
	State     *string        `json:"state"`
	Verdict   schema.Verdict `json:"verdict"`
	Rule      schema.Rule    `json:"rule"`
	OldSchema *string        `json:"old_schema"`
	NewSchema *string        `json:"new_schema"`
	Reason    string         `json:"reason"`
	File      *string        `json:"file"`
	Line      *int           `json:"line"`
	Column    *int           `json:"column"`
	// RenamedFrom is only written for a uid that takes over an old uid's state.
	RenamedFrom *string `json:"renamed_from,omitempty"`
}

// MarshalJSON writes the docs/compat-rules.md shape, with null for absent uid, state, schemas and position.
// Type expressions keep their < and > (no HTML escaping).
func (r Result) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(resultJSON{
		UID: nullString(r.UID), State: nullString(r.State),
		Verdict: r.Verdict, Rule: r.Rule,
		OldSchema: nullString(r.OldSchema), NewSchema: nullString(r.NewSchema),
		Reason: r.Reason,
		File:   nullString(r.File), Line: nullInt(r.Line), Column: nullInt(r.Column),
		RenamedFrom: nullString(r.RenamedFrom),
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// Report is the outcome of Check.
type Report struct {
	// Compatible is true when no result is incompatible and no state is dropped without
	// --allow-non-restored-state: the new pipeline can restore the old side's state.
	Compatible bool
	Results    []Result
	// Verified is what --verify-state found in the savepoint's entries (nil: not asked).
	Verified *Verification
}

// Counts is the number of results per verdict, as in the summary line.
type Counts struct {
	Compatible, AfterMigration, Incompatible, Dropped, New int
}

// Counts tallies the results by verdict.
func (rep *Report) Counts() Counts {
	var c Counts
	for i := range rep.Results {
		switch rep.Results[i].Verdict {
		case schema.Compatible:
			c.Compatible++
		case schema.CompatibleAfterMigration:
			c.AfterMigration++
		case schema.Incompatible:
			c.Incompatible++
		case schema.Dropped:
			c.Dropped++
		case schema.New:
			c.New++
		}
	}
	return c
}

// Summary is the summary line: `N compatible, N after migration, N incompatible, N dropped,
// N new`.
func (c Counts) Summary() string {
	return strconv.Itoa(c.Compatible) + " compatible, " + strconv.Itoa(c.AfterMigration) + " after migration, " +
		strconv.Itoa(c.Incompatible) + " incompatible, " + strconv.Itoa(c.Dropped) + " dropped, " +
		strconv.Itoa(c.New) + " new"
}

// relativeTo is file relative to dir when file is an absolute path inside dir, else file.
func relativeTo(dir, file string) string {
	if file == "" || !filepath.IsAbs(file) {
		return file
	}
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return file
	}
	return filepath.ToSlash(rel)
}

// RelativeTo rewrites every result's file relative to dir when the file lies inside dir
// (the CLI passes its working directory, so reports say `pipeline.yaml:12:7`, and GitHub
// annotations get repository-relative paths).
func (rep *Report) RelativeTo(dir string) {
	for i := range rep.Results {
		rep.Results[i].File = relativeTo(dir, rep.Results[i].File)
	}
	if rep.Verified != nil {
		for i := range rep.Verified.Failures {
			rep.Verified.Failures[i].File = relativeTo(dir, rep.Verified.Failures[i].File)
		}
	}
}
