package runtime

import (
	"fmt"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// group is a head node and the nodes chained behind it; it runs as `parallelism`
// subtasks.
type group struct {
	head        *pipeline.Node
	nodes       []*pipeline.Node // head first, then chained nodes in topological order
	parallelism int
	inboxes     []*inbox // one per subtask; nil for a source group
}

// chained reports whether n runs in its input's goroutine: one input (never a union or a
// join), stateless (not keyed, not a window_all, which has timers of its own), not a sink
// routed by key, same parallelism.
func chained(p *pipeline.Pipeline, n *pipeline.Node) bool {
	if n.Role == pipeline.RoleSource || len(n.Inputs) != 1 || n.Stateful() || routeFields(n) != nil {
		return false
	}
	return streamNode(p, n.Inputs[0]).Parallelism == n.Parallelism
}

// streamNode is the node that produces a stream: the node of that uid, or the window whose
// late_output it is.
func streamNode(p *pipeline.Pipeline, uid string) *pipeline.Node {
	n, _ := p.Stream(uid)
	return n
}

// plan builds groups, subtasks and instances, and wires outputs.
func (j *Job) plan() error {
	p := j.p
	groupOf := map[string]*group{}
	consumers := map[string][]*pipeline.Node{}
	for _, n := range p.Order {
		for _, in := range n.Inputs {
			consumers[in] = append(consumers[in], n)
		}
		if chained(p, n) {
			g := groupOf[n.Inputs[0]]
			g.nodes = append(g.nodes, n)
			groupOf[n.UID] = g
			continue
		}
		g := &group{head: n, nodes: []*pipeline.Node{n}, parallelism: n.Parallelism}
		if n.Role != pipeline.RoleSource {
			senders := 0
			for _, in := range n.Inputs {
				senders += streamNode(p, in).Parallelism
			}
			for i := 0; i < g.parallelism; i++ {
				g.inboxes = append(g.inboxes, &inbox{ch: make(chan message, inboxCapacity), senders: senders})
			}
		}
		groupOf[n.UID] = g
		if n.LateOutput != "" {
			groupOf[n.LateOutput] = g // late records leave from the window's goroutine
		}
		j.groups = append(j.groups, g)
	}

	instances := map[instanceKey]*instance{}
	for _, g := range j.groups {
		for i := 0; i < g.parallelism; i++ {
			rt, err := j.prog.NewRuntime(j.consoleLog(g.head.UID, i))
			if err != nil {
				return err
			}
			st := &subtask{job: j, group: g, index: i}
			if g.inboxes != nil {
				st.inbox = g.inboxes[i]
				st.wake = newWakeup(j.clock())
			}
			for _, n := range g.nodes {
				in, err := j.newInstance(n, i, rt, st.wake)
				if err != nil {
					return err
				}
				in.blocked = &st.blocked
				instances[instanceKey{n.UID, i}] = in
				j.instances = append(j.instances, in)
				st.instances = append(st.instances, in)
				j.coord.total++
			}
			st.head = st.instances[0]
			if g.head.Role == pipeline.RoleSource {
				s := &sourceTask{job: j, inst: st.head, src: st.head.source, ctl: make(chan *barrier, 64), deadline: j.flushDeadline(g)}
				if ts := g.head.Timestamp; ts != nil {
					s.time = newSourceTime(st.head, rt.Func(ts.Index, g.head.FunctionTimeout))
				} else if g.head.ConnectorTime {
					s.time = newSourceTime(st.head, nil)
				}
				j.sources = append(j.sources, s)
			} else {
				j.subtasks = append(j.subtasks, st)
			}
		}
	}

	// Wire every instance to its consumers.
	for _, g := range j.groups {
		for _, n := range g.nodes {
			for i := 0; i < g.parallelism; i++ {
				in := instances[instanceKey{n.UID, i}]
				outs, err := j.outputs(in, n.UID, consumers[n.UID], groupOf, instances)
				if err != nil {
					return err
				}
				in.outs = outs
				if n.LateOutput == "" {
					continue
				}
				late, err := j.outputs(in, n.LateOutput, consumers[n.LateOutput], groupOf, instances)
				if err != nil {
					return err
				}
				side := &sideOutput{outs: late}
				in.outs = append(in.outs, side)
				if lo, ok := in.op.(lateOutputter); ok {
					lo.setLate(side)
				}
			}
		}
	}
	return nil
}

// outputs connects an instance's stream (its own uid, or its late_output) to the readers
// of that stream: chained instances of its group, or exchanges.
func (j *Job) outputs(in *instance, stream string, readers []*pipeline.Node, groupOf map[string]*group, instances map[instanceKey]*instance) ([]output, error) {
	var outs []output
	g := groupOf[in.node.UID]
	for _, c := range readers {
		cg := groupOf[c.UID]
		if cg == g {
			outs = append(outs, instances[instanceKey{c.UID, in.subtask}])
			continue
		}
		x, err := j.newExchange(in, stream, c, cg)
		if err != nil {
			return nil, err
		}
		outs = append(outs, x)
	}
	return outs, nil
}

// newExchange connects a producing instance's stream to the subtasks of consumer c (a group
// head).
func (j *Job) newExchange(from *instance, stream string, c *pipeline.Node, cg *group) (*exchange, error) {
	input, offset := -1, 0
	for k, uid := range c.Inputs {
		if uid == stream {
			input = k
			break
		}
		offset += streamNode(j.p, uid).Parallelism
	}
	if input < 0 {
		return nil, fmt.Errorf("internal: %q is not an input of %q", stream, c.UID)
	}
	x := &exchange{
		job: j, consumer: c, types: inputTypes(c, input), targets: cg.inboxes, from: offset + from.subtask, input: input,
		fixed: from.subtask % cg.parallelism, maxPar: j.maxPar,
		buffers: make([][]element, cg.parallelism), blocked: from.blocked,
	}
	if c.Keyed() {
		kb := c.KeyBy[0]
		if input < len(c.KeyBy) {
			kb = c.KeyBy[input]
		}
		var fn *script.Func
		if kb.Fn != nil {
			fn = from.rt.Func(kb.Fn.Index, c.FunctionTimeout)
		}
		x.keys = newKeySelector(c.UID, kb, from.rt, fn)
	} else if fields := routeFields(c); fields != nil {
		x.keys = sinkRoute(c, fields)
	}
	return x, nil
}

// newInstance builds the instance of node n for subtask i; wake wakes the subtask for
// processing-time timers (nil in a source's goroutine).
func (j *Job) newInstance(n *pipeline.Node, i int, rt *script.Runtime, wake *wakeup) (*instance, error) {
	in := &instance{job: j, node: n, subtask: i, rt: rt, wake: wake}
	fn := func(c *pipeline.Code) *script.Func {
		if c == nil {
			return nil
		}
		return rt.Func(c.Index, n.FunctionTimeout)
	}
	if n.Stateful() {
		for _, d := range n.States {
			s, err := j.openState(n, i, d)
			if err != nil {
				return nil, err
			}
			in.states = append(in.states, s)
		}
	}
	var err error
	switch n.Role {
	case pipeline.RoleSource:
		err = j.openSource(in, fn(n.Fn))
		in.op = passOp{}
	case pipeline.RoleSink:
		err = j.openSink(in)
	default:
		in.op, err = j.newOperator(in, fn)
	}
	if err != nil {
		return nil, named(n.Role, n.UID, err)
	}
	return in, nil
}

// newOperator returns the operator of an operator node's kind.
func (j *Job) newOperator(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
	newOp, ok := newOperators[in.node.OpKind()]
	if !ok {
		return nil, fmt.Errorf("operator kind %q is not supported yet", in.node.Kind)
	}
	return newOp(in, fn)
}

// newOperators makes the operator of each kind (pipeline.Operators declares them; a test
// checks that every kind has one).
var newOperators = map[pipeline.OpKind]func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error){
	pipeline.OpMap: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		return &mapOp{fn: fn(in.node.Fn), out: in.node.OutType}, nil
	},
	pipeline.OpFilter: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		return &filterOp{fn: fn(in.node.Fn)}, nil
	},
	pipeline.OpFlatMap: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		return &flatMapOp{fn: fn(in.node.Fn), list: schema.ListOf(in.node.OutType)}, nil
	},
	pipeline.OpUnion: func(*instance, func(*pipeline.Code) *script.Func) (operator, error) { return passOp{}, nil },
	pipeline.OpFlatMapWithState: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		st := in.states[0]
		return &flatMapWithStateOp{fn: fn(in.node.Fn), list: schema.ListOf(in.node.OutType), state: st, stateOpt: schema.OptionalOf(st.desc.Type)}, nil
	},
	pipeline.OpProcess: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		return newProcessOp(in, fn(in.node.Fn))
	},
	pipeline.OpReduce: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		return &reduceOp{fn: fn(in.node.Fn), typ: in.node.OutType, state: in.states[0]}, nil
	},
	pipeline.OpAggregate: func(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
		n := in.node
		return &aggregateOp{init: fn(n.Init), fn: fn(n.Fn), result: fn(n.Result),
			acc: in.states[0].desc.Type, out: n.OutType, state: in.states[0]}, nil
	},
	pipeline.OpSum:        newBuiltinAgg,
	pipeline.OpMin:        newBuiltinAgg,
	pipeline.OpMax:        newBuiltinAgg,
	pipeline.OpMinBy:      newBuiltinAgg,
	pipeline.OpMaxBy:      newBuiltinAgg,
	pipeline.OpWindow:     newWindow,
	pipeline.OpWindowAll:  newWindow,
	pipeline.OpWindowJoin: newJoin,
	pipeline.OpCoGroup:    newJoin,
}

