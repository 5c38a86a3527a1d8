package trail

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const testOrigin = "realname.test/trail"

func testSigner(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	s, v, _ := testKeys(t)
	return s, v
}

func testKeys(t testing.TB) (note.Signer, note.Verifier, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(crand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, vkey
}

func newTestLog(t testing.TB, st Store) (*Log, note.Verifier) {
	t.Helper()
	s, v, vkey := testKeys(t)
	l, err := New(Config{Store: st, Origin: testOrigin, Signer: s, VerifierKey: vkey})
	if err != nil {
		t.Fatal(err)
	}
	return l, v
}

func handle(i int) string { return fmt.Sprintf("h_%032x", i) }

// TestRFC6962Vectors: the tree built by appending the leaves of RFC 6962's
// reference test data has the published root hash at every size, and the
// proofs the log serves check against them.
func TestRFC6962Vectors(t *testing.T) {
	leaves := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	if got := hex.EncodeToString(mustRoot(t, &edge{hashes: map[int64]tlog.Hash{}})); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("empty tree: %s", got)
	}
	e := &edge{hashes: map[int64]tlog.Hash{}}
	var all []tlog.Hash // every stored hash, as a store would keep them
	for i, leaf := range leaves {
		data, _ := hex.DecodeString(leaf)
		stored, err := e.add(tlog.RecordHash(data))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, stored...)
		if got := hex.EncodeToString(mustRoot(t, e)); got != roots[i] {
			t.Errorf("size %d: root %s, want %s", i+1, got, roots[i])
		}
		// Only the frontier is kept between batches; it must be enough.
		f, err := e.frontier()
		if err != nil {
			t.Fatal(err)
		}
		e = &edge{size: e.size, hashes: f}
	}
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return readHashes(all, nil, 0, idx) })
	for size := int64(1); size <= 8; size++ {
		root, _ := hex.DecodeString(roots[size-1])
		for i := range size {
			p, err := tlog.ProveRecord(size, i, r)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := hex.DecodeString(leaves[i])
			if err := tlog.CheckRecord(p, size, tlog.Hash(root), i, tlog.RecordHash(data)); err != nil {
				t.Errorf("inclusion of %d in %d: %v", i, size, err)
			}
		}
		for old := int64(1); old <= size; old++ {
			p, err := tlog.ProveTree(size, old, r)
			if err != nil {
				t.Fatal(err)
			}
			oldRoot, _ := hex.DecodeString(roots[old-1])
			if err := tlog.CheckTree(p, size, tlog.Hash(root), old, tlog.Hash(oldRoot)); err != nil {
				t.Errorf("consistency %d → %d: %v", old, size, err)
			}
		}
	}
}

func mustRoot(t *testing.T, e *edge) []byte {
	t.Helper()
	h, err := e.root()
	if err != nil {
		t.Fatal(err)
	}
	return h[:]
}

