package cli

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/pipeline"
)

func validateCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "parse and validate pipeline files and compile their JavaScript (never opens data files)",
		ArgsUsage: "PIPELINE.yaml...",
		Action: func(c *cli.Context) error {
			if c.Args().Len() == 0 {
				return usagef("validate takes one or more pipeline files")
			}
			invalid := false
			for _, file := range c.Args().Slice() {
				path, err := absPath(gs, file)
				if err != nil {
					return err
				}
				p, err := pipeline.Load(path, pipeline.LoadOptions{LookupEnv: gs.LookupEnv})
				var diags pipeline.Diagnostics
				switch {
				case errors.As(err, &diags):
					invalid = true
					for _, d := range diags {
						fmt.Fprintln(gs.Stdout, relDiag(gs, d))
					}
				case err != nil:
					return err
				default:
					for _, w := range append(p.Warnings, emptyGlobWarnings(p)...) {
						fmt.Fprintln(gs.Stderr, relDiag(gs, w))
					}
				}
			}
			if invalid {
				return silentExit(1)
			}
			fmt.Fprintln(gs.Stdout, "ok")
			return nil
		},
	}
}
