package cli

import (
	"path/filepath"
	"strings"

	"github.com/pipectl/pipectl/pipeline"
)

// emptyGlobWarnings are warnings for the file sources whose glob matches no file now: a
// bounded job would finish at once having read nothing, which is rarely what was meant (a
// typo, the wrong working directory). A plain path that does not exist is the job's error at
// run time instead. Listing a directory opens no data file, so validate warns too.
func emptyGlobWarnings(p *pipeline.Pipeline) []pipeline.Diagnostic {
	var out []pipeline.Diagnostic
	for _, n := range p.Sources {
		if n.Kind != "file" || !strings.ContainsAny(n.Path, "*?[") {
			continue
		}
		if matches, err := filepath.Glob(n.Path); err != nil || len(matches) > 0 {
			continue
		}
		pos, ok := n.Keys["path"]
		if !ok {
			pos = n.Pos
		}
		msg := "source " + n.UID + ": no file matches " + n.Path + ": the job will read nothing"
		if n.Follow {
			msg = "source " + n.UID + ": no file matches " + n.Path + " yet: the job will wait for one"
		}
		out = append(out, pipeline.Diagnostic{File: p.File, Line: pos.Line, Col: pos.Col,
			Severity: pipeline.SeverityWarning, Code: "empty-glob", Msg: msg})
	}
	return out
}
