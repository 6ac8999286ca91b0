package script

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/dop251/goja"
)

// The watchdog enforces call timeouts without any per-call timer: a call stores its deadline
// (in ticks of a coarse clock) in its runtime's watch, and one goroutine for the whole process
// advances the clock every tickPeriod and interrupts the runtimes whose call is past its
// deadline. A call pays two atomic operations; the goroutine runs only while runtimes exist.
//
// A watch's deadline is 0 when no timed call runs, a tick number during a call, and then
// claimed/interrupted while the watchdog interrupts it: the watchdog claims a deadline with a
// compare-and-swap, so it never interrupts a later call by mistake, and a call that ends
// while claimed waits for the interrupt to land and clears it.
const tickPeriod = 5 * time.Millisecond

const (
	claimed     = -1 // the watchdog is interrupting the call
	interrupted = -2 // the interrupt was sent; the call clears it when it returns
)

// clock is the coarse time in ticks since epoch; it only grows.
var (
	epoch = time.Now()
	clock atomic.Int64
)

// watchdog is the set of watched runtimes.
var watchdog struct {
	mu      sync.Mutex
	watches map[*watch]struct{}
	running bool
}

// timeoutSignal is the value of the interrupts the watchdog sends.
type timeoutSignal struct{}

// watch is the timeout state of one runtime.
type watch struct {
	deadline atomic.Int64
	vm       weak.Pointer[goja.Runtime] // weak, so the watchdog keeps no runtime alive
}

// startWatch registers a runtime with the watchdog, starting it if needed.
func startWatch(vm *goja.Runtime) *watch {
	w := &watch{vm: weak.Make(vm)}
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	if watchdog.watches == nil {
		watchdog.watches = map[*watch]struct{}{}
	}
	watchdog.watches[w] = struct{}{}
	tick() // the clock may be stale if the watchdog was idle
	if !watchdog.running {
		watchdog.running = true
		go watchLoop()
	}
	return w
}

// stopWatch unregisters a runtime; the watchdog stops with the last one.
func stopWatch(w *watch) {
	watchdog.mu.Lock()
	delete(watchdog.watches, w)
	watchdog.mu.Unlock()
}

// tick advances the clock to the current time and returns it.
func tick() int64 {
	now := int64(time.Since(epoch) / tickPeriod)
	clock.Store(now)
	return now
}

// ticksFor is the number of ticks a call of the given timeout may run: one more than the
// timeout rounds up to, since the clock read at the call's start may be almost a tick old.
func ticksFor(timeout time.Duration) int64 {
	return int64((timeout+tickPeriod-1)/tickPeriod) + 1
}

// watchLoop is the watchdog goroutine.
func watchLoop() {
	t := time.NewTicker(tickPeriod)
	defer t.Stop()
	for range t.C {
		watchdog.mu.Lock()
		if len(watchdog.watches) == 0 {
			watchdog.running = false
			watchdog.mu.Unlock()
			return
		}
		now := tick()
		for w := range watchdog.watches {
			w.check(now)
		}
		watchdog.mu.Unlock()
	}
}

// check interrupts the runtime if its call is past its deadline.
func (w *watch) check(now int64) {
	d := w.deadline.Load()
	if d <= 0 || now < d {
		return
	}
	vm := w.vm.Value()
	if vm == nil || !w.deadline.CompareAndSwap(d, claimed) {
		return
	}
	vm.Interrupt(timeoutSignal{})
	w.deadline.Store(interrupted)
}

// arm starts watching a call that may run the given number of ticks and returns its
// deadline, for disarm.
func (w *watch) arm(ticks int64) int64 {
	d := clock.Load() + ticks
	w.deadline.Store(d)
	return d
}

// disarm ends the watch of the call with deadline d. If the watchdog interrupted it (or was
// about to), it waits for the interrupt to land and clears it, so the next call starts clean.
func (w *watch) disarm(d int64, vm *goja.Runtime) {
	if w.deadline.CompareAndSwap(d, 0) {
		return
	}
	for w.deadline.Load() == claimed {
		runtime.Gosched()
	}
	vm.ClearInterrupt()
	w.deadline.Store(0)
}
