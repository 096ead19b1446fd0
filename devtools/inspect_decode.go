package devtools

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	peerpb "github.com/folio-p2p/folio/peer/pb"
	vaultpb "github.com/folio-p2p/folio/vault/pb"
)

// decodedPage is a page decoded as the type its book implies.
type decodedPage struct {
	Type   string // address, envelope, profile, peerstore page, messenger record
	Fields fields
	Err    error // the page is not a valid page of that type
}

// decodePage decodes page index of a book of the given kind; nil for
// books whose pages folio does not know (kindRaw).
func decodePage(kind bookKind, index uint64, page []byte) *decodedPage {
	switch kind {
	case kindPair:
		if index == 0 {
			return decodeAs("address", page, &peerpb.Address{}, func(a *peerpb.Address) (fields, error) { return addressFields(a), nil })
		}
		return decodeAs("envelope", page, &peerpb.Envelope{}, envelopeFields)
	case kindProfile:
		return decodeAs("profile", page, &vaultpb.Profile{}, func(p *vaultpb.Profile) (fields, error) { return profileFields(p), nil })
	case kindPeerstore:
		return decodePeerstorePage(page)
	case kindMessenger:
		return decodeAs("messenger record", page, &peerpb.Record{}, recordFields)
	}
	return nil
}

// decodeAs unmarshals page into m and describes it with fn.
func decodeAs[M proto.Message](typ string, page []byte, m M, fn func(M) (fields, error)) *decodedPage {
	d := &decodedPage{Type: typ}
	if err := proto.Unmarshal(page, m); err != nil {
		d.Err = fmt.Errorf("not a %s: %w", typ, err)
		return d
	}
	d.Fields, d.Err = fn(m)
	return d
}

var errNoBody = errors.New("no body")

func addressFields(a *peerpb.Address) fields {
	return fields{}.
		add("author", peerText(a.Author)).
		add("reader", peerText(a.Reader)).
		add("task", hex.EncodeToString(a.Task)).
		add("name", a.Name).
		add("addrs", addrsText(a.Addrs))
}

func envelopeFields(e *peerpb.Envelope) (fields, error) {
	if e.Head == nil || e.Meta == nil {
		return nil, fmt.Errorf("not an envelope: no head or meta")
	}
	f := fields{}.add("head", headText(e.Head)).add("type", enumName(e.Type.String(), "TYPE_"))
	f = append(f, envelopeData(e.Type, e.Data)...)
	var refs []string
	for _, r := range e.Refs {
		refs = append(refs, enumName(r.Kind.String(), "REF_")+" "+headText(r.Head))
	}
	f = f.add("refs", refs)
	return f.
		add("time", millisText(e.Meta.Time)+" (display only)").
		add("clock", e.Meta.Clock).
		add("task", hex.EncodeToString(e.Meta.Task)), nil
}

// envelopeData describes an envelope's data as its type defines it.
func envelopeData(t peerpb.Type, data []byte) fields {
	switch t {
	case peerpb.Type_TYPE_TEXT, peerpb.Type_TYPE_REPLY, peerpb.Type_TYPE_EDIT:
		return fields{}.add("text", string(data))
	case peerpb.Type_TYPE_REACTION:
		return fields{}.add("reaction", string(data))
	case peerpb.Type_TYPE_PROFILE:
		return fields{}.add("name", string(data))
	case peerpb.Type_TYPE_JOIN, peerpb.Type_TYPE_LEAVE:
		var j peerpb.Join
		if proto.Unmarshal(data, &j) == nil {
			return fields{}.add("member", peerText(j.PeerId)).add("inviter", peerText(j.Inviter)).add("member addrs", addrsText(j.Addrs))
		}
	case peerpb.Type_TYPE_TASK_UPDATE:
		var u peerpb.TaskUpdate
		if proto.Unmarshal(data, &u) == nil {
			return fields{}.add("update", taskUpdateFields(&u))
		}
	case peerpb.Type_TYPE_DELETE:
		if len(data) == 0 {
			return nil
		}
	}
	if len(data) == 0 {
		return nil
	}
	return fields{}.add("data", hex.EncodeToString(data))
}

func taskUpdateFields(u *peerpb.TaskUpdate) fields {
	f := fields{}.add("task", hex.EncodeToString(u.Task))
	if len(u.Parent) > 0 {
		f = f.add("parent", hex.EncodeToString(u.Parent))
	}
	return f.add("title", u.Title).add("closed", u.Closed)
}

func profileFields(p *vaultpb.Profile) fields {
	return fields{}.
		add("peer", peerText(p.PeerId)).
		add("name", p.Name).
		add("status", p.Status).
		add("addrs", addrsText(p.Addrs)).
		add("time", millisText(p.Time))
}

// recordFields describes a page of the messenger's private journal.
func recordFields(r *peerpb.Record) (fields, error) {
	switch b := r.Body.(type) {
	case *peerpb.Record_Task:
		return fields{}.add("record", "task created").add("update", taskUpdateFields(b.Task)), nil
	case *peerpb.Record_Invite:
		return fields{}.add("record", "invite made").
			add("invite", hex.EncodeToString(b.Invite.Id)).
			add("task", hex.EncodeToString(b.Invite.Task)).
			add("secret", fmt.Sprintf("(%d bytes, not shown)", len(b.Invite.Secret))).
			add("expires", millisText(b.Invite.Expires)), nil
	case *peerpb.Record_InviteUsed:
		return fields{}.add("record", "invite used").add("invite", hex.EncodeToString(b.InviteUsed)), nil
	case *peerpb.Record_InviteRevoked:
		return fields{}.add("record", "invite revoked").add("invite", hex.EncodeToString(b.InviteRevoked)), nil
	case *peerpb.Record_Member:
		return fields{}.add("record", "member").
			add("task", hex.EncodeToString(b.Member.Task)).
			add("peer", peerText(b.Member.PeerId)).
			add("book", hex.EncodeToString(b.Member.Book)).
			add("addrs", addrsText(b.Member.Addrs)), nil
	case *peerpb.Record_Read:
		return fields{}.add("record", "read marker").
			add("task", hex.EncodeToString(b.Read.Task)).
			add("up to", fmt.Sprintf("clock %d, %s/%d", b.Read.Clock, peerText(b.Read.Author), b.Read.Index)), nil
	case *peerpb.Record_Outbox:
		env, err := envelopeFields(b.Outbox)
		if err != nil {
			return nil, err
		}
		return fields{}.add("record", "outbox (written while alone in the task)").add("envelope", env), nil
	}
	return nil, fmt.Errorf("not a messenger record: %w", errNoBody)
}

// peerText shows peer ID bytes as a peer ID, or in hex when they are not one.
func peerText(b []byte) string {
	if len(b) == 0 {
		return "(none)"
	}
	id, err := libp2ppeer.IDFromBytes(b)
	if err != nil {
		return hex.EncodeToString(b) + " (not a peer ID)"
	}
	return id.String()
}

func headText(h *peerpb.Head) string {
	if h == nil {
		return "(none)"
	}
	return fmt.Sprintf("%s/%d", peerText(h.Author), h.Index)
}

func addrsText(bs [][]byte) []string {
	out := []string{}
	for _, b := range bs {
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			out = append(out, hex.EncodeToString(b)+" (not a multiaddr)")
			continue
		}
		out = append(out, a.String())
	}
	return out
}

// millisText shows Unix milliseconds in UTC.
func millisText(ms int64) string {
	if ms == 0 {
		return "(none)"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// enumName turns TYPE_TEXT into "text".
func enumName(s, prefix string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s, prefix)), "_", " ")
}
