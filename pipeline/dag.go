package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pipectl/pipectl/internal/suggest"
)

// stream is a readable stream: a node's output, or the late records of a window.
type stream struct {
	node *Node
	late bool
}

// Stream resolves an input uid to the node that produces it; late reports that it is the
// node's late_output stream (the late records of a window, of its input type).
func (p *Pipeline) Stream(uid string) (node *Node, late bool) {
	if n, ok := p.Nodes[uid]; ok && n.Role != RoleSink {
		return n, false
	}
	for _, n := range p.Operators {
		if n.LateOutput == uid {
			return n, true
		}
	}
	return nil, false
}

// graph checks the edges (inputs exist, no cycle, every stream read), orders the nodes and,
// when the graph is sound, infers the types along it.
func (l *loader) graph() {
	l.streams = map[string]stream{}
	all := l.nodes()
	for _, n := range all {
		if n.Role != RoleSink {
			l.streams[n.UID] = stream{node: n}
		}
	}
	for _, n := range all {
		if n.LateOutput == "" {
			continue
		}
		if _, dup := l.p.Nodes[n.LateOutput]; dup {
			l.errorf(n.Keys["late_output"], CodeUID, "late_output %q is already the uid of a node", n.LateOutput)
			continue
		}
		if prev, dup := l.streams[n.LateOutput]; dup {
			l.errorf(n.Keys["late_output"], CodeUID, "late_output %q is already the late output of %q", n.LateOutput, prev.node.UID)
			continue
		}
		l.streams[n.LateOutput] = stream{node: n, late: true}
	}
	readers, sound := l.edges(all)
	if cyclic := l.cycles(all); cyclic {
		sound = false
	}
	l.unread(all, readers)
	if !sound {
		return
	}
	l.p.Order = l.topoOrder(all)
	l.types()
}

// nodes is every registered node in declaration order.
func (l *loader) nodes() []*Node {
	all := slices.Collect(maps.Keys(l.aux))
	slices.SortFunc(all, func(a, b *Node) int { return l.aux[a].index - l.aux[b].index })
	return all
}

// edges checks every input and counts the readers of each stream. sound is false when an
// input is missing.
func (l *loader) edges(all []*Node) (readers map[string]int, sound bool) {
	readers, sound = map[string]int{}, true
	for _, n := range all {
		for i, in := range n.Inputs {
			pos := l.aux[n].inputPos[i]
			if _, ok := l.streams[in]; ok {
				readers[in]++
				continue
			}
			sound = false
			if s, ok := l.p.Nodes[in]; ok && s.Role == RoleSink {
				l.errorf(pos, CodeInput, "input %q is a sink: a sink has no output to read", in)
				continue
			}
			msg := fmt.Sprintf("input %q does not exist", in)
			if s := suggest.Closest(in, slices.Sorted(maps.Keys(l.streams)), 0); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			l.errorf(pos, CodeInput, "%s", msg)
		}
	}
	return readers, sound
}

// unread reports sources and operators whose output nobody reads.
func (l *loader) unread(all []*Node, readers map[string]int) {
	for _, n := range all {
		if l.aux[n].broken || n.Role == RoleSink {
			continue
		}
		late := n.LateOutput != "" && readers[n.LateOutput] > 0
		switch {
		case readers[n.UID] > 0 && n.LateOutput != "" && !late:
			l.warnf(n.Keys["late_output"], CodeUnread, "late_output %q is not read by any operator or sink: late records are dropped", n.LateOutput)
		case readers[n.UID] > 0 || late:
		case n.Role == RoleSource:
			l.errorf(n.Pos, CodeUnread, "source %q is not read by any operator or sink", n.UID)
		default:
			l.errorf(n.Pos, CodeUnread, "the output of operator %q is not read by any operator or sink", n.UID)
		}
	}
}

