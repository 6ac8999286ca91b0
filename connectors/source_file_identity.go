package connectors

import (
	"os"
	"strings"
	"syscall"
)

// A file is identified by its device and inode, as tail -F and log shippers do: a path may
// name another file after a rotation (`mv a.jsonl a.jsonl.1`, then a new a.jsonl). Offsets
// stay keyed by absolute path, and carry each file's identity under two extra keys,
// "device:<path>" and "inode:<path>", so a restore recognises a file that was rotated while
// the job was down. Readers of offsets that show them (inspect) leave those keys out.
const (
	deviceKeyPrefix = "device:"
	inodeKeyPrefix  = "inode:"
)

// fileID is a file's device and inode; the zero value is unknown.
type fileID struct{ dev, ino uint64 }

// identityOf returns the identity of a file from its stat.
func identityOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: st.Ino}
	}
	return fileID{}
}

// known reports whether the identity was recorded.
func (id fileID) known() bool { return id != fileID{} }

// putIdentity records path's identity in o.
func (o Offsets) putIdentity(path string, id fileID) {
	if id.known() {
		o[deviceKeyPrefix+path] = int64(id.dev)
		o[inodeKeyPrefix+path] = int64(id.ino)
	}
}

// identity returns the identity recorded for path in o (zero when none).
func (o Offsets) identity(path string) fileID {
	dev, okDev := o[deviceKeyPrefix+path]
	ino, okIno := o[inodeKeyPrefix+path]
	if !okDev || !okIno {
		return fileID{}
	}
	return fileID{dev: uint64(dev), ino: uint64(ino)}
}

// isIdentityKey reports whether an offsets key carries a file identity rather than an offset.
func isIdentityKey(k string) bool {
	return strings.HasPrefix(k, deviceKeyPrefix) || strings.HasPrefix(k, inodeKeyPrefix)
}
