package book

// EventListener holds callbacks for a book's events. Every field may be nil.
// Callbacks run synchronously on the goroutine that caused the event, after
// the change is durable; they must be quick and must not call back into the
// book's write methods.
type EventListener struct {
	// Appended: the book grew to info.Length (local append or verified
	// replicated pages and heads).
	Appended func(AppendInfo)
	// Truncated: the book was truncated to info.Length in a new fork.
	Truncated func(TruncateInfo)
	// VerificationFailed: a proof or head from elsewhere did not verify;
	// nothing was stored.
	VerificationFailed func(VerifyFailure)
	// Equivocation: two valid signed heads disagree; the book is frozen.
	Equivocation func(EquivocationInfo)
	// Corruption: stored data failed a check on read or audit.
	Corruption func(CorruptionInfo)
}

// AppendInfo describes an append.
type AppendInfo struct {
	Book       string
	Fork       uint64
	Start      uint64 // length before
	Length     uint64 // length after
	ByteLength uint64
	Local      bool // appended by this author rather than received
}

// TruncateInfo describes a truncate or a fork received from the author.
type TruncateInfo struct {
	Book   string
	Fork   uint64
	Length uint64
}

// VerifyFailure describes a rejected proof.
type VerifyFailure struct {
	Book string
	Err  error
}

// EquivocationInfo carries the two conflicting signed heads: the evidence.
type EquivocationInfo struct {
	Book   string
	Stored *Head
	Other  *Head
}

// CorruptionInfo describes stored data that failed a check.
type CorruptionInfo struct {
	Book string
	Err  error
}

func (l *EventListener) appended(i AppendInfo) {
	if l.Appended != nil {
		l.Appended(i)
	}
}

func (l *EventListener) truncated(i TruncateInfo) {
	if l.Truncated != nil {
		l.Truncated(i)
	}
}

func (l *EventListener) verificationFailed(i VerifyFailure) {
	if l.VerificationFailed != nil {
		l.VerificationFailed(i)
	}
}

func (l *EventListener) equivocation(i EquivocationInfo) {
	if l.Equivocation != nil {
		l.Equivocation(i)
	}
}

func (l *EventListener) corruption(i CorruptionInfo) {
	if l.Corruption != nil {
		l.Corruption(i)
	}
}
