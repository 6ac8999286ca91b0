package connectors

import (
	"bufio"
	"errors"
	"io"
)

// readBufferSize is the buffer of a source's reader: large enough that most reads of a busy
// file are one system call per few thousand lines.
const readBufferSize = 256 << 10

// lineScanner reads newline-terminated lines with one reusable buffer.
type lineScanner struct {
	br   *bufio.Reader
	long []byte // a line longer than the reader's buffer is assembled here
}

func newLineScanner() *lineScanner {
	return &lineScanner{br: bufio.NewReaderSize(nil, readBufferSize)}
}

// reset makes the scanner read r from its current position.
func (s *lineScanner) reset(r io.Reader) { s.br.Reset(r) }

// next returns the next line without its "\n" or "\r\n" and the number of bytes it took,
// terminator included. The line is valid until the next call. At the end of the input it
// returns io.EOF; a last line without a newline is returned first when final is true, and
// otherwise left unread (it is not complete yet: a writer may be appending to it).
func (s *lineScanner) next(final bool) (line []byte, n int, err error) {
	s.long = s.long[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		switch {
		case err == nil:
			if len(s.long) > 0 {
				s.long = append(s.long, chunk...)
				chunk = s.long
			}
			return trimEOL(chunk), len(chunk), nil
		case errors.Is(err, bufio.ErrBufferFull):
			s.long = append(s.long, chunk...)
		case err == io.EOF:
			s.long = append(s.long, chunk...)
			if final && len(s.long) > 0 {
				return trimEOL(s.long), len(s.long), nil
			}
			return nil, 0, io.EOF
		default:
			return nil, 0, err
		}
	}
}

// trimEOL cuts a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether a line holds only spaces and tabs (such lines are skipped).
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
