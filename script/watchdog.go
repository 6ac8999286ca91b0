package script

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/internal/heap"
)

// The watchdog enforces call timeouts without any per-call timer or clock read: a timed call
// publishes its id and timeout in its runtime's watch, and one goroutine for the whole process
// looks at every watch each tickPeriod. It notes when it first sees a call; when it sees the
// same call again at least the timeout later, the call has run longer than its timeout (it
// started before it was first seen), and the watchdog interrupts it. So a call is never
// interrupted early, even when the watchdog is starved, and at most about one period late. A
// call pays three atomic operations; the goroutine runs only while runtimes exist.
//
// A watch's call is 0 when no timed call runs, the call's id (> 0) during it, and
// claimed/interrupted while the watchdog interrupts it: the watchdog claims a call with a
// compare-and-swap, so it never interrupts a later call by mistake, and a call that ends while
// claimed waits for the interrupt to land and clears it.
const tickPeriod = 5 * time.Millisecond

const (
	claimed     = -1 // the watchdog is interrupting the call
	interrupted = -2 // the interrupt was sent; the call clears it when it returns
)

// watchdog is the set of watched runtimes.
var watchdog struct {
	mu      sync.Mutex
	watches map[*watch]struct{}
	running bool
}

// timeoutSignal is the value of the interrupts the watchdog sends for a timeout.
type timeoutSignal struct{}

// memorySignal is the value of the interrupts the watchdog sends when the live heap has grown
// beyond the point heapOverLimit sets (limit): every JS call running then is stopped, before
// the allocations it keeps making take the process down.
type memorySignal struct{ live, limit uint64 }

// memoryEvery is how many ticks pass between two looks at the heap.
const memoryEvery = 20

// watch is the timeout state of one runtime.
type watch struct {
	call    atomic.Int64 // the running timed call: 0, its id, claimed or interrupted
	timeout atomic.Int64 // the running call's timeout, in nanoseconds
	vm      weak.Pointer[goja.Runtime]

	// Owned by the watchdog goroutine.
	seen   int64     // the call seen at the last look
	seenAt time.Time // when it was first seen
}

// startWatch registers a runtime with the watchdog, starting it if needed. The watch holds the
// runtime weakly, so the watchdog keeps no runtime alive.
func startWatch(vm *goja.Runtime) *watch {
	w := &watch{vm: weak.Make(vm)}
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	if watchdog.watches == nil {
		watchdog.watches = map[*watch]struct{}{}
	}
	watchdog.watches[w] = struct{}{}
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

// watchLoop is the watchdog goroutine.
func watchLoop() {
	t := time.NewTicker(tickPeriod)
	defer t.Stop()
	ticks := 0
	for range t.C { // the tick's own time may be stale: check reads the clock itself
		watchdog.mu.Lock()
		if len(watchdog.watches) == 0 {
			watchdog.running = false
			watchdog.mu.Unlock()
			return
		}
		for w := range watchdog.watches {
			w.check()
		}
		if ticks++; ticks%memoryEvery == 0 {
			if sig, over := heapOverLimit(); over {
				for w := range watchdog.watches {
					w.interrupt(w.call.Load(), sig)
				}
			}
		}
		watchdog.mu.Unlock()
	}
}

// check interrupts the runtime if its call has been seen running for longer than its timeout.
// The clock is read after the call is: a call is never taken to have started before it did.
func (w *watch) check() {
	c := w.call.Load()
	if c <= 0 {
		return
	}
	now := time.Now()
	if c != w.seen {
		w.seen, w.seenAt = c, now
		return
	}
	if now.Sub(w.seenAt) < time.Duration(w.timeout.Load()) {
		return
	}
	w.interrupt(c, timeoutSignal{})
}

// interrupt interrupts call c (> 0) of the runtime, if it is still running, with sig.
func (w *watch) interrupt(c int64, sig any) {
	if c <= 0 {
		return
	}
	vm := w.vm.Value()
	if vm == nil || !w.call.CompareAndSwap(c, claimed) {
		return
	}
	vm.Interrupt(sig)
	w.call.Store(interrupted)
}

// heapOverLimit reports whether the heap that was live at the last garbage collection is
// beyond the point where a JS call is stopped: twice the process's memory limit (none is set:
// never). The soft limit itself is a target for the collector, which a job whose state caches
// and store are full may pass for a while without anything running away (Badger keeps pooled
// table-building buffers of its own beside its share, which weigh most in a small budget); a
// function that allocates without bound passes twice the limit within moments.
func heapOverLimit() (memorySignal, bool) {
	limit, set := heap.Limit()
	if !set {
		return memorySignal{}, false
	}
	live, ok := heap.Live()
	if !ok {
		return memorySignal{}, false
	}
	stopAt := 2 * limit
	return memorySignal{live: uint64(live), limit: uint64(stopAt)}, live > stopAt
}

// arm starts watching call id (> 0, unique in the runtime) with its timeout.
func (w *watch) arm(id int64, timeout time.Duration) {
	w.timeout.Store(int64(timeout))
	w.call.Store(id)
}

// disarm ends the watch of call id. If the watchdog interrupted it (or was about to), it waits
// for the interrupt to land and clears it, so the next call starts clean.
func (w *watch) disarm(id int64, vm *goja.Runtime) {
	if w.call.CompareAndSwap(id, 0) {
		return
	}
	for w.call.Load() == claimed {
		runtime.Gosched()
	}
	vm.ClearInterrupt()
	w.call.Store(0)
}
