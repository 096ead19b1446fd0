package wire

// Handshake is the hypercore channel's open message: the capability
// proves the sender knows the core key and is bound to this Noise session.
type Handshake struct {
	Seeks      bool
	Capability [32]byte
}

// Sync announces the sender's fork and length, and the length it last
// heard from the receiver.
type Sync struct {
	Fork, Length, RemoteLength uint64
	CanUpgrade                 bool
	Uploading                  bool
	Downloading                bool
	HasManifest                bool
	AllowPush                  bool
}

// Request asks for a block, a hash, a seek and/or an upgrade. Block.Nodes
// and Hash.Nodes count the uncle nodes the requester lacks (0 = none).
type Request struct {
	ID, Fork uint64
	Block    *RequestBlock
	Hash     *RequestBlock
	Seek     *RequestSeek
	Upgrade  *RequestUpgrade
	Manifest bool
	Priority uint64
}

// RequestBlock names a block (or, for Hash, a tree node) and how many
// proof nodes the requester is missing.
type RequestBlock struct{ Index, Nodes uint64 }

// RequestSeek asks for the block holding byte offset Bytes.
type RequestSeek struct{ Bytes, Padding uint64 }

// RequestUpgrade asks for a signed head covering [Start, Start+Length).
type RequestUpgrade struct{ Start, Length uint64 }

// Cancel withdraws request Request.
type Cancel struct{ Request uint64 }

// Data answers a Request.
type Data struct {
	Request, Fork uint64
	Block         *DataBlock
	Hash          *DataHash
	Seek          *DataSeek
	Upgrade       *DataUpgrade
	// Manifest is the raw encoded manifest (default-mode cores only; it is
	// the last field, so it is kept undecoded).
	Manifest []byte
}

// DataBlock is a block value with its proof path.
type DataBlock struct {
	Index uint64
	Value []byte
	Nodes []Node
}

// DataHash is a tree node's proof path.
type DataHash struct {
	Index uint64
	Nodes []Node
}

// DataSeek is the proof for a seek.
type DataSeek struct {
	Bytes uint64
	Nodes []Node
}

// DataUpgrade is a signed head: the nodes that take the requester from
// Start to Start+Length, then AdditionalNodes up to the signer's length.
type DataUpgrade struct {
	Start, Length   uint64
	Nodes           []Node
	AdditionalNodes []Node
	Signature       []byte
}

// NoData says a request cannot be answered.
type NoData struct{ Request, Reason uint64 }

// Want asks the peer to announce what it has in [Start, Start+Length).
type Want struct {
	Start, Length uint64
	Any           bool
}

// Unwant withdraws a Want.
type Unwant Want

// Bitfield announces held blocks from Start, 32 per word.
type Bitfield struct {
	Start uint64
	Words []uint32
}

// Range announces (or with Drop, retracts) a contiguous run of held blocks.
type Range struct {
	Drop          bool
	Start, Length uint64
}

// Extension is an application message; an empty Name means "the same as
// the last extension".
type Extension struct {
	Name    string
	Message []byte
}

func (*Sync) Type() uint64      { return TypeSync }
func (*Request) Type() uint64   { return TypeRequest }
func (*Cancel) Type() uint64    { return TypeCancel }
func (*Data) Type() uint64      { return TypeData }
func (*NoData) Type() uint64    { return TypeNoData }
func (*Want) Type() uint64      { return TypeWant }
func (*Unwant) Type() uint64    { return TypeUnwant }
func (*Bitfield) Type() uint64  { return TypeBitfield }
func (*Range) Type() uint64     { return TypeRange }
func (*Extension) Type() uint64 { return TypeExtension }
