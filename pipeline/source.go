package pipeline

import (
	"math"

	"github.com/pipectl/pipectl/schema"
)

// source reads a source's keys.
func (l *loader) source(node *Node, m map[string]entry, what string) {
	node.Count = -1
	if e, ok := m["schema"]; ok {
		node.Schema = l.typ(e.val, what+": schema")
	}
	if e, ok := m["timestamp"]; ok {
		node.Timestamp = l.fn(e.val, node.UID+".timestamp")
	}
	if e, ok := m["watermark"]; ok {
		if wm := l.fields(e.val, what+": watermark", []string{"max_out_of_orderness", "idle_timeout"}, nil); wm != nil {
			if d, ok := wm["max_out_of_orderness"]; ok {
				node.MaxOutOfOrderness = l.duration(d.val, "max_out_of_orderness", true)
			}
			if d, ok := wm["idle_timeout"]; ok {
				node.IdleTimeout = l.duration(d.val, "idle_timeout", false)
			}
		}
		if node.Timestamp == nil {
			l.errorf(posOf(e.key), CodeMissingKey, "%s: watermark needs timestamp: (a function returning the event time in epoch milliseconds)", what)
		}
	}
	l.errorPolicy(node, m, what)
	if e, ok := m["format"]; ok {
		node.Format = l.oneOf(e.val, what+": format", "jsonl", "csv")
	}
	switch node.Kind {
	case "file":
		if e, ok := m["path"]; ok {
			if p := l.str(e.val, what+": path"); p != "" {
				node.Path = l.resolvePath(p)
			}
		}
		if e, ok := m["follow"]; ok {
			node.Follow = l.boolean(e.val, what+": follow")
		}
	case "generator":
		if e, ok := m["fn"]; ok {
			node.Fn = l.fn(e.val, node.UID+".fn")
		}
		if e, ok := m["count"]; ok {
			node.Count = l.integer(e.val, what+": count", 0, math.MaxInt64)
		}
		if e, ok := m["rate"]; ok {
			node.Rate = l.positive(e.val, what+": rate")
		}
	case "stdin":
		l.warnf(node.Pos, CodeReplay, "%s: stdin is not replayable: a job restored from a savepoint cannot re-read it", what)
	}
	if node.Format == "csv" && node.Schema != nil && !csvSchema(node.Schema) {
		l.errorf(node.Keys["schema"], CodeType, "%s: format csv needs a record schema of scalar fields (bool, int, float, string, bytes, optional ones), got %s", what, node.Schema)
	}
}

// csvSchema reports whether t can be read from CSV cells: a record of scalars.
func csvSchema(t *schema.Type) bool {
	if t.Kind != schema.Record {
		return false
	}
	for _, f := range t.Fields {
		ft := f.Type
		if ft.Kind == schema.Optional {
			ft = ft.Elem
		}
		switch ft.Kind {
		case schema.Bool, schema.Int, schema.Float, schema.String, schema.Bytes:
		default:
			return false
		}
	}
	return true
}
