package runtime

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/script"
)

// operator is the behaviour of one node kind inside an instance.
type operator interface {
	// process handles one record of logical input `input`.
	process(in *instance, input int, e *element) error
	// finish runs at the end of every input (a bounded job's end, or a stop).
	finish(in *instance) error
}

// watermarkHandler is implemented by operators that act on event time.
type watermarkHandler interface {
	onWatermark(in *instance, wm int64) error
}

// instance is one subtask of one node. It is an output for the node upstream of it when
// the two are chained.
type instance struct {
	job     *Job
	node    *pipeline.Node
	subtask int
	op      operator
	outs    []output
	rt      *script.Runtime
	states  []*keyedState
	source  connectors.Source // sources only
	sink    connectors.Sink   // sinks only
	// wake wakes the subtask's loop for processing-time timers (nil in a source's goroutine).
	wake *wakeup
	// counters for metrics and the status line
	recordsIn, recordsOut atomic.Int64
	lateDropped           atomic.Int64 // late records a window without late_output dropped
	lastWatermark         atomic.Int64 // the event time this instance has reached (0: none)
	blocked               *blockTimer  // the time its goroutine waited on full inboxes
	// out is the element emit hands downstream: outputs use it before push returns (an
	// exchange copies it into a batch), so one per instance saves an allocation per record.
	out element
	// pos is the input position of the record being processed, given to what it emits.
	pos recordPos
}

// userError is a failure of user code or user data on one record (a function threw or timed
// out, a result does not fit its declared type): the node's on_error policy applies to it.
type userError struct{ err error }

func (e *userError) Error() string { return e.err.Error() }
func (e *userError) Unwrap() error { return e.err }

// userErr wraps err as a userError naming the operator.
func (in *instance) userErr(err error) error {
	return &userError{fmt.Errorf("operator %q: %w", in.node.UID, err)}
}

// emit sends a new record downstream.
func (in *instance) emit(v any, ts int64) error {
	in.recordsOut.Add(1)
	for _, o := range in.outs {
		in.out = element{value: v, ts: ts, pos: in.pos}
		if err := o.push(&in.out); err != nil {
			return err
		}
	}
	return nil
}

// pushInput processes a record of logical input i and applies the on_error policy to a
// failure of this node's own user code.
func (in *instance) pushInput(i int, e *element) error {
	in.recordsIn.Add(1)
	in.pos = e.pos
	err := in.op.process(in, i, e)
	in.pos = recordPos{} // what a timer or a watermark emits comes from no one record
	if err == nil {
		return nil
	}
	var ue *userError
	if !errors.As(err, &ue) {
		return err
	}
	if ue != err {
		// A downstream node's user error: its own policy already had its say.
		return errors.New(err.Error())
	}
	return in.job.onUserError(in.node, inputTypes(in.node, i), e, ue.err)
}

func (in *instance) push(e *element) error { return in.pushInput(0, e) }

func (in *instance) watermark(wm int64) error {
	if wm != idleWatermark && wm != maxWatermark {
		in.lastWatermark.Store(wm)
	}
	if h, ok := in.op.(watermarkHandler); ok {
		if err := h.onWatermark(in, wm); err != nil {
			return err
		}
	}
	for _, o := range in.outs {
		if err := o.watermark(wm); err != nil {
			return err
		}
	}
	return nil
}

func (in *instance) barrier(b *barrier) error {
	if err := in.job.coord.snapshot(in, b); err != nil {
		return err
	}
	for _, o := range in.outs {
		if err := o.barrier(b); err != nil {
			return err
		}
	}
	return nil
}

func (in *instance) finish() error {
	if err := in.op.finish(in); err != nil {
		return err
	}
	if in.job.stateReadAfterFinish() {
		if err := in.flushState(); err != nil {
			return err
		}
	}
	in.job.coord.finished(in)
	for _, o := range in.outs {
		if err := o.finish(); err != nil {
			return err
		}
	}
	return nil
}

func (in *instance) flush() error {
	if in.sink != nil {
		if err := in.sink.Flush(); err != nil {
			return named(pipeline.RoleSink, in.node.UID, err)
		}
	}
	for _, o := range in.outs {
		if err := o.flush(); err != nil {
			return err
		}
	}
	return nil
}

// flushState writes the instance's cached state to the backend.
func (in *instance) flushState() error {
	for _, s := range in.states {
		if err := s.cache.Flush(); err != nil {
			return fmt.Errorf("operator %q: state %q: %w", in.node.UID, s.desc.Name, err)
		}
	}
	return nil
}
