package statebackend

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestStoredRoundTrip(t *testing.T) {
	cases := []struct {
		name      string
		ttl       time.Duration
		writtenMs int64
		value     string
		stored    string
	}{
		{"no ttl is the value itself", 0, 1234, "abc", "abc"},
		{"no ttl empty", 0, 0, "", ""},
		{"ttl small time", time.Second, 5, "abc", "\x05abc"},
		{"ttl two-byte varint", time.Hour, 300, "v", "\xac\x02v"},
		{"ttl empty value", time.Hour, 1, "", "\x01"},
		{"ttl real time", 24 * time.Hour, 1_700_000_000_000, "x", "\x80\xd0\x95\xff\xbc\x31x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := EncodeStored([]byte("pre"), c.ttl, c.writtenMs, []byte(c.value))
			if want := "pre" + c.stored; string(got) != want {
				t.Fatalf("EncodeStored = %q; want %q", got, want)
			}
			w, v, err := DecodeStored(c.ttl, got[3:])
			wantW := c.writtenMs
			if c.ttl == 0 {
				wantW = 0
			}
			if err != nil || w != wantW || !bytes.Equal(v, []byte(c.value)) {
				t.Errorf("DecodeStored = %d, %q, %v; want %d, %q, nil", w, v, err, wantW, c.value)
			}
		})
	}
}

func TestDecodeStoredCorrupt(t *testing.T) {
	for _, stored := range []string{"", "\x80", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"} {
		if _, _, err := DecodeStored(time.Minute, []byte(stored)); !errors.Is(err, ErrCorruptStored) {
			t.Errorf("DecodeStored(%q) = %v; want %v", stored, err, ErrCorruptStored)
		}
	}
}
