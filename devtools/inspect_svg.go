package devtools

import (
	"encoding/xml"
	"fmt"
	"github.com/folio-p2p/folio/book"
	"io"
	"strings"
)

// The SVG picture of a tree, drawn without any graph library: flat-tree
// order is already an in-order layout, so node i sits in column i (leaves
// in the even columns, each parent midway between its children) and in
// the row of its depth, roots on top.
const (
	svgColumn = 40 // width of one flat-tree column
	svgRow    = 80 // height of one depth row
	svgBoxW   = 74 // node box
	svgBoxH   = 56
	svgMargin = 20
	svgHeader = 64 // room for the caption
	svgFooter = 40 // room for the legend
)

// svgStyle is how each node state is drawn: fill, stroke, dash, text.
var svgStyle = map[string][4]string{
	nodeStored:   {"#b7e1a1", "#3b7a23", "", "#000000"},
	nodeHashOnly: {"#fff3b0", "#9a8500", "", "#000000"},
	nodeMissing:  {"#ffffff", "#999999", "4 3", "#777777"},
}

// writeSVG draws the tree as a standalone SVG document.
func writeSVG(w io.Writer, t *TreeInfo, title string) {
	lo, hi, top := t.Nodes[0].Index, t.Nodes[0].Index, uint64(0)
	for _, n := range t.Nodes {
		lo, hi, top = min(lo, n.Index), max(hi, n.Index), max(top, n.Depth)
	}
	x := func(i uint64) int { return svgMargin + svgBoxW/2 + int(i-lo)*svgColumn }
	y := func(d uint64) int { return svgHeader + int(top-d)*svgRow }
	width := 2*svgMargin + svgBoxW + int(hi-lo)*svgColumn
	capHead, capBody := treeCaption(t, title)
	width = max(width, 640, 2*svgMargin+8*max(len([]rune(capHead)), len([]rune(capBody))))
	height := svgHeader + int(top)*svgRow + svgBoxH + svgFooter + svgMargin
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(w, "<title>%s</title>\n", svgText("Merkle tree of book "+title))
	fmt.Fprintf(w, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(w, `<text x="%d" y="22" font-size="13">%s</text>`+"\n", svgMargin, svgText(capHead))
	fmt.Fprintf(w, `<text x="%d" y="40">%s</text>`+"\n", svgMargin, svgText(capBody))
	drawn := map[uint64]bool{}
	for _, n := range t.Nodes {
		drawn[n.Index] = true
	}
	fmt.Fprintf(w, `<g stroke="#555555" stroke-width="1.5">`+"\n")
	for _, n := range t.Nodes {
		l, r, ok := book.NodeChildren(n.Index)
		for _, c := range []uint64{l, r} {
			if ok && drawn[c] {
				fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x(n.Index), y(n.Depth)+svgBoxH, x(c), y(book.NodeDepth(c)))
			}
		}
	}
	fmt.Fprintf(w, "</g>\n")
	for _, n := range t.Nodes {
		svgNode(w, n, x(n.Index)-svgBoxW/2, y(n.Depth))
	}
	svgLegend(w, height-svgFooter+8)
	fmt.Fprintf(w, "</svg>\n")
}

// svgNode draws one node's box and caption at (left, top).
func svgNode(w io.Writer, n TreeNode, left, top int) {
	st := svgStyle[n.State]
	stroke := "1.5"
	if n.Root {
		stroke = "4"
	}
	dash := ""
	if st[2] != "" {
		dash = fmt.Sprintf(` stroke-dasharray="%s"`, st[2])
	}
	fmt.Fprintf(w, `<g id="node-%d">`+"\n", n.Index)
	tip := fmt.Sprintf("node %d (%s%s): pages %d-%d", n.Index, n.State, map[bool]string{true: ", root", false: ""}[n.Root], n.FirstPage, n.LastPage)
	if n.Hash != "" {
		tip += fmt.Sprintf(", %d bytes, hash %s", n.Size, n.Hash)
	}
	fmt.Fprintf(w, "<title>%s</title>\n", svgText(tip))
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="%s" stroke="%s" stroke-width="%s"%s/>`+"\n",
		left, top, svgBoxW, svgBoxH, st[0], st[1], stroke, dash)
	for i, line := range n.label() {
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n", left+svgBoxW/2, top+14+i*13, st[3], svgText(line))
	}
	fmt.Fprintf(w, "</g>\n")
}

// svgLegend explains the colours in one row at y.
func svgLegend(w io.Writer, y int) {
	x := svgMargin
	for _, item := range []struct{ state, text string }{
		{nodeStored, "stored here"},
		{nodeHashOnly, "hash only (page not held)"},
		{nodeMissing, "missing here"},
	} {
		st := svgStyle[item.state]
		dash := ""
		if st[2] != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, st[2])
		}
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="16" height="12" rx="3" fill="%s" stroke="%s"%s/>`+"\n", x, y, st[0], st[1], dash)
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", x+22, y+10, svgText(item.text))
		x += 40 + 8*len(item.text)
	}
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="16" height="12" rx="3" fill="#ffffff" stroke="#000000" stroke-width="4"/>`+"\n", x, y)
	fmt.Fprintf(w, `<text x="%d" y="%d">root (signed in the head)</text>`+"\n", x+22, y+10)
}

// svgText escapes s for XML character data.
func svgText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
