package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/compat"
	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
	"github.com/pipectl/pipectl/savepoints"
)

// envDetached marks the child process of `run -d`.
const envDetached = "PIPECTL_DETACHED_JOB"

// runOptions are the flags shared by run and upgrade.
type runOptions struct {
	detach             bool
	fromSavepoint      string
	allowNonRestored   bool
	params             []string
	savepointDir       string
	finalSavepoint     bool
	stateDir           string
	fresh              bool
	checkpointInterval time.Duration
	memory             int64 // --memory in bytes; 0: the pipeline's memory:
	metricsAddr        string
	logFormat          string
	resolveAs          string
}

func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "d", Aliases: []string{"detach"}, Usage: "run detached; print the job id"},
		&cli.StringFlag{Name: "from-savepoint", Aliases: []string{"s"}, Usage: "restore state from a savepoint directory (or its _metadata.json)"},
		&cli.BoolFlag{Name: "allow-non-restored-state", Usage: "drop savepoint state that the pipeline no longer has"},
		&cli.StringSliceFlag{Name: "param", Usage: "override a params value: NAME=VALUE (read as YAML)"},
		&cli.StringFlag{Name: "savepoint-dir", Usage: "where savepoints of this job go"},
		&cli.BoolFlag{Name: "final-savepoint", Usage: "write a savepoint when the job finishes or is stopped by a signal"},
		&cli.StringFlag{Name: "state-dir", Usage: "the job's state directory (default $PIPECTL_HOME/state/<name>)"},
		&cli.BoolFlag{Name: "fresh", Usage: "discard checkpoints in the state directory and start empty"},
		&cli.StringFlag{Name: "checkpoint-interval", Usage: "take periodic checkpoints, e.g. 10s (overrides checkpoint: in the pipeline file)"},
		&cli.StringFlag{Name: "memory", Usage: "the job's memory budget, e.g. 256MiB (overrides memory: in the pipeline file)"},
		&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus metrics and /job on this address"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
		// --resolve-as reads the pipeline from FILE but resolves its relative paths as if it
		// were PATH: restarting a job from the pipeline copy in its job folder.
		&cli.StringFlag{Name: "resolve-as", Hidden: true},
	}
}

func readRunOptions(c *cli.Context) (runOptions, error) {
	o := runOptions{
		detach: c.Bool("d"), fromSavepoint: c.String("from-savepoint"),
		allowNonRestored: c.Bool("allow-non-restored-state"), params: c.StringSlice("param"),
		savepointDir: c.String("savepoint-dir"), finalSavepoint: c.Bool("final-savepoint"),
		stateDir: c.String("state-dir"), fresh: c.Bool("fresh"), metricsAddr: c.String("metrics-addr"),
		logFormat: c.String("log-format"), resolveAs: c.String("resolve-as"),
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, usagef("--log-format must be text or json, not %q", o.logFormat)
	}
	if s := c.String("checkpoint-interval"); s != "" {
		d, err := pipeline.ParseDuration(s)
		switch {
		case err != nil:
			return o, usagef("--checkpoint-interval: %v", err)
		case d <= 0:
			return o, usagef("--checkpoint-interval must be positive, got %q", s)
		}
		o.checkpointInterval = d
	}
	if s := c.String("memory"); s != "" {
		var err error
		if o.memory, err = pipeline.ParseMemory(s); err != nil {
			return o, usagef("--memory: %v", err)
		}
	}
	// SP=$(pipectl stop …) yields "" when the stop failed: starting from empty state instead
	// would empty every file sink.
	if c.IsSet("from-savepoint") && strings.TrimSpace(o.fromSavepoint) == "" {
		return o, usagef("--from-savepoint needs a savepoint path, got an empty one")
	}
	return o, nil
}

func runCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "validate, restore and run a pipeline",
		ArgsUsage: "PIPELINE.yaml",
		Flags:     runFlags(),
		Action: func(c *cli.Context) error {
			file, err := oneArg(c, "pipeline file")
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
			p, err := loadPipelineAs(gs, file, o.resolveAs, o.params)
			if err != nil {
				return err
			}
			var sp *savepoints.Savepoint
			if o.fromSavepoint != "" {
				// An unreadable savepoint is refused before detaching, so -d exits as the
				// foreground does.
				if sp, err = openSavepoint(gs, o.fromSavepoint); err != nil {
					return err
				}
			}
			if previous, ok := gs.LookupEnv(envStandbyFor); ok && o.detach {
				return runStandby(gs, p, o, previous)
			}
			if o.detach {
				if _, ok := gs.LookupEnv(envDetached); !ok {
					id, err := detach(gs, gs.Args[2:], sp != nil)
					if err != nil {
						return err
					}
					fmt.Fprintln(gs.Stdout, id)
					return nil
				}
			}
			if sp != nil {
				err = checkRestorable(gs, sp, p, o.allowNonRestored)
			}
			if err == nil {
				err = runJob(gs, p, o, sp, nil)
			}
			recordFailedStart(gs, p, err)
			return err
		},
	}
}

// checkRestorable refuses, with the compatibility report on stderr, a savepoint that the
// pipeline cannot take over.
func checkRestorable(gs *GlobalState, sp *savepoints.Savepoint, p *pipeline.Pipeline, allow bool) error {
	rep := compat.Check(sp.Meta, p, compat.Options{AllowNonRestoredState: allow})
	if rep.Compatible {
		return nil
	}
	if wd, err := gs.Getwd(); err == nil {
		rep.RelativeTo(wd)
	}
	rep.WriteText(gs.Stderr)
	return &exitError{code: 1, err: fmt.Errorf("the savepoint %s cannot be restored into %s: the compatibility report on stderr says why", sp.Path, p.Name)}
}

