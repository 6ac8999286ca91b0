// Package cli is pipectl's command line: a file per command, or per group of commands that
// share their helpers (jobcmds.go: list, savepoint, cancel, stop; inspect.go: inspect, dump).
// Every command takes a GlobalState (standard streams, environment, working directory,
// signals), so commands run in-process in tests; exit codes are decided in one place
// (exitCode).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
)

// GlobalState is what a command may touch of the outside world.
type GlobalState struct {
	Args      []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	LookupEnv func(string) (string, bool)
	Environ   func() []string
	Getwd     func() (string, error)
	// Signals delivers SIGINT/SIGTERM to a running job.
	Signals func() (<-chan os.Signal, func())
	// Exit ends the process at once (a second signal).
	Exit func(code int)
}

// NewGlobalState is the real process's state.
func NewGlobalState() *GlobalState {
	return &GlobalState{
		Args: os.Args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv: os.LookupEnv, Environ: os.Environ, Getwd: os.Getwd,
		Signals: func() (<-chan os.Signal, func()) {
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
			return ch, func() { signal.Stop(ch) }
		},
		Exit: os.Exit,
	}
}

// usageError is a command line that does not make sense (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError carries an explicit exit code and an optional message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// silentExit ends the command with a code and nothing more to say.
func silentExit(code int) error { return &exitError{code: code} }

// exitCode maps an error to the exit codes of docs/operations.md: 2 for usage errors, a pipeline file or
// savepoint that cannot be read, or an unknown job id; 1 for everything else.
func exitCode(err error) int {
	var ee *exitError
	var ue *usageError
	var re *pipeline.ReadError
	var pe *pipeline.ParamError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), errors.As(err, &re), errors.As(err, &pe),
		errors.Is(err, jobs.ErrUnknownJob), errors.Is(err, savepoints.ErrInvalid), errors.Is(err, savepoints.ErrUnknownState),
		errors.Is(err, errUnreadableSavepoint):
		return 2
	}
	return 1
}

// errUnreadableSavepoint marks a savepoint path that cannot be read.
var errUnreadableSavepoint = errors.New("cannot read savepoint")

// unreadableSavepoint is the errUnreadableSavepoint of path, saying the cause once: a
// file-system error on path itself keeps only what went wrong ("no such file or
// directory"), one on a file in it names that file.
func unreadableSavepoint(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if filepath.Clean(pe.Path) == filepath.Clean(path) || filepath.Base(path) == savepoints.MetadataFile && filepath.Dir(path) == pe.Path {
			return fmt.Errorf("%w %s: %v", errUnreadableSavepoint, path, pe.Err)
		}
		return fmt.Errorf("%w %s: %s: %v", errUnreadableSavepoint, path, pe.Path, pe.Err)
	}
	return fmt.Errorf("%w %s: %v", errUnreadableSavepoint, path, err)
}

// Main runs the command line and returns the exit code.
func Main(gs *GlobalState) int {
	app := newApp(gs)
	err := app.RunContext(context.Background(), reorderArgs(app, gs.Args))
	if err == nil {
		return 0
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(gs.Stderr, "error: "+firstSentence(msg))
	}
	return exitCode(err)
}

// firstSentence leaves multi-line messages (diagnostics) alone.
func firstSentence(msg string) string { return strings.TrimRight(msg, "\n") }

func newApp(gs *GlobalState) *cli.App {
	app := &cli.App{
		Name:                      "pipectl",
		Usage:                     "run stateful stream pipelines, with savepoints and compatibility checks",
		Writer:                    gs.Stdout, // the help a user asks for (--help) is the command's output
		ErrWriter:                 gs.Stderr,
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usagef("%v", err)
		},
		CommandNotFound: func(c *cli.Context, name string) {},
		Commands: []*cli.Command{
			runCommand(gs),
			validateCommand(gs),
			listCommand(gs),
			savepointCommand(gs),
			cancelCommand(gs),
			stopCommand(gs),
			upgradeCommand(gs),
			checkCompatCommand(gs),
			inspectCommand(gs),
			dumpCommand(gs),
			schemaCommand(gs),
			uiCommand(gs),
			testCommand(gs),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	app.Action = func(c *cli.Context) error {
		if c.Args().Len() > 0 {
			return usagef("unknown command %q (pipectl --help lists the commands)", c.Args().First())
		}
		// No command: the help goes to stderr, as a usage error's hint.
		cli.HelpPrinter(gs.Stderr, cli.AppHelpTemplate, c.App)
		return usagef("no command given")
	}
	return app
}

// reorderArgs moves a command's flags in front of its positional arguments, so that
// `pipectl run p.yaml -d` means `pipectl run -d p.yaml` (urfave/cli stops parsing flags at
// the first positional argument).
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			takesValue[name] = !isBool
		}
	}
	var flags, positional []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// oneArg returns the single positional argument of a command.
func oneArg(c *cli.Context, what string) (string, error) {
	if c.Args().Len() != 1 {
		return "", usagef("%s takes one %s (got %d arguments)", c.Command.Name, what, c.Args().Len())
	}
	return c.Args().First(), nil
}
