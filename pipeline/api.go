package pipeline

// This file lists the package's API as used by the rest of pipectl. Bodies marked
// "unimplemented" are being written; keep the signatures and contracts.

// Severity of a diagnostic.
type Severity uint8

// Severities.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// Diagnostic is a finding at a position of a file, shared by validate and check-compat.
// Error() reads `file:line:col: msg`.
type Diagnostic struct {
	File     string
	Line     int
	Col      int
	Severity Severity
	Code     string // stable id of the check, e.g. "unknown-key", "cycle", "type"
	Msg      string
}

func (d Diagnostic) Error() string { panic("unimplemented") }

// Diagnostics is every finding of one load; as an error it lists them one a line.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string { panic("unimplemented") }

// LoadOptions tune Load.
type LoadOptions struct {
	// Params overrides `params:` values: each value is read as YAML (`5000` is a number). A
	// name that the file's params lack is an error of type *ParamError.
	Params map[string]string
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// ParamError is a --param whose name is not in the file's params (a usage error: exit 2).
type ParamError struct{ Name string }

func (e *ParamError) Error() string { panic("unimplemented") }

// ReadError is a pipeline file that cannot be read at all (exit 2).
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string { panic("unimplemented") }
func (e *ReadError) Unwrap() error { return e.Err }

// Load reads, validates and type-checks a pipeline file, compiling its JavaScript (never
// opening data files). It returns *ReadError when the file cannot be read, *ParamError for an
// unknown --param, and Diagnostics (every error found, in file order) when it is invalid.
// Warnings alone do not fail a load; they are in the returned pipeline's Warnings.
func Load(path string, opts LoadOptions) (*Pipeline, error) { panic("unimplemented") }

// Parse is Load on bytes already read; file names the file in diagnostics and resolves
// relative paths.
func Parse(file string, data []byte, opts LoadOptions) (*Pipeline, error) {
	panic("unimplemented")
}
