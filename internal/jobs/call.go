package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Call sends req to the job serving the control socket at path and returns
// its answer. It fails with an error matching
//   - ErrNotRunning when nothing listens on path (the job is gone);
//   - ErrJobExited when the job's process dies before it answers: the
//     kernel closes the connection, so this happens at once, however long
//     the request would have taken;
//   - *RemoteError (with the Response) when the job answered !OK;
//   - ctx.Err() when ctx ends first.
func Call(ctx context.Context, path string, req Request) (Response, error) {
	addr, done, err := socketAddr(path)
	if err != nil {
		return Response{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", addr)
	done()
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return Response{}, &jobError{"the job is not running (nothing answers on " + path + ")", ErrNotRunning}
		}
		return Response{}, fmt.Errorf("connect to job: %w", err)
	}
	defer conn.Close()
	// Ending ctx unblocks the reads and writes below.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var resp Response
	err = json.NewEncoder(conn).Encode(req)
	if err == nil {
		err = json.NewDecoder(conn).Decode(&resp)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("%s: %w", req.Op, ctx.Err())
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return Response{}, ErrJobExited
		}
		return Response{}, fmt.Errorf("%s: talk to job: %w", req.Op, err)
	}
	if !resp.OK {
		return resp, &RemoteError{Op: req.Op, Msg: resp.Error}
	}
	return resp, nil
}
