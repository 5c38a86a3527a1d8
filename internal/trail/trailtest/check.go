package trailtest

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// Origin is the origin of the logs Run creates.
const Origin = "realname.test/trail"

// Key is a checkpoint key pair for Origin.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
	VKey     string // the verifier key's text
}

// NewKey generates a checkpoint key named Origin.
func NewKey(tb testing.TB) Key {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(crand.Reader, Origin)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return Key{Signer: s, Verifier: v, VKey: vkey}
}

// NewLog returns a trail.Log on st signing with k, as one process of the
// service would run it.
func NewLog(tb testing.TB, st trail.Store, k Key) *trail.Log {
	tb.Helper()
	l, err := trail.New(trail.Config{Store: st, Origin: Origin, Signer: k.Signer})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// Handle is the i-th test subject handle.
func Handle(i int) string { return fmt.Sprintf("h_%032x", i) }

// CheckStore reads every entry of st and checks that the store is whole:
// the root recomputed from the entries equals the root of the stored
// tree, every entry parses, and every subject's entries (SubjectEntries)
// are numbered 1…n with no gap, each naming its predecessor's leaf hash.
// It returns the log's size.
func CheckStore(tb testing.TB, st trail.Reader) int64 {
	tb.Helper()
	ctx := context.Background()
	size, err := st.TrailSize(ctx)
	if err != nil {
		tb.Fatalf("TrailSize: %v", err)
	}
	entries, err := st.TrailEntries(ctx, 0, size)
	if err != nil {
		tb.Fatalf("TrailEntries(0, %d): %v", size, err)
	}
	var all []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(all)) {
				return nil, fmt.Errorf("hash %d not computed", x)
			}
			out[i] = all[x]
		}
		return out, nil
	})
	bySubject := map[string][]int64{}
	for i, d := range entries {
		e, err := trail.ParseEntry(d)
		if err != nil {
			tb.Fatalf("entry %d: %v", i, err)
		}
		if e.Subject != "" {
			bySubject[e.Subject] = append(bySubject[e.Subject], int64(i))
		}
		hs, err := tlog.StoredHashesForRecordHash(int64(i), trail.LeafHash(d), r)
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, hs...)
	}
	want, err := tlog.TreeHash(size, r)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := tlog.TreeHash(size, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return st.TrailHashes(ctx, idx)
	}))
	if err != nil || got != want {
		tb.Fatalf("the stored tree of size %d has root %v (%v); the entries give %v", size, got, err, want)
	}
	for s, idx := range bySubject {
		stored, err := st.SubjectEntries(ctx, s)
		if err != nil || !slices.Equal(stored, idx) {
			tb.Fatalf("SubjectEntries(%s) = %v, %v; the entries say %v", s, stored, err, idx)
		}
		var prev tlog.Hash
		for i, x := range idx {
			e, _ := trail.ParseEntry(entries[x])
			wantPrev := ""
			if i > 0 {
				wantPrev = encodeHash(prev)
			}
			if e.Seq != int64(i+1) || e.Prev != wantPrev {
				tb.Fatalf("subject %s: entry %d has seq %d prev %q; want seq %d prev %q", s, x, e.Seq, e.Prev, i+1, wantPrev)
			}
			prev = trail.LeafHash(entries[x])
		}
	}
	return size
}

// checkProofs checks an inclusion proof of every entry of st, and a
// consistency proof from every earlier checkpoint size, against a signed
// checkpoint of l.
func checkProofs(t *testing.T, st trail.Store, l *trail.Log, k Key) {
	t.Helper()
	ctx := context.Background()
	sc, _, err := l.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatalf("PublishCheckpoint: %v", err)
	}
	cp, _, err := trail.OpenCheckpoint(sc.Note, note.VerifierList(k.Verifier))
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if cp.Size != sc.Size {
		t.Fatalf("stored checkpoint of size %d says %d", sc.Size, cp.Size)
	}
	if root, err := l.TreeHash(ctx, cp.Size); err != nil || root != cp.Hash {
		t.Fatalf("TreeHash(%d) = %v, %v; the checkpoint says %v", cp.Size, root, err, cp.Hash)
	}
	entries, err := st.TrailEntries(ctx, 0, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range entries {
		p, err := l.InclusionProof(ctx, int64(i), cp.Size)
		if err != nil {
			t.Fatalf("InclusionProof(%d, %d): %v", i, cp.Size, err)
		}
		if err := tlog.CheckRecord(p, cp.Size, cp.Hash, int64(i), trail.LeafHash(d)); err != nil {
			t.Fatalf("inclusion of %d in %d: %v", i, cp.Size, err)
		}
	}
	for old := int64(1); old < cp.Size; old += 1 + old/3 {
		oldRoot, err := l.TreeHash(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.ConsistencyProof(ctx, old, cp.Size)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d): %v", old, cp.Size, err)
		}
		if err := tlog.CheckTree(p, cp.Size, cp.Hash, old, oldRoot); err != nil {
			t.Fatalf("consistency %d → %d: %v", old, cp.Size, err)
		}
	}
}

func noteVerifiers(k Key) note.Verifiers { return note.VerifierList(k.Verifier) }

func encodeHash(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
