package savepoints

import "syscall"

// mapPopulate asks mmap to map every page of the file at once (Linux: MAP_POPULATE).
const mapPopulate = syscall.MAP_POPULATE
