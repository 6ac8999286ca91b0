package jobs

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// listTimeLayout is how `pipectl list` prints start times, like `flink list`.
const listTimeLayout = "02.01.2006 15:04:05"

// listEntry is one element of `pipectl list --output json`: exactly these
// fields, in this order.
type listEntry struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Status   Status    `json:"status"`
	Started  time.Time `json:"started"`
	Pipeline string    `json:"pipeline"`
	PID      int       `json:"pid"`
}

// WriteList writes infos as `pipectl list` prints them. Text: one line per
// job, `<started> : <id> : <name> (<STATUS>)` with the start time in local
// time as 02.01.2006 15:04:05, and nothing at all for no jobs. JSON: an
// array of {"id","name","status","started","pipeline","pid"} objects
// (started in RFC 3339), `[]` for no jobs, followed by a newline.
func WriteList(w io.Writer, infos []Info, jsonOut bool) error {
	return writeList(w, infos, jsonOut, time.Local)
}

// writeList is WriteList with the time zone of the text format injected.
func writeList(w io.Writer, infos []Info, jsonOut bool, loc *time.Location) error {
	if jsonOut {
		entries := make([]listEntry, len(infos))
		for i, in := range infos {
			entries[i] = listEntry{in.ID, in.Name, in.Status, in.Started, in.Pipeline, in.PID}
		}
		b, err := json.Marshal(entries)
		if err != nil {
			return fmt.Errorf("encode job list: %w", err)
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	for _, in := range infos {
		if _, err := fmt.Fprintf(w, "%s : %s : %s (%s)\n",
			in.Started.In(loc).Format(listTimeLayout), in.ID, in.Name, in.Status); err != nil {
			return err
		}
	}
	return nil
}
