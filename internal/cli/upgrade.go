package cli

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/compat"
	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
)

func upgradeCommand(gs *GlobalState) *cli.Command {
	flags := append(runFlags(),
		&cli.StringFlag{Name: "job", Usage: "the running job to replace (the pit stop)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "check only; stop nothing"},
	)
	return &cli.Command{
		Name:      "upgrade",
		Usage:     "check NEW.yaml against a savepoint or a running job, then run it from that state",
		ArgsUsage: "NEW.yaml (--from-savepoint PATH | --job JOB_ID)",
		Flags:     flags,
		Action:    func(c *cli.Context) error { return upgrade(gs, c) },
	}
}

// upgrade is the pit stop: check, stop with a savepoint, start the new pipeline from it.
func upgrade(gs *GlobalState, c *cli.Context) error {
	file, err := oneArg(c, "new pipeline file")
	if err != nil {
		return err
	}
	o, err := readRunOptions(c)
	if err != nil {
		return err
	}
	if o.logFormat == "json" {
		gs.Stderr = newJSONLines(gs.Stderr)
	}
	jobID := c.String("job")
	if (jobID == "") == (o.fromSavepoint == "") {
		return usagef("upgrade takes exactly one of --from-savepoint and --job")
	}
	p, err := loadPipeline(gs, file, o.params)
	if err != nil {
		return err
	}
	var old *savepoints.Metadata
	var sp *savepoints.Savepoint
	if o.fromSavepoint != "" {
		if sp, err = openSavepoint(gs, o.fromSavepoint); err != nil {
			return err
		}
		old = sp.Meta
	} else if old, _, err = oldSide(gs, "", "", jobID); err != nil {
		return err
	}
	if !reportCompat(gs, old, p, o.allowNonRestored) {
		return &exitError{code: 1, err: errors.New("the new pipeline cannot take over the state: nothing was changed")}
	}
	if c.Bool("dry-run") {
		fmt.Fprintln(gs.Stderr, "dry run: the new pipeline can take over the state; nothing was stopped")
		return nil
	}
	if jobID != "" {
		return pitStop(gs, file, p, o, jobID)
	}
	if o.detach {
		id, err := detach(gs, gs.Args[2:], sp != nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(gs.Stdout, id)
		return nil
	}
	return runJob(gs, p, o, sp, nil)
}

// reportCompat writes the compatibility report on stderr and says whether it allows the
// upgrade.
func reportCompat(gs *GlobalState, old *savepoints.Metadata, p *pipeline.Pipeline, allow bool) bool {
	rep := compat.Check(old, p, compat.Options{AllowNonRestoredState: allow})
	if wd, err := gs.Getwd(); err == nil {
		rep.RelativeTo(wd)
	}
	rep.WriteText(gs.Stderr)
	return rep.Compatible
}

// runArgs turns run options back into flags for a detached `pipectl run`.
func runArgs(o runOptions) []string {
	var a []string
	add := func(flag, v string) {
		if v != "" {
			a = append(a, flag, v)
		}
	}
	add("--from-savepoint", o.fromSavepoint)
	add("--savepoint-dir", o.savepointDir)
	add("--state-dir", o.stateDir)
	add("--metrics-addr", o.metricsAddr)
	add("--log-format", o.logFormat)
	for _, p := range o.params {
		add("--param", p)
	}
	if o.checkpointInterval > 0 {
		add("--checkpoint-interval", o.checkpointInterval.String())
	}
	if o.allowNonRestored {
		a = append(a, "--allow-non-restored-state")
	}
	if o.finalSavepoint {
		a = append(a, "--final-savepoint")
	}
	return a
}

// restartOld restarts the old job's pipeline copy from the savepoint after a failed
// upgrade and returns the upgrade's error. The copy is resolved in the environment the old
// job's pipeline was (its ${…} read the same values), not in this command's.
func restartOld(gs *GlobalState, old jobs.Info, sp string, cause error) error {
	h := mustHome(gs)
	copyPath := jobs.PathsOf(h, old.ID).Pipeline
	args := []string{copyPath, "--resolve-as", old.Pipeline, "--from-savepoint", sp, "--allow-non-restored-state"}
	if old.StateDir != "" {
		args = append(args, "--state-dir", old.StateDir)
	}
	env, _, err := jobs.ReadEnv(h, old.ID)
	if err != nil {
		return fmt.Errorf("the new pipeline failed to start (%v), and the old job's environment cannot be read (%v); restart it with: pipectl run -d --from-savepoint %s %s", cause, err, sp, old.Pipeline)
	}
	id, err := detach(withEnv(gs, env), args, true)
	if err != nil {
		return fmt.Errorf("the new pipeline failed to start (%v), and restarting the old one failed too (%v); restart it with: pipectl run -d --from-savepoint %s %s", cause, err, sp, old.Pipeline)
	}
	return fmt.Errorf("the new pipeline failed to start (%v); the old pipeline was restarted from %s as job %s", cause, sp, id)
}

// printDowntime prints the pit stop's downtime line.
func printDowntime(gs *GlobalState, stoppedMs, startedMs int64) {
	fmt.Fprintf(gs.Stderr, "downtime: %d ms\n", startedMs-stoppedMs)
}

// mustHome returns PIPECTL_HOME ("" if it cannot be found; later calls report that).
func mustHome(gs *GlobalState) string {
	h, _ := home(gs)
	return h
}
