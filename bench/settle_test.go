package bench

import (
	"runtime/metrics"
	"testing"
)

// TestSettle: settle collects the garbage (one GC cycle at least) and
// waits no longer than its cap (plus the window it was in).
func TestSettle(t *testing.T) {
	cycles := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := cycles()
	waited := settle()
	if got := cycles() - before; got < 1 {
		t.Errorf("settle ran %d GC cycles, want at least 1", got)
	}
	if waited > settleMax+settleWindow+settleWindow/2 {
		t.Errorf("settle waited %v, more than its cap %v and one window", waited, settleMax)
	}
}
