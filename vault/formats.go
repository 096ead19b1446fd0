package vault

// The names of the books a vault keeps for itself, for tools that look
// inside a vault (the inspector) without re-deriving them.
const (
	// ProfileBookName is the profile book's name: its pages are pb.Profile.
	ProfileBookName = profileName
	// PeerstoreBookName is the peerstore journal's name (db/peerstore's
	// pages).
	PeerstoreBookName = PrivatePrefix + "peerstore"
)
