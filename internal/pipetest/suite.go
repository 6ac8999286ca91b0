package pipetest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pipectl/pipectl/pipeline"
)

// DefaultTimeout bounds one test's run.
const DefaultTimeout = time.Minute

// Options tune a test run.
type Options struct {
	// Run selects the tests whose name it matches (nil: all).
	Run *regexp.Regexp
	// LookupEnv resolves the ${…} of a pipeline that the test file's `env:` does not set
	// (nil: none).
	LookupEnv func(string) (string, bool)
	// Timeout bounds each test (0: DefaultTimeout).
	Timeout time.Duration
	// Dir is the working directory: relative paths resolve against it, and file names in
	// messages are relative to it ("" is the process's working directory).
	Dir string
}

// Result is the outcome of one test.
type Result struct {
	Name    string
	Passed  bool
	Elapsed time.Duration
	// Message says in one line why the test failed; Detail holds the diff or the pipeline's
	// findings, one line each.
	Message string
	Detail  []string
}

// FileResult is the outcome of one test file.
type FileResult struct {
	File  string // as given or found
	Err   error  // a *ReadError: the file could not be read and none of its tests ran
	Tests []Result
}

// Find expands the arguments of `pipectl test` into test files: a file is taken as it is, a
// directory gives every *_test.yaml under it in lexical order, skipping directories named
// testdata or starting with "." or "_" (as `go test ./...` does). No argument means ".".
func Find(args []string, opts Options) ([]string, error) {
	if len(args) == 0 {
		args = []string{"."}
	}
	var files []string
	for _, a := range args {
		st, err := os.Stat(opts.abs(a))
		if err != nil {
			return nil, &ReadError{fmt.Errorf("test file %s: %w", a, errors.Unwrap(err))}
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		root := opts.abs(a)
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), "_test.yaml") {
				rel, err := filepath.Rel(root, path)
				if err != nil {
					return err
				}
				found = append(found, filepath.Join(a, rel))
			}
			return nil
		})
		if err != nil {
			return nil, &ReadError{fmt.Errorf("test directory %s: %w", a, err)}
		}
		if len(found) == 0 {
			return nil, &ReadError{fmt.Errorf("no *_test.yaml file under %s", a)}
		}
		files = append(files, found...)
	}
	return files, nil
}

// RunFile runs the selected tests of one test file (a path relative to Options.Dir, or
// absolute).
func RunFile(path string, opts Options) FileResult {
	if opts.Dir == "" {
		opts.Dir, _ = os.Getwd()
	}
	res := FileResult{File: path}
	f, err := ReadFile(path, opts.abs(path))
	if err != nil {
		res.Err = err
		return res
	}
	var tests []*Test
	for _, t := range f.Tests {
		if opts.Run == nil || opts.Run.MatchString(t.Name) {
			tests = append(tests, t)
		}
	}
	if len(tests) == 0 {
		return res
	}
	deadLetters, err := os.MkdirTemp("", "pipectl-test-")
	if err != nil {
		res.Err = err
		return res
	}
	defer os.RemoveAll(deadLetters)
	p, err := load(f, opts, deadLetters)
	if err != nil {
		var re *pipeline.ReadError
		if errors.As(err, &re) {
			res.Err = &ReadError{fmt.Errorf("%s: pipeline: %s", path, opts.rel(err.Error()))}
			return res
		}
		for _, t := range tests {
			res.Tests = append(res.Tests, Result{Name: t.Name, Message: fmt.Sprintf("%s:%d: the pipeline is invalid", path, t.Line), Detail: opts.relLines(err.Error())})
		}
		return res
	}
	b := &binder{file: path, p: p}
	for _, t := range tests {
		res.Tests = append(res.Tests, runOne(p, b, t, opts))
	}
	return res
}

// runOne checks, runs and judges one test.
func runOne(p *pipeline.Pipeline, b *binder, t *Test, opts Options) Result {
	start := time.Now()
	r := Result{Name: t.Name}
	fail := func(msg string, detail ...string) Result {
		r.Message, r.Detail, r.Elapsed = msg, detail, time.Since(start)
		return r
	}
	bt, err := b.bind(t)
	if err != nil {
		return fail(err.Error())
	}
	prog, err := p.Compile()
	if err != nil {
		return fail(fmt.Sprintf("%s:%d: the pipeline is invalid", b.file, t.Line), opts.relLines(err.Error())...)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	out, err := run(p, prog, bt, timeout)
	if err != nil {
		return fail(opts.rel(fmt.Sprintf("%s:%d: %v", b.file, t.Line, err)))
	}
	diff, err := judge(bt, out)
	if err != nil {
		return fail(fmt.Sprintf("%s:%d: %v", b.file, t.Line, err))
	}
	if len(diff) > 0 {
		return fail(fmt.Sprintf("%s:%d: the run differs from what the test expects (- expected, + actual)", b.file, t.Line), diff...)
	}
	r.Passed = true
	r.Elapsed = time.Since(start)
	return r
}

// load loads the pipeline of a test file with its params and env, as a test runs it: at
// parallelism 1, its dead-letter files in the directory deadLetters.
func load(f *File, opts Options, deadLetters string) (*pipeline.Pipeline, error) {
	lookup := func(name string) (string, bool) {
		if v, ok := f.Env[name]; ok {
			return v, true
		}
		if opts.LookupEnv != nil {
			return opts.LookupEnv(name)
		}
		return "", false
	}
	p, err := pipeline.Load(f.Pipeline, pipeline.LoadOptions{Params: f.Params, LookupEnv: lookup})
	if err != nil {
		return nil, err
	}
	p.Parallelism = 1
	for _, n := range p.Order {
		n.Parallelism = 1
		if n.DeadLetter != "" {
			n.DeadLetter = filepath.Join(deadLetters, n.UID+".jsonl")
		}
	}
	return p, nil
}

// abs resolves a path against the working directory.
func (o Options) abs(p string) string {
	if filepath.IsAbs(p) || o.Dir == "" {
		return p
	}
	return filepath.Join(o.Dir, p)
}

// relLines splits a multi-line message into lines, with the paths under the working
// directory made relative to it.
func (o Options) relLines(msg string) []string {
	return strings.Split(o.rel(strings.TrimRight(msg, "\n")), "\n")
}

// rel makes the paths under the working directory in a message relative to it.
func (o Options) rel(msg string) string {
	if o.Dir == "" {
		return msg
	}
	return strings.ReplaceAll(msg, filepath.Clean(o.Dir)+string(filepath.Separator), "")
}
