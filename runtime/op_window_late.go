package runtime

// sideOutput carries a window's late records to the readers of its late_output stream. It
// sits among the instance's outputs so that watermarks, barriers, ends of stream and flushes
// reach those readers like any other; records reach it only through send (push, which the
// instance's emit calls for main-output records, ignores them).
type sideOutput struct{ outs []output }

// lateOutputter is implemented by operators that have a late_output stream.
type lateOutputter interface{ setLate(s *sideOutput) }

// send emits a late record, with its event time, to every reader of the stream.
func (s *sideOutput) send(e *element) error {
	for _, o := range s.outs {
		c := element{value: e.value, ts: e.ts}
		if err := o.push(&c); err != nil {
			return err
		}
	}
	return nil
}

func (s *sideOutput) push(*element) error { return nil }

func (s *sideOutput) watermark(wm int64) error {
	for _, o := range s.outs {
		if err := o.watermark(wm); err != nil {
			return err
		}
	}
	return nil
}

func (s *sideOutput) barrier(b *barrier) error {
	for _, o := range s.outs {
		if err := o.barrier(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *sideOutput) finish() error {
	for _, o := range s.outs {
		if err := o.finish(); err != nil {
			return err
		}
	}
	return nil
}

func (s *sideOutput) flush() error {
	for _, o := range s.outs {
		if err := o.flush(); err != nil {
			return err
		}
	}
	return nil
}
