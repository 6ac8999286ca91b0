package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// jsonLines makes every line a command writes to its log one JSON object, for
// `--log-format json`: the job's structured records (already JSON) pass through, and the
// plain lines the commands print around them (Job … started, Restored …, the compat report of
// an upgrade, error: …) become slog JSON records with that line as their msg, at level ERROR for
// `error: …`, WARN for `warning: …` and INFO otherwise.
type jsonLines struct {
	mu   sync.Mutex
	out  io.Writer
	log  *slog.Logger
	line []byte // a line not yet ended
}

func newJSONLines(w io.Writer) *jsonLines {
	return &jsonLines{out: w, log: slog.New(slog.NewJSONHandler(w, nil))}
}

// Write implements io.Writer: complete lines are written out, the rest is kept for the next
// Write.
func (j *jsonLines) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.line = append(j.line, p...)
	for {
		i := bytes.IndexByte(j.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := j.writeLine(j.line[:i+1]); err != nil {
			return len(p), err
		}
		j.line = j.line[i+1:]
	}
}

// positionedWarning matches a validation warning: `p.yaml:12:5: warning: …`.
var positionedWarning = regexp.MustCompile(`^\S+:\d+:\d+: warning: `)

// writeLine writes one complete line (with its newline).
func (j *jsonLines) writeLine(line []byte) error {
	if bytes.HasPrefix(line, []byte("{")) {
		_, err := j.out.Write(line)
		return err
	}
	msg := strings.TrimRight(string(line), "\r\n")
	level := slog.LevelInfo
	switch {
	case strings.HasPrefix(msg, "error: "):
		level = slog.LevelError
	case strings.HasPrefix(msg, "warning: "), positionedWarning.MatchString(msg):
		level = slog.LevelWarn
	}
	j.log.Log(context.Background(), level, msg)
	return nil
}
