//go:build unix

package db

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// TestReplKillHelper is the child process of TestKill9Replicated; it does
// nothing in a normal run. It holds an author DB and a receiver DB (the
// default ReplicatedSyncDelay) replicating over a pipe, appends synced
// batches to the author's book and prints, after each, the author's
// length and the receiver's.
func TestReplKillHelper(t *testing.T) {
	dir := os.Getenv("FOLIO_KILL_DIR")
	if os.Getenv(killHelperEnv) != "replicate" {
		t.Skip("helper process of TestKill9Replicated")
	}
	ctx := context.Background()
	fail := func(err error) {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	author, err := Open(dir+"/author", nil)
	if err != nil {
		fail(err)
	}
	ab, err := author.Book(ctx, "kill")
	if err != nil {
		fail(err)
	}
	recv, err := Open(dir+"/recv", nil)
	if err != nil {
		fail(err)
	}
	rb, err := recv.OpenKey(ctx, ab.Key())
	if err != nil {
		fail(err)
	}
	fmt.Printf("KEY %x\n", ab.Key())
	ca, cr := net.Pipe()
	keys := []ed25519.PublicKey{ab.Key()}
	if _, err := author.Replicate(ctx, ca, ReplicateOptions{LocalID: []byte("author"), RemoteID: []byte("recv"), Books: keys}); err != nil {
		fail(err)
	}
	if _, err := recv.Replicate(ctx, cr, ReplicateOptions{LocalID: []byte("recv"), RemoteID: []byte("author"), Books: keys}); err != nil {
		fail(err)
	}
	deadline := time.Now().Add(time.Minute) // in case the parent is gone
	for time.Now().Before(deadline) {
		n := ab.Length()
		pages := make([][]byte, killBatch(n))
		for i := range pages {
			pages[i] = killPage(n + uint64(i))
		}
		res, err := ab.Append(ctx, pages...)
		if err != nil {
			fail(err)
		}
		fmt.Printf("LEN %d RECV %d\n", res.Length, rb.Length()) // unbuffered: one write
		time.Sleep(200 * time.Microsecond)                      // pages arrive among the timed syncs
	}
	os.Exit(3)
}

// TestKill9Replicated: kill -9 of a process that replicates synced
// appends from an author DB to a receiver DB that syncs replicated pages
// only every ReplicatedSyncDelay. The author keeps every append it
// reported; the receiver reopens to a verified prefix of the author's
// book (audit clean), and catches up again.
func TestKill9Replicated(t *testing.T) {
	if os.Getenv(killHelperEnv) != "" {
		t.Skip("in the helper process")
	}
	dir := t.TempDir()
	cmd, sc := startKillChild(t, "TestReplKillHelper", "replicate", dir)
	want := 200 + int(time.Now().UnixNano()%400)
	var key ed25519.PublicKey
	var last, recvLen uint64
	lines := 0
	for lines < want && sc.Scan() {
		line := sc.Text()
		var k string
		if _, err := fmt.Sscanf(line, "KEY %s", &k); err == nil {
			if key, err = hex.DecodeString(k); err != nil || len(key) != ed25519.PublicKeySize {
				t.Fatalf("child printed %q", line)
			}
			continue
		}
		if _, err := fmt.Sscanf(line, "LEN %d RECV %d", &last, &recvLen); err != nil {
			t.Fatalf("child: %s", line)
		}
		lines++
	}
	if lines < want || key == nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child stopped after %d lengths: %v", lines, sc.Err())
	}
	killChild(t, cmd)
	author, ab := checkAfterKill(t, dir+"/author", last)
	recv := openTest(t, dir+"/recv", nil)
	rb := checkReplica(t, recv, key, ab.Length())
	held, err := rb.Contiguous(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the receiver had at least %d pages, reopened with length %d (%d held)", recvLen, rb.Length(), held)
	catchUp(t, author, recv, ab, rb)
}
