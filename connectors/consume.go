package connectors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// consume reads the lines of f from its offset through sc, reading the header first when the
// format has one and f has no decoder yet, and emits each record. After each line it moves f's
// offset past it, unless the line's Emit failed.
func (f *fileState) consume(ctx SourceContext, sc *lineScanner, form format, final bool) error {
	pc, _ := ctx.(PositionContext)
	if f.dec == nil && !form.hasHeader() {
		f.dec, _ = form.decoder(nil) // a headerless format has one decoder for all files
	}
	pos := f.off.Load()
	for {
		line, n, err := sc.next(final)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return Retryable(fmt.Errorf("read %s: %w", f.path, err))
		}
		start := pos
		pos += int64(n)
		if start == 0 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		switch {
		case f.dec == nil && isBlank(line): // blank lines before a header
		case f.dec == nil:
			if f.dec, err = form.decoder(line); err != nil {
				return fmt.Errorf("%s: %w", f.path, err)
			}
		case isBlank(line):
		default:
			rec, derr := f.dec.decode(line)
			if derr != nil {
				if err := f.bad(ctx, derr, line, start); err != nil {
					return err
				}
				break
			}
			if pc != nil {
				pc.At(Position{File: f.path, Offset: start, Line: f.knownLine(), Raw: line})
			}
			if err := ctx.Emit(rec); err != nil {
				return f.atLine(err)
			}
		}
		f.line++
		f.off.Store(pos)
	}
}

// atLine prefixes a failure of the record at f's offset (an operator chained to the source
// failed on it) with its file and line; a stop passes as it is.
func (f *fileState) atLine(err error) error {
	if errors.Is(err, ErrStopped) {
		return err
	}
	n, lerr := f.lineNumber()
	if lerr != nil {
		return err
	}
	return fmt.Errorf("%s:%d: %w", f.path, n, err)
}

// utf8BOM is the byte order mark some editors (and spreadsheet exports) put at the start of
// a UTF-8 file; it is not part of the first line.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// bad reports a malformed line to ctx; the error that ends the source names the file, line
// and byte offset.
func (f *fileState) bad(ctx SourceContext, derr error, line []byte, start int64) error {
	n, err := f.lineNumber()
	if err != nil {
		return err
	}
	b := BadRecord{Err: derr, Record: string(line), File: f.path, Line: n, Offset: start}
	if err := ctx.Bad(b); err != nil {
		return fmt.Errorf("%s:%d (byte offset %d): %w", f.path, n, start, err)
	}
	return nil
}

// knownLine returns the 1-based number of the line at f's offset when it is known without
// counting (0 after a restore at an offset, until lineNumber has counted).
func (f *fileState) knownLine() int64 {
	if f.lineFrom > 0 {
		return 0
	}
	return f.line + 1
}

// lineNumber returns the 1-based number of the line at f's offset, counting the lines before
// the offset it resumed at the first time it is needed.
func (f *fileState) lineNumber() (int64, error) {
	if f.lineFrom > 0 {
		n, err := countLines(f.path, f.lineFrom)
		if err != nil {
			return 0, fmt.Errorf("count lines of %s: %w", f.path, err)
		}
		f.line += n
		f.lineFrom = 0
	}
	return f.line + 1, nil
}

// countLines counts the newlines in the first n bytes of a file.
func countLines(path string, n int64) (int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	buf := make([]byte, readBufferSize)
	var lines int64
	r := io.LimitReader(fh, n)
	for {
		k, err := r.Read(buf)
		lines += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return 0, err
		}
	}
}
