package pipetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pipectl/pipectl/internal/manualclock"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
	"github.com/pipectl/pipectl/script"
	"github.com/pipectl/pipectl/statebackend"
)

// testJobID is the job id of every test run (no savepoint is ever written under it).
const testJobID = "7e57000000000000000000000000007e"

// errJobEnded is what a step meets when the job has ended under it (it failed).
var errJobEnded = errors.New("the job ended before its input did")

// outcome is what one test run produced.
type outcome struct {
	output map[string][]string // sink uid -> records as JSON lines, in arrival order
	state  []stateValue        // the final value of each expected entry, in test order
}

// stateValue is the final value of one expected state entry.
type stateValue struct {
	value   any
	present bool
}

// run runs one bound test on p and returns what it produced; an error is a run that failed
// (the job failed, timed out, or its initial state does not fit).
func run(p *pipeline.Pipeline, prog *script.Program, bt *boundTest, timeout time.Duration) (*outcome, error) {
	backend, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindMemory})
	if err != nil {
		return nil, err
	}
	defer backend.Close()
	clock := manualclock.New(bt.Now)
	nowMs := func() int64 { return clock.Now().UnixMilli() }
	if err := writeState(backend, p, bt.state, nowMs); err != nil {
		return nil, fmt.Errorf("initial state: %w", err)
	}
	h := newHarness(p, nowMs)
	job, err := runtime.New(runtime.Config{
		Pipeline: p, Program: prog, JobID: testJobID, Backend: backend,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: clock, Now: clock.Now, Connectors: h,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- job.Run(ctx) }()

	feedErr := feedSteps(job, h, clock, bt.steps)
	for _, f := range h.order {
		close(f.cmds)
	}
	runErr := <-done
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("the test did not finish within %s", timeout)
	case runErr != nil:
		return nil, fmt.Errorf("the job failed: %w", runErr)
	case feedErr != nil:
		return nil, feedErr
	}
	out := &outcome{output: map[string][]string{}}
	for uid, c := range h.captures {
		out.output[uid] = c.Records()
	}
	if out.state, err = readState(backend, p, bt.expect, nowMs); err != nil {
		return nil, fmt.Errorf("final state: %w", err)
	}
	return out, nil
}

// feedSteps feeds the input one step at a time and waits after each until the job has
// processed it.
func feedSteps(job *runtime.Job, h *harness, clock *manualclock.Clock, steps []boundStep) error {
	poke := func() {
		for _, f := range h.order {
			if f.do(feedCmd{}, job.Done()) != nil {
				return // the job failed: Sync returns its error
			}
		}
	}
	for _, s := range steps {
		if s.source == "" {
			if err := advance(job, clock, s.advance, poke); err != nil {
				return err
			}
		} else if err := h.feeds[s.source].do(feedCmd{emit: true, record: s.record}, job.Done()); err != nil {
			return err
		}
		if err := job.Sync(poke); err != nil {
			return err
		}
	}
	return nil
}

// advance moves processing time on by d. It stops at each wake-up of a processing-time timer
// that falls due on the way and lets the job fire it, so every timer fires at its own time
// and sees the state as it was then (a TTL that expires later has not expired yet).
func advance(job *runtime.Job, clock *manualclock.Clock, d time.Duration, poke func()) error {
	target := clock.Now().Add(d)
	for {
		next, ok := clock.NextDue(target)
		if !ok {
			break
		}
		clock.Set(next)
		if err := job.Sync(poke); err != nil {
			return err
		}
	}
	clock.Set(target)
	return nil
}

// stateKey names one state of one operator.
type stateKey struct{ uid, state string }

// accessors opens each state of entries once.
func accessors(b statebackend.Backend, p *pipeline.Pipeline, entries []boundEntry, nowMs func() int64) (map[stateKey]*runtime.StateAccess, error) {
	out := map[stateKey]*runtime.StateAccess{}
	for _, e := range entries {
		k := stateKey{e.node.UID, e.desc.Name}
		if out[k] != nil {
			continue
		}
		a, err := runtime.NewStateAccess(b, p, e.node, e.desc, nowMs)
		if err != nil {
			return nil, err
		}
		out[k] = a
	}
	return out, nil
}

// writeState writes a test's initial state into the backend.
func writeState(b statebackend.Backend, p *pipeline.Pipeline, entries []boundEntry, nowMs func() int64) error {
	acc, err := accessors(b, p, entries, nowMs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := acc[stateKey{e.node.UID, e.desc.Name}].Put(e.key, e.value); err != nil {
			return err
		}
	}
	for _, a := range acc {
		if err := a.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// readState reads the final value of every expected entry.
func readState(b statebackend.Backend, p *pipeline.Pipeline, entries []boundEntry, nowMs func() int64) ([]stateValue, error) {
	acc, err := accessors(b, p, entries, nowMs)
	if err != nil {
		return nil, err
	}
	out := make([]stateValue, len(entries))
	for i, e := range entries {
		v, ok, err := acc[stateKey{e.node.UID, e.desc.Name}].Get(e.key)
		if err != nil {
			return nil, err
		}
		out[i] = stateValue{value: v, present: ok}
	}
	return out, nil
}
