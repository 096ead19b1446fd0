package devtools

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/folio-p2p/folio/book"
)

// VerifyProblem is one thing verify found wrong: its kind (page, node,
// signature, head, missing, frozen), where (the page or node index; for
// the head and its signature, the length it was signed at) and what is
// wrong.
type VerifyProblem struct {
	Kind   string `json:"kind"`
	Index  uint64 `json:"index"`
	Detail string `json:"detail"`
}

// VerifyBook is one book's audit.
type VerifyBook struct {
	Title    string          `json:"title"`
	Key      string          `json:"key"`
	Length   uint64          `json:"length"`
	Pages    uint64          `json:"pages"` // page records checked
	Nodes    uint64          `json:"nodes"` // node records checked
	OK       bool            `json:"ok"`
	Problems []VerifyProblem `json:"problems"`
}

func (in *inspector) verify(args []string) int {
	fs := in.flags("Audit BOOKs (default: every book): re-hash every stored page and node,\ncheck the roots against the signed head and the head's signature.\nA progress bar goes to stderr when it is a terminal. Exit 1 naming each\nproblem: its kind (page, node, signature, head, missing, frozen) and index.")
	names, ok, code := in.parse(fs, args, 0, -1)
	if !ok {
		return code
	}
	var entries []*bookEntry
	if len(names) == 0 {
		all, err := in.catalogue()
		if err != nil {
			return in.fail("%v", err)
		}
		entries = all
	}
	for _, n := range names {
		e, err := in.resolve(n)
		if err != nil {
			return in.fail("%v", err)
		}
		entries = append(entries, e)
	}
	var total uint64
	for _, e := range entries {
		total += bookLength(e)
	}
	bar := newProgress(in.stderr, len(entries), total)
	var out []VerifyBook
	var pages uint64
	bad := 0
	for i, e := range entries {
		bar.show(i, pages, e.label())
		pages += bookLength(e)
		v, err := in.audit(e)
		if err != nil {
			bar.done()
			return in.fail("audit %s: %v", e.label(), err)
		}
		if !v.OK {
			bad++
		}
		out = append(out, v)
	}
	bar.done()
	if in.json {
		in.emit(struct {
			OK    bool         `json:"ok"`
			Books []VerifyBook `json:"books"`
		}{bad == 0, nonNil(out)})
	} else {
		in.printVerify(entries, out, bad)
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// audit runs book.Audit on e, or reports why e would not open.
func (in *inspector) audit(e *bookEntry) (VerifyBook, error) {
	v := VerifyBook{Title: e.title, Key: hex.EncodeToString(e.info.Key), Problems: []VerifyProblem{}}
	if e.b == nil {
		v.Problems = append(v.Problems, openProblem(e.err))
		return v, nil
	}
	v.Length = e.b.Length()
	rep, err := e.b.Audit(in.ctx)
	if err != nil {
		return v, err
	}
	v.Pages, v.Nodes = rep.Pages, rep.Nodes
	for _, p := range rep.Problems {
		v.Problems = append(v.Problems, VerifyProblem{Kind: string(p.Kind), Index: p.Index, Detail: p.Detail})
	}
	if e.b.Frozen() {
		v.Problems = append(v.Problems, VerifyProblem{Kind: "frozen", Index: v.Length, Detail: "frozen after equivocation: its author signed two different heads"})
	}
	v.OK = len(v.Problems) == 0
	return v, nil
}

// openProblem classifies why a book would not open: a stored head whose
// signature does not verify, or an unreadable head record.
func openProblem(err error) VerifyProblem {
	msg := err.Error()
	var length uint64
	if m := headLength.FindStringSubmatch(msg); m != nil {
		length, _ = strconv.ParseUint(m[1], 10, 64)
	}
	if strings.Contains(msg, "bad signature") {
		return VerifyProblem{Kind: string(book.ProblemSignature), Index: length, Detail: "the stored head's signature does not verify, so the book will not open: " + msg}
	}
	return VerifyProblem{Kind: string(book.ProblemHead), Index: length, Detail: "the book will not open: " + msg}
}

// headLength finds the length in book's errors about a head.
var headLength = regexp.MustCompile(`\(length ([0-9]+), fork [0-9]+\)`)

// problemText says what a problem is and where: a page or node index,
// or for the head and its signature the length it was signed at.
func problemText(p VerifyProblem) string {
	switch p.Kind {
	case string(book.ProblemSignature), string(book.ProblemHead), "frozen":
		return fmt.Sprintf("%s (head at length %d): %s", p.Kind, p.Index, p.Detail)
	}
	return fmt.Sprintf("%s %d: %s", p.Kind, p.Index, p.Detail)
}

func (in *inspector) printVerify(entries []*bookEntry, out []VerifyBook, bad int) {
	for i, v := range out {
		if v.OK {
			in.printf("ok    %s  (%d pages, %d page records, %d node records)\n", entries[i].label(), v.Length, v.Pages, v.Nodes)
			continue
		}
		in.printf("FAIL  %s  key %s\n", entries[i].label(), v.Key)
		for _, p := range v.Problems {
			in.printf("        %s\n", problemText(p))
		}
	}
	if bad == 0 {
		in.printf("\n%d books verified: every stored page, node and signature checks out\n", len(out))
		return
	}
	in.printf("\n%d of %d books have problems\n", bad, len(out))
}

func bookLength(e *bookEntry) uint64 {
	if e.b == nil {
		return 0
	}
	return e.b.Length()
}

// progress draws a bar on a terminal, in proportion to the pages of the
// books audited; on anything else it draws nothing.
type progress struct {
	w     io.Writer // nil when not a terminal
	books int
	pages uint64
}

func newProgress(w io.Writer, books int, pages uint64) *progress {
	if !isTerminal(w) || books == 0 {
		return &progress{}
	}
	return &progress{w: w, books: books, pages: pages}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// show draws the bar after books done books holding pages pages, while
// the book called what is audited.
func (p *progress) show(books int, pages uint64, what string) {
	if p.w == nil {
		return
	}
	const width = 30
	fill := books * width / p.books
	if p.pages > 0 {
		fill = int(pages * width / p.pages)
	}
	if r := []rune(what); len(r) > 40 {
		what = string(r[:39]) + "…"
	}
	fmt.Fprintf(p.w, "\r\x1b[Kverify [%s%s] %d/%d books, %d/%d pages: %s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		books, p.books, pages, p.pages, what)
}

func (p *progress) done() {
	if p.w != nil {
		fmt.Fprintf(p.w, "\r\x1b[K")
	}
}
