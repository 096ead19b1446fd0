package io

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Tests send packets to loopback only; multicast (mDNS) runs only inside
// a network namespace the test makes itself. inNetNS re-executes the
// test binary, running just the calling test, under `unshare --net`
// (with --map-root-user when not root); FOLIO_IO_NETNS marks that child
// and names the parent's namespace, so that the child can check it is
// elsewhere. The child brings lo up with multicast on and a route for
// 224.0.0.0/4, and makes sure lo is its only interface: nothing it sends
// can leave the machine, or even its namespace.
const netnsEnv = "FOLIO_IO_NETNS"

// netnsUnavailable starts the line a child logs when it cannot set its
// namespace up; the parent skips (or, under FOLIO_CI=1, fails) on it.
const netnsUnavailable = "netns unavailable:"

// netnsSetup is what the child runs in its namespace, in order.
var netnsSetup = [][]string{
	{"ip", "link", "set", "lo", "up"},
	{"ip", "link", "set", "lo", "multicast", "on"},
	{"ip", "route", "add", "224.0.0.0/4", "dev", "lo"},
}

// inNetNS returns true in the child, inside its own namespace, where the
// test goes on. In the parent it runs the child and returns false once
// the child passed; it fails the test if the child failed, and skips it
// with the reason when no namespace can be made.
func inNetNS(t *testing.T) bool {
	t.Helper()
	if parent := os.Getenv(netnsEnv); parent != "" {
		netnsChild(t, parent)
		return true
	}
	for _, tool := range []struct{ name, pkg string }{{"unshare", "util-linux"}, {"ip", "iproute2"}} {
		if _, err := exec.LookPath(tool.name); err != nil {
			netnsSkip(t, fmt.Sprintf("%s is not installed (Debian package %s)", tool.name, tool.pkg))
		}
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		netnsSkip(t, fmt.Sprintf("no network namespaces here: %v", err))
	}
	out, err := netnsRun(t, self)
	switch {
	case err == nil && strings.Contains(out, "--- PASS: "+t.Name()):
		t.Logf("in a network namespace of its own:\n%s", out)
		return false
	case strings.Contains(out, netnsUnavailable):
		line, _, _ := strings.Cut(out[strings.Index(out, netnsUnavailable):], "\n")
		netnsSkip(t, line)
	case !strings.Contains(out, "=== RUN"):
		// unshare itself failed: the test binary never started.
		netnsSkip(t, fmt.Sprintf("unshare --net: %v: %s", err, strings.TrimSpace(out)))
	}
	t.Fatalf("in its network namespace: %v\n%s", err, out)
	return false
}

// netnsRun runs the calling test alone in the child and returns what it
// printed.
func netnsRun(t *testing.T, parentNS string) (string, error) {
	args := []string{"--net"}
	if os.Geteuid() != 0 {
		args = append(args, "--map-root-user")
	}
	args = append(args, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	if f := flag.Lookup("test.timeout"); f != nil {
		args = append(args, "-test.timeout="+f.Value.String())
	}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"="+parentNS)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// netnsChild sets the child's namespace up, or stops the test.
func netnsChild(t *testing.T, parentNS string) {
	t.Helper()
	if self, err := os.Readlink("/proc/self/ns/net"); err != nil || self == parentNS {
		// Never multicast in the parent's namespace.
		t.Fatalf("not in a namespace of its own: %s (parent %s), %v", self, parentNS, err)
	}
	for _, c := range netnsSetup {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%s %s: %v: %s", netnsUnavailable, strings.Join(c, " "), err, bytes.TrimSpace(out))
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			t.Fatalf("the namespace has interface %s besides lo", i.Name)
		}
	}
}

// netnsSkip skips the test for reason, or fails it under FOLIO_CI=1
// (CI runs as root and installs iproute2 and util-linux).
func netnsSkip(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("FOLIO_CI") == "1" {
		t.Fatalf("no network namespace for the multicast test: %s", reason)
	}
	t.Skipf("no network namespace for the multicast test (it multicasts nowhere else): %s (FOLIO_CI=1 makes this a failure)", reason)
}

// TestNetNSUnavailable: where no namespace can be made, TestMDNS skips
// with the reason, or fails under FOLIO_CI=1; an unshare that does not
// unshare makes it fail. TestMDNS runs in a child process whose PATH
// holds only stand-ins for unshare and ip.
func TestNetNSUnavailable(t *testing.T) {
	for _, c := range []struct {
		name    string
		tools   map[string]string // stand-in scripts by name
		ci      bool
		verdict string // "SKIP" or "FAIL"
		reason  string
	}{
		{"no tools", nil, false, "SKIP", "unshare is not installed (Debian package util-linux)"},
		{"no tools in CI", nil, true, "FAIL", "unshare is not installed (Debian package util-linux)"},
		{"no ip", map[string]string{"unshare": "exit 1"}, false, "SKIP", "ip is not installed (Debian package iproute2)"},
		{"not permitted", map[string]string{
			"unshare": "echo 'unshare: unshare failed: Operation not permitted' >&2; exit 1",
			"ip":      "exit 1",
		}, false, "SKIP", "unshare failed: Operation not permitted"},
		{"not permitted in CI", map[string]string{
			"unshare": "echo 'unshare: unshare failed: Operation not permitted' >&2; exit 1",
			"ip":      "exit 1",
		}, true, "FAIL", "unshare failed: Operation not permitted"},
		{"ip refused", map[string]string{
			"unshare": `shift; [ "$1" = --map-root-user ] && shift; exec /usr/bin/env -u ` + netnsEnv + ` ` + netnsEnv + `=elsewhere "$@"`,
			"ip":      "echo 'RTNETLINK answers: Operation not permitted' >&2; exit 2",
		}, false, "SKIP", "netns unavailable: ip link set lo up: exit status 2: RTNETLINK answers: Operation not permitted"},
		// The child would stay in this namespace: it must refuse (and
		// has no ip, should that check ever fail).
		{"no unsharing", map[string]string{
			"unshare": `shift; [ "$1" = --map-root-user ] && shift; exec "$@"`,
			"ip":      "exit 1",
		}, false, "FAIL", "not in a namespace of its own"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := netnsRunFaked(t, c.tools, c.ci)
			if !strings.Contains(out, "--- "+c.verdict+": TestMDNS") || !strings.Contains(out, c.reason) {
				t.Fatalf("TestMDNS said\n%s\nwant %s with %q", out, c.verdict, c.reason)
			}
		})
	}
}

// netnsRunFaked runs TestMDNS in a child process whose PATH holds only
// the given stand-in scripts, and returns what it printed.
func netnsRunFaked(t *testing.T, tools map[string]string, ci bool) string {
	t.Helper()
	dir := t.TempDir()
	for name, script := range tools {
		if err := os.WriteFile(dir+"/"+name, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMDNS$", "-test.count=1", "-test.v")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "FOLIO_CI" && k != netnsEnv {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+dir)
	if ci {
		cmd.Env = append(cmd.Env, "FOLIO_CI=1")
	}
	out, _ := cmd.CombinedOutput()
	return string(out)
}
