package cli

import (
	"context"
	"fmt"

	"github.com/pipectl/pipectl/compat"
	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
)

// controller answers a running job's control socket.
type controller struct {
	gs         *GlobalState
	job        *runtime.Job
	p          *pipeline.Pipeline
	defaultDir string
	// onSavepoint, when set, is called after each savepoint is complete.
	onSavepoint func()
}

// stopData is the payload of a successful stop.
type stopData struct {
	SourcesStopped int64 `json:"sources_stopped_ms"`
	PauseMs        int64 `json:"pause_ms"`
	DurationMs     int64 `json:"duration_ms"`
	Bytes          int64 `json:"bytes"`
	Entries        int64 `json:"entries"`
}

// Handle implements jobs.Handler.
func (c *controller) Handle(_ context.Context, req jobs.Request) jobs.Response {
	dir := req.Dir
	if dir == "" {
		dir = c.defaultDir
	}
	switch req.Op {
	case jobs.OpStatus:
		return jobs.Response{OK: true, Data: marshal(c.job.Status())}
	case jobs.OpSchema:
		return jobs.Response{OK: true, Data: marshal(compat.Describe(c.p))}
	case jobs.OpCancel:
		c.job.Cancel()
		return jobs.Response{OK: true}
	case jobs.OpSavepoint:
		res, err := c.job.Savepoint(dir, "manual")
		if err != nil {
			return jobs.ErrorResponse(err)
		}
		if c.onSavepoint != nil {
			c.onSavepoint()
		}
		c.job.Logf("savepoint %s written: %d entries, %d bytes, pause %d ms, %d ms in all", res.Path, res.Entries, res.Bytes, res.Pause, res.Duration)
		return jobs.Response{OK: true, Path: res.Path, Data: marshal(resultData(res))}
	case jobs.OpStop:
		stop := func() (*runtime.SavepointResult, error) { return c.job.StopWithSavepoint(dir, req.Drain) }
		if req.Incremental && !req.Drain {
			stop = func() (*runtime.SavepointResult, error) { return c.job.StopIncrementally(dir) }
		}
		res, err := stop()
		if err != nil {
			return jobs.ErrorResponse(err)
		}
		c.job.Logf("stopped with savepoint %s: %d entries, %d bytes, %d ms", res.Path, res.Entries, res.Bytes, res.Duration)
		return jobs.Response{OK: true, Path: res.Path, Data: marshal(resultData(res))}
	}
	return jobs.Response{Error: "unknown operation " + req.Op}
}

// String is the savepoint's status line: size, entries, the pause it caused, its duration.
func (d stopData) String() string {
	return fmt.Sprintf("%d entries, %d bytes, pause %d ms, %d ms in all", d.Entries, d.Bytes, d.PauseMs, d.DurationMs)
}

func resultData(res *runtime.SavepointResult) stopData {
	return stopData{SourcesStopped: res.SourcesStopped, PauseMs: res.Pause, DurationMs: res.Duration, Bytes: res.Bytes, Entries: res.Entries}
}
