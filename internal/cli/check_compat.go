package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/compat"
	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
	"github.com/pipectl/pipectl/savepoints"
)

func checkCompatCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "check-compat",
		Usage:     "say whether NEW.yaml can take over the state of a savepoint, an old pipeline or a running job",
		ArgsUsage: "NEW.yaml (--savepoint PATH | --against OLD.yaml | --job JOB_ID)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "savepoint", Usage: "the savepoint to restore from"},
			&cli.StringFlag{Name: "against", Usage: "the old pipeline file (no savepoint needed)"},
			&cli.StringFlag{Name: "job", Usage: "a running job"},
			&cli.BoolFlag{Name: "allow-non-restored-state", Usage: "dropped state is a warning, not an error"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json or github"},
			&cli.BoolFlag{Name: "verify-state", Usage: "decode every entry of the savepoint and run the migrations on it"},
		},
		Action: func(c *cli.Context) error {
			file, err := oneArg(c, "new pipeline file")
			if err != nil {
				return err
			}
			format := c.String("format")
			if format != "text" && format != "json" && format != "github" {
				return usagef("--format must be text, json or github, not %q", format)
			}
			sides := 0
			for _, f := range []string{"savepoint", "against", "job"} {
				if c.String(f) != "" {
					sides++
				}
			}
			if sides != 1 {
				return usagef("check-compat takes exactly one of --savepoint, --against and --job")
			}
			if c.Bool("verify-state") && c.String("savepoint") == "" {
				return usagef("--verify-state needs --savepoint")
			}
			p, err := loadPipeline(gs, file, nil)
			if err != nil {
				return err
			}
			old, sp, err := oldSide(gs, c.String("savepoint"), c.String("against"), c.String("job"))
			if err != nil {
				return err
			}
			rep := compat.Check(old, p, compat.Options{AllowNonRestoredState: c.Bool("allow-non-restored-state")})
			if rep.Compatible && c.Bool("verify-state") {
				if err := verifyState(rep, sp, p); err != nil {
					return err
				}
			}
			if wd, err := gs.Getwd(); err == nil {
				rep.RelativeTo(wd)
			}
			if err := writeReport(gs.Stdout, rep, format); err != nil {
				return err
			}
			if !rep.Compatible {
				return silentExit(1)
			}
			return nil
		},
	}
}

// writeReport writes a compatibility report in one of the formats.
func writeReport(w io.Writer, rep *compat.Report, format string) error {
	switch format {
	case "json":
		return rep.WriteJSON(w)
	case "github":
		return rep.WriteGitHub(w)
	}
	return rep.WriteText(w)
}

// oldSide returns the old side's metadata: a savepoint's, an old pipeline's or a running
// job's.
func oldSide(gs *GlobalState, spPath, against, jobID string) (*savepoints.Metadata, *savepoints.Savepoint, error) {
	switch {
	case spPath != "":
		sp, err := openSavepoint(gs, spPath)
		if err != nil {
			return nil, nil, err
		}
		return sp.Meta, sp, nil
	case against != "":
		egs, err := copyEnv(gs, against)
		if err != nil {
			return nil, nil, err
		}
		old, err := loadPipeline(egs, against, nil)
		if err != nil {
			return nil, nil, err
		}
		return compat.Describe(old), nil, nil
	}
	resp, err := call(gs, jobID, jobs.Request{Op: jobs.OpSchema}, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	var meta savepoints.Metadata
	if err := json.Unmarshal(resp.Data, &meta); err != nil {
		return nil, nil, fmt.Errorf("job %s answered an unreadable schema: %w", jobID, err)
	}
	return &meta, nil, nil
}

// unmarshal decodes an optional control payload.
func unmarshal(data json.RawMessage, v any) {
	if len(data) > 0 {
		json.Unmarshal(data, v)
	}
}

// verifyState decodes every entry of the savepoint and runs the migrations on it, and adds
// what it found to the report: an entry that fails makes the report incompatible (exit 1).
func verifyState(rep *compat.Report, sp *savepoints.Savepoint, p *pipeline.Pipeline) error {
	prog, err := p.Compile()
	if err != nil {
		return err
	}
	vr, failed, err := runtime.VerifyState(sp, p, prog)
	if err != nil {
		return err
	}
	v := &compat.Verification{States: vr.States, Entries: vr.Entries, Migrated: vr.Migrated, Failed: failed}
	for _, f := range vr.Failures {
		v.Failures = append(v.Failures, compat.EntryFailure{UID: f.UID, State: f.State, Key: f.Key, Error: f.Err})
	}
	rep.AddVerification(v, p)
	return nil
}
