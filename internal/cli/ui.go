package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/internal/ui"
	"github.com/pipectl/pipectl/runtime"
)

// defaultUIAddr is where `pipectl ui` listens without --addr.
const defaultUIAddr = "127.0.0.1:8081"

func uiCommand(gs *GlobalState) *cli.Command {
	return &cli.Command{
		Name:  "ui",
		Usage: "serve the web dashboard of the jobs under PIPECTL_HOME",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: defaultUIAddr, Usage: "host:port to listen on; anything but a loopback address needs --auth-token"},
			&cli.StringFlag{Name: "auth-token", Usage: "require Authorization: Bearer TOKEN on every request"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 0 {
				return usagef("ui takes no arguments")
			}
			addr, token := c.String("addr"), c.String("auth-token")
			if err := checkUIAddr(addr, token); err != nil {
				return err
			}
			h, err := home(gs)
			if err != nil {
				return err
			}
			log := newLogger(gs.Stderr, "text")
			srv := ui.New(ui.Config{Home: h, Token: token, Compat: uiCompat(gs, h), Log: log})
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("ui: listen on %s: %w", addr, err)
			}
			hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
			served := make(chan error, 1)
			go func() { served <- hs.Serve(ln) }()
			fmt.Fprintf(gs.Stderr, "dashboard: http://%s/\n", dashboardHost(addr, ln.Addr()))
			sigs, stopSignals := gs.Signals()
			defer stopSignals()
			select {
			case err := <-served:
				return fmt.Errorf("ui: %w", err)
			case <-sigs:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("ui: %w", err)
			}
			return nil
		},
	}
}

// checkUIAddr accepts host:port, and a host other than a loopback one only with a token.
func checkUIAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr must be host:port, not %q", addr)
	}
	if token != "" {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return usagef("--addr %s is reachable from other machines: give --auth-token too (or listen on 127.0.0.1)", addr)
}

// uiCompat runs `pipectl check-compat FILE --job ID` in-process for the dashboard. A job
// that is no longer running is checked against the pipeline copy it ran (--against), as
// `upgrade --job` does.
func uiCompat(gs *GlobalState, home string) ui.CompatFunc {
	return func(_ context.Context, id, file, format string) (string, bool, error) {
		old, note := []string{"--job", id}, ""
		if _, err := jobs.Find(home, id); errors.Is(err, jobs.ErrNotRunning) {
			old = []string{"--against", jobs.PathsOf(home, id).Pipeline}
			note = "(the job is not running: checked against the pipeline it ran)\n"
		}
		var stdout, stderr bytes.Buffer
		sub := *gs
		sub.Stdout, sub.Stderr = &stdout, &stderr
		sub.Args = append(append([]string{"pipectl", "check-compat", "--format", format}, old...), "--", file)
		code := Main(&sub)
		if stdout.Len() == 0 {
			msg := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "error: "))
			if msg == "" {
				msg = fmt.Sprintf("check-compat exited with %d", code)
			}
			return "", false, errors.New(msg)
		}
		report := stdout.String()
		if format == "text" {
			report = note + stderr.String() + report
		}
		return report, code == 0, nil
	}
}

// recordSnapshot keeps a completed checkpoint or savepoint in the job's history (job.json),
// where the dashboard shows it even after the job has ended.
func recordSnapshot(jb *jobs.Job, job *runtime.Job, s runtime.SnapshotInfo) {
	rec := jobs.Snapshot{Path: s.Path, Time: s.Time, Bytes: s.Bytes, DurationMs: s.DurationMs}
	var err error
	if s.Checkpoint() {
		err = jb.RecordCheckpoint(rec)
	} else {
		rec.Trigger = s.Trigger
		err = jb.RecordSavepoint(rec)
	}
	if err != nil {
		job.Logf("could not record %s %s in job.json: %v", s.Trigger, s.Path, err)
	}
}

// dashboardHost is the host:port to print for a listener opened on addr: the host as the
// user wrote it (0.0.0.0 stays 0.0.0.0, not [::]) with the port actually bound (":0" picks one).
func dashboardHost(addr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	_, port, perr := net.SplitHostPort(bound.String())
	if err != nil || perr != nil {
		return bound.String()
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return net.JoinHostPort(host, port)
}
