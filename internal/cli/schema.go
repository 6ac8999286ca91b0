package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/pipeline"
)

// schemaCommand prints the JSON Schema of the pipeline file (docs/editors.md shows how to
// point an editor at it).
func schemaCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of the pipeline file (for editors and linters)",
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("schema takes no arguments")
			}
			doc, err := pipeline.JSONSchema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(gs.Stdout, "%s\n", doc)
			return err
		},
	}
}
