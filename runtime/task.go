package runtime

import "time"

// subtask is one goroutine of a group whose head reads an inbox.
type subtask struct {
	job       *Job
	group     *group
	index     int
	inbox     *inbox
	head      *instance
	instances []*instance
	wake      *wakeup // processing-time timers of its instances
	blocked   blockTimer
	// baseLoaded: no lazily restored state of its instances is left to load (restore_lazy.go)
	baseLoaded bool
	idle       *time.Timer // fires when dirty state waited long enough (idle.go)
}

// aligner tracks, per sender, barriers, watermarks and ends of stream.
type aligner struct {
	ended      []bool
	nEnded     int
	blocked    []bool // the sender delivered the current barrier
	cur        *barrier
	queued     []message // messages of blocked senders, in arrival order
	watermarks []int64
	idle       []bool // the sender declared itself idle (idleWatermark)
	idleOut    bool   // every live sender is idle, and so was this subtask declared
	wm         int64  // the combined watermark forwarded so far
}

func newAligner(senders int) *aligner {
	a := &aligner{
		ended: make([]bool, senders), blocked: make([]bool, senders),
		watermarks: make([]int64, senders), idle: make([]bool, senders), wm: noTimestamp,
	}
	for i := range a.watermarks {
		a.watermarks[i] = noTimestamp
	}
	return a
}

// minWatermark is the minimum watermark over the senders that have not ended and are not
// idle; active is false when every live sender is idle, and m is then the maximum over them
// (as Flink does: idle inputs hold nothing back, and what they sent last still counts).
func (a *aligner) minWatermark() (m int64, active bool) {
	m, idleMax := int64(maxWatermark), int64(noTimestamp)
	for i, w := range a.watermarks {
		switch {
		case a.ended[i]:
		case a.idle[i]:
			idleMax = max(idleMax, w)
		default:
			active = true
			m = min(m, w)
		}
	}
	if !active {
		return idleMax, false
	}
	return m, true
}

// aligned reports whether every live sender delivered the current barrier.
func (a *aligner) aligned() bool {
	n := 0
	for i := range a.blocked {
		if a.blocked[i] || a.ended[i] {
			n++
		}
	}
	return n == len(a.blocked)
}

// run processes the inbox until every sender has ended.
func (st *subtask) run() error {
	a := newAligner(st.inbox.senders)
	var pending []message
	deadline := st.job.flushDeadline(st.group)
	for {
		if deadline.due() {
			// Records keep coming: partly filled batches still leave within buffer_timeout.
			if err := st.head.flush(); err != nil {
				return err
			}
			deadline.flushed()
		}
		var m message
		if len(pending) > 0 {
			m, pending = pending[0], pending[1:]
		} else {
			select {
			case <-st.wake.C():
				if err := st.onWake(); err != nil {
					return err
				}
				continue
			case m = <-st.inbox.ch:
			default:
				// The inbox is empty: send partly filled batches on before waiting.
				if err := st.head.flush(); err != nil {
					return err
				}
				deadline.flushed()
				if !st.baseLoaded { // idle: load restored state, then look at the inbox again
					if err := st.loadStep(loadStepIdle); err != nil {
						return err
					}
					continue
				}
				select {
				case m = <-st.inbox.ch:
				case <-st.wake.C():
					if err := st.onWake(); err != nil {
						return err
					}
					continue
				case <-st.idleTimer():
					if err := st.writeBackIdle(); err != nil {
						return err
					}
					continue
				case <-st.job.done:
					return nil
				}
			}
		}
		if a.cur != nil && a.blocked[m.from] {
			a.queued = append(a.queued, m)
			continue
		}
		switch m.kind {
		case msgRecords:
			for i := range m.records {
				if err := st.head.pushInput(m.input, &m.records[i]); err != nil {
					return err
				}
			}
			freeBatch(m.records)
			if !st.baseLoaded {
				if err := st.loadStep(loadStepBusy); err != nil {
					return err
				}
			}
		case msgWatermark:
			if a.idle[m.from] = m.watermark == idleWatermark; !a.idle[m.from] {
				a.watermarks[m.from] = m.watermark
			}
			if err := st.advanceWatermark(a); err != nil {
				return err
			}
		case msgBarrier:
			if a.cur == nil {
				a.cur = m.barrier
			}
			a.blocked[m.from] = true
		case msgEnd:
			a.ended[m.from] = true
			a.nEnded++
			if err := st.advanceWatermark(a); err != nil {
				return err
			}
		}
		if a.cur != nil && a.aligned() {
			b := a.cur
			a.cur = nil
			for i := range a.blocked {
				a.blocked[i] = false
			}
			pending = append(a.queued, pending...)
			a.queued = nil
			if err := st.beforeBarrier(b); err != nil {
				return err
			}
			if err := st.head.barrier(b); err != nil {
				return err
			}
		}
		if a.nEnded == len(a.ended) && len(pending) == 0 {
			return st.head.finish()
		}
	}
}

// advanceWatermark forwards the combined watermark when it moved forward, declares the
// subtask idle when every live sender is, and active again when one sends a watermark.
func (st *subtask) advanceWatermark(a *aligner) error {
	if a.nEnded == len(a.ended) {
		return nil
	}
	w, active := a.minWatermark()
	if !active {
		if w > a.wm {
			a.wm = w
			if err := st.head.watermark(w); err != nil {
				return err
			}
		}
		if a.idleOut {
			return nil
		}
		a.idleOut = true
		return st.head.watermark(idleWatermark)
	}
	if w > a.wm || a.idleOut {
		a.idleOut = false
		a.wm = max(a.wm, w)
		return st.head.watermark(a.wm)
	}
	return nil
}
