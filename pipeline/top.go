package pipeline

import (
	"regexp"
	"runtime"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults of the top-level keys.
const (
	DefaultMaxParallelism  = 128
	DefaultStateBackend    = "badger"
	DefaultFunctionTimeout = 5 * time.Second
	// DefaultBufferTimeout is how long a partly filled batch or sink buffer may wait.
	DefaultBufferTimeout = 100 * time.Millisecond
	// MaxMaxParallelism bounds max_parallelism (the number of key groups).
	MaxMaxParallelism = 32768
)

var topKeys = []string{"name", "parallelism", "max_parallelism", "state_backend", "memory", "function_timeout", "buffer_timeout",
	"savepoint_dir", "checkpoint", "restart", "params", "script", "sources", "operators", "sinks"}

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9_.-]+$`)
	uidRE   = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
)

// top reads the top-level mapping and everything under it.
func (l *loader) top(root *yaml.Node, overrides map[string]string) error {
	p := l.p
	p.MaxParallelism = DefaultMaxParallelism
	p.StateBackend = DefaultStateBackend
	p.FunctionTimeout = DefaultFunctionTimeout
	p.Memory = DefaultMemory
	p.BufferTimeout = DefaultBufferTimeout
	m := l.fields(root, "the pipeline", topKeys, nil)
	if m == nil {
		return nil
	}
	l.require(m, posOf(root), "the pipeline", "name", "sources", "sinks")
	if e, ok := m["name"]; ok {
		switch p.Name = l.str(e.val, "name"); {
		case p.Name != "" && !nameRE.MatchString(p.Name):
			l.errorf(posOf(e.val), CodeValue, "name %q may only hold a-z, 0-9, '-', '_' and '.'", p.Name)
		case p.Name == "." || p.Name == "..":
			l.errorf(posOf(e.val), CodeValue, "name %q cannot name the pipeline's state directory (state/<name>): use letters or digits", p.Name)
		}
	}
	if e, ok := m["max_parallelism"]; ok {
		if v := l.integer(e.val, "max_parallelism", 1, MaxMaxParallelism); v > 0 {
			p.MaxParallelism = int(v)
		}
	}
	p.Parallelism = min(runtime.NumCPU(), p.MaxParallelism)
	if e, ok := m["parallelism"]; ok {
		if v := l.integer(e.val, "parallelism", 1, int64(p.MaxParallelism)); v > 0 {
			p.Parallelism = int(v)
		}
	}
	if e, ok := m["state_backend"]; ok {
		p.StateBackend = l.oneOf(e.val, "state_backend", "badger", "memory")
	}
	if e, ok := m["memory"]; ok {
		if v := l.memory(e.val); v > 0 {
			p.Memory = v
		}
	}
	if e, ok := m["function_timeout"]; ok {
		p.FunctionTimeout = l.duration(e.val, "function_timeout", false)
	}
	if e, ok := m["buffer_timeout"]; ok {
		if d := l.duration(e.val, "buffer_timeout", false); d > 0 {
			p.BufferTimeout = d
		}
	}
	if e, ok := m["savepoint_dir"]; ok {
		if dir := l.str(e.val, "savepoint_dir"); dir != "" {
			p.SavepointDir = l.resolvePath(dir)
		}
	}
	if e, ok := m["checkpoint"]; ok {
		if cm := l.fields(e.val, "checkpoint", []string{"interval"}, nil); cm != nil {
			l.require(cm, posOf(e.val), "checkpoint", "interval")
			if iv, ok := cm["interval"]; ok {
				p.CheckpointInterval = l.duration(iv.val, "checkpoint.interval", false)
			}
		}
	}
	if e, ok := m["restart"]; ok {
		l.restart(e)
	}
	if e, ok := m["params"]; ok {
		l.params(e.val)
	}
	if err := l.overrideParams(overrides); err != nil {
		return err
	}
	if e, ok := m["script"]; ok {
		p.Script = l.code(e.val, "script")
	}
	l.items(m, "sources", RoleSource)
	l.items(m, "operators", RoleOperator)
	l.items(m, "sinks", RoleSink)
	l.checkPreviousUIDs()
	return nil
}

// items reads the sequence under one of sources, operators and sinks.
func (l *loader) items(m map[string]entry, key string, role Role) {
	e, ok := m[key]
	if !ok {
		return
	}
	empty := e.val.Tag == "!!null" || (e.val.Kind == yaml.SequenceNode && len(e.val.Content) == 0)
	switch {
	case empty && role != RoleOperator:
		l.errorf(posOf(e.key), CodeValue, "%s must not be empty", key)
		return
	case empty:
		return
	case e.val.Kind != yaml.SequenceNode:
		l.errorf(posOf(e.val), CodeValue, "%s must be a sequence of items (- uid: ...), got %s", key, describe(e.val))
		return
	}
	for _, item := range e.val.Content {
		l.item(item, role)
	}
}
