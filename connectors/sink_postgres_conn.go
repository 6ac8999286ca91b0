package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Backoff between attempts of a postgres sink whose connection was lost.
const (
	pgFirstBackoff = 100 * time.Millisecond
	pgMaxBackoff   = 5 * time.Second
)

// retrying runs f on a live connection (connecting first when there is none). A lost
// connection is dropped and f runs again on a new one, with backoff, until retry_timeout has
// passed since the first attempt; other errors end at once. The error names the host, the
// database and the table, never the password.
func (s *postgresSink) retrying(op string, f func(ctx context.Context) error) error {
	deadline := time.Now().Add(s.retry)
	wait := pgFirstBackoff
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := s.connect(ctx)
		if err == nil {
			err = f(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if !s.transient(err) {
			return s.fail(op, err)
		}
		s.disconnect()
		if time.Now().Add(wait).After(deadline) {
			// A database still away may be back by the job's next restart (restart:).
			return Retryable(s.fail(op, fmt.Errorf("connection lost and not back within retry_timeout %v: %w", s.retry, err)))
		}
		s.logf("%s", redact(fmt.Sprintf("postgres %s: %s: %v; retrying in %v", s.where, op, err, wait), s.secrets))
		time.Sleep(wait)
		wait = min(2*wait, pgMaxBackoff)
	}
}

// connect opens the connection when there is none.
func (s *postgresSink) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.conn, s.prepared = conn, false
	return nil
}

// disconnect closes the connection, if any.
func (s *postgresSink) disconnect() {
	if s.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.conn.Close(ctx)
	s.conn, s.prepared = nil, false
}

// transient reports whether err is a lost or refused connection, a timeout, or a server error
// that a new attempt may cure (shutdown, too many connections, serialization failure,
// deadlock); a wrong password, a missing database or a bad statement is not.
func (s *postgresSink) transient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "53300", "40001", "40P01":
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	var me *mismatchError
	var ne net.Error
	switch {
	case errors.As(err, &me), errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &ne), pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return s.conn == nil || s.conn.IsClosed()
}

// fail is the sink's error for op: where it happened, and the cause with every form of the
// password masked (the cause's chain is dropped with it).
func (s *postgresSink) fail(op string, err error) error {
	return errors.New(redact(fmt.Sprintf("postgres %s: %s: %v", s.where, op, err), s.secrets))
}

// hostOf names the server of a connection config: host:port (a unix socket directory and
// port for a socket connection).
func hostOf(c *pgx.ConnConfig) string {
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// dsnPassword finds the password in a DSN that may not parse: the userinfo of a URL, or a
// password=... setting.
var dsnPassword = regexp.MustCompile(`^[a-z]+://[^:/@]*:([^@/]*)@|password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// dsnSecrets lists the forms in which a DSN's password may appear in a message: as parsed,
// as written (URL-escaped, quoted), and as found in a DSN that does not parse.
func dsnSecrets(dsn string, c *pgx.ConnConfig) []string {
	var out []string
	add := func(s string) {
		if s = strings.Trim(s, "'"); s != "" {
			out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	if c != nil {
		add(c.Password)
	}
	for _, m := range dsnPassword.FindAllStringSubmatch(dsn, -1) {
		add(m[1])
		add(m[2])
		if p, err := url.PathUnescape(m[1]); err == nil {
			add(p)
		}
	}
	return out
}

// redact masks every secret in msg.
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}
