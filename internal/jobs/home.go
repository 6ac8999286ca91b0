package jobs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
)

// File names inside a job directory.
const (
	FileInfo     = "job.json"
	FilePipeline = "pipeline.yaml"
	FileEnv      = "env.json"
	FileLock     = "lock"
	FileSocket   = "control.sock"
	FileLog      = "job.log"
	FileStdout   = "stdout.jsonl"
)

// Paths are the absolute paths of one job's files (see the package doc).
type Paths struct {
	Dir, Info, Pipeline, Env, Lock, Socket, Log, Stdout string
}

// PathsOf returns the paths of job id under home. It does not check that id
// is valid; use ValidID for untrusted input.
func PathsOf(home, id string) Paths {
	dir := filepath.Join(home, "jobs", id)
	return Paths{
		Dir:      dir,
		Info:     filepath.Join(dir, FileInfo),
		Pipeline: filepath.Join(dir, FilePipeline),
		Env:      filepath.Join(dir, FileEnv),
		Lock:     filepath.Join(dir, FileLock),
		Socket:   filepath.Join(dir, FileSocket),
		Log:      filepath.Join(dir, FileLog),
		Stdout:   filepath.Join(dir, FileStdout),
	}
}

// Home returns the pipectl home: $PIPECTL_HOME made absolute if it is set and
// not empty, else $HOME/.pipectl. lookupEnv is os.LookupEnv outside tests.
func Home(lookupEnv func(string) (string, bool)) (string, error) {
	if h, ok := lookupEnv("PIPECTL_HOME"); ok && h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return "", fmt.Errorf("PIPECTL_HOME %q: %w", h, err)
		}
		return abs, nil
	}
	if h, ok := lookupEnv("HOME"); ok && h != "" {
		return filepath.Join(h, ".pipectl"), nil
	}
	return "", errors.New("cannot find the pipectl home: set PIPECTL_HOME or HOME")
}

// DefaultStateDir is the state directory of a pipeline when --state-dir is
// not given: $PIPECTL_HOME/state/<pipeline name>.
func DefaultStateDir(home, pipelineName string) string {
	return filepath.Join(home, "state", pipelineName)
}

// idLen is the length of a job id in hex characters (16 random bytes).
const idLen = 32

// NewID returns a fresh job id: 32 lowercase hex characters from crypto/rand.
func NewID() string {
	var b [idLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id has the form of a job id: 32 lowercase hex
// characters. Anything else cannot name a job (and cannot escape the jobs
// directory as a path).
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
