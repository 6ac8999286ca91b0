// Command pipectl runs stateful stream-processing pipelines described in YAML, with
// savepoints and a compatibility checker for the pit stop (see the README).
package main

import (
	"os"

	"github.com/pipectl/pipectl/internal/cli"
)

// The garbage collector runs at Go's default target (GOGC=100): a job's memory budget sets the
// soft limit (see docs/memory.md), and a higher target only made small jobs larger for the
// same CPU (docs/PERFORMANCE.md).
func main() {
	stopProfiles := startProfiles()
	code := cli.Main(cli.NewGlobalState())
	stopProfiles()
	os.Exit(code)
}
