package cli

// The standby: the new job of a detached pit stop (`upgrade --job … -d`), a detached process
// started before the old job stops. It prepares the run, says "ready", and waits on a pipe
// from upgrade for the savepoint to start from; it says "started <Unix ms>" once its sources
// read. Upgrade closing the pipe without a savepoint (it gave up, or died) makes it exit.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
)

// envStandbyFor marks a detached child as the standby successor of the job it names.
const envStandbyFor = "PIPECTL_STANDBY_FOR"

// The standby's pipes: it reads the savepoint from controlFD, and reports on reportFD.
const (
	controlFD = 3
	reportFD  = 4
)

// The standby's messages, one a line.
const (
	msgReady     = "ready"
	msgSavepoint = "savepoint " // + the savepoint path
	msgStarted   = "started "   // + the Unix ms its sources started
)

// runStandby is the standby's side: prepare, report ready, wait for the savepoint, take over.
func runStandby(gs *GlobalState, p *pipeline.Pipeline, o runOptions, previous string) error {
	control, report := os.NewFile(controlFD, "standby control"), os.NewFile(reportFD, "standby report")
	if control == nil || report == nil {
		return errors.New("a standby job needs its control pipes")
	}
	defer report.Close()
	l, err := prepareRun(gs, p, o, previous)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(report, msgReady); err != nil {
		l.close()
		return nil // upgrade is gone
	}
	line, err := bufio.NewReader(control).ReadString('\n')
	control.Close()
	path, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), msgSavepoint)
	if err != nil || !ok {
		l.close()
		return nil // upgrade gave up before stopping the old job
	}
	err = handOver(gs, l, path, func(t time.Time) {
		fmt.Fprintf(report, "%s%d\n", msgStarted, t.UnixMilli())
		report.Close()
	})
	recordFailedStart(gs, p, err)
	return err
}

// standby is upgrade's side of a standby process.
type standby struct {
	gs      *GlobalState
	home    string
	id      string
	pid     int
	old     jobs.Info
	control *os.File    // the write end of the standby's control pipe
	reports chan string // its report lines; closed when it closes its end (or exits)
}

// startStandby starts the standby for the new pipeline file (run flags o) and waits until it
// is ready. If it fails first, its error is returned and it leaves nothing behind.
func startStandby(gs *GlobalState, file string, o runOptions, old jobs.Info) (successor, error) {
	h, err := home(gs)
	if err != nil {
		return nil, err
	}
	timeout, err := startTimeout(gs)
	if err != nil {
		return nil, err
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		controlR.Close()
		controlW.Close()
		return nil, err
	}
	s := &standby{gs: gs, home: h, id: jobs.NewID(), old: old, control: controlW, reports: make(chan string, 2)}
	args := append([]string{"run", "-d", file}, runArgs(o)...)
	env := append(gs.Environ(), envDetached+"="+s.id, "PIPECTL_HOME="+h, envStandbyFor+"="+old.ID)
	s.pid, err = jobs.Detach(args, env, jobs.PathsOf(h, s.id).Log, controlR, reportW)
	controlR.Close()
	reportW.Close()
	if err != nil {
		controlW.Close()
		reportR.Close()
		return nil, err
	}
	go func() {
		defer reportR.Close()
		defer close(s.reports)
		sc := bufio.NewScanner(reportR)
		for sc.Scan() {
			s.reports <- sc.Text()
		}
	}()
	select {
	case line, ok := <-s.reports:
		if ok && line == msgReady {
			return s, nil
		}
		err = s.failure()
	case <-time.After(timeout):
		syscall.Kill(s.pid, syscall.SIGKILL)
		err = fmt.Errorf("the new job was not ready after %v", timeout)
		s.failure()
	}
	os.RemoveAll(jobs.PathsOf(h, s.id).Dir)
	return nil, err
}

// failure waits for the standby's process to end and returns its last words.
func (s *standby) failure() error {
	ctx, cancel := context.WithTimeout(context.Background(), handOverTimeout)
	defer cancel()
	err := jobs.WaitRunning(ctx, s.home, s.id, s.pid)
	var se *jobs.StartError
	if errors.As(err, &se) && se.Log != "" {
		// Its last words are its log's tail; its own error line starts with "error: ".
		return errors.New(strings.ReplaceAll("\n"+se.Log, "\nerror: ", "\n")[1:])
	}
	if err == nil {
		return fmt.Errorf("job %s ended", s.id)
	}
	return err
}

// abort tells the standby to exit (before begin), waits for it and removes its job folder.
func (s *standby) abort() {
	s.control.Close()
	for range s.reports {
	}
	s.failure()
	os.RemoveAll(jobs.PathsOf(s.home, s.id).Dir)
}

// begin hands the savepoint to the standby.
func (s *standby) begin(path string) {
	fmt.Fprintf(s.control, "%s%s\n", msgSavepoint, path)
	s.control.Close()
}

// finish waits until the standby's sources read and the old job's process is gone; it prints
// the downtime, and the new job id on stdout. A standby that failed (or was gone before it
// got the savepoint) is reported and the old pipeline restarted.
func (s *standby) finish(path string, stoppedMs int64, exited <-chan error) error {
	timeout, _ := startTimeout(s.gs)
	select {
	case line, ok := <-s.reports:
		started, isStart := strings.CutPrefix(line, msgStarted)
		if !ok || !isStart || failedWithin(s.home, s.id, startGrace) {
			se := s.failure()
			return rollBack(s.gs, s.old, path, exited, fmt.Errorf("%v\nlog: %s", se, jobs.PathsOf(s.home, s.id).Log))
		}
		if ms, err := strconv.ParseInt(started, 10, 64); err == nil && stoppedMs > 0 {
			printDowntime(s.gs, stoppedMs, ms)
		}
	case <-time.After(timeout):
		// Never an orphan: the job goes on restoring, so its id is the answer.
		fmt.Fprintf(s.gs.Stderr, "Job %s is still restoring its state after %v; `pipectl list` shows it once it runs (log: %s)\n", s.id, timeout, jobs.PathsOf(s.home, s.id).Log)
	}
	if err := <-exited; err != nil {
		return err
	}
	fmt.Fprintln(s.gs.Stdout, s.id)
	return nil
}
