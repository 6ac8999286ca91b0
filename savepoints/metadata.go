package savepoints

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Savepoint format versions. The meaning of each never changes; a new layout gets a new one.
const (
	// FormatVersion1 is the first format: data files hold the entries and a footer.
	FormatVersion1 = 1
	// FormatVersion2 adds, after the entries of each data file, an index of where each entry
	// starts, so that a restore maps the file and serves reads at once without a pass over it.
	FormatVersion2 = 2
	// FormatVersion is the format the writer writes; Open reads every format above.
	FormatVersion = FormatVersion2
)

// MetadataFile is the name of the metadata file inside a savepoint directory.
const MetadataFile = "_metadata.json"

// Metadata is `_metadata.json`.
type Metadata struct {
	FormatVersion  int            `json:"format_version"`
	ID             string         `json:"id"` // the directory name
	JobID          string         `json:"job_id"`
	Pipeline       string         `json:"pipeline"` // pipeline name
	Created        time.Time      `json:"created"`
	Trigger        string         `json:"trigger"` // manual | stop | final | checkpoint
	PipelineYAML   string         `json:"pipeline_yaml"`
	PipelineSHA256 string         `json:"pipeline_sha256"`
	MaxParallelism int            `json:"max_parallelism"`
	Operators      []OperatorMeta `json:"operators"`
	// Checksum is "sha256:<hex>" of the compact JSON of the metadata with Checksum empty.
	// The writer fills it in; Open refuses a metadata file whose checksum does not match.
	Checksum string `json:"checksum,omitempty"`
}

// OperatorMeta is one uid of the savepoint (sources and sinks included).
type OperatorMeta struct {
	UID         string           `json:"uid"`
	Kind        string           `json:"kind"`
	Parallelism int              `json:"parallelism"`
	KeyType     string           `json:"key_type,omitempty"` // canonical; keyed operators only
	Offsets     map[string]int64 `json:"offsets,omitempty"`  // sources; sinks: committed length
	States      []StateMeta      `json:"states"`
}

// Positions returns the uid's offsets without the file identities a file source stores
// beside its byte offsets ("device:<path>" and "inode:<path>"): what inspect shows, never nil.
func (op *OperatorMeta) Positions() map[string]int64 {
	out := make(map[string]int64, len(op.Offsets))
	for k, v := range op.Offsets {
		if !strings.HasPrefix(k, "device:") && !strings.HasPrefix(k, "inode:") {
			out[k] = v
		}
	}
	return out
}

// StateMeta is one state of a uid.
type StateMeta struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`   // value | list | map | internal
	Schema  string `json:"schema"` // canonical type expression of the value stored per key
	KeyType string `json:"key_type"`
	TTLMs   int64  `json:"ttl_ms,omitempty"`
	Entries int64  `json:"entries"`
	Bytes   int64  `json:"bytes"` // key+value bytes of the entries
	File    string `json:"file"`  // data file name inside the savepoint directory
	Size    int64  `json:"size"`  // size of the data file in bytes
	// Checksum is the data file's: "crc32c:<8 hex>" (CRC-32C, Castagnoli) of its bytes in
	// format 2, "sha256:<hex>" in format 1.
	Checksum string `json:"checksum"`
}

// dataFileName matches the names the writer gives data files; nothing else is accepted as
// a file name in metadata (no path, no "..").
var dataFileName = regexp.MustCompile(`^state-[0-9]{4,}\.bin$`)

// checksumPrefix starts every checksum string.
const checksumPrefix = "sha256:"

// formatChecksum renders a sha256 sum as "sha256:<hex>".
func formatChecksum(sum []byte) string { return checksumPrefix + hex.EncodeToString(sum) }

// crcPrefix starts the data file checksums of format 2.
const crcPrefix = "crc32c:"

// formatCRC renders a CRC-32C as "crc32c:<8 hex>".
func formatCRC(crc uint32) string { return fmt.Sprintf("%s%08x", crcPrefix, crc) }

// encodeJSON encodes v without HTML escaping (type expressions hold < and >), indented
// when indent is set, with a trailing newline.
func encodeJSON(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// metadataChecksum returns the checksum of m's canonical content: its compact JSON with
// Checksum empty.
func metadataChecksum(m *Metadata) (string, error) {
	c := *m
	c.Checksum = ""
	b, err := encodeJSON(&c, false)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	sum := sha256.Sum256(b)
	return formatChecksum(sum[:]), nil
}

// marshalMetadata fills in m.Checksum and returns the content of _metadata.json.
func marshalMetadata(m *Metadata) ([]byte, error) {
	sum, err := metadataChecksum(m)
	if err != nil {
		return nil, err
	}
	m.Checksum = sum
	return encodeJSON(m, true)
}

// findState returns the operator and state metadata of (uid, name).
func (m *Metadata) findState(uid, name string) (*OperatorMeta, *StateMeta, bool) {
	for i := range m.Operators {
		op := &m.Operators[i]
		if op.UID != uid {
			continue
		}
		for j := range op.States {
			if op.States[j].Name == name {
				return op, &op.States[j], true
			}
		}
	}
	return nil, nil, false
}

// checkNames reports duplicate uids, duplicate state names of a uid, and empty names.
func (m *Metadata) checkNames() error {
	uids := make(map[string]bool, len(m.Operators))
	for _, op := range m.Operators {
		if op.UID == "" {
			return fmt.Errorf("an operator has an empty uid")
		}
		if uids[op.UID] {
			return fmt.Errorf("uid %q appears twice", op.UID)
		}
		uids[op.UID] = true
		names := make(map[string]bool, len(op.States))
		for _, st := range op.States {
			if st.Name == "" {
				return fmt.Errorf("uid %q has a state with an empty name", op.UID)
			}
			if names[st.Name] {
				return fmt.Errorf("uid %q has state %q twice", op.UID, st.Name)
			}
			names[st.Name] = true
		}
	}
	return nil
}
