package pipeline

import (
	"maps"
	"slices"

	"github.com/pipectl/pipectl/connectors"
)

// kindSpec lists the keys one kind of source, operator or sink takes.
type kindSpec struct {
	keys     []string // allowed keys besides the role's common ones
	required []string
	js       bool // the kind runs JavaScript: it takes function_timeout, on_error, dead_letter
}

// Keys every item of a role takes.
var (
	sourceCommon   = []string{"uid", "kind", "schema", "timestamp", "watermark", "idle_timeout", "on_error", "dead_letter", "parallelism", "previous_uids"}
	operatorCommon = []string{"uid", "kind", "parallelism", "previous_uids"}
	operatorJS     = []string{"function_timeout", "on_error", "dead_letter"}
	sinkCommon     = []string{"uid", "kind", "input", "parallelism", "previous_uids", "buffer_timeout"}
)

// sourceKinds and sinkKinds come from the connectors' registrations: a connector declares
// its options once, in its own file.
var (
	sourceKinds = connectorKinds(connectors.RoleSource, "schema")
	sinkKinds   = connectorKinds(connectors.RoleSink, "input")
)

// connectorKinds is the kindSpec of every registered connector kind of a role; extra lists
// keys every kind of the role requires.
func connectorKinds(role connectors.Role, extra ...string) map[string]kindSpec {
	kinds := map[string]kindSpec{}
	for _, c := range connectors.Kinds(role) {
		ks := kindSpec{keys: c.KeyNames(), required: slices.Clone(extra)}
		for _, k := range c.Keys {
			if k.Required {
				ks.required = append(ks.required, k.Name)
			}
		}
		kinds[c.Kind] = ks
	}
	return kinds
}

// allowedKeys is every key an item of the given role and spec takes.
func allowedKeys(common []string, s kindSpec) []string {
	keys := append(slices.Clone(common), s.keys...)
	if s.js {
		keys = append(keys, operatorJS...)
	}
	return keys
}

// everyKey is every key that any kind of a role takes (to tell "not allowed for this kind"
// from "unknown").
func everyKey(common []string, kinds map[string]kindSpec) []string {
	var keys []string
	for _, s := range kinds {
		keys = append(keys, allowedKeys(common, s)...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// kindNames lists a role's kinds, sorted.
func kindNames(kinds map[string]kindSpec) []string { return slices.Sorted(maps.Keys(kinds)) }
