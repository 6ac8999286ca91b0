package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/connectors"
)

// options decodes the options that a connector kind declares (connectors.Spec.Keys) into
// node.Options, each checked against its declared type at its own position, then runs the
// kind's own cross-key checks. An option whose ${VAR} is unset is left out, and so are the
// cross-key findings about it or about no key in particular: its value is not known.
func (l *loader) options(node *Node, spec connectors.Spec, m map[string]entry, what string) {
	node.Options = connectors.Options{}
	unknown := map[string]bool{}
	for _, k := range spec.Keys {
		e, ok := m[k.Name]
		switch {
		case !ok:
		case l.holdsUnresolved(e.val):
			unknown[k.Name] = true
		default:
			if v, ok := l.option(node, k, e.val, what+": "+k.Name); ok {
				node.Options[k.Name] = v
			}
		}
	}
	if spec.Check == nil {
		return
	}
	for _, f := range spec.Check(node.Options) {
		if unknown[f.Key] || (f.Key == "" && len(unknown) > 0) {
			continue
		}
		pos, ok := node.Keys[f.Key]
		if !ok {
			pos = node.Pos
		}
		l.errorf(pos, CodeValue, "%s: %s", what, f.Msg)
	}
}

// holdsUnresolved reports whether n or a value inside it holds an unset ${VAR}.
func (l *loader) holdsUnresolved(n *yaml.Node) bool {
	return l.unresolved[n] || slices.ContainsFunc(n.Content, l.holdsUnresolved)
}

// option decodes one option value of type k.Type; ok is false when it was reported bad.
func (l *loader) option(node *Node, k connectors.Key, n *yaml.Node, what string) (any, bool) {
	errs := len(l.diags)
	var v any
	switch k.Type {
	case connectors.TypeString:
		v = l.str(n, what)
	case connectors.TypeBool:
		v = l.boolean(n, what)
	case connectors.TypeInt:
		v = l.integer(n, what, 0, 1<<62)
	case connectors.TypeNumber:
		v = l.positive(n, what)
	case connectors.TypeDuration:
		v = l.duration(n, what, false)
	case connectors.TypeEnum:
		v = l.oneOf(n, what, k.Enum...)
	case connectors.TypePath:
		if p := l.str(n, what); p != "" {
			v = l.resolvePath(p)
		}
	case connectors.TypeStringList:
		v = l.stringList(n, what)
	case connectors.TypeObject:
		sub := l.fields(n, what, subKeyNames(k.Keys), nil)
		obj := connectors.Options{}
		for _, sk := range k.Keys {
			if e, ok := sub[sk.Name]; ok {
				if sv, ok := l.option(node, sk, e.val, what+"."+sk.Name); ok {
					obj[sk.Name] = sv
				}
			} else if sk.Required && sub != nil {
				l.errorf(posOf(n), CodeMissingKey, "%s: missing required key %q", what, sk.Name)
			}
		}
		v = obj
	case connectors.TypeFunction:
		v = l.fn(n, node.UID+"."+k.Name)
	case connectors.TypePathOrFunction:
		v = l.selector(node, &aux{}, n, node.UID+"."+k.Name)
	default:
		panic(fmt.Sprintf("pipeline: option %q has unknown type %d", k.Name, k.Type))
	}
	return v, len(l.diags) == errs
}

// stringList reads a sequence of non-empty strings, or one comma-separated string (what an
// environment variable such as KAFKA_BROKERS=a:9092,b:9092 gives).
func (l *loader) stringList(n *yaml.Node, what string) []string {
	var out []string
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if s := l.str(c, what); s != "" {
				out = append(out, s)
			}
		}
	} else if s := l.str(n, what); s != "" {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	if len(out) == 0 {
		l.errorf(posOf(n), CodeValue, "%s must list at least one value", what)
	}
	return out
}

// subKeyNames lists the names of an object option's sub-keys.
func subKeyNames(keys []connectors.Key) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}
