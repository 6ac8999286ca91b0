package statebackend

// valueSize estimates the heap memory of a decoded state value: the canonical Go values of
// the schema package (nil, bool, int64, float64, string, []byte, []any, map[string]any),
// counted as they sit behind an interface. Other types count as a small object.
func valueSize(v any) int {
	switch v := v.(type) {
	case nil, bool:
		return 0
	case int64, float64:
		return 8
	case string:
		return 16 + roundUp8(len(v))
	case []byte:
		return 24 + roundUp8(cap(v))
	case []any:
		n := 24 + 16*cap(v)
		for _, e := range v {
			n += valueSize(e)
		}
		return n
	case map[string]any:
		n := mapSize(len(v))
		for _, e := range v {
			n += valueSize(e) // keys of records are the schema's field names, shared
		}
		return n
	default:
		return 32
	}
}

// mapSize is the memory of a map[string]any with n entries: a header, and 32-byte slots in
// groups of 8 filled to at most 7/8 (one group for up to 8 entries).
func mapSize(n int) int {
	const header, group = 48, 8 + 8*32
	if n <= 8 {
		return header + group
	}
	return header + (n*8/7/8+1)*group
}

func roundUp8(n int) int { return (n + 7) &^ 7 }
