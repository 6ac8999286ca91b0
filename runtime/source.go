package runtime

import (
	"errors"
	"sync/atomic"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
)

// sourceTask runs one subtask of a source and is its connectors.SourceContext.
type sourceTask struct {
	job  *Job
	inst *instance
	src  connectors.Source
	time *sourceTime // event time (`timestamp:`); nil without

	ctl      chan *barrier // barriers to inject
	hasCtl   atomic.Bool   // fast check on the per-record path
	stopping atomic.Bool   // a graceful stop (SIGTERM, cancel of a bounded wait) was asked
	deadline flushDeadline // batches leave within buffer_timeout while the source emits

	// the input of the last At, its index in the job's inputs, and the record's line number
	// (0: unknown) and bytes as read
	posName  string
	posKafka bool
	posIndex int32
	posLine  int64
	posRaw   []byte
}

// Emit implements connectors.SourceContext.
func (s *sourceTask) Emit(v any) error {
	if err := s.beforeEmit(); err != nil {
		return err
	}
	if s.time != nil {
		return s.emitTimed(v)
	}
	return s.inst.emit(v, noTimestamp)
}

// beforeEmit runs queued barriers and stops, and flushes batches that are due.
func (s *sourceTask) beforeEmit() error {
	if s.hasCtl.Load() || s.stopping.Load() {
		if err := s.control(); err != nil {
			return err
		}
	}
	if s.deadline.due() {
		if err := s.inst.flush(); err != nil {
			return err
		}
		s.deadline.flushed()
	}
	return nil
}

// Idle implements connectors.SourceContext: flushes partly filled batches and handles
// barriers and stops while the source waits for input.
func (s *sourceTask) Idle() error {
	if err := s.idleTime(); err != nil {
		return err
	}
	if err := s.inst.flush(); err != nil {
		return err
	}
	select {
	case <-s.job.done:
		return connectors.ErrStopped
	default:
	}
	return s.control()
}

// Bad implements connectors.SourceContext with the source's on_error policy.
func (s *sourceTask) Bad(b connectors.BadRecord) error {
	n := s.inst.node
	switch n.OnError {
	case "skip":
		s.job.countSkipped(n.UID, b.Err)
		return nil
	case "dead_letter":
		return s.job.writeDeadLetter(n.UID, b.Err.Error(), b.Record, b.File, b.Line, b.Kafka, badRecordWhere(b))
	}
	return b.Err
}

// Logf implements connectors.SourceContext.
func (s *sourceTask) Logf(format string, args ...any) {
	s.job.log.Info(s.inst.node.UID + ": " + sprintf(format, args...))
}

// inject queues a barrier for the source.
func (s *sourceTask) inject(b *barrier) {
	s.ctl <- b
	s.hasCtl.Store(true)
}

// control injects queued barriers and reports a requested stop.
func (s *sourceTask) control() error {
	for {
		select {
		case b := <-s.ctl:
			if len(s.ctl) == 0 {
				s.hasCtl.Store(false)
			}
			if err := s.flushWatermark(); err != nil {
				return err
			}
			if b.drain {
				if err := s.inst.watermark(maxWatermark); err != nil {
					return err
				}
			}
			if err := s.inst.barrier(b); err != nil {
				return err
			}
			if err := s.inst.flush(); err != nil {
				return err
			}
			if b.kind == barrierStop {
				s.job.sourceStoppedForBarrier(b)
				select {
				case <-b.decided:
				case <-s.job.done:
					return connectors.ErrStopped
				}
				if b.decision == nil {
					return connectors.ErrStopped
				}
				// The savepoint failed: the job keeps running.
			}
		default:
			if s.stopping.Load() {
				return connectors.ErrStopped
			}
			return nil
		}
	}
}

// run runs the source to its end and finishes the instance.
func (s *sourceTask) run() error {
	err := s.src.Run(s)
	if err != nil && !errors.Is(err, connectors.ErrStopped) {
		return named(pipeline.RoleSource, s.inst.node.UID, err)
	}
	select {
	case <-s.job.done:
		return nil
	default:
	}
	if err == nil && !s.job.stopped.Load() {
		// A bounded input ended: event time reaches the end of time and every window fires.
		if err := s.inst.watermark(maxWatermark); err != nil {
			return err
		}
	}
	return s.inst.finish()
}

// badRecordWhere says where a bad record was read: topic/partition@offset or file:line.
func badRecordWhere(b connectors.BadRecord) string {
	if k := b.Kafka; k != nil {
		return sprintf("%s/%d@%d", k.Topic, k.Partition, k.Offset)
	}
	return sprintf("%s:%d", b.File, b.Line)
}
