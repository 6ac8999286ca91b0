package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"time"
)

const (
	// maxRequestBytes bounds a request line.
	maxRequestBytes = 1 << 20
	// requestTimeout bounds how long a client may take to send its request.
	requestTimeout = 10 * time.Second
	// responseTimeout bounds how long a client may take to read the answer.
	responseTimeout = 10 * time.Second
	// acceptBackoff is the pause after a failed Accept (e.g. out of fds).
	acceptBackoff = 50 * time.Millisecond
)

// Server serves a job's control socket.
type Server struct {
	path   string
	ln     *net.UnixListener
	h      Handler
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Serve listens on a unix socket at path (mode 0600; put it in the job's
// 0700 directory, see Job.SocketPath) and serves each connection's request
// with h in its own goroutine. A stale socket file at path is replaced.
func Serve(path string, h Handler) (*Server, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("serve %s: %w", path, err)
	}
	addr, done, err := socketAddr(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
	done()
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false) // addr may be a /proc/self/fd path: Close removes path itself
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("serve %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{path: path, ln: ln, h: h, ctx: ctx, cancel: cancel}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// acceptLoop accepts connections until the listener closes.
func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.AcceptUnix()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(acceptBackoff):
				continue
			}
		}
		s.wg.Add(1)
		go s.serveConn(conn)
	}
}

// serveConn reads one request from conn, answers it and closes conn.
func (s *Server) serveConn(conn *net.UnixConn) {
	defer s.wg.Done()
	defer conn.Close()
	var req Request
	_ = conn.SetReadDeadline(time.Now().Add(requestTimeout))
	if err := json.NewDecoder(io.LimitReader(conn, maxRequestBytes)).Decode(&req); err != nil {
		s.reply(conn, ErrorResponse(fmt.Errorf("bad control request: %w", err)))
		return
	}
	s.reply(conn, s.h.Handle(s.ctx, req))
}

// reply writes resp to conn as one JSON line. A client that went away is
// not an error of the server's.
func (s *Server) reply(conn *net.UnixConn, resp Response) {
	_ = conn.SetWriteDeadline(time.Now().Add(responseTimeout))
	_ = json.NewEncoder(conn).Encode(resp)
}

// Close stops accepting connections, cancels the context of the requests
// being handled, waits until they are answered and removes the socket. Do not
// call it from a Handler: it would wait for itself.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.ln.Close()
		s.cancel()
		s.wg.Wait()
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
		if err != nil {
			err = fmt.Errorf("close control socket %s: %w", s.path, err)
		}
	})
	return err
}
