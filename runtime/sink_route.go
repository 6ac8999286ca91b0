package runtime

import (
	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
)

// routeFields returns the input fields by which a sink's connector routes records to its
// subtasks (a postgres sink's key), or nil. Routing matters only with several subtasks: one
// subtask receives every record anyway, so such a sink still chains onto its input.
func routeFields(n *pipeline.Node) []string {
	if n.Role != pipeline.RoleSink || n.Parallelism <= 1 {
		return nil
	}
	spec, ok := connectors.Lookup(connectors.RoleSink, n.Kind)
	if !ok || spec.RouteKey == nil {
		return nil
	}
	return spec.RouteKey(n.Options)
}

// sinkRoute returns the key selector of a routed sink: the value of its one key field, or the
// tuple of its key fields' values. Equal keys land in the same key group, hence the same
// subtask, exactly as for keyed operators.
func sinkRoute(n *pipeline.Node, fields []string) *keySelector {
	in := n.InTypes[0]
	parts := make([]*keySelector, len(fields))
	types := make([]*schema.Type, len(fields))
	for i, f := range fields {
		for _, fd := range in.Fields {
			if fd.Name == f {
				types[i] = fd.Type
			}
		}
		parts[i] = newKeySelector(n.UID, pipeline.KeyBy{Path: []string{f}, Type: types[i]}, nil, nil)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &keySelector{uid: n.UID, typ: schema.TupleOf(types...), parts: parts}
}
