package connectors

import (
	"errors"
	"net"
)

// Failures that a restart can cure — I/O errors, broker and database errors, timeouts — are
// marked retryable: the runtime restarts a job that failed with one (the pipeline's
// `restart:` policy). Every other failure (a bad record, a function error, an offset out of
// range, an invalid pipeline, an incompatible savepoint) is final.

// retryableError marks an error as curable by a restart.
type retryableError struct{ err error }

func (e *retryableError) Error() string   { return e.err.Error() }
func (e *retryableError) Unwrap() error   { return e.err }
func (e *retryableError) Retryable() bool { return true }

// Retryable marks err as a failure that a restart can cure (nil stays nil). Connectors wrap
// their I/O, broker and database errors in it.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err: err}
}

// IsRetryable reports whether err, or an error it wraps, is curable by a restart: marked by
// Retryable (or by any error with a `Retryable() bool` method saying so), or a network
// error (a broker or database that cannot be reached, a network timeout).
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var ne net.Error
	return errors.As(err, &ne)
}
