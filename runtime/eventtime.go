package runtime

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// idleWatermark is the watermark value that marks a sender as idle: it holds no watermark
// back until it sends a real one again. It is never a time (operators ignore it).
const idleWatermark = math.MinInt64 + 1

// watermarkEvery is how many records a source emits at most between two watermarks while its
// watermark advances. A watermark is a control message that flushes every partly filled batch
// of the source's exchanges, so one per record would defeat batching; see watermarkStep.
const watermarkEvery = 64

// sourceTime assigns event time at a source subtask (`timestamp:`) and generates its
// watermarks: the highest timestamp seen minus max_out_of_orderness, minus 1 ms as in Flink
// (a watermark t promises no more records at or before t, so windows ending at or before
// t+1 may fire). It emits the watermark when it has advanced and either watermarkEvery
// records went by or the watermark moved by at least watermarkStep, when the source idles,
// and before barriers. After idle_timeout without records the subtask declares itself idle.
type sourceTime struct {
	uid         string
	path        []pathStep // `e => e.a.b` is read without JS (nil: call fn)
	fn          *script.Func
	rt          *script.Runtime
	outOfOrder  int64
	idleTimeout int64 // ms; 0: never idle
	step        int64 // watermark advance that is sent at once

	maxTs    int64 // highest timestamp seen
	sent     int64 // last watermark sent
	since    int   // records since the last watermark
	lastSeen int64 // processing time of the last record (at first: of the start)
	idle     bool

	// splits track event time per split (Kafka partition) of a source that says where each
	// record comes from (connectors.SplitContext): the watermark then follows the lowest
	// split that is not idle. nil for other sources.
	splits map[string]*splitTime
	clock  func() int64 // processing time in ms
}

// watermarkStep is the advance (ms of event time) after which a watermark goes out at once.
const watermarkStep = 1000

func newSourceTime(in *instance, fn *script.Func) *sourceTime {
	n := in.node
	t := &sourceTime{
		uid: n.UID, fn: fn, rt: in.rt, outOfOrder: n.MaxOutOfOrderness.Milliseconds(),
		idleTimeout: n.IdleTimeout.Milliseconds(), step: watermarkStep,
		maxTs: noTimestamp, sent: noTimestamp, lastSeen: in.job.clockMs(), clock: in.job.clockMs,
	}
	if n.Timestamp == nil {
		return t // the connector's own time (timestamp: kafka)
	}
	if m := fieldArrow.FindStringSubmatch(n.Timestamp.Text); m != nil && m[1] == m[2] {
		t.path = pathSteps(strings.Split(strings.TrimPrefix(m[3], "."), "."))
	}
	return t
}

// fieldArrow matches a timestamp function that only reads a field path: `e => e.time`,
// `(e) => e.meta.ts`.
var fieldArrow = regexp.MustCompile(`^\s*\(?\s*([A-Za-z_$][\w$]*)\s*\)?\s*=>\s*([A-Za-z_$][\w$]*)((?:\.[A-Za-z_$][\w$]*)+)\s*$`)

// timestamp returns a record's event time: read by its field path when the function only
// reads one and the value there is an int, else by calling the function.
func (t *sourceTime) timestamp(v any) (int64, error) {
	if t.path != nil {
		if x, err := fieldAt(v, t.path); err == nil {
			if ts, ok := x.(int64); ok {
				return ts, nil
			}
		}
	}
	res, err := t.fn.Call(t.rt.ToJS(v))
	if err != nil {
		return 0, err
	}
	ts, err := t.rt.FromJSAs(res, intType)
	var ve *schema.ValueError
	if errors.As(err, &ve) {
		return 0, fmt.Errorf("timestamp: expected epoch milliseconds (an integer), got %s", ve.Got)
	}
	if err != nil {
		return 0, err
	}
	return ts.(int64), nil
}

// intType is the type of a timestamp.
var intType = schema.MustParse("int")

// current is the watermark the records seen so far allow.
func (t *sourceTime) current() int64 {
	maxTs := t.maxTs
	if t.splits != nil {
		maxTs = t.splitsLow()
	}
	if maxTs == noTimestamp {
		return noTimestamp
	}
	return maxTs - t.outOfOrder - 1
}

// emit assigns v its timestamp, emits it and, when due, the watermark.
func (s *sourceTask) emitTimed(v any) error {
	t := s.time
	ts, err := t.timestamp(v)
	if err != nil {
		return s.badAfterDecode(v, err)
	}
	return s.emitAt(v, ts)
}

// emitAt emits v with event time ts and, when due, the watermark.
func (s *sourceTask) emitAt(v any, ts int64) error {
	t := s.time
	if t.idleTimeout > 0 {
		t.lastSeen = s.job.clockMs()
	}
	if ts > t.maxTs {
		t.maxTs = ts
	}
	if err := s.inst.emit(v, ts); err != nil {
		return err
	}
	t.since++
	if t.idle {
		t.idle = false
		return s.sendWatermark(max(t.current(), t.sent))
	}
	if wm := t.current(); wm > t.sent && (t.since >= watermarkEvery || t.sent == noTimestamp || wm-t.sent >= t.step) {
		return s.sendWatermark(wm)
	}
	return nil
}

// sendWatermark sends wm downstream.
func (s *sourceTask) sendWatermark(wm int64) error {
	s.time.sent, s.time.since = wm, 0
	return s.inst.watermark(wm)
}

// idleTime runs while the source waits for input: it sends a watermark that is due and,
// after idle_timeout without records, declares the subtask idle.
func (s *sourceTask) idleTime() error {
	t := s.time
	if t == nil || t.idle {
		return nil
	}
	if wm := t.current(); wm > t.sent {
		if err := s.sendWatermark(wm); err != nil {
			return err
		}
	}
	if t.idleTimeout <= 0 {
		return nil
	}
	if s.job.clockMs()-t.lastSeen < t.idleTimeout {
		return nil
	}
	t.idle = true
	return s.inst.watermark(idleWatermark)
}

// flushWatermark sends a watermark that is due (before a barrier, so that a savepoint's
// downstream state has seen event time up to the records it covers).
func (s *sourceTask) flushWatermark() error {
	if t := s.time; t != nil && !t.idle {
		if wm := t.current(); wm > t.sent {
			return s.sendWatermark(wm)
		}
	}
	return nil
}

// recordText renders a source record for a bad-record report.
func recordText(in *instance, v any) string {
	b, err := in.node.Schema.AppendJSON(nil, v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
