package pipeline

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Restart is the `restart:` policy: a failed job restarts inside its process up to Attempts
// times in a row, Delay apart (doubling up to a minute). The zero value means no restart.
type Restart struct {
	Attempts int
	Delay    time.Duration
}

// maxRestartAttempts bounds restart.attempts.
const maxRestartAttempts = 1000

// restart reads `restart: {attempts: N, delay: D}`.
func (l *loader) restart(e entry) {
	m := l.fields(e.val, "restart", []string{"attempts", "delay"}, nil)
	if m == nil {
		return
	}
	l.require(m, posOf(e.val), "restart", "attempts", "delay")
	r := &l.p.Restart
	if a, ok := m["attempts"]; ok {
		r.Attempts = int(l.integer(a.val, "restart.attempts", 0, maxRestartAttempts))
	}
	if d, ok := m["delay"]; ok {
		r.Delay = l.duration(d.val, "restart.delay", true)
	}
}

// previousUIDs reads an item's `previous_uids: [old-uid, ...]`: the uids its state may have
// been stored under before a rename.
func (l *loader) previousUIDs(node *Node, a *aux, m map[string]entry, what string) {
	e, ok := m["previous_uids"]
	if !ok {
		return
	}
	if e.val.Kind != yaml.SequenceNode {
		l.errorf(posOf(e.val), CodeValue, "%s: previous_uids must be a sequence of uids, got %s", what, describe(e.val))
		return
	}
	for _, v := range e.val.Content {
		s := l.str(v, what+": previous_uids")
		switch {
		case s == "":
			continue
		case !uidRE.MatchString(s):
			l.errorf(posOf(v), CodeUID, "%s: previous uid %q may only hold A-Z, a-z, 0-9, '.', '_' and '-'", what, s)
			continue
		}
		node.PreviousUIDs = append(node.PreviousUIDs, s)
		a.previousPos = append(a.previousPos, posOf(v))
	}
}

// checkPreviousUIDs reports previous uids that name a uid of the file (its state is that
// item's own) or that two items claim (or one item twice): the state under an old uid can
// move to one place only.
func (l *loader) checkPreviousUIDs() {
	claimed := map[string]*Node{}
	for _, n := range l.nodes() {
		a := l.aux[n]
		for i, old := range n.PreviousUIDs {
			pos := a.previousPos[i]
			if other, ok := l.p.Nodes[old]; ok {
				l.errorf(pos, CodeUID, "%s %q: previous uid %q is the uid of an item of this file (line %d): only a uid that no longer exists can be taken over", roles[n.Role].name, n.UID, old, other.Pos.Line)
				continue
			}
			if prev, dup := claimed[old]; dup {
				l.errorf(pos, CodeUID, "%s %q: previous uid %q is already claimed by %q (line %d): the state under a uid moves to one item only", roles[n.Role].name, n.UID, old, prev.UID, prev.Pos.Line)
				continue
			}
			claimed[old] = n
		}
	}
}

// Takeover maps the uids a savepoint holds to the nodes of this pipeline that restore them.
type Takeover struct {
	// Owner is the node that restores each stored uid: the node of that uid, or the node that
	// lists it in previous_uids. A stored uid that no node takes over is missing.
	Owner map[string]*Node
	// Stored is the stored uid each node restores from (absent: none, the node is new).
	Stored map[*Node]string
}

// RenamedFrom is the old uid that n takes its state from, "" when n restores its own uid
// (or nothing).
func (t Takeover) RenamedFrom(n *Node) string {
	if s := t.Stored[n]; s != n.UID {
		return s
	}
	return ""
}

// TakeOver decides, for a savepoint holding the uids for which holds is true, which stored
// uid each node restores: its own when held, else the first of its previous_uids that is
// held. The other held previous uids are left to no node: the restore drops them (with
// --allow-non-restored-state).
func (p *Pipeline) TakeOver(holds func(uid string) bool) Takeover {
	t := Takeover{Owner: map[string]*Node{}, Stored: map[*Node]string{}}
	for _, n := range p.Nodes {
		for _, uid := range append([]string{n.UID}, n.PreviousUIDs...) {
			if holds(uid) {
				t.Owner[uid], t.Stored[n] = n, uid
				break
			}
		}
	}
	return t
}
