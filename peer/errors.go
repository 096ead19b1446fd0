package peer

import "errors"

var (
	// ErrBadCode: an invite code that does not parse or fails its checksum.
	ErrBadCode = errors.New("peer: bad invite code")
	// ErrInviteRefused: the inviter refused the invite (used, revoked,
	// expired, or not its secret).
	ErrInviteRefused = errors.New("peer: invite refused")
	// ErrUnreachable: Join could not hand its book to the inviter in
	// Options.JoinAttempts attempts (the inviter offline, unreachable, or
	// too slow to answer); the error also wraps the last attempt's.
	ErrUnreachable = errors.New("peer: inviter unreachable")
	// ErrNoTask: no such task.
	ErrNoTask = errors.New("peer: no such task")
	// ErrNotAuthor: only a message's author may edit or delete it.
	ErrNotAuthor = errors.New("peer: not the author")
	// ErrNoMessage: no such message (yet).
	ErrNoMessage = errors.New("peer: no such message")
	// ErrClosed: the peer is closed.
	ErrClosed = errors.New("peer: closed")
	// ErrLeft: this peer left the task.
	ErrLeft = errors.New("peer: you left this task")
	// ErrInvalid: a bad argument (empty text, unknown message type).
	ErrInvalid = errors.New("peer: invalid argument")
	// ErrLagged: a subscriber fell more than Options.MaxLag messages
	// behind; its subscription ended (resume with SubscribeAfter).
	ErrLagged = errors.New("peer: subscriber lagged behind")
	// ErrKeyReused: an idempotency key already named a different message.
	ErrKeyReused = errors.New("peer: idempotency key already used for a different message")
)

// Why a page shows as undecodable in a timeline.
var (
	errUndecodable = errors.New("peer: page is not a message envelope")
	errForged      = errors.New("peer: envelope names another author or index")
	errClock       = errors.New("peer: envelope clock goes backwards")
)

// Why the gate refuses an introduction. The text goes to the introducer
// (ErrInviteRefused wraps it there), so it carries no package prefix.
var (
	errNotReady      = errors.New("not ready")
	errInviteRevoked = errors.New("the invite was revoked")
	errInviteUsed    = errors.New("the invite was already used")
	errInviteExpired = errors.New("the invite has expired")
	errNoInvite      = errors.New("no such invite (wrong secret or task)")
	errNotMember     = errors.New("not a member of this task here (yet)")
	errNotIntro      = errors.New("not a messenger introduction")
)