// newBuiltinAgg makes the operator of sum, min, max, min_by and max_by.
func newBuiltinAgg(in *instance, _ func(*pipeline.Code) *script.Func) (operator, error) {
	return &builtinAggOp{kind: aggKinds[in.node.OpKind()], field: pathSteps(in.node.Field), state: in.states[0]}, nil
}

// newWindow makes the operator of window and window_all.
func newWindow(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
	return newWindowOp(in, newWindowContents(in, fn))
}

// newJoin makes the operator of window_join and co_group.
func newJoin(in *instance, fn func(*pipeline.Code) *script.Func) (operator, error) {
	return newWindowOp(in, newJoinBody(in, fn(in.node.Fn)))
}

// openSource opens the connector of a source instance and restores its position.
func (j *Job) openSource(in *instance, gen *script.Func) error {
	n := in.node
	if j.cfg.Connectors != nil {
		src, err := j.cfg.Connectors.Source(n, in.subtask)
		in.source = src
		return err
	}
	cfg := connectors.SourceConfig{
		UID: n.UID, Kind: n.Kind, Schema: n.Schema, Options: n.Options, Path: n.Path, Format: n.Format,
		Follow: n.Follow, Count: n.Count, Rate: n.Rate, Subtask: in.subtask, Parallelism: n.Parallelism,
	}
	if gen != nil {
		rt := in.rt
		cfg.Gen = func(i int64) (any, error) {
			res, err := gen.Call(rt.VM().ToValue(i))
			if err != nil {
				return nil, err
			}
			return rt.FromJSAs(res, n.Schema)
		}
	}
	src, err := connectors.NewSource(cfg)
	if err != nil {
		return err
	}
	in.source = src
	if off := restoreOffsetsFor(n, in.subtask, j.restoreOffsets[n.UID]); off != nil {
		if err := src.Restore(off); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// openSink opens the connector of a sink instance and cuts it back to the restored state.
func (j *Job) openSink(in *instance) error {
	n := in.node
	sink, err := j.newSink(in)
	if err != nil {
		return err
	}
	in.sink = sink
	in.op = &sinkOp{sink: sink}
	return sink.Restore(j.restoreOffsets[n.UID])
}

// newSink makes the connector of a sink instance: its kind's, or the job's Connectors'.
func (j *Job) newSink(in *instance) (connectors.Sink, error) {
	n := in.node
	if j.cfg.Connectors != nil {
		return j.cfg.Connectors.Sink(n, in.subtask)
	}
	cfg := connectors.SinkConfig{
		UID: n.UID, Kind: n.Kind, Type: n.InTypes[0], Options: n.Options, Path: n.Path, Format: n.Format, Stdout: j.stdout,
		Pipeline: j.p.Name, Subtask: in.subtask, Parallelism: n.Parallelism,
		Logf: func(format string, args ...any) {
			j.log.Warn(fmt.Sprintf(format, args...), "sink", n.UID, "subtask", in.subtask)
		},
	}
	if kb, ok := n.Options["key"].(pipeline.KeyBy); ok {
		var fn *script.Func
		if kb.Fn != nil {
			fn = in.rt.Func(kb.Fn.Index, n.FunctionTimeout)
		}
		if kb.Fn != nil {
			kb.Type = anyKey // a sink's key function may return any value: the sink renders it
		}
		ks := newKeySelector(n.UID, kb, in.rt, fn)
		ks.what = "its function" // the sink says `sink "out": key: its function returned null`
		cfg.Key = ks.keyOf
	}
	return connectors.NewSink(cfg)
}

// anyKey is the key type of a sink's key function.
var anyKey = schema.MustParse("any")

// pathSteps turns a field path into steps.
func pathSteps(path []string) []pathStep {
	return newKeySelector("", pipeline.KeyBy{Path: path}, nil, nil).steps
}

// consoleLog returns the console.log sink of one subtask's runtime.
func (j *Job) consoleLog(uid string, subtask int) func(string) {
	return func(msg string) { j.log.Info(msg, "console", uid, "subtask", subtask) }
}
