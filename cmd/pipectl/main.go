// Command pipectl runs stateful stream-processing pipelines described in YAML, with
// savepoints and a compatibility checker for the pit stop (see the README).
package main

import (
	"os"
	"runtime/debug"

	"github.com/pipectl/pipectl/internal/cli"
)

// gcPercent is the garbage collector's target unless GOGC is set: the per-record path
// allocates short-lived values, and collecting four times less often costs little memory
// (see docs/PERFORMANCE.md).
const gcPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(cli.Main(cli.NewGlobalState()))
}
