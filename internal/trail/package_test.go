package trail

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// seededKey derives a note signer and its verifier key from a seed
// phrase, so that tests and golden files are deterministic. It writes the
// private key string as sumdb/note does:
// "PRIVATE+KEY+name+hash+base64(0x01 ‖ ed25519 seed)".
func seededKey(t testing.TB, name, phrase string) (note.Signer, string) {
	t.Helper()
	seed := sha256.Sum256([]byte(phrase))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(vkey, "+") // name, hash, key
	skey := "PRIVATE+KEY+" + name + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed[:]...))
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// history is a log built for package tests.
type history struct {
	log  *Log
	st   *MemoryStore
	vkey string
}

// buildHistory appends n entries about subjects handle(0…subjects-1), in
// batches of random size, publishing a checkpoint after some batches.
func buildHistory(t testing.TB, rng *rand.Rand, n, subjects int, phrase string) history {
	t.Helper()
	ctx := context.Background()
	s, vkey := seededKey(t, testOrigin, phrase)
	st := NewMemoryStore()
	l, err := New(Config{Store: st, Origin: testOrigin, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{KindVerificationStarted, KindVerificationSucceeded, KindDisclosure, KindDeposit}
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		k := min(1+rng.IntN(6), n-done)
		evs := make([]Event, k)
		for i := range evs {
			j := done + i
			evs[i] = Event{Kind: kinds[rng.IntN(len(kinds))], Subject: handle(rng.IntN(subjects)),
				Ref: fmt.Sprintf("c-%d", j), Time: base.Add(time.Duration(j) * time.Second)}
		}
		if _, err := l.Append(ctx, evs...); err != nil {
			t.Fatal(err)
		}
		done += k
		if rng.IntN(3) == 0 {
			if _, _, err := l.PublishCheckpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	return history{log: l, st: st, vkey: vkey}
}

func (h history) pkg(t testing.TB, subject string) *Package {
	t.Helper()
	p, err := BuildPackage(context.Background(), h.log, h.st, subject, PackageOptions{Keys: []string{h.vkey},
		Purpose: "case 2026-17", RequestedBy: "test authority", Created: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// clone deep-copies a package through its encoding.
func clone(t testing.TB, p *Package) *Package {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParsePackage(b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestPackageVerifies: a package built from a log with several subjects
// verifies with the log's key, survives Marshal/ParsePackage, and its
// report passes every step.
func TestPackageVerifies(t *testing.T) {
	h := buildHistory(t, rand.New(rand.NewPCG(7, 7)), 50, 4, "package test")
	for s := range 4 {
		p := clone(t, h.pkg(t, handle(s)))
		r, err := VerifyPackage(p, VerifyOptions{TrustedKeys: []string{h.vkey}})
		if err != nil {
			t.Fatalf("subject %d: %v\n%+v", s, err, r)
		}
		if !r.OK || r.KeySource != "trusted" || len(r.Steps) != 6 || r.Failed() != nil {
			t.Fatalf("report %+v", r)
		}
		for i, name := range []string{StepCheckpoint, StepEntries, StepInclusion, StepChain, StepConsistency, StepSummary} {
			if r.Steps[i].Name != name || r.Steps[i].Status != StatusPass || r.Steps[i].Proves == "" {
				t.Errorf("step %d: %+v", i, r.Steps[i])
			}
		}
		if r.OlderSize > r.CheckpointSize || p.Entries[0].Index >= r.OlderSize {
			t.Errorf("older checkpoint %d, checkpoint %d, first entry %d", r.OlderSize, r.CheckpointSize, p.Entries[0].Index)
		}
	}
	// With the package's own key it verifies too, but says so.
	r, err := VerifyPackage(h.pkg(t, handle(0)), VerifyOptions{})
	if err != nil || r.KeySource != "package" || !strings.Contains(r.Steps[0].Detail, "only with a key taken from the package") {
		t.Fatalf("package key: %v %+v", err, r.Steps[0])
	}
	if _, err := BuildPackage(context.Background(), h.log, h.st, handle(9), PackageOptions{Keys: []string{h.vkey}}); err == nil {
		t.Fatal("a package for a subject without entries")
	}
	_, other := seededKey(t, testOrigin, "another key")
	if _, err := BuildPackage(context.Background(), h.log, h.st, handle(0), PackageOptions{Keys: []string{other}}); err == nil {
		t.Fatal("a package with a key that does not verify the log")
	}
}

// TestPackageCoversOnlyTheCheckpoint: entries appended after the package
// is built are not in it; a package built later holds them.
func TestPackageCoversOnlyTheCheckpoint(t *testing.T) {
	ctx := context.Background()
	h := buildHistory(t, rand.New(rand.NewPCG(3, 4)), 20, 2, "later")
	before := h.pkg(t, handle(1))
	if _, err := h.log.Append(ctx, Event{Kind: KindErasure, Subject: handle(1)}); err != nil {
		t.Fatal(err)
	}
	after := h.pkg(t, handle(1))
	if len(after.Entries) != len(before.Entries)+1 {
		t.Fatalf("%d entries before, %d after", len(before.Entries), len(after.Entries))
	}
	for _, p := range []*Package{before, after} {
		if _, err := VerifyPackage(p, VerifyOptions{TrustedKeys: []string{h.vkey}}); err != nil {
			t.Fatal(err)
		}
	}
}

// forgedEntry returns the next entry of p's subject, canonically encoded,
// with a valid-looking Seq and Prev.
func forgedEntry(t *testing.T, p *Package) []byte {
	t.Helper()
	last := p.Entries[len(p.Entries)-1]
	e, err := ParseEntry(last.Data)
	if err != nil {
		t.Fatal(err)
	}
	e.Seq++
	e.Prev = encodeHash(LeafHash(last.Data))
	e.Kind = KindVerificationSucceeded
	e.Ref = "forged"
	data, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestPackageTampering: each way of tampering with a package fails
// verification at the step that should catch it.
func TestPackageTampering(t *testing.T) {
	ctx := context.Background()
	h := buildHistory(t, rand.New(rand.NewPCG(11, 12)), 50, 4, "tamper")
	subject := handle(2)
	good := h.pkg(t, subject)
	if len(good.Entries) < 5 {
		t.Fatalf("only %d entries", len(good.Entries))
	}
	trusted := VerifyOptions{TrustedKeys: []string{h.vkey}}

	// Another log with the same key and the forged entry in it, and a log
	// of the same entries signed by another key.
	signer, _ := seededKey(t, testOrigin, "tamper")
	forkSt := NewMemoryStore()
	fork, err := New(Config{Store: forkSt, Origin: testOrigin, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	forged := forgedEntry(t, good)
	fe, _ := ParseEntry(forged)
	size, _ := h.st.TrailSize(ctx)
	for i := range size {
		ev := Event{Kind: KindDeposit, Subject: handle(7), Time: fe.Time}
		if i == size-1 {
			ev = Event{Kind: fe.Kind, Subject: fe.Subject, Ref: fe.Ref, Time: fe.Time}
		}
		if _, err := fork.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	forkCP, _, err := fork.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forkProof, _ := fork.InclusionProof(ctx, size-1, size)
	otherSigner, otherKey := seededKey(t, testOrigin, "other key")
	cp, _, _ := OpenCheckpoint([]byte(good.Checkpoint), note.VerifierList(mustVerifier(t, h.vkey)))
	otherCP, err := SignCheckpoint(cp, otherSigner)
	if err != nil {
		t.Fatal(err)
	}

	mid := len(good.Entries) / 2
	for _, tc := range []struct {
		name   string
		mutate func(p *Package)
		opts   *VerifyOptions
		step   string
		entry  int // position of the entry named in the failure; -1: none
	}{
		{"change one byte of an entry", func(p *Package) { p.Entries[mid].Data[10] ^= 1 }, nil, StepEntries, mid},
		{"change an entry and its leaf hash", func(p *Package) {
			e, _ := ParseEntry(p.Entries[mid].Data)
			e.Ref = "changed"
			p.Entries[mid].Data, _ = e.Marshal()
			p.Entries[mid].LeafHash = encodeHash(LeafHash(p.Entries[mid].Data))
		}, nil, StepInclusion, mid},
		{"state a wrong leaf hash", func(p *Package) { p.Entries[mid].LeafHash = p.Entries[0].LeafHash }, nil, StepEntries, mid},
		{"drop the first entry", func(p *Package) { p.Entries = p.Entries[1:]; p.Manifest.Entries-- }, nil, StepChain, 0},
		{"drop an entry", func(p *Package) { p.Entries = slices.Delete(p.Entries, mid, mid+1); p.Manifest.Entries-- }, nil, StepChain, mid},
		{"drop the last entry, manifest unchanged", func(p *Package) { p.Entries = p.Entries[:len(p.Entries)-1] }, nil, StepChain, -1},
		{"reorder two entries", func(p *Package) { p.Entries[mid], p.Entries[mid+1] = p.Entries[mid+1], p.Entries[mid] }, nil, StepChain, mid},
		{"insert a forged entry without a proof", func(p *Package) {
			p.Entries = append(p.Entries, PackageEntry{Index: size - 1, Data: forged, LeafHash: encodeHash(LeafHash(forged))})
			p.Manifest.Entries++
		}, nil, StepInclusion, len(good.Entries)},
		{"insert a forged entry with another tree's proof", func(p *Package) {
			p.Entries = append(p.Entries, PackageEntry{Index: size - 1, Data: forged, LeafHash: encodeHash(LeafHash(forged)),
				Proof: encodeHashes(forkProof)})
			p.Manifest.Entries++
		}, nil, StepInclusion, len(good.Entries)},
		{"insert a forged entry and the other tree's checkpoint", func(p *Package) {
			p.Entries = append(p.Entries, PackageEntry{Index: size - 1, Data: forged, LeafHash: encodeHash(LeafHash(forged)),
				Proof: encodeHashes(forkProof)})
			p.Manifest.Entries++
			p.Checkpoint = string(forkCP.Note)
		}, nil, StepInclusion, 0},
		{"swap the checkpoint for one signed by another key", func(p *Package) { p.Checkpoint = string(otherCP) }, nil, StepCheckpoint, -1},
		{"swap the checkpoint and the package key", func(p *Package) { p.Checkpoint = string(otherCP); p.Keys = []string{otherKey} }, nil, StepCheckpoint, -1},
		{"swap the checkpoint for another tree's signed by the right key", func(p *Package) { p.Checkpoint = string(forkCP.Note) }, nil, StepInclusion, 0},
		{"truncate an inclusion proof", func(p *Package) { p.Entries[mid].Proof = p.Entries[mid].Proof[:len(p.Entries[mid].Proof)-1] }, nil, StepInclusion, mid},
		{"move an entry to another index", func(p *Package) { p.Entries[mid].Index++ }, nil, StepInclusion, mid},
		{"truncate the consistency proof", func(p *Package) { p.Consistency.Proof = p.Consistency.Proof[:len(p.Consistency.Proof)-1] }, nil, StepConsistency, -1},
		{"swap the older checkpoint for another tree's", func(p *Package) { p.Consistency.Checkpoint = string(forkCP.Note) }, nil, StepConsistency, -1},
		{"change the subject in the manifest", func(p *Package) { p.Manifest.Subject = handle(1) }, nil, StepChain, 0},
		{"change the origin in the manifest", func(p *Package) { p.Manifest.Origin = "elsewhere.test/trail" }, nil, StepCheckpoint, -1},
		{"verify with a key that is not the log's", func(p *Package) {}, &VerifyOptions{TrustedKeys: []string{otherKey}}, StepCheckpoint, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := clone(t, good)
			tc.mutate(p)
			opts := trusted
			if tc.opts != nil {
				opts = *tc.opts
			}
			r, err := VerifyPackage(p, opts)
			ve, ok := err.(*VerifyError)
			if !ok {
				t.Fatalf("error %v, want a *VerifyError", err)
			}
			f := r.Failed()
			if r.OK || f == nil || f.Name != tc.step || ve.Step != tc.step {
				t.Fatalf("failed step %+v (%v), want %s", f, err, tc.step)
			}
			want := int64(-1)
			if tc.entry >= 0 {
				want = p.Entries[tc.entry].Index
			}
			if ve.Index != want || (want >= 0) != (f.Index != nil) || f.Index != nil && *f.Index != want {
				t.Fatalf("failure names entry %d (%v), want %d", ve.Index, f.Index, want)
			}
			if last := r.Steps[len(r.Steps)-1]; last.Name != StepSummary || last.Status != StatusFail {
				t.Fatalf("summary %+v", last)
			}
		})
	}
}

// TestPackageCannotShowTheTail documents a limit: dropping the subject's
// last entry and fixing the manifest goes unnoticed, since the checkpoint
// commits to the log, not to each subject's newest entry (docs/trail.md).
func TestPackageCannotShowTheTail(t *testing.T) {
	h := buildHistory(t, rand.New(rand.NewPCG(5, 6)), 30, 3, "tail")
	p := h.pkg(t, handle(0))
	p.Entries = p.Entries[:len(p.Entries)-1]
	p.Manifest.Entries--
	r, err := VerifyPackage(p, VerifyOptions{TrustedKeys: []string{h.vkey}})
	if err != nil || !slices.ContainsFunc(r.DoesNotProve, func(s string) bool { return strings.Contains(s, "follows the last one") }) {
		t.Fatalf("%v %+v", err, r.DoesNotProve)
	}
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPackageRandomMutations: packages of random histories always
// verify, and flipping any one byte of an entry, a proof hash or a
// checkpoint always makes verification fail.
func TestPackageRandomMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		subjects := 1 + rng.IntN(6)
		h := buildHistory(t, rng, 1+rng.IntN(150), subjects, fmt.Sprint("random ", round))
		var p *Package
		for p == nil {
			s := handle(rng.IntN(subjects))
			if idx, _ := h.st.SubjectEntries(context.Background(), s); len(idx) > 0 {
				p = h.pkg(t, s)
			}
		}
		opts := VerifyOptions{TrustedKeys: []string{h.vkey}}
		if r, err := VerifyPackage(clone(t, p), opts); err != nil {
			t.Fatalf("round %d: %v\n%+v", round, err, r)
		}
		for m := range 40 {
			q := clone(t, p)
			what := flipRandomByte(rng, q)
			if _, err := VerifyPackage(q, opts); err == nil {
				t.Fatalf("round %d mutation %d (%s) verified", round, m, what)
			}
		}
	}
}

// flipRandomByte changes one byte of an entry, a proof hash or a
// checkpoint, and says which.
func flipRandomByte(rng *rand.Rand, p *Package) string {
	x := byte(1 + rng.IntN(255))
	flipHash := func(hs []string) {
		i := rng.IntN(len(hs))
		h, _ := decodeHash(hs[i])
		h[rng.IntN(tlog.HashSize)] ^= x
		hs[i] = encodeHash(h)
	}
	flipString := func(s string) string {
		b := []byte(s)
		b[rng.IntN(len(b))] ^= x
		return string(b)
	}
	for {
		e := &p.Entries[rng.IntN(len(p.Entries))]
		switch rng.IntN(5) {
		case 0:
			e.Data[rng.IntN(len(e.Data))] ^= x
			return "entry"
		case 1:
			if len(e.Proof) > 0 {
				flipHash(e.Proof)
				return "inclusion proof"
			}
		case 2:
			p.Checkpoint = flipString(p.Checkpoint)
			return "checkpoint"
		case 3:
			p.Consistency.Checkpoint = flipString(p.Consistency.Checkpoint)
			return "older checkpoint"
		case 4:
			if len(p.Consistency.Proof) > 0 {
				flipHash(p.Consistency.Proof)
				return "consistency proof"
			}
		}
	}
}

// TestParsePackageRefuses: outside input is bounded and strict.
func TestParsePackageRefuses(t *testing.T) {
	h := buildHistory(t, rand.New(rand.NewPCG(1, 1)), 10, 1, "parse")
	good, err := h.pkg(t, handle(0)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePackage(good); err != nil {
		t.Fatal(err)
	}
	s := string(good)
	for name, bad := range map[string]string{
		"unknown field":   strings.Replace(s, `"keys"`, `"extra": 1, "keys"`, 1),
		"trailing data":   s + "{}",
		"other format":    strings.Replace(s, PackageFormat, "realname-trail-package/v2", 1),
		"no consistency":  strings.Replace(s, `"consistency": {`, `"consistency": null, "x": {`, 1),
		"not json":        "checkpoint",
		"too many hashes": strings.Replace(s, `"inclusion_proof": [`, `"inclusion_proof": [`+strings.Repeat(`"",`, 65), 1),
		"long purpose":    strings.Replace(s, `"purpose": "case 2026-17"`, `"purpose": "`+strings.Repeat("x", 2000)+`"`, 1),
	} {
		if _, err := ParsePackage([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParsePackage(make([]byte, MaxPackageBytes+1)); err == nil {
		t.Error("an oversized package accepted")
	}
}

// FuzzParsePackage: ParsePackage and VerifyPackage never panic on any
// input, and what ParsePackage accepts encodes and parses back the same.
func FuzzParsePackage(f *testing.F) {
	h := buildHistory(f, rand.New(rand.NewPCG(2, 3)), 12, 2, "fuzz")
	b, err := h.pkg(f, handle(1)).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"manifest":{"format":"` + PackageFormat + `","origin":"` + testOrigin + `","subject":"` + handle(1) +
		`"},"consistency":{}}`))
	f.Add([]byte(`{"manifest":{"format":"` + PackageFormat + `","origin":"` + testOrigin + `","subject":"` + handle(1) +
		`"},"keys":[],"entries":[{"index":0,"inclusion_proof":["",""]}],"consistency":{"proof":[]}}`))
	f.Add([]byte(`{}`))
	trusted := VerifyOptions{TrustedKeys: []string{h.vkey}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePackage(data)
		if err != nil {
			return
		}
		_, _ = VerifyPackage(p, VerifyOptions{})
		_, _ = VerifyPackage(p, trusted)
		b1, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePackage(b1)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		b2, err := q.Marshal()
		if err != nil || string(b1) != string(b2) {
			t.Fatalf("round trip differs: %v", err)
		}
	})
}

// benchPackage is the package of the package benchmarks: 1,000 entries
// of one subject in a log of 3,000, and the log's verifier key.
func benchPackage(b *testing.B) ([]byte, string) {
	b.Helper()
	ctx := context.Background()
	s, vkey := seededKey(b, testOrigin, "bench")
	st := NewMemoryStore()
	l, err := New(Config{Store: st, Origin: testOrigin, Signer: s})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		evs := []Event{{Kind: KindDeposit, Subject: handle(1), Ref: fmt.Sprint("d-", i),
			Attrs: map[string]string{"provider": "sandbox"}}, {Kind: KindDisclosure, Subject: handle(2)}, {Kind: KindDisclosure, Subject: handle(3)}}
		if _, err := l.Append(ctx, evs...); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if _, _, err := l.PublishCheckpoint(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	p, err := BuildPackage(ctx, l, st, handle(1), PackageOptions{Keys: []string{vkey}})
	if err != nil {
		b.Fatal(err)
	}
	data, err := p.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return data, vkey
}

// BenchmarkVerifyPackage parses and verifies the package of benchPackage
// (target: under 100 ms).
func BenchmarkVerifyPackage(b *testing.B) {
	data, vkey := benchPackage(b)
	b.SetBytes(int64(len(data)))
	opts := VerifyOptions{TrustedKeys: []string{vkey}}
	for b.Loop() {
		q, err := ParsePackage(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := VerifyPackage(q, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPackageEndsWithItsRequest: with the ref of its own trail.request
// entry in the manifest, a package that lost its tail no longer verifies,
// and neither does one whose last entry is another request.
func TestPackageEndsWithItsRequest(t *testing.T) {
	ctx := context.Background()
	h := buildHistory(t, rand.New(rand.NewPCG(9, 10)), 40, 2, "request")
	subject := handle(1)
	if _, err := h.log.Append(ctx, Event{Kind: KindTrailRequest, Subject: subject, Ref: "tr-1"}); err != nil {
		t.Fatal(err)
	}
	p, err := BuildPackage(ctx, h.log, h.st, subject, PackageOptions{Keys: []string{h.vkey}, RequestRef: "tr-1"})
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{TrustedKeys: []string{h.vkey}}
	if _, err := VerifyPackage(clone(t, p), opts); err != nil {
		t.Fatalf("the package with its request: %v", err)
	}
	cut := clone(t, p)
	cut.Entries = cut.Entries[:len(cut.Entries)-1]
	cut.Manifest.Entries--
	var ve *VerifyError
	if _, err := VerifyPackage(cut, opts); !errors.As(err, &ve) || ve.Step != StepChain {
		t.Fatalf("a package without its tail: %v", err)
	}
	other := clone(t, p)
	other.Manifest.RequestRef = "tr-2"
	if _, err := VerifyPackage(other, opts); !errors.As(err, &ve) || ve.Step != StepChain {
		t.Fatalf("a package naming another request: %v", err)
	}
	if _, err := BuildPackage(ctx, h.log, h.st, subject, PackageOptions{Keys: []string{h.vkey}, RequestRef: "bad ref"}); err == nil {
		t.Fatal("a malformed request ref was accepted")
	}
}

// TestPackageStopsAtItsRequest: an entry of the subject appended after the
// request's entry but before the package's checkpoint stays out of the
// package, which still ends with its request and verifies; with the
// request ref expected, a package cut short after an earlier request (its
// manifest edited to name that one) fails, as does one naming no request.
func TestPackageStopsAtItsRequest(t *testing.T) {
	ctx := context.Background()
	h := buildHistory(t, rand.New(rand.NewPCG(11, 12)), 30, 2, "stop")
	subject := handle(1)
	for _, ev := range []Event{
		{Kind: KindTrailRequest, Subject: subject, Ref: "tr-old"},
		{Kind: KindVerificationFailed, Subject: subject, Ref: "vf-late"},
		{Kind: KindTrailRequest, Subject: subject, Ref: "tr-new"},
		{Kind: KindVerificationStarted, Subject: subject, Ref: "vf-after"}, // after the request, before C
	} {
		if _, err := h.log.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	p, err := BuildPackage(ctx, h.log, h.st, subject, PackageOptions{Keys: []string{h.vkey}, RequestRef: "tr-new"})
	if err != nil {
		t.Fatal(err)
	}
	last, err := ParseEntry(p.Entries[len(p.Entries)-1].Data)
	if err != nil || last.Ref != "tr-new" {
		t.Fatalf("the package ends with %+v, %v; want the request's entry", last, err)
	}
	expect := VerifyOptions{TrustedKeys: []string{h.vkey}, ExpectedRequestRef: "tr-new"}
	r, err := VerifyPackage(clone(t, p), expect)
	if err != nil {
		t.Fatalf("the package of tr-new: %v", err)
	}
	if !strings.Contains(strings.Join(r.Proves, " "), "answers the request tr-new") {
		t.Fatalf("the report does not say which request it answers: %v", r.Proves)
	}
	// Cut after the older request, the manifest edited to name it: passes
	// without the expected ref (the report says so), fails with it.
	cut := clone(t, p)
	cut.Entries = cut.Entries[:len(cut.Entries)-2]
	cut.Manifest.Entries -= 2
	cut.Manifest.RequestRef = "tr-old"
	r, err = VerifyPackage(clone(t, cut), VerifyOptions{TrustedKeys: []string{h.vkey}})
	if err != nil {
		t.Fatalf("the cut package without an expected ref: %v", err)
	}
	if !strings.Contains(strings.Join(r.DoesNotProve, " "), "no request ref was given") {
		t.Fatalf("the report does not warn that no request ref was checked: %v", r.DoesNotProve)
	}
	var ve *VerifyError
	if _, err := VerifyPackage(clone(t, cut), expect); !errors.As(err, &ve) || ve.Step != StepChain {
		t.Fatalf("the cut package with tr-new expected: %v", err)
	}
	none := clone(t, p)
	none.Manifest.RequestRef = ""
	if _, err := VerifyPackage(none, expect); !errors.As(err, &ve) || ve.Step != StepChain {
		t.Fatalf("a package naming no request, tr-new expected: %v", err)
	}
	if _, err := BuildPackage(ctx, h.log, h.st, handle(0), PackageOptions{Keys: []string{h.vkey}, RequestRef: "tr-new"}); err == nil ||
		!strings.Contains(err.Error(), "not about subject") {
		t.Fatalf("a package of another subject ending with tr-new's entry: %v", err)
	}
}
