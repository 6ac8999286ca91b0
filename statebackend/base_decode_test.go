package statebackend

import (
	"bytes"
	"testing"
)

// TestDecodeFramedMalformed: a restore may serve an entry before its framing is checked, so
// DecodeFramed gives short or empty fields for malformed bytes rather than panicking.
func TestDecodeFramedMalformed(t *testing.T) {
	tests := []struct {
		name       string
		p          []byte
		kg         uint16
		key, value []byte
	}{
		{"well formed", []byte{3, 1, 'k', 2, 'v', 'w'}, 3, []byte("k"), []byte("vw")},
		{"empty", nil, 0, nil, nil},
		{"key longer than the bytes", []byte{3, 9, 'k'}, 3, []byte("k"), nil},
		{"value longer than the bytes", []byte{3, 1, 'k', 9, 'v'}, 3, []byte("k"), []byte("v")},
		{"bad varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0, nil, nil},
		{"cut after the key group", []byte{3}, 3, nil, nil},
	}
	for _, tt := range tests {
		kg, key, value := DecodeFramed(tt.p)
		if kg != tt.kg || !bytes.Equal(key, tt.key) || !bytes.Equal(value, tt.value) {
			t.Errorf("%s: DecodeFramed = %d %q %q, want %d %q %q", tt.name, kg, key, value, tt.kg, tt.key, tt.value)
		}
	}
}
