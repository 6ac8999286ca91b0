package cli

// Reading what the command line names: pipeline files, paths, savepoints.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
)

// loadPipeline loads a pipeline file with --param overrides, printing its warnings.
func loadPipeline(gs *GlobalState, file string, params []string) (*pipeline.Pipeline, error) {
	return loadPipelineAs(gs, file, "", params)
}

// loadPipelineAs is loadPipeline reading file as if it stood at resolveAs (when set).
func loadPipelineAs(gs *GlobalState, file, resolveAs string, params []string) (*pipeline.Pipeline, error) {
	overrides := map[string]string{}
	for _, kv := range params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--param takes NAME=VALUE, got %q", kv)
		}
		overrides[k] = v
	}
	path, err := absPath(gs, file)
	if err != nil {
		return nil, err
	}
	opts := pipeline.LoadOptions{Params: overrides, LookupEnv: gs.LookupEnv}
	var p *pipeline.Pipeline
	if resolveAs == "" {
		p, err = pipeline.Load(path, opts)
	} else {
		data, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, &pipeline.ReadError{Path: file, Err: rerr}
		}
		p, err = pipeline.Parse(resolveAs, data, opts)
	}
	var diags pipeline.Diagnostics
	if errors.As(err, &diags) {
		for _, d := range diags {
			fmt.Fprintln(gs.Stderr, relDiag(gs, d))
		}
		n := countErrors(diags)
		noun := "problems"
		if n == 1 {
			noun = "problem"
		}
		return nil, &exitError{code: 1, err: fmt.Errorf("%s is not a valid pipeline (%d %s)", file, n, noun)}
	}
	if err != nil {
		return nil, err
	}
	for _, w := range append(p.Warnings, emptyGlobWarnings(p)...) {
		fmt.Fprintln(gs.Stderr, relDiag(gs, w))
	}
	return p, nil
}

// countErrors counts the error-severity diagnostics.
func countErrors(ds pipeline.Diagnostics) int {
	n := 0
	for _, d := range ds {
		if d.Severity == pipeline.SeverityError {
			n++
		}
	}
	return n
}

// relDiag renders a diagnostic with its file relative to the working directory when inside.
func relDiag(gs *GlobalState, d pipeline.Diagnostic) string {
	if wd, err := gs.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, d.File); err == nil && !strings.HasPrefix(rel, "..") {
			d.File = rel
		}
	}
	return d.Error()
}

// absPath resolves a path against the working directory.
func absPath(gs *GlobalState, p string) (string, error) {
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	wd, err := gs.Getwd()
	if err != nil {
		return "", err
	}
	return filepath.Join(wd, p), nil
}

// openSavepoint opens and verifies a savepoint given on the command line.
func openSavepoint(gs *GlobalState, path string) (*savepoints.Savepoint, error) {
	abs, err := absPath(gs, path)
	if err != nil {
		return nil, err
	}
	sp, err := savepoints.Open(abs)
	if err != nil {
		if errors.Is(err, savepoints.ErrInvalid) {
			return nil, err
		}
		return nil, unreadableSavepoint(path, err)
	}
	return sp, nil
}
