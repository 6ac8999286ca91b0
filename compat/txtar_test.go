package compat

import (
	"bytes"
	"os"
	"strings"
)

// archive is a txtar archive (golang.org/x/tools/txtar's format: a comment, then files each
// introduced by a `-- name --` line), read and written here to keep the module's
// dependencies as they are.
type archive struct {
	Comment []byte
	Files   []archiveEntry
}

type archiveEntry struct {
	Name string
	Data []byte
}

func parseArchiveFile(path string) (*archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseArchive(data), nil
}

func parseArchive(data []byte) *archive {
	a := &archive{}
	var cur *[]byte = &a.Comment
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		if name, ok := archiveMarker(line); ok {
			a.Files = append(a.Files, archiveEntry{Name: name})
			cur = &a.Files[len(a.Files)-1].Data
			continue
		}
		*cur = append(*cur, line...)
	}
	return a
}

// archiveMarker reports whether line is `-- name --` and returns name.
func archiveMarker(line []byte) (string, bool) {
	s := strings.TrimRight(string(line), "\r\n")
	if !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") || len(s) < 7 {
		return "", false
	}
	return strings.TrimSpace(s[3 : len(s)-3]), true
}

func formatArchive(a *archive) []byte {
	var b bytes.Buffer
	b.Write(withNewline(a.Comment))
	for _, f := range a.Files {
		b.WriteString("-- " + f.Name + " --\n")
		b.Write(withNewline(f.Data))
	}
	return b.Bytes()
}

func withNewline(data []byte) []byte {
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return data
	}
	return append(data, '\n')
}
