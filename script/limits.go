package script

import (
	"fmt"

	"github.com/dop251/goja"
)

// boundBuiltins wraps the builtins that build a string or walk an array in one step of goja,
// where neither the watchdog nor the memory check can stop them ("x".repeat(2**31-1) asks
// for 2 GiB at once; new Array(2**32-1).forEach(f) loops four billion times over holes):
// past MaxStringLen characters or MaxArrayLen elements they throw a RangeError instead.
var boundBuiltins = goja.MustCompile(boundsFile, `(function (maxString, maxArray) {
	const wrap = (proto, name, check) => {
		const orig = proto[name];
		Object.defineProperty(proto, name, {
			value: {[name](...args) { check(this, args); return orig.apply(this, args) }}[name],
			writable: true, enumerable: false, configurable: true,
		});
	};
	const str = (n) => {
		if (n > maxString) throw new RangeError("Invalid string length: " + n + " characters (the limit is " + maxString + ")");
	};
	const arr = (o) => {
		const n = Number(o.length);
		if (n > maxArray) throw new RangeError("Array too long: " + n + " elements (the limit is " + maxArray + ")");
	};
	wrap(String.prototype, "repeat", (s, [n]) => str(String(s).length * Math.trunc(Number(n))));
	wrap(String.prototype, "padStart", (s, [n]) => str(Number(n)));
	wrap(String.prototype, "padEnd", (s, [n]) => str(Number(n)));
	for (const name of ["join", "fill", "toLocaleString", "forEach", "map", "filter", "reduce",
		"reduceRight", "some", "every", "find", "findIndex", "findLast", "findLastIndex", "indexOf",
		"lastIndexOf", "includes", "reverse", "sort", "toSorted", "toReversed", "flat", "flatMap",
		"copyWithin", "slice", "splice", "toSpliced", "with", "concat"]) {
		if (Array.prototype[name]) wrap(Array.prototype, name, arr);
	}
	wrap(Array, "from", (_, [src]) => { if (src != null) arr(Object(src)) });
	// JSON.stringify walks an array's length in one step too: a replacer sees every value
	// before it is written and checks the arrays (around the user's own replacer function).
	const stringify = JSON.stringify;
	Object.defineProperty(JSON, "stringify", {
		value: {stringify(value, replacer, space) {
			const user = typeof replacer === "function" ? replacer : null;
			if (replacer != null && !user) return stringify(value, replacer, space);
			return stringify(value, function (k, v) {
				if (user) v = user.call(this, k, v);
				if (Array.isArray(v)) arr(v);
				return v;
			}, space);
		}}.stringify,
		writable: true, enumerable: false, configurable: true,
	});
})`, true)

// boundsFile is the file name of boundBuiltins in stack traces.
const boundsFile = "pipectl:bounds"

// setBounds installs boundBuiltins.
func (r *Runtime) setBounds() error {
	v, err := r.vm.RunProgram(boundBuiltins)
	if err != nil {
		return fmt.Errorf("bound builtins: %w", err)
	}
	fn, _ := goja.AssertFunction(v)
	if _, err := fn(goja.Undefined(), r.vm.ToValue(MaxStringLen), r.vm.ToValue(MaxArrayLen)); err != nil {
		return fmt.Errorf("bound builtins: %w", err)
	}
	return nil
}

// rangeError is a JS RangeError with msg, for a Go function called from JS to throw (panic).
func (r *Runtime) rangeError(msg string) goja.Value {
	if ctor, ok := goja.AssertConstructor(r.rangeErrorCtor); ok {
		if obj, err := ctor(nil, r.vm.ToValue(msg)); err == nil {
			return obj
		}
	}
	return r.vm.ToValue("RangeError: " + msg)
}
