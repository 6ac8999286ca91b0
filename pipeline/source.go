package pipeline

import (
	"github.com/pipectl/pipectl/connectors"

	"github.com/pipectl/pipectl/schema"
)

// source reads a source's keys: the ones every source takes here, its kind's options through
// the connector registry.
func (l *loader) source(node *Node, m map[string]entry, what string) {
	if e, ok := m["schema"]; ok {
		node.Schema = l.typ(e.val, what+": schema")
	}
	if e, ok := m["timestamp"]; ok {
		if !l.kafkaTimestamp(node, e.val, what) {
			node.Timestamp = l.fn(e.val, node.UID+".timestamp")
		}
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
		if node.Timestamp == nil && !node.ConnectorTime {
			l.errorf(posOf(e.key), CodeMissingKey, "%s: watermark needs timestamp: (a function returning the event time in epoch milliseconds)", what)
		}
	}
	if e, ok := m["idle_timeout"]; ok { // also accepted beside watermark: (a Kafka source's partitions)
		if node.IdleTimeout > 0 {
			l.errorf(posOf(e.key), CodeValue, "%s: idle_timeout is given twice: keep it under watermark: or beside it, not both", what)
		}
		node.IdleTimeout = l.duration(e.val, "idle_timeout", false)
	}
	l.errorPolicy(node, m, what)
	spec, _ := connectors.Lookup(connectors.RoleSource, node.Kind)
	l.options(node, spec, m, what)
	l.oneSubtask(node, spec, m, what)
	node.Format = node.Options.String("format", node.Format)
	node.Path = node.Options.String("path", "")
	node.Follow = node.Options.Bool("follow", false)
	node.Count = node.Options.Int("count", -1)
	node.Rate = node.Options.Number("rate", 0)
	node.Fn, _ = node.Options["fn"].(*Code)
	if !spec.Replayable {
		l.warnf(node.Pos, CodeReplay, "%s: %s is not replayable: a job restored from a savepoint cannot re-read it", what, node.Kind)
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
