package script

import (
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// The hot path of the motion-alarm pipeline (issue 2's bar: 1,000,000 generated events over
// 10,000 rooms), each beside the path it replaces and an empty call, in the same run:
//
//	go test ./script -run '^$' -bench 'Generator|FlatMapWithState' -benchmem

var (
	eventType   = schema.MustParse("{type: string, room: int, time: int}")
	stateType   = schema.MustParse("(bool, int)")
	outputsType = schema.ListOf(eventType)
	newState    = schema.OptionalOf(stateType)
)

const (
	generatorFn = `i => ({type: i % 10 == 0 ? "activate" : "motion", room: i % 10000, time: i})`
	alarmFn     = `(e, s) => {
  switch (e.type) {
    case "activate":   return [[], [true, e.time]]
    case "deactivate": return [[], [false, e.time]]
    case "motion":
      if (s && s[0]) return [[{type: "ALARM", room: e.room, time: e.time}], s]
      return [[], s]
    default:
      return [[], s]
  }
}`
	rooms = 10000
)

// BenchmarkGenerator is the generator source: call, then the record out of JS.
func BenchmarkGenerator(b *testing.B) {
	r := benchRuntime(b, generatorFn)
	f := r.Func(0, 5*time.Second)
	run := func(b *testing.B, conv func(goja.Value) (any, error)) {
		var i int64
		report := cpuMeter(b)
		for b.Loop() {
			v, err := f.Call(r.vm.ToValue(i))
			if err == nil {
				_, err = conv(v)
			}
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
		report(int(i))
	}
	b.Run("FromJS+Convert", func(b *testing.B) { // the path FromJSAs replaces
		run(b, func(v goja.Value) (any, error) { return eventType.Convert(exported(r.FromJS(v))) })
	})
	b.Run("FromJSAs", func(b *testing.B) {
		run(b, func(v goja.Value) (any, error) { return r.FromJSAs(v, eventType) })
	})
	b.Run("empty call", func(b *testing.B) {
		r := benchRuntime(b, "i => {}")
		f := r.Func(0, 5*time.Second)
		var i int64
		report := cpuMeter(b)
		for b.Loop() {
			_, _ = f.Call(r.vm.ToValue(i))
			i++
		}
		report(int(i))
	})
}

// The event streams: the generator's, where room i % 10000 gets event i (so a room is
// activated or only moved in, never both, and no alarm is raised), and one where each room
// gets an activation then nine motions, nine alarms.
var streams = []struct {
	name string
	room func(i int) int
}{
	{"generated", func(i int) int { return i % rooms }},
	{"alarming", func(i int) int { return i / 10 % rooms }},
}

// alarmBench runs the alarm evaluator over a stream of events with per-room state, as the
// flat_map_with_state operator does; step is one call: its arguments in, outputs and new state
// out.
func alarmBench(b *testing.B, code string, step func(f *Func, e map[string]any, s []any) ([]any, []any)) {
	for _, stream := range streams {
		b.Run(stream.name, func(b *testing.B) {
			f := benchRuntime(b, code).Func(0, 5*time.Second)
			events := make([]map[string]any, 10*rooms)
			for i := range events {
				typ := "motion"
				if i%10 == 0 {
					typ = "activate"
				}
				events[i] = map[string]any{"type": typ, "room": int64(stream.room(i)), "time": int64(i)}
			}
			states := make([][]any, rooms)
			i := 0
			report := cpuMeter(b)
			for b.Loop() {
				e := events[i%len(events)]
				room := stream.room(i % len(events))
				_, states[room] = step(f, e, states[room])
				i++
			}
			report(i)
		})
	}
}

// BenchmarkFlatMapWithState is the motion-alarm evaluator: event and state into JS,
// [outputs, newState] out, outputs and state converted to their types.
func BenchmarkFlatMapWithState(b *testing.B) {
	b.Run("plainToJS+FromJS+Convert", func(b *testing.B) { // the path before wrappers
		var r *Runtime
		alarmBench(b, alarmFn, func(f *Func, e map[string]any, s []any) ([]any, []any) {
			r = f.rt
			st := goja.Undefined()
			if s != nil {
				st = r.plainToJS(s)
			}
			v, err := f.Call(r.plainToJS(e), st)
			return convertPair(b, r, v, err)
		})
	})
	b.Run("ToJSTyped+FromJS+Convert", func(b *testing.B) {
		alarmBench(b, alarmFn, func(f *Func, e map[string]any, s []any) ([]any, []any) {
			r := f.rt
			v, err := f.Call(r.ToJSTyped(e, eventType), stateArg(r, s))
			return convertPair(b, r, v, err)
		})
	})
	b.Run("ToJSTyped+FromJSAs", func(b *testing.B) {
		alarmBench(b, alarmFn, func(f *Func, e map[string]any, s []any) ([]any, []any) {
			r := f.rt
			v, err := f.Call(r.ToJSTyped(e, eventType), stateArg(r, s))
			if err != nil {
				b.Fatal(err)
			}
			pair, ok := v.(*goja.Object)
			if !ok || pair.ClassName() != "Array" || pair.Get("length").ToInteger() != 2 {
				b.Fatalf("not a pair: %v", v)
			}
			outs, err := r.FromJSAs(pair.Get("0"), outputsType)
			if err != nil {
				b.Fatal(err)
			}
			ns, err := r.FromJSAs(pair.Get("1"), newState)
			if err != nil {
				b.Fatal(err)
			}
			s, _ = ns.([]any)
			return outs.([]any), s
		})
	})
	// The evaluator of simple functions (simple.go): no JS engine at all.
	b.Run("Simple", func(b *testing.B) {
		alarmBench(b, alarmFn, func(f *Func, e map[string]any, s []any) ([]any, []any) {
			var st any = Undefined
			if s != nil {
				st = s
			}
			res, ok := f.Simple().Eval(e, st)
			if !ok {
				b.Fatal("the evaluator gave up")
			}
			outs, next, ok := res.Pair()
			if !ok {
				b.Fatal("not a pair")
			}
			list, ok1 := outs.AsList(outputsType)
			ns, ok2 := next.As(newState)
			if !ok1 || !ok2 {
				b.Fatal("the evaluator gave up a conversion")
			}
			s, _ = ns.([]any)
			return list, s
		})
	})
	b.Run("empty call", func(b *testing.B) {
		alarmBench(b, "(e, s) => {}", func(f *Func, e map[string]any, s []any) ([]any, []any) {
			_, _ = f.Call(goja.Undefined(), goja.Undefined())
			return []any{1}, nil
		})
	})
}

// stateArg is the state argument: undefined when the room has none.
func stateArg(r *Runtime, s []any) goja.Value {
	if s == nil {
		return goja.Undefined()
	}
	return r.ToJSTyped(s, stateType)
}

// convertPair is the runtime's path before FromJSAs: export, then Convert each half.
func convertPair(b *testing.B, r *Runtime, v goja.Value, err error) ([]any, []any) {
	if err != nil {
		b.Fatal(err)
	}
	pair := exported(r.FromJS(v)).([]any)
	outs, err := outputsType.Convert(pair[0])
	if err != nil {
		b.Fatal(err)
	}
	ns, err := newState.Convert(pair[1])
	if err != nil {
		b.Fatal(err)
	}
	s, _ := ns.([]any)
	return outs.([]any), s
}
