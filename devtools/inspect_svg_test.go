package devtools

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTreeSVG draws the trees of a fully held book and of a sparse one,
// checks that each is well-formed XML whose root is an <svg> element with
// a node group per tree node, and renders each with a real SVG renderer,
// rsvg-convert (Debian's librsvg2-bin). Without rsvg-convert the render
// is skipped, unless FOLIO_CI=1, where it fails.
func TestTreeSVG(t *testing.T) {
	dir := t.TempDir()
	v := buildTestVault(t, dir)
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		if os.Getenv("FOLIO_CI") == "1" {
			t.Fatalf("rsvg-convert is not installed (FOLIO_CI=1): apt-get install librsvg2-bin")
		}
		t.Logf("rsvg-convert not found: SVGs are checked as XML only (apt-get install librsvg2-bin to render them)")
	}
	for _, c := range []struct {
		book  string
		nodes int
	}{{"notes", 11}, {v.titles["bob-ana"], 18}} {
		out, errOut, code := runDevtools(t, []string{"--dir", dir, "tree", c.book, "--format", "svg"})
		if code != 0 {
			t.Fatalf("tree %s: exit %d: %s", c.book, code, errOut)
		}
		if groups := checkSVG(t, out); groups != c.nodes {
			t.Errorf("tree %s: %d node groups, want %d", c.book, groups, c.nodes)
		}
		if rsvg == "" {
			continue
		}
		in := filepath.Join(t.TempDir(), "tree.svg")
		png := strings.TrimSuffix(in, ".svg") + ".png"
		if err := os.WriteFile(in, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(rsvg, "--format", "png", "--output", png, in).CombinedOutput(); err != nil {
			t.Fatalf("rsvg-convert %s: %v\n%s", c.book, err, msg)
		}
		img, err := os.ReadFile(png)
		if err != nil || !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) || len(img) < 1000 {
			t.Fatalf("rsvg-convert %s made no PNG (%d bytes, %v)", c.book, len(img), err)
		}
	}
}

// checkSVG decodes doc as XML and returns the number of node groups
// (<g id="node-…">) under its <svg> root.
func checkSVG(t *testing.T, doc string) int {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	depth, groups := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (el.Name.Local != "svg" || el.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", el.Name)
			}
			for _, a := range el.Attr {
				if el.Name.Local == "g" && a.Name.Local == "id" && strings.HasPrefix(a.Value, "node-") {
					groups++
				}
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Fatalf("SVG ends with %d elements open", depth)
	}
	return groups
}
