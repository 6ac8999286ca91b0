package compat

import (
	"cmp"
	"slices"

	"github.com/pipectl/pipectl/pipeline"
)

// fileOrder lists every node of p in the order it is written in the file (sources, operators
// and sinks may be written in any order of sections).
func fileOrder(p *pipeline.Pipeline) []*pipeline.Node {
	nodes := make([]*pipeline.Node, 0, len(p.Sources)+len(p.Operators)+len(p.Sinks))
	nodes = append(nodes, p.Sources...)
	nodes = append(nodes, p.Operators...)
	nodes = append(nodes, p.Sinks...)
	slices.SortStableFunc(nodes, func(a, b *pipeline.Node) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return nodes
}
