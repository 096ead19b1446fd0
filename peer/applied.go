package peer

import (
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer/pb"
)

// applied indexes the edits, deletes and reactions the watcher has read,
// by target, so that a timeline page shows its messages' latest state
// without reading everything newer than the page.
type applied struct {
	edits     map[msgKey]appliedEdit
	deleted   map[msgKey]bool
	reactions map[msgKey]map[string][]peer.ID
}

type appliedEdit struct {
	text string
	key  cursorKey // the edit's own position: the newest wins
}

// add folds one envelope read from author's log at key. Only a message's
// author may edit or delete it.
func (a *applied) add(author peer.ID, key cursorKey, env *pb.Envelope) {
	var target *pb.Head
	for _, r := range env.Refs {
		if r.Head != nil && r.Kind != pb.RefKind_REF_SEEN {
			target = r.Head
			break
		}
	}
	if target == nil {
		return
	}
	t := msgKey{peer.ID(target.Author), target.Index}
	switch env.Type {
	case pb.Type_TYPE_EDIT:
		if t.author != author {
			return
		}
		if a.edits == nil {
			a.edits = map[msgKey]appliedEdit{}
		}
		if e, ok := a.edits[t]; !ok || e.key.less(key) {
			a.edits[t] = appliedEdit{text: string(env.Data), key: key}
		}
	case pb.Type_TYPE_DELETE:
		if t.author != author {
			return
		}
		if a.deleted == nil {
			a.deleted = map[msgKey]bool{}
		}
		a.deleted[t] = true
	case pb.Type_TYPE_REACTION:
		if a.reactions == nil {
			a.reactions = map[msgKey]map[string][]peer.ID{}
		}
		rs := a.reactions[t]
		if rs == nil {
			rs = map[string][]peer.ID{}
			a.reactions[t] = rs
		}
		if r := string(env.Data); !slices.Contains(rs[r], author) {
			rs[r] = append(rs[r], author)
		}
	}
}

// decorate applies what is known of m's edits, deletion and reactions.
func (a *applied) decorate(m *Message) {
	if m.Err != nil {
		return
	}
	k := msgKey{m.Head.Author, m.Head.Index}
	if e, ok := a.edits[k]; ok {
		m.Text, m.Edited = e.text, true
	}
	if a.deleted[k] {
		m.Text, m.Deleted = "", true
	}
	if rs := a.reactions[k]; len(rs) > 0 {
		m.Reactions = make(map[string][]peer.ID, len(rs))
		for r, who := range rs {
			m.Reactions[r] = slices.Clone(who)
		}
	}
}
