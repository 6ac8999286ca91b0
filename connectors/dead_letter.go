package connectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// DeadLetter appends dead-letter records as JSON lines to a file; safe for concurrent use.
// Each line is written to the file as it comes (dead letters are rare), so a crash loses none
// that Write has returned.
type DeadLetter struct {
	mu   sync.Mutex
	path string
	f    *os.File
	buf  []byte
}

// OpenDeadLetter opens (appends to) a dead-letter file, creating it and its directory.
func OpenDeadLetter(path string) (*DeadLetter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	return &DeadLetter{path: path, f: f}, nil
}

// Write appends one object; fields in the order given by docs/pipelines.md, Sources:
// {"uid", "error", "record", "file", "line"} (file and line omitted when empty/zero).
// A source passes the raw line as a string for record; an operator passes the input value,
// which is marshalled as JSON (bytes as base64).
func (d *DeadLetter) Write(uid string, errMsg string, record any, file string, line int64) error {
	return d.WriteAt(uid, errMsg, record, file, line, nil)
}

// WriteAt is Write for a record of a Kafka source (kafka not nil): the object adds "topic",
// "partition" and "offset".
func (d *DeadLetter) WriteAt(uid string, errMsg string, record any, file string, line int64, kafka *KafkaPosition) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := append(d.buf[:0], `{"uid":`...)
	b = appendJSONString(b, uid)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, errMsg)
	b = append(b, `,"record":`...)
	b, err := appendJSON(b, record)
	if err != nil {
		return fmt.Errorf("dead letter %s: record of %q: %w", d.path, uid, err)
	}
	if file != "" {
		b = append(b, `,"file":`...)
		b = appendJSONString(b, file)
	}
	if line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, line, 10)
	}
	if kafka != nil {
		b = append(b, `,"topic":`...)
		b = appendJSONString(b, kafka.Topic)
		b = append(b, `,"partition":`...)
		b = strconv.AppendInt(b, int64(kafka.Partition), 10)
		b = append(b, `,"offset":`...)
		b = strconv.AppendInt(b, kafka.Offset, 10)
	}
	b = append(b, "}\n"...)
	d.buf = b
	if _, err := d.f.Write(b); err != nil {
		return fmt.Errorf("dead letter %s: %w", d.path, err)
	}
	return nil
}

// Close closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("dead letter %s: %w", d.path, err)
	}
	return nil
}

// appendJSON appends the JSON form of v to dst, without escaping <, > and & (the file is
// for people to read).
func appendJSON(dst []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	b, _ := appendJSON(dst, s) // a string always encodes
	return b
}
