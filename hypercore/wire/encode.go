package wire

import "github.com/folio-p2p/folio/hypercore/cenc"

func bit(b bool, v uint64) uint64 {
	if b {
		return v
	}
	return 0
}

func appendNodes(dst []byte, nodes []Node) []byte {
	dst = cenc.AppendUint(dst, uint64(len(nodes)))
	for _, n := range nodes {
		dst = cenc.AppendUint(dst, n.Index)
		dst = cenc.AppendUint(dst, n.Size)
		dst = append(dst, n.Hash[:]...)
	}
	return dst
}

// Append encodes the handshake.
func (m *Handshake) Append(dst []byte) []byte {
	return append(cenc.AppendUint(dst, bit(m.Seeks, 1)), m.Capability[:]...)
}

func (m *Sync) Append(dst []byte) []byte {
	flags := bit(m.CanUpgrade, 1) | bit(m.Uploading, 2) | bit(m.Downloading, 4) | bit(m.HasManifest, 8) | bit(m.AllowPush, 16)
	dst = cenc.AppendUint(dst, flags)
	dst = cenc.AppendUint(dst, m.Fork)
	dst = cenc.AppendUint(dst, m.Length)
	return cenc.AppendUint(dst, m.RemoteLength)
}

func (m *Request) Append(dst []byte) []byte {
	flags := bit(m.Block != nil, 1) | bit(m.Hash != nil, 2) | bit(m.Seek != nil, 4) |
		bit(m.Upgrade != nil, 8) | bit(m.Manifest, 16) | bit(m.Priority != 0, 32)
	dst = cenc.AppendUint(dst, flags)
	dst = cenc.AppendUint(dst, m.ID)
	dst = cenc.AppendUint(dst, m.Fork)
	for _, b := range []*RequestBlock{m.Block, m.Hash} {
		if b != nil {
			dst = cenc.AppendUint(cenc.AppendUint(dst, b.Index), b.Nodes)
		}
	}
	if m.Seek != nil {
		dst = cenc.AppendUint(cenc.AppendUint(dst, m.Seek.Bytes), m.Seek.Padding)
	}
	if m.Upgrade != nil {
		dst = cenc.AppendUint(cenc.AppendUint(dst, m.Upgrade.Start), m.Upgrade.Length)
	}
	if m.Priority != 0 {
		dst = cenc.AppendUint(dst, m.Priority)
	}
	return dst
}

func (m *Cancel) Append(dst []byte) []byte { return cenc.AppendUint(dst, m.Request) }

func (m *Data) Append(dst []byte) []byte {
	flags := bit(m.Block != nil, 1) | bit(m.Hash != nil, 2) | bit(m.Seek != nil, 4) |
		bit(m.Upgrade != nil, 8) | bit(m.Manifest != nil, 16)
	dst = cenc.AppendUint(dst, flags)
	dst = cenc.AppendUint(dst, m.Request)
	dst = cenc.AppendUint(dst, m.Fork)
	if b := m.Block; b != nil {
		dst = cenc.AppendUint(dst, b.Index)
		dst = cenc.AppendBuffer(dst, b.Value)
		dst = appendNodes(dst, b.Nodes)
	}
	if h := m.Hash; h != nil {
		dst = appendNodes(cenc.AppendUint(dst, h.Index), h.Nodes)
	}
	if s := m.Seek; s != nil {
		dst = appendNodes(cenc.AppendUint(dst, s.Bytes), s.Nodes)
	}
	if u := m.Upgrade; u != nil {
		dst = cenc.AppendUint(dst, u.Start)
		dst = cenc.AppendUint(dst, u.Length)
		dst = appendNodes(dst, u.Nodes)
		dst = appendNodes(dst, u.AdditionalNodes)
		dst = cenc.AppendBuffer(dst, u.Signature)
	}
	return append(dst, m.Manifest...)
}

func (m *NoData) Append(dst []byte) []byte {
	dst = cenc.AppendUint(dst, m.Request)
	if m.Reason == 0 {
		return cenc.AppendUint(dst, 0)
	}
	return cenc.AppendUint(cenc.AppendUint(dst, 1), m.Reason)
}

func (m *Want) Append(dst []byte) []byte {
	dst = cenc.AppendUint(cenc.AppendUint(dst, m.Start), m.Length)
	if m.Any {
		dst = cenc.AppendUint(dst, 1)
	}
	return dst
}

func (m *Unwant) Append(dst []byte) []byte { return (*Want)(m).Append(dst) }

func (m *Bitfield) Append(dst []byte) []byte {
	return cenc.AppendUint32Array(cenc.AppendUint(dst, m.Start), m.Words)
}

func (m *Range) Append(dst []byte) []byte {
	dst = cenc.AppendUint(dst, bit(m.Drop, 1)|bit(m.Length == 1, 2))
	dst = cenc.AppendUint(dst, m.Start)
	if m.Length != 1 {
		dst = cenc.AppendUint(dst, m.Length)
	}
	return dst
}

func (m *Extension) Append(dst []byte) []byte {
	return append(cenc.AppendString(dst, m.Name), m.Message...)
}
