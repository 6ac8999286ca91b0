package runtime

import (
	"math"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/script"
)

// processTimers gives `process` its ctx.timers and on_timer: ctx.timers.at(t) registers an
// event-time timer, ctx.timers.after(ms) a processing-time timer at now + ms, both for the
// current key; on_timer(t, ctx) runs when one fires, with ctx.key, ctx.state and ctx.emit of
// the timer's key. Timers are the internal `timers` state: they are in savepoints.
type processTimers struct {
	svc     *timerService
	onTimer *script.Func
	wm      int64 // the current watermark
}

// initTimers sets up ctx.timers and the timer service of a process instance.
// Without on_timer a process has no timers state and ctx.timers throws.
func (o *processOp) initTimers(in *instance) error {
	vm := in.rt.VM()
	obj := vm.NewObject()
	if in.node.OnTimer != nil {
		svc, err := newTimerService(in, in.node.KeyType())
		if err != nil {
			return err
		}
		o.timers = &processTimers{svc: svc, wm: noTimestamp,
			onTimer: in.rt.Func(in.node.OnTimer.Index, in.node.FunctionTimeout)}
	}
	register := func(d timerDomain, t goja.Value, what string) {
		if o.timers == nil {
			panic(vm.NewTypeError("ctx.timers.%s: the operator has no on_timer to call", what))
		}
		n := t.ToFloat()
		if math.IsNaN(n) || n != math.Trunc(n) || math.Abs(n) >= 1<<53 {
			panic(vm.NewTypeError("ctx.timers.%s: expected an integer number of milliseconds, got %s", what, t.String()))
		}
		at := int64(n)
		if d == processingTimer {
			at += in.job.clockMs()
		}
		if err := o.timers.svc.register(d, at, o.cur); err != nil {
			panic(vm.NewGoError(err))
		}
	}
	for name, f := range map[string]func(goja.Value){
		"at":    func(t goja.Value) { register(eventTimer, t, "at") },
		"after": func(ms goja.Value) { register(processingTimer, ms, "after") },
	} {
		if err := obj.Set(name, f); err != nil {
			return err
		}
	}
	return o.ctx.Set("timers", obj)
}

// fireTimer calls on_timer for one timer; outputs carry the timer's time as event time
// (event-time timers) or the current watermark (processing-time timers). A throw is under
// on_error, with the key and the timer's time as the failed record.
func (o *processOp) fireTimer(in *instance, d timerDomain, tm timer) error {
	ts := tm.t
	if d == processingTimer {
		ts = o.timers.wm
	}
	o.cur = timerElement(tm, ts)
	if err := o.ctx.Set("key", in.rt.ToJS(tm.val)); err != nil {
		return err
	}
	if err := o.call(in, o.timers.onTimer, in.rt.VM().ToValue(tm.t)); err != nil {
		t := tm.t
		return in.fireFailed(err, firing{Key: tm.val, Timer: &t})
	}
	return nil
}

func (o *processOp) onWatermark(in *instance, wm int64) error {
	if o.timers == nil || wm == idleWatermark || wm <= o.timers.wm {
		return nil
	}
	o.timers.wm = wm
	return o.timers.svc.advance(eventTimer, wm, func(tm timer) error { return o.fireTimer(in, eventTimer, tm) })
}

func (o *processOp) onProcessingTime(in *instance, now int64) error {
	if o.timers == nil {
		return nil
	}
	return o.timers.svc.advance(processingTimer, now, func(tm timer) error { return o.fireTimer(in, processingTimer, tm) })
}
