package connectors

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// EnvFaultSinkWrite injects sink failures, for tests of the restart strategy only:
// `PIPECTL_FAULT_SINK_WRITE=<uid>:<failures>:<after>` makes the sink <uid> fail with a
// retryable I/O error once it has written <after> records, in each of its first <failures>
// instances of the process (one instance per run and per restart). It is not for production.
const EnvFaultSinkWrite = "PIPECTL_FAULT_SINK_WRITE"

// sinkFault is a parsed PIPECTL_FAULT_SINK_WRITE.
type sinkFault struct {
	uid    string
	after  int64
	remain *int64 // failures left, guarded by faultMu
}

var (
	faultMu sync.Mutex
	// faultSpec is the setting the failures left in faultLeft are counted for: they are
	// counted for the life of the process, or until the setting changes.
	faultSpec string
	faultLeft *int64
)

// sinkFaultFor returns the fault injected into the sink uid, or nil.
func sinkFaultFor(uid string) (*sinkFault, error) {
	spec := os.Getenv(EnvFaultSinkWrite)
	faultMu.Lock()
	if spec != faultSpec {
		faultSpec, faultLeft = spec, nil
	}
	faultMu.Unlock()
	if spec == "" {
		return nil, nil
	}
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%s=%q: want <uid>:<failures>:<after>", EnvFaultSinkWrite, spec)
	}
	failures, err1 := strconv.ParseInt(parts[1], 10, 64)
	after, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || failures < 0 || after < 0 {
		return nil, fmt.Errorf("%s=%q: failures and after must be whole numbers", EnvFaultSinkWrite, spec)
	}
	if parts[0] != uid {
		return nil, nil
	}
	faultMu.Lock()
	defer faultMu.Unlock()
	if faultLeft == nil {
		faultLeft = &failures
	}
	return &sinkFault{uid: uid, after: after, remain: faultLeft}, nil
}

// faultySink fails its Write once after a number of records, while the fault has failures
// left.
type faultySink struct {
	Sink
	fault   *sinkFault
	written int64
	armed   bool // this instance fails once
}

func newFaultySink(s Sink, f *sinkFault) Sink {
	faultMu.Lock()
	defer faultMu.Unlock()
	fs := &faultySink{Sink: s, fault: f}
	if *f.remain > 0 {
		*f.remain--
		fs.armed = true
	}
	return fs
}

func (s *faultySink) Write(rec any) error {
	if s.armed && s.written >= s.fault.after {
		s.armed = false
		return Retryable(fmt.Errorf("write: injected I/O fault (%s)", EnvFaultSinkWrite))
	}
	s.written++
	return s.Sink.Write(rec)
}
