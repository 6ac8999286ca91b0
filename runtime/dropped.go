package runtime

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"
)

// Records that on_error took out of the stream (skipped or dead-lettered) are logged one by
// one as they go and summed up per uid when the job ends, so a run that "succeeded" while
// dropping records says so.

// dropCounts are the records one uid skipped and dead-lettered.
type dropCounts struct{ skipped, deadLettered int64 }

// drops counts dropped records per uid.
type drops struct {
	mu    sync.Mutex
	byUID map[string]*dropCounts
}

// add counts one record of uid, skipped or dead-lettered.
func (d *drops) add(uid string, deadLettered bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byUID == nil {
		d.byUID = map[string]*dropCounts{}
	}
	c := d.byUID[uid]
	if c == nil {
		c = &dropCounts{}
		d.byUID[uid] = c
	}
	if deadLettered {
		c.deadLettered++
	} else {
		c.skipped++
	}
}

// logSummary logs one line per uid that dropped records, in uid order.
func (j *Job) logSummary() {
	j.drops.mu.Lock()
	defer j.drops.mu.Unlock()
	uids := make([]string, 0, len(j.drops.byUID))
	for uid := range j.drops.byUID {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	for _, uid := range uids {
		c := j.drops.byUID[uid]
		j.log.Warn("records not processed", "uid", uid, "skipped", c.skipped, "dead_lettered", c.deadLettered)
	}
}

// maxRecordInMessage is the length at which a record shown in an error message is cut.
const maxRecordInMessage = 200

// recordContext says which record failed, for a message: its key (when the node is keyed),
// the record as JSON, cut at maxRecordInMessage bytes, and where it was read (when known);
// record fields in the declared order of their types t.
func recordContext(e *element, t recordTypes, where string) string {
	rec := cutText(string(recordJSON(t.value, e.value)))
	if where != "" {
		rec += ", read at " + where
	}
	if e.keyBytes == nil {
		return "record " + rec
	}
	return fmt.Sprintf("key %s, record %s", recordJSON(t.key, e.key), rec)
}

// cutJSON is v as JSON ("?" when it has none), cut at maxRecordInMessage bytes.
func cutJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return cutText(string(b))
}

// cutText cuts s at maxRecordInMessage bytes (at a rune's start), marking the cut with "…".
func cutText(s string) string {
	if len(s) <= maxRecordInMessage {
		return s
	}
	cut := maxRecordInMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
