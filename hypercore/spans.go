package hypercore

// maxSpans bounds what a peer's range and bitfield messages can make us
// remember; past it, new spans are dropped (we just ask less).
const maxSpans = 1024

// spans is the set of pages a peer announced, as sorted disjoint runs.
type spans []span

type span struct{ start, end uint64 } // [start, end)

func (s spans) has(i uint64) bool {
	for _, r := range s {
		if r.start <= i && i < r.end {
			return true
		}
	}
	return false
}

// add records [start, start+length), or removes it when drop is set.
func (s *spans) add(start, length uint64, drop bool) {
	end := start + length
	if end < start {
		end = ^uint64(0)
	}
	var out spans
	for _, r := range *s {
		if r.end < start || r.start > end || drop && (r.end <= start || r.start >= end) {
			out = append(out, r)
			continue
		}
		if drop {
			if r.start < start {
				out = append(out, span{r.start, start})
			}
			if r.end > end {
				out = append(out, span{end, r.end})
			}
			continue
		}
		start, end = min(start, r.start), max(end, r.end)
	}
	if !drop && start < end && len(out) < maxSpans {
		out = append(out, span{start, end})
	}
	sortSpans(out)
	*s = out
}

// addBits records the set bits of a bitfield that starts at page start.
func (s *spans) addBits(start uint64, words []uint32) {
	for w, word := range words {
		for b := 0; b < 32; b++ {
			if word&(1<<b) != 0 {
				s.add(start+uint64(w*32+b), 1, false)
			}
		}
	}
}

func sortSpans(s spans) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
