package compat

import (
	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/pipeline"
)

// topLevelKeyPos is the position of a top-level key of a pipeline file, or the zero Pos when
// the key is not written (its default applies) or the file does not parse.
func topLevelKeyPos(raw []byte, key string) pipeline.Pos {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 {
		return pipeline.Pos{}
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return pipeline.Pos{}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return pipeline.Pos{Line: m.Content[i].Line, Col: m.Content[i].Column}
		}
	}
	return pipeline.Pos{}
}

// keyPos is the position of key in node n, else n's own position.
func keyPos(n *pipeline.Node, keys ...string) pipeline.Pos {
	for _, k := range keys {
		if p, ok := n.Keys[k]; ok && p.Line > 0 {
			return p
		}
	}
	return n.Pos
}

// keyTypePos is the declaration that gives n its key type: `key_type:` for a JS key_by that
// declares it, else the key_by itself.
func keyTypePos(n *pipeline.Node) pipeline.Pos {
	if len(n.KeyBy) > 0 && n.KeyBy[0].Fn != nil {
		return keyPos(n, "key_type", "key_by")
	}
	if len(n.KeyBy) > 0 && n.KeyBy[0].Pos.Line > 0 {
		return n.KeyBy[0].Pos
	}
	return keyPos(n, "key_by")
}

// statePos is the declaration of state s, else its node's position.
func statePos(n *pipeline.Node, s *pipeline.StateDesc) pipeline.Pos {
	if s.Pos.Line > 0 {
		return s.Pos
	}
	return n.Pos
}
