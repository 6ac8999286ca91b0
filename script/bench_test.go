package script

import (
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// Run: go test ./script -run '^$' -bench . -benchmem

// benchRuntime loads one function for a benchmark.
func benchRuntime(b *testing.B, code string) *Runtime {
	b.Helper()
	r := newRuntime(b, nil, nil, fn(code))
	b.ReportAllocs()
	return r
}

var benchRecord = map[string]any{"room": "kitchen", "temp": 21.5, "time": int64(1700000000000)}

func BenchmarkEmptyCall(b *testing.B) {
	r := benchRuntime(b, "() => {}")
	b.Run("goja", func(b *testing.B) { // the floor: goja's own Callable
		for b.Loop() {
			_, _ = r.fns[0](goja.Undefined())
		}
	})
	b.Run("untimed", func(b *testing.B) {
		f := r.Func(0, 0)
		for b.Loop() {
			_, _ = f.Call()
		}
	})
	b.Run("timed", func(b *testing.B) {
		f := r.Func(0, 5*time.Second)
		for b.Loop() {
			_, _ = f.Call()
		}
	})
}

// BenchmarkRecordArgument compares the ways to hand a record to JS: ToJS (a lazy wrapper),
// plainToJS (a plain object, NewObject and Set per field: what ToJS did before) and goja's
// ToValue (a wrapper around the Go map, which aliases it, keeps bytes as a Go slice and has a
// random key order, so ToJS does not use it).
func BenchmarkRecordArgument(b *testing.B) {
	for _, code := range []string{"e => e.room", "e => e.room + e.temp + e.time", "e => JSON.stringify(e)"} {
		r := benchRuntime(b, code)
		f := r.Func(0, 5*time.Second)
		b.Run(code+"/ToJS", func(b *testing.B) {
			for b.Loop() {
				_, _ = f.Call(r.ToJS(benchRecord))
			}
		})
		b.Run(code+"/plainToJS", func(b *testing.B) {
			for b.Loop() {
				_, _ = f.Call(r.plainToJS(benchRecord))
			}
		})
		b.Run(code+"/ToValue", func(b *testing.B) {
			for b.Loop() {
				_, _ = f.Call(r.vm.ToValue(benchRecord))
			}
		})
	}
}

func BenchmarkResultFromJS(b *testing.B) {
	r := benchRuntime(b, "(e, n) => [[{room: e.room, alarm: n > 3}], n + 1]")
	f := r.Func(0, 5*time.Second)
	for b.Loop() {
		v, _ := f.Call(r.ToJS(benchRecord), r.ToJS(int64(4)))
		_ = exported(r.FromJS(v))
	}
}

// BenchmarkEmit compares two ways for a flat_map to produce records: a Go callback called from
// JS per record, and an array returned at the end.
func BenchmarkEmit(b *testing.B) {
	b.Run("callback", func(b *testing.B) {
		r := benchRuntime(b, "(e, emit) => { emit({room: e.room}); emit({room: e.room + '!'}) }")
		var out []any
		emit := r.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			out = append(out, exported(r.FromJS(call.Argument(0))))
			return goja.Undefined()
		})
		f := r.Func(0, 5*time.Second)
		for b.Loop() {
			out = out[:0]
			_, _ = f.Call(r.ToJS(benchRecord), emit)
		}
	})
	b.Run("array", func(b *testing.B) {
		r := benchRuntime(b, "e => [{room: e.room}, {room: e.room + '!'}]")
		f := r.Func(0, 5*time.Second)
		var out []any
		for b.Loop() {
			v, _ := f.Call(r.ToJS(benchRecord))
			out = append(out[:0], exported(r.FromJS(v)).([]any)...)
		}
	})
}

// BenchmarkProjection is the stateless map of the bench workloads, a field projection with a
// comparison, through goja (argument wrapped, result converted) and through the evaluator of
// simple functions.
func BenchmarkProjection(b *testing.B) {
	const code = `e => ({room: e.room, time: e.time, motion: e.type === "motion"})`
	in := schema.MustParse("{type: string, room: int, time: int}")
	out := schema.MustParse("{room: int, time: int, motion: bool}")
	e := map[string]any{"type": "motion", "room": int64(1017), "time": int64(1700000000000)}
	f := benchRuntime(b, code).Func(0, 5*time.Second)
	b.Run("goja", func(b *testing.B) {
		for b.Loop() {
			v, err := f.Call(f.rt.ToJSTyped(e, in))
			if err == nil {
				_, err = f.rt.FromJSAs(v, out)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Simple", func(b *testing.B) {
		for b.Loop() {
			res, ok := f.Simple().Eval(e, Undefined)
			if ok {
				_, ok = res.As(out)
			}
			if !ok {
				b.Fatal("the evaluator gave up")
			}
		}
	})
}
