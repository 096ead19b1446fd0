package folio_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/folio-p2p/folio"

// forbidden lists, for each layer, the folio layers it must never import
// (directly or not): each layer imports only the layers below it.
var forbidden = map[string][]string{
	"book":         {"db", "db/peerstore", "io", "vault", "peer", "api", "devtools", "cli", "cmd"},
	"db":           {"db/peerstore", "io", "vault", "peer", "api", "devtools", "cli", "cmd"},
	"db/peerstore": {"io", "vault", "peer", "api", "devtools", "cli", "cmd"},
	"io":           {"db", "db/peerstore", "vault", "peer", "api", "devtools", "cli", "cmd"},
	"vault":        {"peer", "api", "devtools", "cli", "cmd"},
	"peer":         {"api", "devtools", "cli", "cmd"},
	"api":          {"devtools", "cli", "cmd"},
	"devtools":     {"demo", "bench", "lab", "cli", "cmd"},
	// The programs that drive peers sit above what they drive, beside
	// the inspector; none of them is a library for the others but demo's
	// rendering, which lab shares.
	"demo":  {"devtools", "bench", "lab", "cli", "cmd"},
	"bench": {"devtools", "demo", "lab", "cli", "cmd"},
	"lab":   {"devtools", "bench", "cli", "cmd"},
	"cli":   {"demo", "bench", "lab", "cmd"},
	// hypercore is the replicator that speaks hypercore's own wire
	// protocol beside db's: it stores through book, never above db.
	"hypercore": {"db/peerstore", "io", "vault", "peer", "api", "devtools", "demo", "bench", "lab", "cli", "cmd"},
}

// wireLayers are hypercore's wire layers, lowest first: standalone codecs
// and transports that import nothing of folio but the wire layers before
// them in this list.
var wireLayers = []string{"hypercore/cenc", "hypercore/noise", "hypercore/secretstream", "hypercore/protomux", "hypercore/wire", "hypercore/manifest"}

func init() {
	var folio []string
	for layer := range forbidden {
		folio = append(folio, layer)
	}
	for i, w := range wireLayers {
		forbidden[w] = append(append([]string(nil), folio...), wireLayers[i+1:]...)
	}
}

// layerOf returns the layer a folio package belongs to ("" if none).
func layerOf(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	best := ""
	for layer := range forbidden {
		if (rel == layer || strings.HasPrefix(rel, layer+"/")) && len(layer) > len(best) {
			best = layer
		}
	}
	if rel == "cmd" || strings.HasPrefix(rel, "cmd/") {
		return "cmd"
	}
	return best
}

func TestImportLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		layer := layerOf(p.ImportPath)
		if layer == "" || layer == "cmd" || !strings.HasPrefix(p.ImportPath, module) {
			continue
		}
		checked++
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			for _, bad := range forbidden[layer] {
				if l := layerOf(dep); l == bad {
					t.Errorf("%s (layer %s) imports %s (layer %s): DESIGN.md forbids it", p.ImportPath, layer, dep, bad)
				}
			}
		}
	}
	if checked < 2 {
		t.Fatalf("checked only %d folio packages; go list output looks wrong", checked)
	}
}

func TestLayerOf(t *testing.T) {
	for pkg, want := range map[string]string{
		module + "/book":              "book",
		module + "/db":                "db",
		module + "/db/peerstore":      "db/peerstore",
		module + "/db/peerstore/pb":   "db/peerstore",
		module + "/io":                "io",
		module + "/cmd/folio":         "cmd",
		module + "/devtools":          "devtools",
		module + "/demo":              "demo",
		module + "/bench":             "bench",
		module + "/lab":               "lab",
		module + "/internal/whatever": "",
		module + "/hypercore":         "hypercore",
		module + "/hypercore/cenc":    "hypercore/cenc",
	} {
		if got := layerOf(pkg); got != want {
			t.Errorf("layerOf(%s) = %q, want %q", pkg, got, want)
		}
	}
}
