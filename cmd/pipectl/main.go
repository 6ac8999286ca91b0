// Command pipectl runs stateful stream-processing pipelines described in YAML, with
// savepoints and a compatibility checker for the pit stop (see the README).
package main

import (
	"os"

	"github.com/pipectl/pipectl/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.NewGlobalState()))
}
