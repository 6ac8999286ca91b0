package statebackend

import "syscall"

// canTrim: Linux drops the pages of a shared file mapping with madvise(MADV_DONTNEED).
const canTrim = true

// dropPages gives the resident pages of the mapping at [addr, addr+n) back to the kernel.
func dropPages(addr, n uintptr) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
