package book

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// A batch is prepared for the length it expects to start at, off the
// book's lock: its leaves hashed, the parents of the whole subtrees inside
// it computed, and its page records and those parents' node records written
// into a Pebble batch. Under the lock only the parents joining it to the
// head's roots, the head, its signature and the commit remain.
//
// Large batches are cut into chunks of prepChunk pages, aligned on
// multiples of prepChunk in the book so that each chunk's subtrees are the
// tree's own. Chunks are hashed (with their inner parents) on every core,
// and the calling goroutine writes each chunk's page and node records as
// soon as it is hashed, in order, hashing chunks itself while none is
// ready: the copying into the batch overlaps the hashing instead of
// following it. A chunk's inner parents are final (a whole subtree never
// changes), so they are written with its pages rather than gathered for
// the commit: no batch-sized slice of nodes is allocated and copied.

// prepChunk is the pages in a chunk: a power of two, so that a full
// chunk is one subtree.
const prepChunk = 64

// parallelHashBytes is the batch size above which chunks are hashed on
// every core.
const parallelHashBytes = 256 << 10

// prepared is a batch of pages ready to commit at length start.
type prepared struct {
	start  uint64
	pages  [][]byte
	leaves []Node // with their indices at start
	tops   []Node // the batch's largest whole subtrees, left to right
	// parents: the inner parents of a batch prepared as one chunk (every
	// append of up to prepChunk pages), kept for its pushes (recent.go);
	// nil for a batch prepared in chunks.
	parents []Node
	batch   *pebble.Batch
	// Room for a small batch's leaf and tops, so that a single-page
	// append allocates neither.
	leafBuf [1]Node
	topBuf  [2]Node
}

// chunkWork is one chunk's part of a prepared batch.
type chunkWork struct {
	lo, hi  int // pages[lo:hi]
	parents []Node
	tops    []Node
	done    chan struct{}
}

// prepare hashes pages, computes their inner parents and writes their page
// records and those parents into a new batch (sized for the parents still
// to come), for an append at length start.
func (b *Book) prepare(start uint64, pages [][]byte) *prepared {
	return prepareWith(b.pdb, b.keys, start, pages, parallelHashBytes, runtime.GOMAXPROCS(0))
}

