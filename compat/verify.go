package compat

import (
	"fmt"
	"io"
	"strconv"

	"github.com/pipectl/pipectl/pipeline"
)

// Verification is what `check-compat --verify-state` found when it decoded every entry of the
// savepoint and ran its migration: the counts and the first failing entries.
type Verification struct {
	States   int   `json:"states"`
	Entries  int64 `json:"entries"`
	Migrated int64 `json:"migrated"`
	// Failed counts every entry that throws, does not decode or does not fit the new schema;
	// Failures lists the first of them.
	Failed   int64          `json:"failed"`
	Failures []EntryFailure `json:"failures"`
}

// EntryFailure is one entry that cannot be restored into the new pipeline, located at its
// state's declaration in the new file.
type EntryFailure struct {
	UID    string `json:"uid"`
	State  string `json:"state"`
	Key    string `json:"key,omitempty"` // the key in its JSON form ("": the whole state failed)
	Error  string `json:"error"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// AddVerification attaches v to the report, locating each failure at its state's declaration
// in p; a failed entry makes the report incompatible, as it makes the exit code 1.
func (rep *Report) AddVerification(v *Verification, p *pipeline.Pipeline) {
	for i := range v.Failures {
		f := &v.Failures[i]
		f.File = p.File
		if n := p.Nodes[f.UID]; n != nil {
			pos := n.Pos
			for _, s := range n.States {
				if s.Name == f.State {
					pos = statePos(n, s)
				}
			}
			f.Line, f.Column = pos.Line, pos.Col
		}
	}
	if v.Failures == nil {
		v.Failures = []EntryFailure{}
	}
	rep.Verified = v
	if v.Failed > 0 {
		rep.Compatible = false
	}
}

// name is uid/state, then the key when there is one.
func (f *EntryFailure) name() string {
	if f.Key == "" {
		return f.UID + "/" + f.State
	}
	return f.UID + "/" + f.State + " key " + f.Key
}

// writeText writes a line per failure and the verification's summary line.
func (v *Verification) writeText(w io.Writer) error {
	for i := range v.Failures {
		f := &v.Failures[i]
		if _, err := fmt.Fprintf(w, "verify-state: %s: %s\n", f.name(), oneLine(f.Error)); err != nil {
			return fmt.Errorf("write compat report: %w", err)
		}
	}
	return v.writeSummary(w)
}

func (v *Verification) writeSummary(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "verify-state: %d entries of %d states checked, %d migrated, %d failed\n",
		v.Entries, v.States, v.Migrated, v.Failed); err != nil {
		return fmt.Errorf("write compat report: %w", err)
	}
	return nil
}

// writeGitHub writes an `::error` annotation per failure, then the summary line.
func (v *Verification) writeGitHub(w io.Writer) error {
	for i := range v.Failures {
		f := &v.Failures[i]
		props := []string{"file=" + escapeProperty(f.File)}
		if f.Line > 0 {
			props = append(props, "line="+strconv.Itoa(f.Line), "col="+strconv.Itoa(f.Column))
		}
		msg := fmt.Sprintf("verify-state: %s: %s", f.name(), f.Error)
		if _, err := fmt.Fprintf(w, "::error%s::%s\n", githubProps(props), escapeData(msg)); err != nil {
			return fmt.Errorf("write compat report: %w", err)
		}
	}
	return v.writeSummary(w)
}
