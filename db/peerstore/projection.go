package peerstore

// projection is the deterministic core of the peerstore: the four books
// and the tracker, with no goroutine, clock of its own or storage. The
// Peerstore shell adds the journal, the events and the collector; tests
// fold pages into a bare projection.
type projection struct {
	t      *tracker
	addrs  *addrBook
	keys   *keyBook
	protos *protoBook
	meta   *metaBook
}

func newProjection(o *Options) *projection {
	t := newTracker(o.FlushChanges)
	return &projection{
		t:      t,
		addrs:  newAddrBook(o, t),
		keys:   newKeyBook(t),
		protos: newProtoBook(o.MaxProtocols, t),
		meta:   newMetaBook(o.MaxValueSize, t),
	}
}
