package runtime

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
)

// windowBody is what a windowed operator keeps per key and window (window contents, or the
// two sides of a join) and what it emits when a window fires. ck is the state key of one
// key's window (nsKey); the slices are only valid during the call.
type windowBody interface {
	// add adds record e of logical input `input`; existed reports whether the window held
	// anything before.
	add(in *instance, input int, kg uint16, ck []byte, e *element) (existed bool, err error)
	// fire emits the window's results with event time ts; found is false when it is empty.
	fire(in *instance, key any, w window, kg uint16, ck []byte, ts int64) (found bool, err error)
	// clear drops the window's contents.
	clear(kg uint16, ck []byte) error
	// merge moves the contents of the session windows srcs into dst.
	merge(in *instance, kg uint16, dst []byte, srcs [][]byte) error
	// states are the per-window states.
	states() []*keyedState
}

// windowAllKeyBytes is the one key of window_all: the encoding of an empty bytes value.
var windowAllKeyBytes = []byte{0}

// windowOp runs the windowed kinds (window, window_all, window_join, co_group) the way
// Flink's WindowOperator does: records go into their windows (state key: key, start, end);
// a window fires when the watermark, or the clock for processing-time windows, reaches its
// last instant (end - 1); with allowed_lateness a fired event-time window keeps its
// contents until end - 1 + lateness, and each late record within that fires it again; a
// record later than that goes to late_output or is dropped and counted.
//
// Timers live in the `timers` state, so a window restored from a savepoint fires once the
// watermark passes it again, and a window that fired before the savepoint (its timer gone)
// does not fire again.
type windowOp struct {
	assign   assigner
	procTime bool
	lateness int64
	body     windowBody
	timers   *timerService
	all      bool   // window_all: one constant key
	allKG    uint16 // window_all's key group
	late     *sideOutput
	sessions map[string]*sessionSet // session windows by key bytes
	wm       int64                  // the current watermark

	wins []window // scratch
	ck   []byte   // scratch
}

// sessionSet is the open session windows of one key.
type sessionSet struct {
	wins []window
}

// newWindowOp builds the windowed operator of in with its body.
func newWindowOp(in *instance, body windowBody) (*windowOp, error) {
	n := in.node
	o := &windowOp{
		assign: newAssigner(n.Window), procTime: n.Window.ProcessingTime,
		lateness: n.AllowedLateness.Milliseconds(), body: body, all: n.OpKind() == pipeline.OpWindowAll,
		wm: noTimestamp,
	}
	if o.all {
		o.allKG = keyGroupOf(windowAllKeyBytes, in.job.maxPar)
	}
	kt := windowKeyType(n)
	var err error
	if o.timers, err = newTimerService(in, kt); err != nil {
		return nil, err
	}
	if o.assign.session() {
		if err := o.loadSessions(in, kt); err != nil {
			return nil, fmt.Errorf("operator %q: restore session windows: %w", n.UID, err)
		}
	}
	return o, nil
}

// windowKeyType is the type of a windowed node's keys (bytes for window_all's one key).
func windowKeyType(n *pipeline.Node) *schema.Type {
	if kt := n.KeyType(); kt != nil {
		return kt
	}
	return &schema.Type{Kind: schema.Bytes}
}

// WindowStateKeyType is the type of the keys of a windowed node's per-window states
// (contents, left, right): the tuple (key, start, end). The `timers` state is keyed by the
// node's key alone; window_all's key is an empty bytes value.
func WindowStateKeyType(n *pipeline.Node) *schema.Type {
	i := &schema.Type{Kind: schema.Int}
	return &schema.Type{Kind: schema.Tuple, Elems: []*schema.Type{windowKeyType(n), i, i}}
}

