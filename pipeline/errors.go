package pipeline

import "fmt"

// ParamError is a --param whose name is not in the file's params (a usage error: exit 2).
type ParamError struct{ Name string }

func (e *ParamError) Error() string {
	return fmt.Sprintf("unknown param %q: the pipeline's params do not declare it", e.Name)
}

// ReadError is a pipeline file that cannot be read at all (exit 2).
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("read pipeline %s: %v", e.Path, e.Err) }

// Unwrap returns the underlying I/O error.
func (e *ReadError) Unwrap() error { return e.Err }