// upstream is the nodes that n reads, in Inputs order (missing inputs left out).
func (l *loader) upstream(n *Node) []*Node {
	var ups []*Node
	for _, in := range n.Inputs {
		if s, ok := l.streams[in]; ok {
			ups = append(ups, s.node)
		}
	}
	return ups
}

// cycles reports each cycle of the graph once, as `cycle: a -> b -> a` in the direction of
// the data, starting from its first declared node. It reports whether there was one.
func (l *loader) cycles(all []*Node) bool {
	found := false
	for _, scc := range l.components(all) {
		start := scc[0]
		if len(scc) == 1 && !slices.Contains(l.upstream(start), start) {
			continue
		}
		found = true
		in := map[*Node]bool{}
		for _, n := range scc {
			in[n] = true
		}
		path := l.cyclePath(start, in)
		names := make([]string, len(path))
		for i, n := range path {
			names[i] = n.UID
		}
		pos := start.Pos
		if i := slices.Index(start.Inputs, path[len(path)-2].UID); i >= 0 {
			pos = l.aux[start].inputPos[i]
		}
		l.errorf(pos, CodeCycle, "cycle: %s", strings.Join(names, " -> "))
	}
	return found
}

// cyclePath finds a path start -> ... -> start along the data within one component.
func (l *loader) cyclePath(start *Node, in map[*Node]bool) []*Node {
	down := map[*Node][]*Node{}
	for n := range in {
		for _, u := range l.upstream(n) {
			if in[u] {
				down[u] = append(down[u], n)
			}
		}
	}
	for _, ns := range down {
		slices.SortFunc(ns, func(a, b *Node) int { return l.aux[a].index - l.aux[b].index })
	}
	seen := map[*Node]bool{}
	var walk func(n *Node, path []*Node) []*Node
	walk = func(n *Node, path []*Node) []*Node {
		path = append(path, n)
		for _, d := range down[n] {
			if d == start {
				return append(path, d)
			}
			if !seen[d] {
				seen[d] = true
				if p := walk(d, path); p != nil {
					return p
				}
			}
		}
		return nil
	}
	return walk(start, nil)
}

// components returns the strongly connected components of the graph (Tarjan), each sorted
// by declaration order.
func (l *loader) components(all []*Node) [][]*Node {
	index, low := map[*Node]int{}, map[*Node]int{}
	onStack := map[*Node]bool{}
	var stack []*Node
	var comps [][]*Node
	var visit func(n *Node)
	visit = func(n *Node) {
		index[n], low[n] = len(index), len(index)
		stack = append(stack, n)
		onStack[n] = true
		for _, u := range l.upstream(n) {
			if _, seen := index[u]; !seen {
				visit(u)
				low[n] = min(low[n], low[u])
			} else if onStack[u] {
				low[n] = min(low[n], index[u])
			}
		}
		if low[n] != index[n] {
			return
		}
		var comp []*Node
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[top] = false
			comp = append(comp, top)
			if top == n {
				break
			}
		}
		slices.SortFunc(comp, func(a, b *Node) int { return l.aux[a].index - l.aux[b].index })
		comps = append(comps, comp)
	}
	for _, n := range all {
		if _, seen := index[n]; !seen {
			visit(n)
		}
	}
	slices.SortFunc(comps, func(a, b []*Node) int { return l.aux[a[0]].index - l.aux[b[0]].index })
	return comps
}

// topoOrder orders an acyclic graph so that every node comes after its inputs, earliest
// declared first among the ready ones.
func (l *loader) topoOrder(all []*Node) []*Node {
	done := map[*Node]bool{}
	order := make([]*Node, 0, len(all))
	for len(order) < len(all) {
		for _, n := range all {
			if done[n] || !allDone(l.upstream(n), done) {
				continue
			}
			done[n] = true
			order = append(order, n)
			break
		}
	}
	return order
}

func allDone(ns []*Node, done map[*Node]bool) bool {
	for _, n := range ns {
		if !done[n] {
			return false
		}
	}
	return true
}
