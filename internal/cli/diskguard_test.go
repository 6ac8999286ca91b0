package cli

import "testing"

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"4096", 4096, true}, {"64MiB", 64 << 20, true}, {" 2 GiB ", 2 << 30, true},
		{"1KiB", 1024, true}, {"1TiB", 1 << 40, true},
		{"", 0, false}, {"-1", 0, false}, {"1.5GiB", 0, false}, {"1GB", 0, false}, {"20000000TiB", 0, false},
	} {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCheckFreeDisk(t *testing.T) {
	dir := t.TempDir()
	if err := checkFreeDisk(dir, 0); err != nil {
		t.Errorf("the check disabled: %v", err)
	}
	if err := checkFreeDisk(dir, 1); err != nil {
		t.Errorf("one byte free needed: %v", err)
	}
	if err := checkFreeDisk(dir, ^uint64(0)); err == nil {
		t.Error("no disk has 16 EiB free")
	}
}
