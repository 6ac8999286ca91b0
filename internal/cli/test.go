package cli

import (
	"fmt"
	"regexp"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/internal/pipetest"
)

func testCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run pipeline tests: feed records to a pipeline and check its output and state (a directory: every *_test.yaml under it)",
		ArgsUsage: "[FILE|DIR]...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, or junit for a JUnit XML report"},
			&cli.StringFlag{Name: "run", Usage: "run only the tests whose name matches this regular expression"},
		},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if format != "text" && format != "junit" {
				return usagef("--format must be text or junit, not %q", format)
			}
			wd, err := gs.Getwd()
			if err != nil {
				return err
			}
			opts := pipetest.Options{LookupEnv: gs.LookupEnv, Dir: wd}
			if re := c.String("run"); re != "" {
				if opts.Run, err = regexp.Compile(re); err != nil {
					return usagef("--run: %v", err)
				}
			}
			files, err := pipetest.Find(c.Args().Slice(), opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var results []pipetest.FileResult
			for _, f := range files {
				r := pipetest.RunFile(f, opts)
				if r.Err != nil {
					fmt.Fprintln(gs.Stderr, "error: "+r.Err.Error())
				}
				results = append(results, r)
			}
			write := pipetest.WriteText
			if format == "junit" {
				write = pipetest.WriteJUnit
			}
			if err := write(gs.Stdout, results); err != nil {
				return err
			}
			sum := pipetest.Summarize(results)
			switch {
			case sum.Unreadable > 0:
				return silentExit(2)
			case sum.Failed > 0:
				return silentExit(1)
			case sum.Passed == 0:
				fmt.Fprintln(gs.Stderr, "warning: no test matches --run "+c.String("run"))
			}
			return nil
		},
	}
}
