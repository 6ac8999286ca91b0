package runtime

// The key hash is part of the savepoint format: a key's key group must be the same in every
// version of pipectl and on every platform, or restored state would land on the wrong
// subtask. It is FNV-1a (32 bit) over the key's binary encoding (schema.AppendBinary), which is
// itself deterministic. Never change it; TestKeyGroupFrozen pins known values.

const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// keyHash returns the frozen hash of a key's binary encoding.
func keyHash(keyBytes []byte) uint32 {
	h := uint32(fnvOffset32)
	for _, b := range keyBytes {
		h ^= uint32(b)
		h *= fnvPrime32
	}
	return h
}

// keyGroupOf returns the key group of a key: hash(key) mod maxParallelism.
func keyGroupOf(keyBytes []byte, maxParallelism int) uint16 {
	return uint16(keyHash(keyBytes) % uint32(maxParallelism))
}

// subtaskOf returns the subtask that owns key group kg: kg * parallelism / maxParallelism.
func subtaskOf(kg uint16, parallelism, maxParallelism int) int {
	return int(kg) * parallelism / maxParallelism
}

// keyGroupRange returns the key groups [from, to) owned by subtask i: the inverse of
// subtaskOf, so each subtask owns one contiguous range and ranges ascend with i.
func keyGroupRange(i, parallelism, maxParallelism int) (from, to uint16) {
	// The smallest kg with kg*p/maxP >= i is ceil(i*maxP/p).
	lo := (i*maxParallelism + parallelism - 1) / parallelism
	hi := ((i+1)*maxParallelism + parallelism - 1) / parallelism
	return uint16(lo), uint16(hi)
}
