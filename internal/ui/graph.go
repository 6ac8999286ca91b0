package ui

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Node is one uid of a job's pipeline in the graph the page draws.
type Node struct {
	UID  string `json:"uid"`
	Kind string `json:"kind"`
	Role string `json:"role"` // source, operator or sink
	// Layer is the node's topological depth: 0 for sources, else one more than its deepest
	// input.
	Layer int `json:"layer"`
}

// Edge is a stream from one uid to a reader of it. Late marks a window's late_output.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Late bool   `json:"late,omitempty"`
}

// Graph is a pipeline's operator graph, nodes in file order.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// graphFile is the part of a pipeline file the graph needs. The job's pipeline copy is read
// this way rather than loaded in full: loading resolves ${ENV} references and compiles the
// JavaScript, which the dashboard's process may not be able to do, and the copy was
// validated when the job started.
type graphFile struct {
	Sources   []graphEntry `yaml:"sources"`
	Operators []graphEntry `yaml:"operators"`
	Sinks     []graphEntry `yaml:"sinks"`
}

type graphEntry struct {
	UID        string   `yaml:"uid"`
	Kind       string   `yaml:"kind"`
	Input      string   `yaml:"input"`
	Inputs     []string `yaml:"inputs"`
	LateOutput string   `yaml:"late_output"`
}

// parseGraph builds the operator graph of a pipeline file's content.
func parseGraph(data []byte) (*Graph, error) {
	var f graphFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("read the pipeline's graph: %w", err)
	}
	g := &Graph{Nodes: []Node{}, Edges: []Edge{}}
	producer := map[string]string{} // stream name → uid that emits it
	late := map[string]bool{}       // stream names that are late outputs
	var inputs [][]string
	for _, sec := range []struct {
		role    string
		entries []graphEntry
	}{{"source", f.Sources}, {"operator", f.Operators}, {"sink", f.Sinks}} {
		for _, e := range sec.entries {
			g.Nodes = append(g.Nodes, Node{UID: e.UID, Kind: e.Kind, Role: sec.role})
			producer[e.UID] = e.UID
			if e.LateOutput != "" {
				producer[e.LateOutput] = e.UID
				late[e.LateOutput] = true
			}
			in := e.Inputs
			if e.Input != "" {
				in = append([]string{e.Input}, in...)
			}
			inputs = append(inputs, in)
		}
	}
	for i, n := range g.Nodes {
		for _, s := range inputs[i] {
			from, ok := producer[s]
			if !ok {
				return nil, fmt.Errorf("read the pipeline's graph: %q reads %q, which nothing produces", n.UID, s)
			}
			g.Edges = append(g.Edges, Edge{From: from, To: n.UID, Late: late[s]})
		}
	}
	return g, g.layer()
}

// layer sets each node's topological depth. A cycle (which validation rules out) is an
// error rather than a loop.
func (g *Graph) layer() error {
	index := map[string]int{}
	for i, n := range g.Nodes {
		index[n.UID] = i
	}
	const unknown, visiting = -1, -2
	depth := make([]int, len(g.Nodes))
	for i := range depth {
		depth[i] = unknown
	}
	var visit func(i int) error
	visit = func(i int) error {
		switch depth[i] {
		case visiting:
			return fmt.Errorf("read the pipeline's graph: %q is part of a cycle", g.Nodes[i].UID)
		case unknown:
		default:
			return nil
		}
		depth[i] = visiting
		d := 0
		for _, e := range g.Edges {
			if e.To != g.Nodes[i].UID {
				continue
			}
			j := index[e.From]
			if err := visit(j); err != nil {
				return err
			}
			d = max(d, depth[j]+1)
		}
		depth[i] = d
		return nil
	}
	for i := range g.Nodes {
		if err := visit(i); err != nil {
			return err
		}
		g.Nodes[i].Layer = depth[i]
	}
	return nil
}