// loadSessions rebuilds the session index from the restored per-window states.
func (o *windowOp) loadSessions(in *instance, kt *schema.Type) error {
	o.sessions = map[string]*sessionSet{}
	from, to := keyGroupRange(in.subtask, in.node.Parallelism, in.job.maxPar)
	seen := map[string]bool{}
	for _, s := range o.body.states() {
		err := s.table.Scan(from, to, func(_ uint16, ck, _ []byte) error {
			_, rest, err := kt.DecodeBinary(ck)
			if err != nil {
				return err
			}
			start, n1 := binary.Varint(rest)
			end, n2 := binary.Varint(rest[max(n1, 0):])
			if n1 <= 0 || n2 <= 0 || n1+n2 != len(rest) {
				return fmt.Errorf("state %q: bad window key %x", s.desc.Name, ck)
			}
			if seen[string(ck)] {
				return nil
			}
			seen[string(ck)] = true
			key := string(ck[:len(ck)-len(rest)])
			set := o.sessions[key]
			if set == nil {
				set = &sessionSet{}
				o.sessions[key] = set
			}
			set.wins = append(set.wins, window{start, end})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (o *windowOp) setLate(s *sideOutput) { o.late = s }

func (o *windowOp) process(in *instance, input int, e *element) error {
	if o.all {
		e.key, e.keyBytes, e.kg = nil, windowAllKeyBytes, o.allKG
	}
	ts := e.ts
	if o.procTime {
		ts = in.job.clockMs()
	} else if ts == noTimestamp {
		return fmt.Errorf("operator %q: a record without event time reached an event-time window", in.node.UID)
	}
	if o.assign.session() {
		return o.addSession(in, input, e, ts)
	}
	o.wins = o.assign.assign(o.wins[:0], ts)
	added := false
	for _, w := range o.wins {
		if o.isLate(w) {
			continue
		}
		added = true
		o.ck = nsKey(o.ck, e.keyBytes, w)
		existed, err := o.body.add(in, input, e.kg, o.ck, e)
		if err != nil {
			return err
		}
		if err := o.afterAdd(in, e, w, existed); err != nil {
			return err
		}
	}
	if !added {
		return o.lateRecord(in, e)
	}
	return nil
}

// isLate reports whether an event-time window is past its allowed lateness.
func (o *windowOp) isLate(w window) bool {
	return !o.procTime && w.maxTs()+o.lateness <= o.wm
}

// afterAdd registers the timers of a new window, and fires a window that a record within the
// allowed lateness updated after it fired (o.ck is the window's state key).
func (o *windowOp) afterAdd(in *instance, e *element, w window, existed bool) error {
	if o.procTime {
		if existed {
			return nil
		}
		return o.timers.register(processingTimer, w.maxTs(), e)
	}
	if !existed && o.lateness > 0 {
		if err := o.timers.register(eventTimer, w.maxTs()+o.lateness, e); err != nil {
			return err
		}
	}
	if w.maxTs() <= o.wm {
		_, err := o.fire(in, e.key, w, e.kg, o.ck)
		return err
	}
	if existed {
		return nil
	}
	return o.timers.register(eventTimer, w.maxTs(), e)
}

// addSession merges the record's session window with the key's overlapping ones and adds
// the record to the result.
func (o *windowOp) addSession(in *instance, input int, e *element, ts int64) error {
	w := window{ts, ts + o.assign.gap}
	set := o.sessions[string(e.keyBytes)]
	if set == nil {
		set = &sessionSet{}
	}
	merged, n := w, 0
	for _, x := range set.wins {
		if x.intersects(w) {
			merged = merged.cover(x)
			n++
		}
	}
	if o.isLate(merged) {
		return o.lateRecord(in, e)
	}
	if len(set.wins) == 0 {
		o.sessions[string(e.keyBytes)] = set
	}
	same := false
	if n > 0 {
		kept := set.wins[:0:0]
		var srcs [][]byte
		for _, x := range set.wins {
			switch {
			case x == merged:
				same = true
				kept = append(kept, x)
			case x.intersects(w):
				srcs = append(srcs, nsKey(nil, e.keyBytes, x))
			default:
				kept = append(kept, x)
			}
		}
		if len(srcs) > 0 {
			if err := o.body.merge(in, e.kg, nsKey(nil, e.keyBytes, merged), srcs); err != nil {
				return err
			}
		}
		set.wins = kept
	}
	if !same {
		set.wins = append(set.wins, merged)
	}
	// Timers of merged-away windows stay: a timer that finds no window ending at its time
	// does nothing.
	o.ck = nsKey(o.ck, e.keyBytes, merged)
	existed, err := o.body.add(in, input, e.kg, o.ck, e)
	if err != nil {
		return err
	}
	return o.afterAdd(in, e, merged, existed && same)
}

// lateRecord sends a record past every window's lateness to late_output, or drops and
// counts it.
func (o *windowOp) lateRecord(in *instance, e *element) error {
	if o.late != nil {
		return o.late.send(e)
	}
	if in.lateDropped.Add(1) == 1 {
		in.job.Logf("window %q dropped a late record (event time %d, watermark %d): records later than allowed_lateness are counted in late_dropped (/job) and pipectl_late_records_dropped_total; late_output keeps them",
			in.node.UID, e.ts, o.wm)
	}
	return nil
}

func (o *windowOp) onWatermark(in *instance, wm int64) error {
	if wm == idleWatermark || wm <= o.wm {
		return nil
	}
	o.wm = wm
	fire := func(tm timer) error { return o.onTimer(in, tm) }
	if err := o.timers.advance(eventTimer, wm, fire); err != nil {
		return err
	}
	if wm == maxWatermark {
		// The end of a bounded input (or stop --drain): every window fires.
		return o.timers.advance(processingTimer, math.MaxInt64, fire)
	}
	return nil
}

func (o *windowOp) onProcessingTime(in *instance, now int64) error {
	return o.timers.advance(processingTimer, now, func(tm timer) error { return o.onTimer(in, tm) })
}

// onTimer fires the key's window ending at the timer's time and clears the window whose
// allowed lateness ends then.
func (o *windowOp) onTimer(in *instance, tm timer) error {
	key := tm.val
	if o.all {
		key = nil
	}
	purge := o.procTime || o.lateness == 0
	if o.assign.session() {
		set := o.sessions[tm.key]
		if set == nil {
			return nil
		}
		kept := set.wins[:0]
		for _, w := range set.wins {
			ck := nsKey(nil, []byte(tm.key), w)
			drop := false
			if w.maxTs() == tm.t {
				if _, err := o.fire(in, key, w, tm.kg, ck); err != nil {
					return err
				}
				drop = purge
			}
			if !purge && w.maxTs()+o.lateness == tm.t {
				drop = true
			}
			if drop {
				if err := o.body.clear(tm.kg, ck); err != nil {
					return err
				}
				continue
			}
			kept = append(kept, w)
		}
		set.wins = kept
		if len(kept) == 0 {
			delete(o.sessions, tm.key)
		}
		return nil
	}
	w := o.assign.endingAt(tm.t)
	ck := nsKey(nil, []byte(tm.key), w)
	found, err := o.fire(in, key, w, tm.kg, ck)
	if err != nil {
		return err
	}
	if found && purge {
		return o.body.clear(tm.kg, ck)
	}
	if !purge {
		return o.body.clear(tm.kg, nsKey(ck, []byte(tm.key), o.assign.endingAt(tm.t-o.lateness)))
	}
	return nil
}

// fire fires key's window w (state key ck) at its last instant. A failure of the window's
// function is under on_error: with skip or dead_letter the window emits nothing more and is
// cleared as if it had fired.
func (o *windowOp) fire(in *instance, key any, w window, kg uint16, ck []byte) (found bool, err error) {
	found, err = o.body.fire(in, key, w, kg, ck, w.maxTs())
	if err != nil {
		err = in.fireFailed(err, windowFiring(key, w))
	}
	return found, err
}

func (o *windowOp) finish(*instance) error { return nil }
