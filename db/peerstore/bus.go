package peerstore

import (
	"reflect"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
)

// Events are built only when someone may receive them. With the default
// bus (a new one, reached only through Peerstore.EventBus) the peerstore
// sees every subscription, so it knows which of its events have
// subscribers and skips building the others: no previous-value copies, no
// allocations, on the write path. With a bus given in Options, which
// others may subscribe to directly, every event is built and emitted.

// evKind is a bit per event type.
type evKind uint32

const (
	evAdded evKind = 1 << iota
	evAddrs
	evProtos
	evKey
	evMeta
	evAll = evAdded | evAddrs | evProtos | evKey | evMeta
)

var evTypes = map[reflect.Type]evKind{
	reflect.TypeFor[EvtPeerAdded]():        evAdded,
	reflect.TypeFor[EvtAddrsChanged]():     evAddrs,
	reflect.TypeFor[EvtProtocolsChanged](): evProtos,
	reflect.TypeFor[EvtPubKeyLearned]():    evKey,
	reflect.TypeFor[EvtMetadataChanged]():  evMeta,
}

// wants reports whether events of kind k have (or may have) subscribers.
func (t *tracker) wants(k evKind) bool { return evKind(t.want.Load())&k != 0 }

// watchedBus is the default bus, counting the subscriptions to the
// peerstore's events.
type watchedBus struct {
	event.Bus
	t      *tracker
	mu     sync.Mutex
	counts map[evKind]int
}

func newWatchedBus(bus event.Bus, t *tracker) *watchedBus {
	return &watchedBus{Bus: bus, t: t, counts: make(map[evKind]int)}
}

// Subscribe subscribes on the bus, turning the events on first.
func (w *watchedBus) Subscribe(eventType any, opts ...event.SubscriptionOpt) (event.Subscription, error) {
	kinds := kindsOf(eventType)
	w.count(kinds, 1)
	sub, err := w.Bus.Subscribe(eventType, opts...)
	if err != nil || kinds == 0 {
		w.count(kinds, -1)
		return sub, err
	}
	return &watchedSub{Subscription: sub, w: w, kinds: kinds}, nil
}

func (w *watchedBus) count(kinds evKind, delta int) {
	if kinds == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var want evKind
	for k := evAdded; k <= evMeta; k <<= 1 {
		if kinds&k != 0 {
			w.counts[k] += delta
		}
		if w.counts[k] > 0 {
			want |= k
		}
	}
	w.t.want.Store(uint32(want))
}

// kindsOf returns the peerstore events a Subscribe argument names.
func kindsOf(eventType any) evKind {
	if eventType == event.WildcardSubscription {
		return evAll
	}
	if list, ok := eventType.([]any); ok {
		var k evKind
		for _, e := range list {
			k |= kindsOf(e)
		}
		return k
	}
	if t := reflect.TypeOf(eventType); t != nil && t.Kind() == reflect.Pointer {
		return evTypes[t.Elem()]
	}
	return 0
}

type watchedSub struct {
	event.Subscription
	w     *watchedBus
	kinds evKind
	once  sync.Once
}

func (s *watchedSub) Close() error {
	s.once.Do(func() { s.w.count(s.kinds, -1) })
	return s.Subscription.Close()
}
