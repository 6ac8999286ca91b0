package statebackend

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// mappedRSS returns the resident kilobytes of the process's mappings of path (/proc/self/smaps).
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[5] == path
		case in && fields[0] == "Rss:":
			n, _ := strconv.Atoi(fields[1])
			kb += n
		}
	}
	return kb
}

// mapFile maps size bytes of a new file at path shared (as badger maps its files), writing
// every page so it is resident.
func mapFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(m) })
	for i := 0; i < size; i += os.Getpagesize() {
		m[i] = byte(i / os.Getpagesize())
	}
	return m
}

// Trimming drops the resident pages of the database's tables and value log, and only theirs,
// and loses no byte of them.
func TestTrimMappedFiles(t *testing.T) {
	if !canTrim {
		t.Skip("memory maps are not trimmed on this system")
	}
	dir := t.TempDir()
	const size = 4 << 20
	table := mapFile(t, filepath.Join(dir, "000001.sst"), size)
	vlog := mapFile(t, filepath.Join(dir, "000001.vlog"), size)
	other := filepath.Join(dir, "00001.mem")
	mapFile(t, other, size)
	for _, p := range []string{"000001.sst", "000001.vlog", "00001.mem"} {
		if kb := mappedRSS(t, filepath.Join(dir, p)); kb < size/1024/2 {
			t.Fatalf("%s: %d KiB resident before the trim, want about %d", p, kb, size/1024)
		}
	}

	if n := trimMapped(dir); n != 2 {
		t.Errorf("trimMapped advised %d ranges, want 2 (the table and the value log)", n)
	}
	for _, p := range []string{"000001.sst", "000001.vlog"} {
		if kb := mappedRSS(t, filepath.Join(dir, p)); kb > 64 {
			t.Errorf("%s: %d KiB still resident after the trim", p, kb)
		}
	}
	if kb := mappedRSS(t, other); kb < size/1024/2 {
		t.Errorf("00001.mem: %d KiB resident after the trim: it was not to be touched", kb)
	}
	for i := 0; i < size; i += os.Getpagesize() {
		want := byte(i / os.Getpagesize())
		if table[i] != want || vlog[i] != want {
			t.Fatalf("byte %d changed by the trim: table %d, value log %d, want %d", i, table[i], vlog[i], want)
		}
	}
}

// The trimmer trims once the process's resident set exceeds its limit, and not before.
func TestTrimmerWatchesTheLimit(t *testing.T) {
	if !canTrim {
		t.Skip("memory maps are not trimmed on this system")
	}
	rss, ok := residentBytes()
	if !ok || rss <= 0 {
		t.Fatalf("residentBytes = %d, %v", rss, ok)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "000002.sst")
	mapFile(t, path, 4<<20)

	high := startTrimmer(dir, rss*100) // far above: never trims
	high.close()
	if kb := mappedRSS(t, path); kb < 1024 {
		t.Fatalf("trimmed although the resident set (%d bytes) was below the limit", rss)
	}
	low := startTrimmer(dir, 1) // always above
	defer low.close()
	testkit.Eventually(t, 20*time.Second, "the trimmer trims a mapping while the resident set is above its limit",
		func() bool { return mappedRSS(t, path) <= 64 })
}