// TestAppendAndProve: entries are stored canonically with per-subject
// chains; every receipt's inclusion proof checks against a signed
// checkpoint, and consistency proofs link checkpoints.
func TestAppendAndProve(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore()
	l, v := newTestLog(t, st)
	var receipts []Receipt
	for i := range 37 {
		rs, err := l.Append(ctx, Event{Kind: KindVerificationStarted, Subject: handle(i % 5), Ref: fmt.Sprintf("cert-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, rs...)
		if rs[0].Index != int64(i) {
			t.Fatalf("entry %d got index %d", i, rs[0].Index)
		}
	}
	first, fresh, err := l.PublishCheckpoint(ctx)
	if err != nil || !fresh || first.Size != 37 {
		t.Fatalf("checkpoint: %+v %v %v", first, fresh, err)
	}
	cp, _, err := OpenCheckpoint(first.Note, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if again, fresh, err := l.PublishCheckpoint(ctx); err != nil || fresh || again.Size != 37 {
		t.Fatalf("a checkpoint without new entries: %+v %v %v", again, fresh, err)
	}
	for _, r := range receipts {
		data, err := l.Entry(ctx, r.Index)
		if err != nil {
			t.Fatal(err)
		}
		if LeafHash(data) != r.LeafHash {
			t.Fatalf("entry %d: leaf hash differs from its receipt", r.Index)
		}
		p, err := l.InclusionProof(ctx, r.Index, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, cp.Size, cp.Hash, r.Index, r.LeafHash); err != nil {
			t.Fatalf("entry %d: %v", r.Index, err)
		}
	}
	// The chain of subject 3: seq 1, 2, … each naming its predecessor.
	idx, err := st.SubjectEntries(ctx, handle(3))
	if err != nil || len(idx) != 7 {
		t.Fatalf("subject entries %v, %v", idx, err)
	}
	var prev tlog.Hash
	for i, x := range idx {
		data, _ := l.Entry(ctx, x)
		e, err := ParseEntry(data)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != int64(i+1) || (i == 0) != (e.Prev == "") || i > 0 && e.Prev != encodeHash(prev) {
			t.Fatalf("subject entry %d: %+v", i, e)
		}
		prev = LeafHash(data)
	}
	// More entries, a second checkpoint, and consistency between them.
	if _, err := l.Append(ctx, Event{Kind: KindErasure, Subject: handle(1)}, Event{Kind: KindKeyRotation}); err != nil {
		t.Fatal(err)
	}
	second, _, err := l.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp2, _, err := OpenCheckpoint(second.Note, note.VerifierList(v))
	if err != nil || cp2.Size != 39 {
		t.Fatalf("second checkpoint %+v, %v", cp2, err)
	}
	p, err := l.ConsistencyProof(ctx, cp.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(p, cp2.Size, cp2.Hash, cp.Size, cp.Hash); err != nil {
		t.Fatal(err)
	}
	if r, err := st.LatestByRef(ctx, "cert-36", []string{KindVerificationStarted}); err != nil || r != receipts[36] {
		t.Fatalf("LatestByRef(cert-36) = %+v, %v; want %+v", r, err, receipts[36])
	}
	if _, err := l.Receipt(ctx, "cert-36"); err != ErrNotFound {
		t.Fatalf("Receipt of a session that has not ended: %v", err)
	}
	if _, err := l.Receipt(ctx, "cert-99"); err != ErrNotFound {
		t.Fatalf("Receipt of an unknown ref: %v", err)
	}
	if got, err := st.CheckpointAtLeast(ctx, 38); err != nil || got.Size != 39 {
		t.Fatalf("CheckpointAtLeast(38) = %d, %v", got.Size, err)
	}
	for _, c := range [][2]int64{{-1, 5}, {5, 5}, {0, 40}} {
		if _, err := l.InclusionProof(ctx, c[0], c[1]); err != ErrBadRange {
			t.Errorf("InclusionProof(%d, %d) = %v", c[0], c[1], err)
		}
	}
	for _, c := range [][2]int64{{0, 5}, {6, 5}, {1, 40}} {
		if _, err := l.ConsistencyProof(ctx, c[0], c[1]); err != ErrBadRange {
			t.Errorf("ConsistencyProof(%d, %d) = %v", c[0], c[1], err)
		}
	}
}

// TestConcurrentAppendsAndTwoLogs: appends from many goroutines through two
// Log values on one store (as two processes would share a database) get
// distinct indexes, every subject's chain has no gap, and the tree's root
// equals the root recomputed from the entries.
func TestConcurrentAppendsAndTwoLogs(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore()
	a, _ := newTestLog(t, st)
	b, _ := newTestLog(t, st)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for g := range 16 {
		wg.Go(func() {
			l := a
			if g%2 == 1 {
				l = b
			}
			for i := range 50 {
				rs, err := l.Append(ctx, Event{Kind: KindDisclosure, Subject: handle(i % 7)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[rs[0].Index] {
					t.Errorf("index %d handed out twice", rs[0].Index)
				}
				seen[rs[0].Index] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	size, _ := st.TrailSize(ctx)
	if size != 800 || len(seen) != 800 {
		t.Fatalf("size %d, %d receipts; want 800", size, len(seen))
	}
	entries, _ := st.TrailEntries(ctx, 0, size)
	e := &edge{hashes: map[int64]tlog.Hash{}}
	for _, d := range entries {
		if _, err := e.add(LeafHash(d)); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := e.root()
	got, err := a.TreeHash(ctx, size)
	if err != nil || got != want {
		t.Fatalf("stored tree %v differs from the entries' tree %v (%v)", got, want, err)
	}
	for s := range 7 {
		idx, _ := st.SubjectEntries(ctx, handle(s))
		for i, x := range idx {
			en, err := ParseEntry(entries[x])
			if err != nil || en.Seq != int64(i+1) {
				t.Fatalf("subject %d entry %d: %+v %v", s, i, en, err)
			}
		}
	}
}

// TestOutbox: events queued by other transactions are appended in order
// by DrainOutbox, before the appends of the same batch; malformed ones
// are dropped, not left to block the queue.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore()
	l, _ := newTestLog(t, st)
	for i := range 3 {
		if err := st.Enqueue(Event{Kind: KindVerificationSucceeded, Subject: handle(1), Ref: fmt.Sprint("c", i)}); err != nil {
			t.Fatal(err)
		}
	}
	st.outbox = append(st.outbox, OutboxItem{ID: 99, Event: []byte(`{"kind":"BAD KIND"}`)})
	n, err := l.DrainOutbox(ctx, 0)
	if err != nil || n != 3 {
		t.Fatalf("drained %d, %v", n, err)
	}
	if len(st.outbox) != 0 {
		t.Fatalf("outbox left %d", len(st.outbox))
	}
	for i := range int64(3) {
		data, _ := l.Entry(ctx, i)
		e, _ := ParseEntry(data)
		if e.Ref != fmt.Sprint("c", i) || e.Seq != i+1 {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 0 {
		t.Fatalf("empty outbox drained %d, %v", n, err)
	}
}

// TestAppendRefusesBadEvents: nothing invalid reaches the log.
func TestAppendRefusesBadEvents(t *testing.T) {
	l, _ := newTestLog(t, NewMemoryStore())
	for _, ev := range []Event{
		{Kind: "Verification"},
		{Kind: "ok", Subject: "not-a-handle"},
		{Kind: "ok", Ref: "has space"},
		{Kind: "ok", Attrs: map[string]string{"Bad": "x"}},
		{Kind: "ok", Attrs: map[string]string{"note": "line\nbreak"}},
	} {
		if _, err := l.Append(context.Background(), ev); err == nil {
			t.Errorf("%+v appended", ev)
		}
	}
}

// TestRandomHistories: for random batch sizes the stored tree always
// equals the tree recomputed from scratch, and every proof checks.
func TestRandomHistories(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		st := NewMemoryStore()
		l, _ := newTestLog(t, st)
		total := 0
		for total < 200 {
			n := 1 + rng.IntN(40)
			evs := make([]Event, n)
			for i := range evs {
				evs[i] = Event{Kind: KindDeposit, Subject: handle(rng.IntN(9)), Time: time.Unix(1_800_000_000, 0)}
			}
			if _, err := l.Append(ctx, evs...); err != nil {
				t.Fatal(err)
			}
			total += n
		}
		size := int64(total)
		root, err := l.TreeHash(ctx, size)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			i := rng.Int64N(size)
			p, err := l.InclusionProof(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := l.Entry(ctx, i)
			if err := tlog.CheckRecord(p, size, root, i, LeafHash(d)); err != nil {
				t.Fatalf("round %d entry %d: %v", round, i, err)
			}
			// A proof for another entry's hash never checks.
			other, _ := l.Entry(ctx, (i+1)%size)
			if tlog.CheckRecord(p, size, root, i, LeafHash(other)) == nil {
				t.Fatalf("round %d: a proof checked for the wrong entry", round)
			}
		}
	}
}

// TestNewChecksItsConfig: a log needs a store, a signer named as its
// origin and, if given, the signer's own verifier key.
func TestNewChecksItsConfig(t *testing.T) {
	s, _, vkey := testKeys(t)
	_, _, otherKey := testKeys(t)
	for name, cfg := range map[string]Config{
		"no store":       {Origin: testOrigin, Signer: s},
		"no signer":      {Store: NewMemoryStore(), Origin: testOrigin},
		"bad origin":     {Store: NewMemoryStore(), Origin: "has space", Signer: s},
		"other origin":   {Store: NewMemoryStore(), Origin: "other.test/trail", Signer: s},
		"another's key":  {Store: NewMemoryStore(), Origin: testOrigin, Signer: s, VerifierKey: otherKey},
		"malformed vkey": {Store: NewMemoryStore(), Origin: testOrigin, Signer: s, VerifierKey: "x+y+z"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	l, err := New(Config{Store: NewMemoryStore(), Origin: testOrigin, Signer: s, VerifierKey: vkey})
	if err != nil || l.VerifierKey() != vkey || l.Origin() != testOrigin {
		t.Fatalf("good config: %v", err)
	}
}

// TestVerifierKeyOf: the verifier key derived from a private key is the
// one note.GenerateKey made with it; malformed keys are refused.
func TestVerifierKeyOf(t *testing.T) {
	skey, vkey, err := note.GenerateKey(crand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := VerifierKeyOf(skey); err != nil || got != vkey {
		t.Fatalf("VerifierKeyOf = %q, %v; want %q", got, err, vkey)
	}
	for _, bad := range []string{"", vkey, skey + "x", strings.Replace(skey, "PRIVATE+KEY+", "", 1)} {
		if _, err := VerifierKeyOf(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestReceiptOfFinalEntries: a session has no receipt until its final
// entry is appended, whatever came before; the receipt of the final entry
// is the same from memory and from the store; another process's log
// (which did not append it) finds it in the store; a ref with only open
// entries is looked up in the store each time.
func TestReceiptOfFinalEntries(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore()
	a, _ := newTestLog(t, st)
	b, _ := newTestLog(t, st)
	if _, err := a.Append(ctx, Event{Kind: KindVerificationStarted, Subject: handle(1), Ref: "vf1"},
		Event{Kind: KindVerificationOpened, Subject: handle(1), Ref: "vf1"}); err != nil {
		t.Fatal(err)
	}
	if r, err := a.Receipt(ctx, "vf1"); err != ErrNotFound {
		t.Fatalf("receipt of a session that has not ended: %+v, %v", r, err)
	}
	rs, err := b.Append(ctx, Event{Kind: KindVerificationSucceeded, Subject: handle(1), Ref: "vf1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*Log{"the appending log": b, "another log": a} {
		got, err := l.Receipt(ctx, "vf1")
		if err != nil || got != rs[0] {
			t.Fatalf("%s: receipt %+v, %v; want the final entry %+v", name, got, err, rs[0])
		}
	}
	if _, ok := b.final["vf1"]; !ok {
		t.Fatal("the final entry's receipt is not remembered")
	}
	if _, ok := a.final["vf1"]; ok {
		t.Fatal("a log remembered an entry it did not append")
	}
	b.remember([]StoredEntry{{Ref: "vf2", Kind: KindVerificationOpened, Index: 9}})
	if _, ok := b.final["vf2"]; ok {
		t.Fatal("an open session's entry was remembered")
	}
}

// TestDrain: Drain appends everything queued, over as many batches as it
// takes, malformed items included in the count it takes but not appended.
func TestDrain(t *testing.T) {
	ctx := context.Background()
	for _, queued := range []int{0, 1, 2, 4, 5} {
		st := NewMemoryStore()
		s, _ := testSigner(t)
		l, err := New(Config{Store: st, Origin: testOrigin, Signer: s, MaxBatch: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := range queued {
			if i == 1 {
				st.outbox = append(st.outbox, OutboxItem{ID: 1000, Event: []byte(`{"kind":"BAD"}`)})
			}
			if err := st.Enqueue(Event{Kind: KindDeposit, Subject: handle(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.TrailSize(ctx); n != int64(queued) || len(st.outbox) != 0 {
			t.Fatalf("%d queued: %d appended, %d left in the outbox", queued, n, len(st.outbox))
		}
	}
}

// TestSequencerNoticesAnotherTreeOfTheSameSize: when the store is rolled
// back and grown again to the size the sequencer last saw (a restore, a
// failover to a lagging replica), the next append continues the tree the
// store now holds, and the checkpoint signs that tree's root.
func TestSequencerNoticesAnotherTreeOfTheSameSize(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore()
	l, v := newTestLog(t, st)
	for i := range 6 {
		if _, err := l.Append(ctx, Event{Kind: KindDeposit, Ref: fmt.Sprint("first-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Another history of the same size, written into the same store.
	other := NewMemoryStore()
	l2, _ := newTestLog(t, other)
	for i := range 6 {
		if _, err := l2.Append(ctx, Event{Kind: KindDeposit, Ref: fmt.Sprint("second-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	st.mu.Lock()
	st.read.Lock()
	st.entries, st.hashes = other.entries, other.hashes
	st.read.Unlock()
	st.mu.Unlock()

	if _, err := l.Append(ctx, Event{Kind: KindDeposit, Ref: "after"}); err != nil {
		t.Fatal(err)
	}
	cp, _, err := l.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := OpenCheckpoint(cp.Note, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	root, err := tlog.TreeHash(c.Size, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return st.TrailHashes(ctx, idx)
	}))
	if err != nil || c.Size != 7 || root != c.Hash {
		t.Fatalf("checkpoint of size %d signs %x; the stored tree's root is %x (%v)", c.Size, c.Hash, root, err)
	}
}
