package runtime

import (
	"errors"

	"github.com/pipectl/pipectl/statebackend"
)

// stateSink receives the entries a restore loads into one table, in savepoint order (sorted by
// key group, then key).
type stateSink interface {
	// add stores one entry; it does not retain key or stored.
	add(kg uint16, key, stored []byte) error
	// finish writes what is left; abort gives up after a failure.
	finish() error
	abort()
}

// openStateSink returns the sink of the table (uid, state): a bulk load when the backend offers
// one for it (a fresh badger backend, any memory backend), batches of Apply otherwise.
func (j *Job) openStateSink(uid, state string) (stateSink, error) {
	if bl, ok := j.backend.(statebackend.BulkLoader); ok {
		bulk, err := bl.BeginBulk()
		if err == nil {
			var w statebackend.BulkWriter
			if w, err = bulk.Table(uid, state); err == nil {
				return &bulkSink{bulk: bulk, w: w}, nil
			}
			bulk.Cancel()
		}
		if !errors.Is(err, statebackend.ErrBulkUnavailable) {
			return nil, err
		}
	}
	t, err := j.backend.Table(uid, state)
	if err != nil {
		return nil, err
	}
	return &applySink{t: t, batch: make([]statebackend.Mutation, 0, restoreBatch)}, nil
}

// bulkSink loads one table in its own bulk session.
type bulkSink struct {
	bulk statebackend.Bulk
	w    statebackend.BulkWriter
}

func (s *bulkSink) add(kg uint16, key, stored []byte) error { return s.w.Add(kg, key, stored) }
func (s *bulkSink) finish() error                           { return s.bulk.Flush() }
func (s *bulkSink) abort()                                  { s.bulk.Cancel() }

// applySink writes batches of restoreBatch entries with Apply; the batch and the bytes of its
// keys and values are reused, since Apply retains neither.
type applySink struct {
	t     statebackend.Table
	batch []statebackend.Mutation
	buf   []byte
}

func (s *applySink) add(kg uint16, key, stored []byte) error {
	start := len(s.buf)
	s.buf = append(append(s.buf, key...), stored...)
	k, v := len(s.buf)-len(stored), len(s.buf)
	s.batch = append(s.batch, statebackend.Mutation{KG: kg, Key: s.buf[start:k:k], Value: s.buf[k:v:v]})
	if len(s.batch) == restoreBatch {
		return s.finish()
	}
	return nil
}

func (s *applySink) finish() error {
	if len(s.batch) == 0 {
		return nil
	}
	err := s.t.Apply(s.batch)
	clear(s.batch)
	s.batch, s.buf = s.batch[:0], s.buf[:0]
	return err
}

func (s *applySink) abort() {}
