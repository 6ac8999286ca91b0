package compat

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pipectl/pipectl/schema"
)

// WriteText writes one aligned line per result — verdict, uid/state, rule, file:line:col,
// reason — then the summary line `N compatible, N after migration, N incompatible, N dropped,
// N new`.
func (rep *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i := range rep.Results {
		r := &rep.Results[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Verdict, r.Name(), r.Rule, r.Location(),
			oneLine(r.Note()))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write compat report: %w", err)
	}
	if err := writeSummary(w, rep); err != nil {
		return err
	}
	if rep.Verified != nil {
		return rep.Verified.writeText(w)
	}
	return nil
}

// WriteJSON writes `{"compatible": bool, "results": [...]}` (docs/compat-rules.md), indented,
// with `"verify_state": {...}` after them when --verify-state ran.
func (rep *Report) WriteJSON(w io.Writer) error {
	results := rep.Results
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Compatible bool          `json:"compatible"`
		Results    []Result      `json:"results"`
		Verified   *Verification `json:"verify_state,omitempty"`
	}{rep.Compatible, results, rep.Verified})
	if err != nil {
		return fmt.Errorf("write compat report: %w", err)
	}
	return nil
}

// WriteGitHub writes GitHub Actions workflow commands: `::error file=…,line=…,col=…::…` for
// incompatible and dropped state, `::warning …` for warnings (dropped with
// --allow-non-restored-state, data dropped by a migration, unchecked `any`), `::notice …` for
// new state and migrations; then the summary line; then, when --verify-state ran, an
// `::error` per entry that failed and its summary line.
func (rep *Report) WriteGitHub(w io.Writer) error {
	for i := range rep.Results {
		r := &rep.Results[i]
		level := githubLevel(r)
		if level == "" {
			continue
		}
		var props []string
		if r.File != "" {
			props = append(props, "file="+escapeProperty(r.File))
			if r.Line > 0 {
				props = append(props, "line="+strconv.Itoa(r.Line), "col="+strconv.Itoa(r.Column))
			}
		}
		msg := fmt.Sprintf("%s %s (%s): %s", r.Name(), r.Verdict, r.Rule, r.Note())
		if _, err := fmt.Fprintf(w, "::%s%s::%s\n", level, githubProps(props),
			escapeData(msg)); err != nil {
			return fmt.Errorf("write compat report: %w", err)
		}
	}
	if err := writeSummary(w, rep); err != nil {
		return err
	}
	if rep.Verified != nil {
		return rep.Verified.writeGitHub(w)
	}
	return nil
}

// githubLevel is the annotation command of a result, "" for none (plain compatible).
func githubLevel(r *Result) string {
	switch {
	case r.Severity == SeverityError:
		return "error"
	case r.Severity == SeverityWarning:
		return "warning"
	case r.Verdict == schema.New || r.Verdict == schema.CompatibleAfterMigration:
		return "notice"
	}
	return ""
}

// githubProps is the properties part of a workflow command: " k=v,k=v", or "" for none.
func githubProps(props []string) string {
	if len(props) == 0 {
		return ""
	}
	return " " + strings.Join(props, ",")
}

func writeSummary(w io.Writer, rep *Report) error {
	if _, err := fmt.Fprintln(w, rep.Counts().Summary()); err != nil {
		return fmt.Errorf("write compat report: %w", err)
	}
	return nil
}

// oneLine keeps a reason on its line of the text report.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\t", " ").Replace(s)
}

// escapeData escapes a workflow command's message.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
