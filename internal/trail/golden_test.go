package trail

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// update rewrites the golden files: go test ./internal/trail -run TestGolden -update
// (scripts/trail-golden.sh).
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	goldenOrigin  = "realname.example/trail"
	goldenPhrase  = "realname trail golden log, not a secret"
	goldenSubject = "h_00000000000000000000000000000003"
)

// goldenLog builds the fixed 100-entry log: a key derived from a fixed
// phrase, fixed times, and checkpoints at sizes 10, 37, 64 and 100.
func goldenLog(t testing.TB) (*Log, *MemoryStore, string) {
	t.Helper()
	ctx := context.Background()
	s, vkey := seededKey(t, goldenOrigin, goldenPhrase)
	st := NewMemoryStore()
	l, err := New(Config{Store: st, Origin: goldenOrigin, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{KindVerificationStarted, KindVerificationSucceeded, KindVerificationFailed, KindDisclosure,
		KindDeposit, KindTrailRequest}
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for i := range 100 {
		ev := Event{Kind: kinds[i%len(kinds)], Subject: fmt.Sprintf("h_%032x", (i*7)%9), Ref: fmt.Sprintf("cert-%03d", i),
			Time: base.Add(time.Duration(i) * 1500 * time.Millisecond)}
		switch {
		case i%10 == 9:
			ev = Event{Kind: KindKeyRotation, Ref: fmt.Sprintf("key-%d", i/10), Time: ev.Time}
		case i%4 == 1:
			ev.Attrs = map[string]string{"provider": "sandbox", "outcome": fmt.Sprint(i % 3)}
		}
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
		switch i + 1 {
		case 10, 37, 64, 100:
			if _, _, err := l.PublishCheckpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	return l, st, vkey
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what the code produces now: the entry encoding, hashing or package format changed", path)
	}
}

// TestGoldenLog: the current code rebuilds the golden log's entries and
// checkpoint byte for byte.
func TestGoldenLog(t *testing.T) {
	ctx := context.Background()
	_, st, _ := goldenLog(t)
	entries, err := st.TrailEntries(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, e := range entries {
		b.Write(e)
		b.WriteByte('\n')
	}
	golden(t, "golden-log/entries.jsonl", b.Bytes())
	cp, err := st.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "golden-log/checkpoint", cp.Note)

	// The committed files agree with each other: every line is a
	// canonical entry, and the tree of their leaf hashes has the root
	// that the checkpoint signs with the golden key.
	data, err := os.ReadFile(filepath.Join("testdata", "golden-log", "entries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join("testdata", "golden-log", "key"))
	if err != nil {
		t.Fatal(err)
	}
	note, err := os.ReadFile(filepath.Join("testdata", "golden-log", "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := OpenCheckpoint(note, notes(t, strings.TrimSpace(string(key))))
	if err != nil {
		t.Fatal(err)
	}
	tree := &edge{hashes: map[int64]tlog.Hash{}}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if _, err := ParseEntry(line); err != nil {
			t.Fatalf("golden entry %d: %v", i, err)
		}
		if _, err := tree.add(LeafHash(line)); err != nil {
			t.Fatal(err)
		}
	}
	if root, err := tree.root(); err != nil || tree.size != c.Size || root != c.Hash {
		t.Fatalf("golden entries make a tree of size %d, root %x; the checkpoint says %d, %x", tree.size, root, c.Size, c.Hash)
	}
}

func notes(t *testing.T, vkey string) note.Verifiers {
	return note.VerifierList(mustVerifier(t, vkey))
}

// TestGoldenPackage: the committed golden package verifies with the
// golden key, and the current code rebuilds it byte for byte.
func TestGoldenPackage(t *testing.T) {
	l, st, vkey := goldenLog(t)
	p, err := BuildPackage(context.Background(), l, st, goldenSubject, PackageOptions{Keys: []string{vkey},
		Purpose: "golden test package", RequestedBy: "realname tests", Created: time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "golden-package.json", b)
	golden(t, "golden-log/key", []byte(vkey+"\n"))

	committed, err := os.ReadFile(filepath.Join("testdata", "golden-package.json"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ParsePackage(committed)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := VerifyPackage(cp, VerifyOptions{TrustedKeys: []string{vkey}}); err != nil {
		t.Fatalf("%v\n%+v", err, r)
	}
}
