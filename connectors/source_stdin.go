package connectors

import (
	"fmt"
	"os"
)

func init() {
	Register(Spec{
		Kind: "stdin", Role: RoleSource,
		Summary:    "Reads records from standard input; the job ends at the end of input. Not replayable.",
		Offsets:    "none",
		OneSubtask: "standard input is one stream",
		Keys: []Key{
			{Name: "format", Type: TypeEnum, Enum: []string{"jsonl", "csv"}, Default: "jsonl", Doc: "jsonl: one JSON object a line; csv: a header line, then one record a line"},
		},
		NewSource: func(cfg SourceConfig) (Source, error) { return newStdinSource(cfg) },
	})
}

// stdinName names standard input in errors and bad records.
const stdinName = "<stdin>"

// stdinSource reads records from standard input until its end. It is not replayable: it has no
// offsets and ignores the ones it is restored with.
type stdinSource struct {
	cfg    SourceConfig
	format format
}

func newStdinSource(cfg SourceConfig) (*stdinSource, error) {
	if cfg.Parallelism > 1 {
		return nil, fmt.Errorf("stdin cannot be read by %d subtasks", cfg.Parallelism)
	}
	f, err := newFormat(cfg.Format, cfg.Schema)
	if err != nil {
		return nil, err
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	return &stdinSource{cfg: cfg, format: f}, nil
}

func (s *stdinSource) Restore(Offsets) error { return nil }
func (s *stdinSource) Offsets() Offsets      { return nil }
func (s *stdinSource) Bounded() bool         { return true }

func (s *stdinSource) Run(ctx SourceContext) error {
	sc := newLineScanner()
	sc.reset(s.cfg.Stdin)
	f := &fileState{path: stdinName}
	return f.consume(ctx, sc, s.format, true)
}
