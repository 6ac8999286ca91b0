package cli

import (
	"github.com/urfave/cli/v2"
)

func inspectCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show what a savepoint holds: pipeline, states, schemas, entries, bytes, source offsets",
		ArgsUsage: "SAVEPOINT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "json for machine-readable output"},
		},
		Action: func(c *cli.Context) error {
			path, err := oneArg(c, "savepoint path")
			if err != nil {
				return err
			}
			out := c.String("output")
			if out != "" && out != "json" && out != "text" && out != "table" {
				return usagef("--output must be json or table, not %q", out)
			}
			sp, err := openSavepoint(gs, path)
			if err != nil {
				return err
			}
			if out == "json" {
				return sp.WriteInspectJSON(gs.Stdout)
			}
			return sp.WriteInspectTable(gs.Stdout)
		},
	}
}

func dumpCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "dump",
		Usage:     "print a savepoint's state as JSON lines {\"key\", \"value\"}",
		ArgsUsage: "SAVEPOINT --uid UID [--state NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "uid", Usage: "the operator uid (required)"},
			&cli.StringFlag{Name: "state", Usage: "the state name (needed when the uid has several)"},
		},
		Action: func(c *cli.Context) error {
			path, err := oneArg(c, "savepoint path")
			if err != nil {
				return err
			}
			if c.String("uid") == "" {
				return usagef("dump needs --uid UID: the operator whose state to print (pipectl inspect %s lists them)", path)
			}
			sp, err := openSavepoint(gs, path)
			if err != nil {
				return err
			}
			return sp.Dump(gs.Stdout, c.String("uid"), c.String("state"))
		},
	}
}
