package db

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
	"google.golang.org/protobuf/proto"
)

// Replication framing: every message is an unsigned varint length, then
// that many bytes of one pb.Message. A length over the session's limit, a
// truncated message or bytes that do not decode end the session.
var (
	ErrProtocol = errors.New("db: replication protocol violation")
	// ErrLimit: the remote went past one of the session's bounds (a
	// message's size or shape, offers not yet paired, channels it opened).
	// It always comes with ErrProtocol.
	ErrLimit = errors.New("db: replication peer over a limit")
	// ErrCapability: an Open whose capability is not 32 bytes, or does not
	// prove the key. It always comes with ErrProtocol.
	ErrCapability = errors.New("db: replication capability refused")
)

type frameReader struct {
	r    *bufio.Reader
	src  *srcReader
	max  int
	size int // the length of the last message read
	// bufs holds message buffers given back (release): a Data's pages
	// stay in its buffer until the loop has stored them.
	bufs sync.Pool // of *[]byte
}

// readBuf: the reader's buffer serves the lengths and small messages,
// several to a read of the stream; a message larger than what is left
// buffered is read straight into its own buffer (bufio reads directly
// when asked for at least its size), so bulk data needs no larger one.
// A session holds it for its life, idle or not, hence small.
const readBuf = 4 << 10

func newFrameReader(r io.Reader, max int) *frameReader {
	src := &srcReader{r: r}
	return &frameReader{r: bufio.NewReaderSize(src, readBuf), src: src, max: max}
}

// buffer returns a buffer of n bytes, pooled or new.
func (f *frameReader) buffer(n int) *[]byte {
	if p, _ := f.bufs.Get().(*[]byte); p != nil && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n)
	return &b
}

// release gives back the buffer of a message next returned, once nothing
// refers to the message any more.
func (f *frameReader) release(p *[]byte) {
	if p != nil {
		f.bufs.Put(p)
	}
}

// srcReader keeps the stream's own read error: a connection that fails
// is not a peer that breaks the protocol.
type srcReader struct {
	r   io.Reader
	err error
}

func (s *srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// next reads one message. A Data's pages alias buf, the message's bytes:
// the caller releases buf when it is done with the message.
func (f *frameReader) next() (_ *pb.Message, buf *[]byte, _ error) {
	n, err := binary.ReadUvarint(f.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, io.EOF
		}
		if f.src.err != nil {
			return nil, nil, fmt.Errorf("db: replicate: read: %w", f.src.err)
		}
		return nil, nil, fmt.Errorf("%w: bad frame length: %v", ErrProtocol, err)
	}
	if n > uint64(f.max) {
		return nil, nil, fmt.Errorf("%w: %w: message of %d bytes, limit %d", ErrProtocol, ErrLimit, n, f.max)
	}
	buf = f.buffer(int(n))
	f.size = int(n)
	if _, err := io.ReadFull(f.r, *buf); err != nil {
		f.release(buf)
		if f.src.err != nil {
			return nil, nil, fmt.Errorf("db: replicate: read: %w", f.src.err)
		}
		return nil, nil, fmt.Errorf("%w: truncated message: %v", ErrProtocol, err)
	}
	m, err := decodeMessage(*buf)
	if err != nil {
		f.release(buf)
		return nil, nil, err
	}
	return m, buf, nil
}

// decodeMessage parses one message body; the fuzzed decoder. Fields this
// version does not know are dropped, not kept. A Data's pages may alias b
// (decodeData).
func decodeMessage(b []byte) (*pb.Message, error) {
	if err := checkShape(b); err != nil {
		return nil, err
	}
	if m, ok := decodeData(b); ok {
		return m, nil
	}
	m := &pb.Message{}
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%w: undecodable message: %v", ErrProtocol, err)
	}
	if m.Body == nil {
		return nil, fmt.Errorf("%w: empty message", ErrProtocol)
	}
	return m, nil
}

// appendFrame appends m, framed, to dst.
func appendFrame(dst []byte, m *pb.Message) ([]byte, error) {
	size := proto.Size(m)
	dst = binary.AppendUvarint(dst, uint64(size))
	return proto.MarshalOptions{}.MarshalAppend(dst, m)
}

func toPBNodes(ns []book.Node) []*pb.Node {
	out := make([]*pb.Node, len(ns))
	for i, n := range ns {
		out[i] = &pb.Node{Index: n.Index, Size: n.Size, Hash: n.Hash[:]}
	}
	return out
}

func fromPBNodes(ns []*pb.Node) ([]book.Node, error) {
	out := make([]book.Node, len(ns))
	for i, n := range ns {
		if len(n.GetHash()) != book.HashSize {
			return nil, fmt.Errorf("%w: node hash of %d bytes", ErrProtocol, len(n.GetHash()))
		}
		out[i] = book.Node{Index: n.GetIndex(), Size: n.GetSize()}
		copy(out[i].Hash[:], n.GetHash())
	}
	return out, nil
}

// toPBData converts a proof into the Data message answering request id.
func toPBData(ch uint32, id uint64, p *book.Proof) *pb.Data {
	d := &pb.Data{Channel: ch, Id: id, Fork: p.Fork}
	if r := p.Range; r != nil {
		d.Range = &pb.RangeProof{Start: r.Start, Values: r.Values, Nodes: toPBNodes(r.Nodes)}
	}
	if u := p.Upgrade; u != nil {
		d.Upgrade = &pb.UpgradeProof{Start: u.Start, Length: u.Length, Roots: toPBNodes(u.Roots),
			Nodes: toPBNodes(u.Nodes), Signature: u.Signature[:]}
	}
	return d
}

// fromPBData converts a Data message into a proof; structure only, the
// book verifies the rest.
func fromPBData(d *pb.Data) (*book.Proof, error) {
	p := &book.Proof{Fork: d.GetFork()}
	if r := d.GetRange(); r != nil {
		nodes, err := fromPBNodes(r.GetNodes())
		if err != nil {
			return nil, err
		}
		p.Range = &book.RangeProof{Start: r.GetStart(), Values: r.GetValues(), Nodes: nodes}
	}
	if u := d.GetUpgrade(); u != nil {
		roots, err := fromPBNodes(u.GetRoots())
		if err != nil {
			return nil, err
		}
		nodes, err := fromPBNodes(u.GetNodes())
		if err != nil {
			return nil, err
		}
		if len(u.GetSignature()) != 64 {
			return nil, fmt.Errorf("%w: signature of %d bytes", ErrProtocol, len(u.GetSignature()))
		}
		p.Upgrade = &book.UpgradeProof{Start: u.GetStart(), Length: u.GetLength(), Roots: roots, Nodes: nodes}
		copy(p.Upgrade.Signature[:], u.GetSignature())
	}
	if p.Range == nil && p.Upgrade == nil {
		return nil, fmt.Errorf("%w: data message proves nothing", ErrProtocol)
	}
	return p, nil
}
