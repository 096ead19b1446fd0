package devtools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestInspectGolden runs every inspector command on the vault
// buildTestVault writes, from disk (no peer runs on it), and compares the
// output with testdata/inspect. Rewrite it with
//
//	go test ./devtools -run TestInspectGolden -rewrite
//
// Each case is `run` with the arguments after `folio devtools --dir
// $DIR` as input; the output is stdout, then stderr and the exit code
// when there are any. Only Pebble's own figures (sizes, cache hits),
// which vary from run to run, are masked.
func TestInspectGolden(t *testing.T) {
	dir := t.TempDir()
	v := buildTestVault(t, dir)
	datadriven.RunTest(t, "testdata/inspect", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "run" {
			d.Fatalf(t, "unknown command %q", d.Cmd)
		}
		args := strings.Fields(v.expand(d.Input))
		out, errOut, code := runDevtools(t, append([]string{"--dir", dir}, args...))
		res := out
		if errOut != "" {
			res += "stderr: " + errOut
		}
		if code != 0 {
			res += fmt.Sprintf("exit %d\n", code)
		}
		res = strings.ReplaceAll(res, dir, "$DIR")
		if len(args) > 0 && args[0] == "stats" {
			res = maskStats(t, res)
		}
		return res
	})
}

// expand replaces $ANA_BOB and $BOB_ANA by the pair books' titles.
func (v *testVault) expand(s string) string {
	return strings.NewReplacer("$ANA_BOB", v.titles["ana-bob"], "$BOB_ANA", v.titles["bob-ana"]).Replace(s)
}

func runDevtools(t *testing.T, args []string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = DevtoolsCommand(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

var digits = regexp.MustCompile(`[0-9]+`)

// maskStats hides the figures of stats that depend on Pebble's state.
func maskStats(t *testing.T, s string) string {
	if strings.HasPrefix(s, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("stats --json: %v\n%s", err, s)
		}
		m["disk_usage"], m["pebble"] = "VARIES", "VARIES"
		b, _ := json.MarshalIndent(m, "", "  ")
		return string(b) + "\n"
	}
	lines := strings.Split(s, "\n")
	masking := false
	for i, l := range lines {
		masking = masking || l == "pebble"
		if masking || strings.Contains(l, "disk usage") {
			lines[i] = digits.ReplaceAllString(l, "N")
		}
	}
	return strings.Join(lines, "\n")
}
