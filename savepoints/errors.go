package savepoints

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every error about a savepoint that is not a complete, intact
// savepoint (missing or truncated metadata, a data file whose size or checksum does not
// match, a foreign directory).
var ErrInvalid = errors.New("not a valid savepoint")

// ErrUnknownState is wrapped by the errors of ReadState and Dump about a uid or a state
// name that the savepoint does not hold; the message lists those it holds.
var ErrUnknownState = errors.New("unknown uid or state")

// invalidError is an error about a damaged or foreign savepoint: its message is complete
// in itself and it wraps ErrInvalid (and the cause, if any).
type invalidError struct {
	msg   string
	cause error
}

func (e *invalidError) Error() string { return e.msg }

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.cause}
}

// invalid returns an error `savepoint DIR: MSG` wrapping ErrInvalid.
func invalid(dir, format string, args ...any) error {
	return &invalidError{msg: "savepoint " + dir + ": " + fmt.Sprintf(format, args...)}
}

// invalidCause is invalid with an underlying cause appended and wrapped.
func invalidCause(cause error, dir, format string, args ...any) error {
	return &invalidError{
		msg:   "savepoint " + dir + ": " + fmt.Sprintf(format, args...) + ": " + cause.Error(),
		cause: cause,
	}
}

// notASavepoint returns `DIR is not a savepoint: WHY` wrapping ErrInvalid.
func notASavepoint(dir, why string) error {
	return &invalidError{msg: dir + " is not a savepoint: " + why}
}

// quotedList renders names as `"a", "b"` (sorted), or "none".
func quotedList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	for i, n := range s {
		s[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(s, ", ")
}
