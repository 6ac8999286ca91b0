package pipeline

import "fmt"

// ParamError is a --param whose name is not in the file's params, or whose value does not
// have the type of the value the file gives it (a usage error: exit 2).
type ParamError struct {
	Name  string
	Value string // the --param value (type errors only)
	Want  string // the type the file's value has, "a number" (type errors only)
}

func (e *ParamError) Error() string {
	if e.Want != "" {
		return fmt.Sprintf("param %q: %q is not %s, the type of its value in the pipeline's params", e.Name, e.Value, e.Want)
	}
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
