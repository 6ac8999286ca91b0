package cli

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/runtime"
)

// A full disk under the state directory must fail the job cleanly, keeping its last
// checkpoint. Badger writes its memtables through memory-mapped files: when the file system
// cannot allocate a page, the process gets SIGBUS instead of a write error, and no recover
// or fault handler of ours runs in Badger's goroutines. So pipectl keeps a margin: a job
// does not start, and a running job fails, when the free space under its state directory
// falls below minFreeDisk (PIPECTL_MIN_FREE_DISK, e.g. 1GiB; 0 disables the check).

// envMinFreeDisk overrides defaultMinFreeDisk.
const envMinFreeDisk = "PIPECTL_MIN_FREE_DISK"

// defaultMinFreeDisk is two of Badger's 64 MiB memtables and a value log file.
const defaultMinFreeDisk = 192 << 20

// diskCheckInterval is how often a running job checks the free space.
const diskCheckInterval = time.Second

// minFreeDisk reads PIPECTL_MIN_FREE_DISK: bytes, or a number with KiB, MiB, GiB or TiB.
func minFreeDisk(gs *GlobalState) (uint64, error) {
	v, ok := gs.LookupEnv(envMinFreeDisk)
	if !ok || strings.TrimSpace(v) == "" {
		return defaultMinFreeDisk, nil
	}
	n, err := parseBytes(v)
	if err != nil {
		return 0, usagef("%s: %v", envMinFreeDisk, err)
	}
	return n, nil
}

// parseBytes reads "123", "64MiB", "1GiB" …
func parseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	mult := uint64(1)
	for i, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if strings.HasSuffix(s, unit) {
			mult = 1 << (10 * (i + 1))
			s = strings.TrimSpace(strings.TrimSuffix(s, unit))
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > ^uint64(0)/mult {
		return 0, fmt.Errorf("want a size such as 512MiB, not %q", s)
	}
	return n * mult, nil
}

// checkFreeDisk fails when the file system of dir has less than min bytes free.
func checkFreeDisk(dir string, min uint64) error {
	if min == 0 {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil // cannot tell: the writes themselves will say
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < min {
		return fmt.Errorf("the disk under the state directory %s is almost full: %d MiB free, less than the %d MiB a job keeps free (%s); its last checkpoint is kept", dir, free>>20, min>>20, envMinFreeDisk)
	}
	return nil
}

// guardDisk fails job when the free space under dir falls below min, checking every
// diskCheckInterval until the job is done.
func guardDisk(job *runtime.Job, dir string, min uint64) {
	if min == 0 {
		return
	}
	t := time.NewTicker(diskCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-job.Done():
			return
		case <-t.C:
			if err := checkFreeDisk(dir, min); err != nil {
				job.Fail(err)
				return
			}
		}
	}
}
