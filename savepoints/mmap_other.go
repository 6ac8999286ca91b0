//go:build !linux

package savepoints

// mapPopulate is 0 where mmap cannot map every page at once: pages fault in as they are read.
const mapPopulate = 0
