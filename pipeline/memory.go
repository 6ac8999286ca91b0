package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Memory budget bounds and default (the top-level `memory:` key and `run --memory`).
const (
	DefaultMemory int64 = 512 << 20
	MinMemory     int64 = 64 << 20
	maxMemory     int64 = 1 << 50 // 1 PiB: keeps every size arithmetic far from overflow
)

// sizeUnits are the units a memory size may be written in, by suffix.
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}}

// ParseMemory reads a memory budget such as 256MiB, 1GiB or 1.5GiB (units KiB, MiB, GiB; at
// least 64MiB) and returns it in bytes.
func ParseMemory(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			break
		}
		n := int64(f * float64(u.bytes))
		switch {
		case f*float64(u.bytes) > float64(maxMemory):
			return 0, fmt.Errorf("%q is too large", s)
		case n < MinMemory:
			return 0, fmt.Errorf("%q is below the minimum of 64MiB", s)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%q is not a memory size (write e.g. 256MiB, 512MiB or 2GiB; units KiB, MiB, GiB)", s)
}

// memory reads the top-level `memory:` key.
func (l *loader) memory(n *yaml.Node) int64 {
	s, ok := l.scalar(n, "memory")
	if !ok {
		return 0
	}
	v, err := ParseMemory(s)
	if err != nil {
		l.errorf(posOf(n), CodeValue, "memory: %v", err)
		return 0
	}
	return v
}