// home returns PIPECTL_HOME.
func home(gs *GlobalState) (string, error) { return jobs.Home(gs.LookupEnv) }

// runJob runs a pipeline in this process until it ends. onRunning (upgrade) is called when
// the job's sources start reading.
func runJob(gs *GlobalState, p *pipeline.Pipeline, o runOptions, sp *savepoints.Savepoint, onRunning func(started time.Time)) error {
	l, err := prepareRun(gs, p, o, "")
	if err != nil {
		return err
	}
	return l.start(sp, onRunning)
}

// secureJobsDir refuses, or fixes with a warning on stderr, a jobs directory that other
// users may write into.
func secureJobsDir(gs *GlobalState, home string) error {
	warning, err := jobs.SecureJobsDir(home)
	if warning != "" {
		fmt.Fprintln(gs.Stderr, warning)
	}
	return err
}

// fileSinkPaths lists the paths of the pipeline's file sinks.
func fileSinkPaths(p *pipeline.Pipeline) []string {
	var paths []string
	for _, n := range p.Sinks {
		if n.Kind == "file" {
			paths = append(paths, n.Path)
		}
	}
	return paths
}

// finishJob records the job's final status and reports it.
func finishJob(gs *GlobalState, jb *jobs.Job, job *runtime.Job, runErr error) error {
	if fs := job.FinalSavepoint(); fs != nil {
		fmt.Fprintf(gs.Stderr, "savepoint: %s\n", fs.Path)
	}
	switch {
	case errors.Is(runErr, runtime.ErrCanceled):
		jb.SetStatus(jobs.StatusCanceled, jobs.Extra{})
		fmt.Fprintf(gs.Stderr, "Job %s canceled\n", job.ID())
		return nil
	case runErr != nil:
		jb.SetStatus(jobs.StatusFailed, jobs.Extra{Error: runErr.Error()})
		return fmt.Errorf("job %s failed: %w", job.ID(), runErr)
	}
	if sp := job.StopSavepoint(); sp != "" {
		jb.SetStatus(jobs.StatusStopped, jobs.Extra{Savepoint: sp})
		fmt.Fprintf(gs.Stderr, "Job %s stopped with savepoint %s\n", job.ID(), sp)
		return nil
	}
	if fs := job.FinalSavepoint(); fs != nil && job.StoppedBySignal() {
		jb.SetStatus(jobs.StatusStopped, jobs.Extra{Savepoint: fs.Path})
		fmt.Fprintf(gs.Stderr, "Job %s stopped\n", job.ID())
		return nil
	}
	if job.StoppedBySignal() {
		jb.SetStatus(jobs.StatusCanceled, jobs.Extra{})
		fmt.Fprintf(gs.Stderr, "Job %s stopped\n", job.ID())
		return nil
	}
	extra := jobs.Extra{}
	if fs := job.FinalSavepoint(); fs != nil {
		extra.Savepoint = fs.Path
	}
	jb.SetStatus(jobs.StatusFinished, extra)
	fmt.Fprintf(gs.Stderr, "Job %s finished\n", job.ID())
	return nil
}

// savepointDir is where the job's savepoints go: --savepoint-dir, savepoint_dir: in the
// file, or $PIPECTL_HOME/savepoints.
func savepointDir(gs *GlobalState, home string, p *pipeline.Pipeline, flag string) (string, error) {
	switch {
	case flag != "":
		return absPath(gs, flag)
	case p.SavepointDir != "":
		return p.SavepointDir, nil
	}
	return filepath.Join(home, "savepoints"), nil
}

// newLogger makes the job's structured logger.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// pipelineCopy is the pipeline file the job runs, kept in its job folder: the file as
// written, with --param values applied to its params.
func pipelineCopy(p *pipeline.Pipeline, params []string) ([]byte, error) {
	if len(params) == 0 {
		return p.Raw, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(p.Raw, &doc); err != nil || len(doc.Content) == 0 {
		return p.Raw, nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "params" || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := root.Content[i+1]
		for _, kv := range params {
			k, v, _ := strings.Cut(kv, "=")
			for j := 0; j+1 < len(m.Content); j += 2 {
				if m.Content[j].Value == k {
					var val yaml.Node
					if err := yaml.Unmarshal([]byte(v), &val); err == nil && len(val.Content) == 1 {
						m.Content[j+1] = val.Content[0]
					}
				}
			}
		}
	}
	return yaml.Marshal(&doc)
}

// marshal is json.Marshal for control responses.
func marshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// memoryBudget divides the job's memory budget (--memory, else memory: in the file) and sets
// the Go runtime's soft memory limit from it unless GOMEMLIMIT is set.
func memoryBudget(gs *GlobalState, p *pipeline.Pipeline, flag int64) runtime.MemoryBudget {
	total := p.Memory
	if flag > 0 {
		total = flag
	}
	b := runtime.SplitMemory(total, p.StateBackend)
	if _, set := gs.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(b.GoLimit)
	}
	return b
}

// restoreGCPercent is the garbage collector's target while a job restores its state: a bulk
// load allocates short-lived buffers at a high rate, and a small heap reuses warm memory
// instead of faulting in new pages (faster than the binary's default for the record path;
// see docs/PERFORMANCE.md).
const restoreGCPercent = 100

// newJob plans the job (restoring its state), with the restore's GC target unless GOGC is set.
func newJob(gs *GlobalState, cfg runtime.Config) (*runtime.Job, error) {
	if _, set := gs.LookupEnv("GOGC"); !set && cfg.Restore != nil {
		defer debug.SetGCPercent(debug.SetGCPercent(restoreGCPercent))
	}
	return runtime.New(cfg)
}
