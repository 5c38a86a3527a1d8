package trail

import (
	"context"
	crand "crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestKeyRotation: after a rotation the new key signs and the old one
// cosigns, so old checkpoints, transition checkpoints and new ones all
// verify, consistency holds across the rotation, the log records each key
// once, and an evidence package spanning the rotation verifies with the
// published keys; after the old key is retired (its public half kept) the
// same holds.
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	skey, _, err := note.GenerateKey(crand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := ParseKeyFile("# first key\n" + skey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	st := NewMemoryStore()
	open := func(k Keys) *Log {
		t.Helper()
		l, err := New(Config{Store: st, Origin: testOrigin, Signer: k.Signer, VerifierKey: k.Verifiers[0],
			Cosigners: k.Cosigners, OldVerifierKeys: k.Verifiers[1:]})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.RecordKey(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.RecordKey(ctx); err != nil { // once per key
			t.Fatal(err)
		}
		return l
	}
	subject := handle(7)
	l1 := open(k1)
	l1.Append(ctx, Event{Kind: KindVerificationStarted, Subject: subject, Ref: "vf1"})
	c1, _, err := l1.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}

	text, newKey, err := k1.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseKeyFile(text)
	if err != nil || k2.Verifiers[0] != newKey || len(k2.Cosigners) != 1 || k2.Verifiers[1] != k1.Verifiers[0] {
		t.Fatalf("rotated keys %+v, %v", k2.Verifiers, err)
	}
	l2 := open(k2)
	l2.Append(ctx, Event{Kind: KindVerificationSucceeded, Subject: subject, Ref: "vf1"})
	c2, _, err := l2.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := note.NewVerifier(k1.Verifiers[0])
	fresh, _ := note.NewVerifier(newKey)
	for name, vs := range map[string]note.Verifiers{"old key": note.VerifierList(old), "new key": note.VerifierList(fresh)} {
		if _, _, err := OpenCheckpoint(c2.Note, vs); err != nil {
			t.Errorf("the transition checkpoint with the %s: %v", name, err)
		}
	}
	if _, _, err := OpenCheckpoint(c1.Note, note.VerifierList(fresh)); err == nil {
		t.Fatal("a checkpoint signed before the rotation verified with the new key alone")
	}

	// Retire the old key: only its public half stays.
	retired := strings.Replace(text, k1.signerKeys[0], k1.Verifiers[0], 1)
	k3, err := ParseKeyFile(retired)
	if err != nil || len(k3.Cosigners) != 0 || len(k3.Verifiers) != 2 {
		t.Fatalf("retired keys %+v, %v", k3.Verifiers, err)
	}
	l3 := open(k3)
	l3.Append(ctx, Event{Kind: KindTrailRequest, Subject: subject})
	c3, _, err := l3.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenCheckpoint(c3.Note, note.VerifierList(old)); err == nil {
		t.Fatal("a checkpoint after retirement verified with the retired key")
	}
	cp1, _, _ := OpenCheckpoint(c1.Note, note.VerifierList(old))
	cp3, _, err := OpenCheckpoint(c3.Note, note.VerifierList(fresh))
	if err != nil {
		t.Fatal(err)
	}
	proof, err := l3.ConsistencyProof(ctx, cp1.Size, cp3.Size)
	if err != nil || tlog.CheckTree(proof, cp3.Size, cp3.Hash, cp1.Size, cp1.Hash) != nil {
		t.Fatalf("consistency across the rotation: %v", err)
	}
	// Two log.key entries, one per key, in the log.
	n, _ := st.TrailSize(ctx)
	entries, _ := st.TrailEntries(ctx, 0, n)
	keys := 0
	for _, d := range entries {
		if e, _ := ParseEntry(d); e.Kind == KindKeyRotation {
			keys++
		}
	}
	if keys != 2 {
		t.Fatalf("%d log.key entries, want 2", keys)
	}
	p, err := BuildPackage(ctx, l3, st, subject, PackageOptions{Keys: l3.VerifierKeys(), Purpose: "rotation test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyPackage(p, VerifyOptions{TrustedKeys: l3.VerifierKeys()}); err != nil {
		t.Fatalf("a package across a rotation: %v", err)
	}
}

// TestParseKeyFileRefuses: malformed key files stop the start.
func TestParseKeyFileRefuses(t *testing.T) {
	a, va, _ := note.GenerateKey(crand.Reader, testOrigin)
	b, _, _ := note.GenerateKey(crand.Reader, "other.test/trail")
	for name, text := range map[string]string{
		"empty":          "",
		"only comments":  "# nothing\n",
		"only public":    va + "\n",
		"garbage":        a + "\nnot a key\n",
		"two names":      a + "\n" + b + "\n",
		"the same twice": a + "\n" + a + "\n",
		"retired twice":  a + "\n" + va + "\n",
		"too long":       a + "\n" + strings.Repeat("#", MaxKeyFileBytes),
	} {
		if _, err := ParseKeyFile(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
