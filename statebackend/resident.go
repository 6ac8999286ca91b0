package statebackend

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Badger reads its tables and value log through memory maps. The pages it touches count in
// the process's resident memory until the kernel needs them back, so a state larger than the
// budget would grow the process past it however small the caches are. A residentTrimmer
// keeps the resident memory within the job's budget by giving those pages back: when the
// resident set exceeds the limit, it drops the mapped pages of the database's files from the
// process (madvise MADV_DONTNEED). The files and the kernel's page cache are untouched: a
// later read maps the page again, from memory when the kernel still caches it.

// trimEvery is how often the trimmer compares the resident set with its limit.
const trimEvery = 100 * time.Millisecond

// residentTrimmer is the goroutine that keeps the resident set of the process below limit
// by trimming the mapped files of one database directory.
type residentTrimmer struct {
	dir   string
	limit int64
	stop  chan struct{}
	done  sync.WaitGroup
}

// startTrimmer starts trimming the mapped files under dir whenever the process's resident
// set exceeds 7/8 of limit bytes (the last eighth is room for what the process touches
// between two looks); it returns nil where memory maps cannot be trimmed.
func startTrimmer(dir string, limit int64) *residentTrimmer {
	if limit <= 0 || !canTrim {
		return nil
	}
	t := &residentTrimmer{dir: dir, limit: limit - limit/8, stop: make(chan struct{})}
	t.done.Add(1)
	go t.run()
	return t
}

func (t *residentTrimmer) run() {
	defer t.done.Done()
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			if rss, ok := residentBytes(); ok && rss > t.limit {
				trimMapped(t.dir)
			}
		}
	}
}

// close stops the trimmer (nil: nothing to stop) and waits for it.
func (t *residentTrimmer) close() {
	if t == nil {
		return
	}
	close(t.stop)
	t.done.Wait()
}

// residentBytes returns the process's resident set size (/proc/self/statm).
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// trimmable reports whether a mapped file is one whose pages may be dropped: a table or a
// value log file of the database in dir. Both are shared file mappings, so dropping their
// pages loses nothing (written pages stay in the page cache until written back).
func trimmable(dir, path string) bool {
	return strings.HasPrefix(path, dir+"/") && (strings.HasSuffix(path, ".sst") || strings.HasSuffix(path, ".vlog"))
}

// mappedRanges returns the address ranges of the process's mappings of the files in dir
// that trimmable accepts (/proc/self/maps).
func mappedRanges(dir string) [][2]uintptr {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 7f1c2a000000-7f1c2a400000 r--s 00000000 fd:01 1234   /path/000001.sst
		line := sc.Bytes()
		fields := bytes.Fields(line)
		if len(fields) < 6 || !trimmable(dir, string(fields[5])) {
			continue
		}
		lo, hi, ok := bytes.Cut(fields[0], []byte{'-'})
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 == nil && err2 == nil && end > start {
			out = append(out, [2]uintptr{uintptr(start), uintptr(end)})
		}
	}
	return out
}

// trimMapped drops the resident pages of the trimmable mappings under dir and returns how
// many ranges it advised.
func trimMapped(dir string) int {
	n := 0
	for _, r := range mappedRanges(dir) {
		if dropPages(r[0], r[1]-r[0]) == nil {
			n++
		}
	}
	return n
}
