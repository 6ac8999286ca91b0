package connectors

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
)

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("bad record"), false},
		{Retryable(errors.New("disk full")), true},
		{fmt.Errorf("sink %q: %w", "out", Retryable(os.ErrClosed)), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{fmt.Errorf("broker: %w", &net.DNSError{Err: "timeout", IsTimeout: true}), true},
	}
	for _, tc := range tests {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if Retryable(nil) != nil {
		t.Error("Retryable(nil) is not nil")
	}
}

// TestFileSinkErrorsAreRetryable: a write to a closed file is an I/O error a restart may cure.
func TestFileSinkErrorsAreRetryable(t *testing.T) {
	s, err := NewSink(SinkConfig{UID: "out", Kind: "file", Type: mustType(t, "int"), Path: t.TempDir() + "/out.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	s.(*fileSink).f.Close()
	if err := s.Write(int64(1)); err != nil { // buffered
		t.Fatal(err)
	}
	if err := s.Flush(); err == nil || !IsRetryable(err) {
		t.Errorf("flush to a closed file: %v, want a retryable error", err)
	}
}

// TestSinkFault: the injected fault fails one write per instance, in as many instances as
// it says, after the records it says.
func TestSinkFault(t *testing.T) {
	t.Setenv(EnvFaultSinkWrite, "out:2:1")
	dir := t.TempDir()
	var failures []int
	for inst := 0; inst < 3; inst++ {
		s, err := NewSink(SinkConfig{UID: "out", Kind: "file", Type: mustType(t, "int"), Path: dir + "/out.jsonl"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if err := s.Write(int64(i)); err != nil {
				if !IsRetryable(err) {
					t.Errorf("injected fault %v is not retryable", err)
				}
				failures = append(failures, inst*10+i)
			}
		}
		s.Close()
	}
	if fmt.Sprint(failures) != "[1 11]" {
		t.Errorf("failed writes (instance*10+write) %v, want [1 11]", failures)
	}
	t.Setenv(EnvFaultSinkWrite, "out:2")
	if _, err := NewSink(SinkConfig{UID: "out", Kind: "file", Type: mustType(t, "int"), Path: dir + "/out.jsonl"}); err == nil {
		t.Error("a malformed fault setting is accepted")
	}
}
