package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// serve starts a Server on path with h and closes it at cleanup.
func serve(t *testing.T, path string, h Handler) *Server {
	t.Helper()
	s, err := Serve(path, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testCtx is a context bounded by testWait.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

func TestSocketPermissions(t *testing.T) {
	j := newJob(t, t.TempDir(), "p", time.Time{})
	serve(t, j.SocketPath(), HandlerFunc(func(context.Context, Request) Response { return Response{OK: true} }))
	st, err := os.Stat(j.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != fs.ModeSocket|0o600 {
		t.Errorf("socket mode %v, want %v", st.Mode(), fs.ModeSocket|0o600)
	}
	if st, err := os.Stat(j.Dir()); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("job dir mode %v, %v; want 0700", st.Mode(), err)
	}
}

// echoHandler answers like a job: status with data, savepoint with a path
// under the requested dir, stop refused unless drained, unknown ops refused.
var echoHandler = HandlerFunc(func(_ context.Context, req Request) Response {
	switch req.Op {
	case OpStatus:
		return Response{OK: true, Data: json.RawMessage(`{"records":3}`)}
	case OpSavepoint:
		return Response{OK: true, Path: req.Dir + "/savepoint-abcdef-0123456789ab"}
	case OpStop:
		if !req.Drain {
			return ErrorResponse(errors.New("savepoint failed: disk full"))
		}
		return Response{OK: true, Path: req.Dir + "/savepoint-final"}
	default:
		return ErrorResponse(errors.New("unknown control operation " + req.Op))
	}
})

func TestCallRoundTrip(t *testing.T) {
	short := filepath.Join(t.TempDir(), "c.sock")
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60), "control.sock")
	if err := os.MkdirAll(filepath.Dir(long), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		req     Request
		want    Response
		wantErr string
	}{
		{"status", Request{Op: OpStatus}, Response{OK: true, Data: json.RawMessage(`{"records":3}`)}, ""},
		{"savepoint", Request{Op: OpSavepoint, Dir: "/sp"}, Response{OK: true, Path: "/sp/savepoint-abcdef-0123456789ab"}, ""},
		{"stop drain", Request{Op: OpStop, Dir: "/sp", Drain: true}, Response{OK: true, Path: "/sp/savepoint-final"}, ""},
		{"remote error", Request{Op: OpStop, Dir: "/sp"}, Response{Error: "savepoint failed: disk full"}, "savepoint failed: disk full"},
	}
	for _, path := range []string{short, long} {
		serve(t, path, echoHandler)
		for _, tt := range tests {
			t.Run(tt.name+"/"+map[bool]string{true: "long path", false: "short path"}[path == long], func(t *testing.T) {
				got, err := Call(testCtx(t), path, tt.req)
				if tt.wantErr != "" {
					var re *RemoteError
					if !errors.As(err, &re) || re.Error() != tt.wantErr || re.Op != tt.req.Op {
						t.Fatalf("Call() error = %v, want RemoteError %q", err, tt.wantErr)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if got.OK != tt.want.OK || got.Path != tt.want.Path || got.Error != tt.want.Error || string(got.Data) != string(tt.want.Data) {
					t.Fatalf("Call() = %+v, want %+v", got, tt.want)
				}
			})
		}
	}
}

func TestCallWithoutServer(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	s, err := Serve(stale, echoHandler)
	if err != nil {
		t.Fatal(err)
	}
	s.ln.Close() // a listener gone without removing its socket file: connection refused
	defer s.Close()
	for _, path := range []string{filepath.Join(dir, "missing.sock"), stale} {
		_, err := Call(testCtx(t), path, Request{Op: OpStatus})
		if !errors.Is(err, ErrNotRunning) {
			t.Errorf("Call(%s) error = %v, want ErrNotRunning", path, err)
		}
	}
}

// TestHandlerRunsConcurrently: a request that waits for a later one is
// answered, which needs both handlers running at once.
func TestHandlerRunsConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	statusSeen := make(chan struct{})
	serve(t, path, HandlerFunc(func(ctx context.Context, req Request) Response {
		if req.Op == OpStatus {
			close(statusSeen)
			return Response{OK: true}
		}
		select {
		case <-statusSeen:
			return Response{OK: true, Path: "after status"}
		case <-ctx.Done():
			return ErrorResponse(ctx.Err())
		}
	}))
	ctx := testCtx(t)
	done := make(chan error, 1)
	go func() {
		resp, err := Call(ctx, path, Request{Op: OpSavepoint})
		if err == nil && resp.Path != "after status" {
			err = errors.New("unexpected answer " + resp.Path)
		}
		done <- err
	}()
	if _, err := Call(ctx, path, Request{Op: OpStatus}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCallHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	serve(t, path, HandlerFunc(func(ctx context.Context, req Request) Response {
		<-ctx.Done() // never answers before the server closes
		return Response{OK: true}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Call(ctx, path, Request{Op: OpSavepoint}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call() error = %v, want DeadlineExceeded", err)
	}
}

func TestServerCloseAnswersAndRemovesSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	started := make(chan struct{})
	s, err := Serve(path, HandlerFunc(func(ctx context.Context, req Request) Response {
		close(started)
		<-ctx.Done()
		return ErrorResponse(errors.New("the job is shutting down"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Call(testCtx(t), path, Request{Op: OpSavepoint})
		done <- err
	}()
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || err.Error() != "the job is shutting down" {
		t.Fatalf("Call() during Close error = %v, want the handler's answer", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket still there after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestBadRequestIsAnswered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	serve(t, path, echoHandler)
	conn, err := (&netDialer).DialContext(testCtx(t), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("not json\n")); err != nil {
		t.Fatal(err)
	}
	var resp Response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		t.Fatal(err)
	}
	if resp.OK || !strings.HasPrefix(resp.Error, "bad control request") {
		t.Fatalf("answer to garbage = %+v", resp)
	}
}

// TestCallFailsWhenJobIsKilled: a job process killed while a savepoint
// request waits makes Call fail at once with ErrJobExited.
func TestCallFailsWhenJobIsKilled(t *testing.T) {
	home, id := t.TempDir(), NewID()
	child := startChild(t, "serve", home, id)
	p := PathsOf(home, id)
	testkit.Eventually(t, testWait, "the child to serve", func() bool {
		_, err := Call(testCtx(t), p.Socket, Request{Op: OpStatus})
		return err == nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := Call(testCtx(t), p.Socket, Request{Op: OpSavepoint})
		done <- err
	}()
	testkit.Eventually(t, testWait, "the savepoint request to arrive", func() bool {
		_, err := os.Stat(filepath.Join(p.Dir, markerFile))
		return err == nil
	})
	killed := time.Now()
	killChild(t, child)
	select {
	case err := <-done:
		if !errors.Is(err, ErrJobExited) || err.Error() != "the job exited before answering" {
			t.Fatalf("Call() error = %v, want ErrJobExited", err)
		}
		if d := time.Since(killed); d > 3*time.Second {
			t.Fatalf("Call() took %v after the kill", d)
		}
	case <-time.After(testWait):
		t.Fatal("Call() still waits after the job was killed")
	}
}
