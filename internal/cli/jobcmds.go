package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/savepoints"
)

// savepointTimeout bounds how long savepoint and stop wait for a job.
const savepointTimeout = 10 * time.Minute

func listCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list running jobs (--all: finished ones too)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also list finished jobs"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "json for machine-readable output"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 0 {
				return usagef("list takes no arguments")
			}
			out := c.String("output")
			if out != "" && out != "json" && out != "text" {
				return usagef("--output must be json or text, not %q", out)
			}
			h, err := home(gs)
			if err != nil {
				return err
			}
			infos, err := jobs.List(h, c.Bool("all"))
			if err != nil {
				return err
			}
			return jobs.WriteList(gs.Stdout, infos, out == "json")
		},
	}
}

// liveJob finds a running job by id (exit 2 for an unknown id).
func liveJob(gs *GlobalState, id string) (string, jobs.Info, error) {
	h, err := home(gs)
	if err != nil {
		return "", jobs.Info{}, err
	}
	info, err := jobs.Find(h, id)
	if err != nil {
		return "", info, err
	}
	return h, info, nil
}

// call sends one control request to a running job.
func call(gs *GlobalState, id string, req jobs.Request, timeout time.Duration) (jobs.Response, error) {
	h, _, err := liveJob(gs, id)
	if err != nil {
		return jobs.Response{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return jobs.Call(ctx, jobs.PathsOf(h, id).Socket, req)
}

// announcedCall is call with a progress line on stderr, printed once the job is found to be
// live: for an unknown or finished job the error is the first line.
func announcedCall(gs *GlobalState, id string, req jobs.Request, timeout time.Duration, announce string) (jobs.Response, error) {
	if _, _, err := liveJob(gs, id); err != nil {
		return jobs.Response{}, err
	}
	fmt.Fprintln(gs.Stderr, announce)
	return call(gs, id, req, timeout)
}

// waitExited waits until a job's process has exited.
func waitExited(gs *GlobalState, id string) (jobs.Info, error) {
	h, err := home(gs)
	if err != nil {
		return jobs.Info{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return jobs.WaitExited(ctx, h, id)
}

func savepointCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "savepoint",
		Usage:     "take a savepoint of a running job (it keeps running), or --dispose one",
		ArgsUsage: "JOB_ID [DIR] | --dispose PATH",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dispose", Usage: "delete a savepoint"},
		},
		Action: func(c *cli.Context) error {
			if p := c.String("dispose"); p != "" {
				if c.Args().Len() != 0 {
					return usagef("savepoint --dispose takes only the savepoint path")
				}
				abs, err := absPath(gs, p)
				if err != nil {
					return err
				}
				if err := savepoints.Dispose(abs); err != nil {
					if errors.Is(err, savepoints.ErrInvalid) {
						return err
					}
					return unreadableSavepoint(p, err)
				}
				fmt.Fprintf(gs.Stderr, "Savepoint %s disposed\n", p)
				return nil
			}
			if c.Args().Len() < 1 || c.Args().Len() > 2 {
				return usagef("savepoint takes a job id and an optional directory")
			}
			dir := ""
			if c.Args().Len() == 2 {
				var err error
				if dir, err = absPath(gs, c.Args().Get(1)); err != nil {
					return err
				}
			}
			id := c.Args().First()
			resp, err := announcedCall(gs, id, jobs.Request{Op: jobs.OpSavepoint, Dir: dir}, savepointTimeout, "Triggering savepoint for job "+id)
			if err != nil {
				return fmt.Errorf("savepoint failed: %w", err)
			}
			var data stopData
			unmarshal(resp.Data, &data)
			fmt.Fprintf(gs.Stderr, "Savepoint completed: %s\n", data)
			fmt.Fprintln(gs.Stdout, resp.Path)
			return nil
		},
	}
}

func cancelCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "stop a job at once, without a savepoint",
		ArgsUsage: "JOB_ID",
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "job id")
			if err != nil {
				return err
			}
			if _, err := call(gs, id, jobs.Request{Op: jobs.OpCancel}, 30*time.Second); err != nil && !errors.Is(err, jobs.ErrJobExited) {
				return err
			}
			if _, err := waitExited(gs, id); err != nil {
				return err
			}
			fmt.Fprintf(gs.Stderr, "Job %s canceled\n", id)
			return nil
		},
	}
}

func stopCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop a job with a savepoint: sources stop, in-flight records drain, a savepoint is written",
		ArgsUsage: "JOB_ID",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "savepoint-dir", Aliases: []string{"p"}, Usage: "where the savepoint goes"},
			&cli.BoolFlag{Name: "drain", Usage: "first advance the watermark to the end of time, firing every window and timer"},
		},
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "job id")
			if err != nil {
				return err
			}
			path, _, err := stopJob(gs, id, c.String("savepoint-dir"), c.Bool("drain"))
			if err != nil {
				return err
			}
			fmt.Fprintln(gs.Stdout, path)
			return nil
		},
	}
}

// stopJob stops a job with a savepoint and waits until its process has exited.
func stopJob(gs *GlobalState, id, dir string, drain bool) (string, stopData, error) {
	path, data, err := requestStop(gs, id, jobs.Request{Op: jobs.OpStop, Dir: dir, Drain: drain})
	if err != nil {
		return "", data, err
	}
	if _, err := waitExited(gs, id); err != nil {
		return "", data, err
	}
	return path, data, nil
}

// requestStop stops a job with a savepoint and returns as soon as the savepoint is complete;
// the job's process is still exiting.
func requestStop(gs *GlobalState, id string, req jobs.Request) (string, stopData, error) {
	var data stopData
	if req.Dir != "" {
		var err error
		if req.Dir, err = absPath(gs, req.Dir); err != nil {
			return "", data, err
		}
	}
	resp, err := announcedCall(gs, id, req, savepointTimeout, "Stopping job "+id+" with a savepoint")
	if err != nil {
		return "", data, fmt.Errorf("stop failed: %w", err)
	}
	unmarshal(resp.Data, &data)
	fmt.Fprintf(gs.Stderr, "Savepoint completed: %s\n", data)
	return resp.Path, data, nil
}