func prepareWith(pdb *pebble.DB, k keys, start uint64, pages [][]byte, parallelBytes, workers int) *prepared {
	p := &prepared{start: start, pages: pages}
	if len(pages) <= len(p.leafBuf) {
		p.leaves = p.leafBuf[:len(pages)]
	} else {
		p.leaves = make([]Node, len(pages))
	}
	// A batch of n pages adds fewer than n+64 parents; sized now so that
	// the batch never grows (and copies itself) while records are added.
	p.batch = pdb.NewBatchWithSize(batchSize(pages, len(pages)+maxRoots), pebble.WithMaxRetainedSizeBytes(batchRetain))
	total := 0
	for _, pg := range pages {
		total += len(pg)
	}
	if total < parallelBytes || workers < 2 || len(pages) <= prepChunk {
		// One goroutine: the whole batch is one chunk, whose inner
		// nodes are those of every chunk and the ones joining them.
		c := chunkWork{hi: len(pages), tops: p.topBuf[:0]}
		p.hashChunk(&c)
		p.writeChunk(k, &c)
		p.tops, p.parents = c.tops, c.parents
		return p
	}
	chunks := p.chunks()
	for i := range chunks {
		chunks[i].done = make(chan struct{})
	}
	var next atomic.Int64 // the next chunk nobody has claimed
	claim := func() bool {
		i := int(next.Add(1) - 1)
		if i >= len(chunks) {
			return false
		}
		p.hashChunk(&chunks[i])
		close(chunks[i].done)
		return true
	}
	var wg sync.WaitGroup
	for range min(workers, len(chunks)) - 1 {
		wg.Go(func() {
			for claim() {
			}
		})
	}
	for i := range chunks {
		for !closed(chunks[i].done) && claim() {
		}
		<-chunks[i].done
		p.writeChunk(k, &chunks[i])
	}
	wg.Wait()
	return p.gather(chunks)
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// chunks cuts the batch at multiples of prepChunk in the book.
func (p *prepared) chunks() []chunkWork {
	out := make([]chunkWork, 0, len(p.pages)/prepChunk+2)
	for lo := 0; lo < len(p.pages); {
		pos := p.start + uint64(lo)
		hi := min(len(p.pages), lo+int(prepChunk-pos%prepChunk))
		out = append(out, chunkWork{lo: lo, hi: hi})
		lo = hi
	}
	return out
}

// hashChunk hashes a chunk's leaves and builds its inner parents: a node
// joins the one before it when they are siblings, as in grow, but a chunk
// starts with no roots, so only nodes wholly inside it are made.
func (p *prepared) hashChunk(c *chunkWork) {
	stack := c.tops // the subtrees so far; what is left are the tops
	if stack == nil {
		stack = make([]Node, 0, 8)
	}
	if c.hi-c.lo > 1 {
		c.parents = make([]Node, 0, c.hi-c.lo-1)
	}
	for i := c.lo; i < c.hi; i++ {
		n := Node{Index: 2 * (p.start + uint64(i)), Size: uint64(len(p.pages[i])), Hash: LeafHash(p.pages[i])}
		p.leaves[i] = n
		for len(stack) > 0 && sibling(stack[len(stack)-1].Index) == n.Index {
			n = parentNode(stack[len(stack)-1], n)
			stack = stack[:len(stack)-1]
			c.parents = append(c.parents, n)
		}
		stack = append(stack, n)
	}
	c.tops = stack
	// Made in post-order (1, 5, 3, ...), written in key order: the
	// memtable insert then finds each node's place from the last one
	// instead of searching the skiplist from the top at every step back.
	slices.SortFunc(c.parents, func(a, b Node) int { return cmp.Compare(a.Index, b.Index) })
}

// writeChunk writes a hashed chunk's page records and its inner parents
// (in ascending order: a chunk's nodes lie between its first and last
// page's, so the batch's node records ascend from chunk to chunk).
func (p *prepared) writeChunk(k keys, c *chunkWork) {
	for i := c.lo; i < c.hi; i++ {
		putPage(p.batch, k, p.start+uint64(i), p.leaves[i].Hash, p.pages[i])
	}
	for _, n := range c.parents {
		putNode(p.batch, k, n)
	}
}

// gather collects the chunks' tops (a few per chunk).
func (p *prepared) gather(chunks []chunkWork) *prepared {
	p.tops = make([]Node, 0, len(chunks)+12) // a partial chunk at either end has up to 6
	for _, c := range chunks {
		p.tops = append(p.tops, c.tops...)
	}
	return p
}

// close releases the batch (back to Pebble's pool).
func (p *prepared) close() { p.batch.Close() }

// size is about what committing p writes: its batch so far (pages and
// inner parents; the joining parents and the head come later).
func (p *prepared) size() int { return p.batch.Len() }

// mergeTops returns the unsigned head after appending a batch of n pages
// whose largest whole subtrees are tops, and the parents that join them to
// h's roots. A leaf is a subtree of one page: grow is mergeTops of the
// leaves.
func mergeTops(h *Head, tops []Node, n uint64) (*Head, []Node) {
	roots := append(make([]Node, 0, len(h.Roots)+len(tops)), h.Roots...)
	// Each top adds one root and each parent removes one, so there are
	// at most len(tops)+len(h.Roots) parents: sized once, never regrown.
	parents := make([]Node, 0, len(tops)+len(h.Roots))
	byteLength := h.ByteLength
	for _, t := range tops {
		byteLength += t.Size
		for len(roots) > 0 && depth(roots[len(roots)-1].Index) == depth(t.Index) {
			t = parentNode(roots[len(roots)-1], t)
			roots = roots[:len(roots)-1]
			parents = append(parents, t)
		}
		roots = append(roots, t)
	}
	nh := &Head{Fork: h.Fork, Length: h.Length + n, ByteLength: byteLength, Roots: roots}
	nh.TreeHash = TreeHash(roots)
	return nh, parents
}
