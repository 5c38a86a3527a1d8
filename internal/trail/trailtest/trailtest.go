// Package trailtest is the contract test of trail.Store: Run checks any
// implementation through trail.Log — appends alone, in batches and from
// many goroutines, subject chains, hashes and proofs, checkpoints, the
// outbox, a failed Sequence that must leave nothing behind, and two Log
// values appending to one store at once, as two processes of the service
// do. Every backend's test calls Run with a function that makes an empty
// store (the in-memory store in package trail, sqlstore on SQLite and
// PostgreSQL).
package trailtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// Enqueue queues an event in st's outbox and commits it, as another
// transaction of the service would. It must refuse an event that the log
// would refuse (trail.EncodeOutbox checks it).
type Enqueue func(ctx context.Context, st trail.Store, ev trail.Event) error

// Run checks the store newStore makes (a new, empty one for each
// subtest). enqueue queues outbox events in it; if enqueue is nil the
// outbox checks are skipped.
func Run(t *testing.T, newStore func(t *testing.T) trail.Store, enqueue Enqueue) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st trail.Store, enqueue Enqueue)
	}{
		{"Empty", testEmpty},
		{"Append", testAppend},
		{"Hashes", testHashes},
		{"SubjectChains", testSubjectChains},
		{"LatestByRef", testLatestByRef},
		{"Checkpoints", testCheckpoints},
		{"Outbox", testOutbox},
		{"FailedSequence", testFailedSequence},
		{"BatchMustContinueTheTree", testBadBatch},
		{"ConcurrentAppends", testConcurrent},
		{"TwoLogs", testTwoLogs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t), enqueue) })
	}
}

// testEmpty: an empty store has no entries, hashes or checkpoints.
func testEmpty(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	if n, err := st.TrailSize(ctx); err != nil || n != 0 {
		t.Fatalf("TrailSize = %d, %v", n, err)
	}
	if _, err := st.LatestCheckpoint(ctx); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("LatestCheckpoint = %v, want ErrNotFound", err)
	}
	if _, err := st.CheckpointAtLeast(ctx, 0); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("CheckpointAtLeast(0) = %v, want ErrNotFound", err)
	}
	if _, err := st.TrailHashes(ctx, []int64{0}); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("TrailHashes([0]) = %v, want ErrNotFound", err)
	}
	if _, err := st.TrailEntries(ctx, 0, 1); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("TrailEntries(0, 1) = %v, want ErrNotFound", err)
	}
	if es, err := st.TrailEntries(ctx, 0, 0); err != nil || len(es) != 0 {
		t.Errorf("TrailEntries(0, 0) = %d entries, %v", len(es), err)
	}
	if idx, err := st.SubjectEntries(ctx, Handle(1)); err != nil || len(idx) != 0 {
		t.Errorf("SubjectEntries = %v, %v", idx, err)
	}
}

// testAppend: single appends and batches get consecutive indexes, their
// receipts name the stored bytes, and every proof checks.
func testAppend(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	k := NewKey(t)
	l := NewLog(t, st, k)
	next := int64(0)
	for i, n := range []int{1, 1, 3, 1, 17, 2, 64, 1, 200, 5} {
		evs := make([]trail.Event, n)
		for j := range evs {
			evs[j] = trail.Event{Kind: trail.KindDisclosure, Subject: Handle((i + j) % 6), Ref: fmt.Sprintf("r-%d-%d", i, j),
				Attrs: map[string]string{"n": fmt.Sprint(j)}}
		}
		evs[0].Subject = "" // an entry about the log itself
		rs, err := l.Append(ctx, evs...)
		if err != nil {
			t.Fatalf("Append(%d events): %v", n, err)
		}
		for j, r := range rs {
			if r.Index != next {
				t.Fatalf("receipt %d of append %d has index %d, want %d", j, i, r.Index, next)
			}
			next++
			d, err := l.Entry(ctx, r.Index)
			if err != nil {
				t.Fatal(err)
			}
			if trail.LeafHash(d) != r.LeafHash {
				t.Fatalf("entry %d: the stored bytes do not have the receipt's hash", r.Index)
			}
			e, err := trail.ParseEntry(d)
			if err != nil || e.Ref != evs[j].Ref || e.Attrs["n"] != fmt.Sprint(j) {
				t.Fatalf("entry %d: %+v, %v", r.Index, e, err)
			}
		}
	}
	if n, err := st.TrailSize(ctx); err != nil || n != next {
		t.Fatalf("TrailSize = %d, %v; want %d", n, err, next)
	}
	if es, err := st.TrailEntries(ctx, 3, 10); err != nil || len(es) != 7 {
		t.Fatalf("TrailEntries(3, 10): %d, %v", len(es), err)
	}
	if _, err := st.TrailEntries(ctx, next-1, next+1); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("TrailEntries past the end = %v, want ErrNotFound", err)
	}
	CheckStore(t, st)
	checkProofs(t, st, l, k)
}

// testHashes: TrailHashes returns many hashes in the order asked (also
// repeated), and ErrNotFound if one is missing.
func testHashes(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	l := NewLog(t, st, NewKey(t))
	evs := make([]trail.Event, 300)
	for i := range evs {
		evs[i] = trail.Event{Kind: trail.KindDeposit, Subject: Handle(i % 11)}
	}
	if _, err := l.Append(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	total := tlog.StoredHashIndex(0, 300)
	var one []tlog.Hash
	for x := range total {
		h, err := st.TrailHashes(ctx, []int64{x})
		if err != nil || len(h) != 1 {
			t.Fatalf("TrailHashes([%d]) = %v, %v", x, h, err)
		}
		one = append(one, h[0])
	}
	idx := []int64{total - 1, 0, 5, 5, total / 2}
	for x := total - 1; x >= 0; x -= 3 {
		idx = append(idx, x)
	}
	got, err := st.TrailHashes(ctx, idx)
	if err != nil || len(got) != len(idx) {
		t.Fatalf("TrailHashes(%d indexes) = %d, %v", len(idx), len(got), err)
	}
	for i, x := range idx {
		if got[i] != one[x] {
			t.Fatalf("TrailHashes: hash %d (index %d) out of order", i, x)
		}
	}
	if _, err := st.TrailHashes(ctx, []int64{0, total, 1}); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("TrailHashes with a missing index = %v, want ErrNotFound", err)
	}
	if h, err := st.TrailHashes(ctx, nil); err != nil || len(h) != 0 {
		t.Errorf("TrailHashes(nil) = %v, %v", h, err)
	}
}

// testSubjectChains: each subject's entries are numbered 1…n and chained.
func testSubjectChains(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	l := NewLog(t, st, NewKey(t))
	rng := rand.New(rand.NewPCG(3, 4))
	counts := map[string]int{}
	for range 40 {
		evs := make([]trail.Event, 1+rng.IntN(9))
		for j := range evs {
			s := Handle(rng.IntN(7))
			counts[s]++
			evs[j] = trail.Event{Kind: trail.KindVerificationStarted, Subject: s}
		}
		if _, err := l.Append(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	CheckStore(t, st)
	for s, n := range counts {
		idx, err := st.SubjectEntries(ctx, s)
		if err != nil || len(idx) != n {
			t.Fatalf("SubjectEntries(%s) = %d entries, %v; want %d", s, len(idx), err, n)
		}
	}
}

// testLatestByRef: LatestByRef finds the newest entry about a ref among
// the kinds asked for, and nothing for other kinds, other refs, or the
// empty ref of entries about the log itself.
func testLatestByRef(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	l := NewLog(t, st, NewKey(t))
	final := []string{trail.KindVerificationSucceeded, trail.KindVerificationFailed}
	open := []string{trail.KindVerificationStarted, trail.KindVerificationOpened}
	rs, err := l.Append(ctx, trail.Event{Kind: trail.KindVerificationStarted, Subject: Handle(1), Ref: "vf_a"},
		trail.Event{Kind: trail.KindVerificationStarted, Subject: Handle(2), Ref: "vf_b"},
		trail.Event{Kind: trail.KindVerificationOpened, Subject: Handle(1), Ref: "vf_a"},
		trail.Event{Kind: trail.KindDeposit, Subject: Handle(3)})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.LatestByRef(ctx, "vf_a", open); err != nil || r != rs[2] {
		t.Fatalf("LatestByRef(vf_a, open kinds) = %+v, %v; want the opened entry %+v", r, err, rs[2])
	}
	if r, err := st.LatestByRef(ctx, "vf_a", open[:1]); err != nil || r != rs[0] {
		t.Fatalf("LatestByRef(vf_a, started) = %+v, %v; want %+v", r, err, rs[0])
	}
	for _, q := range []struct {
		ref   string
		kinds []string
	}{{"vf_a", final}, {"vf_c", open}, {"", []string{trail.KindDeposit}}, {"vf_a", nil}} {
		if r, err := st.LatestByRef(ctx, q.ref, q.kinds); !errors.Is(err, trail.ErrNotFound) {
			t.Fatalf("LatestByRef(%q, %v) = %+v, %v; want not found", q.ref, q.kinds, r, err)
		}
	}
	rs, err = l.Append(ctx, trail.Event{Kind: trail.KindVerificationSucceeded, Subject: Handle(1), Ref: "vf_a"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.LatestByRef(ctx, "vf_a", final); err != nil || r != rs[0] {
		t.Fatalf("LatestByRef(vf_a, final kinds) = %+v, %v; want %+v", r, err, rs[0])
	}
}

// testCheckpoints: LatestCheckpoint and CheckpointAtLeast find the
// checkpoints published, which verify and are consistent.
func testCheckpoints(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	k := NewKey(t)
	l := NewLog(t, st, k)
	if sc, fresh, err := l.PublishCheckpoint(ctx); err != nil || !fresh || sc.Size != 0 {
		t.Fatalf("checkpoint of the empty log: %+v %v %v", sc, fresh, err)
	}
	var sizes []int64
	for _, n := range []int{5, 4, 30} {
		evs := make([]trail.Event, n)
		for i := range evs {
			evs[i] = trail.Event{Kind: trail.KindDisclosure, Subject: Handle(i % 3)}
		}
		if _, err := l.Append(ctx, evs...); err != nil {
			t.Fatal(err)
		}
		sc, fresh, err := l.PublishCheckpoint(ctx)
		if err != nil || !fresh {
			t.Fatalf("PublishCheckpoint: %v %v", fresh, err)
		}
		sizes = append(sizes, sc.Size)
		if again, fresh, err := l.PublishCheckpoint(ctx); err != nil || fresh || again.Size != sc.Size {
			t.Fatalf("a second checkpoint without new entries: %+v %v %v", again, fresh, err)
		}
	}
	if !slices.Equal(sizes, []int64{5, 9, 39}) {
		t.Fatalf("checkpoint sizes %v", sizes)
	}
	latest, err := st.LatestCheckpoint(ctx)
	if err != nil || latest.Size != 39 {
		t.Fatalf("LatestCheckpoint = %d, %v", latest.Size, err)
	}
	for _, c := range []struct{ at, want int64 }{{0, 0}, {1, 5}, {5, 5}, {6, 9}, {9, 9}, {10, 39}, {39, 39}, {40, -1}} {
		got, err := st.CheckpointAtLeast(ctx, c.at)
		switch {
		case c.want < 0:
			if !errors.Is(err, trail.ErrNotFound) {
				t.Errorf("CheckpointAtLeast(%d) = %d, %v; want ErrNotFound", c.at, got.Size, err)
			}
		case err != nil || got.Size != c.want:
			t.Errorf("CheckpointAtLeast(%d) = %d, %v; want %d", c.at, got.Size, err, c.want)
		}
	}
	var prev trail.Checkpoint
	for _, size := range sizes {
		sc, err := st.CheckpointAtLeast(ctx, size)
		if err != nil {
			t.Fatal(err)
		}
		cp, _, err := trail.OpenCheckpoint(sc.Note, noteVerifiers(k))
		if err != nil || cp.Size != size || cp.Origin != Origin {
			t.Fatalf("checkpoint %d: %+v, %v", size, cp, err)
		}
		if prev.Size > 0 {
			p, err := l.ConsistencyProof(ctx, prev.Size, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(p, cp.Size, cp.Hash, prev.Size, prev.Hash); err != nil {
				t.Fatalf("consistency %d → %d: %v", prev.Size, cp.Size, err)
			}
		}
		prev = cp
	}
}

// testOutbox: queued events are appended in order by DrainOutbox, at most
// max at a time, and a malformed one is refused when it is queued (one
// that got past, written to the outbox by other means, is dropped by the
// sequencer: trail's TestOutbox and the stores' own tests).
func testOutbox(t *testing.T, st trail.Store, enqueue Enqueue) {
	if enqueue == nil {
		t.Skip("no enqueue function")
	}
	ctx := t.Context()
	l := NewLog(t, st, NewKey(t))
	queue := func(ev trail.Event) {
		t.Helper()
		if err := enqueue(ctx, st, ev); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindKeyRotation}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		queue(trail.Event{Kind: trail.KindVerificationSucceeded, Subject: Handle(1), Ref: fmt.Sprint("c", i)})
	}
	if n, err := l.DrainOutbox(ctx, 2); err != nil || n != 2 {
		t.Fatalf("DrainOutbox(2) = %d, %v", n, err)
	}
	if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 3 {
		t.Fatalf("DrainOutbox(0) = %d, %v", n, err)
	}
	if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 0 {
		t.Fatalf("DrainOutbox of an empty outbox = %d, %v", n, err)
	}
	for i := range int64(5) {
		d, err := l.Entry(ctx, 1+i)
		if err != nil {
			t.Fatal(err)
		}
		e, err := trail.ParseEntry(d)
		if err != nil || e.Ref != fmt.Sprint("c", i) || e.Seq != i+1 {
			t.Fatalf("entry %d: %+v, %v", 1+i, e, err)
		}
	}
	for _, bad := range []trail.Event{{Kind: "BAD KIND"}, {Kind: trail.KindErasure, Subject: "not-a-handle"},
		{Kind: trail.KindErasure, Ref: "has space"}} {
		if err := enqueue(ctx, st, bad); err == nil {
			t.Fatalf("a malformed event was queued: %+v", bad)
		}
	}
	if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 0 {
		t.Fatalf("DrainOutbox after refused events = %d, %v", n, err)
	}
	CheckStore(t, st)
}

// testFailedSequence: a Sequence function that fails after writing a
// batch, a checkpoint and consuming the outbox leaves nothing written;
// inside the transaction its writes were visible.
func testFailedSequence(t *testing.T, st trail.Store, enqueue Enqueue) {
	ctx := t.Context()
	l := NewLog(t, st, NewKey(t))
	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit, Subject: Handle(1)},
		trail.Event{Kind: trail.KindDeposit, Subject: Handle(2)}, trail.Event{Kind: trail.KindDeposit}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.PublishCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if enqueue != nil {
		if err := enqueue(ctx, st, trail.Event{Kind: trail.KindDisclosure, Subject: Handle(2)}); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	err := st.Sequence(ctx, func(tx trail.SequenceTx) error {
		n, err := tx.TrailSize(ctx)
		if err != nil || n != 3 {
			return fmt.Errorf("TrailSize in the transaction = %d, %v", n, err)
		}
		b, err := nextBatch(ctx, tx, n, trail.Event{Kind: trail.KindDeposit, Subject: Handle(1)})
		if err != nil {
			return err
		}
		if enqueue != nil {
			items, err := tx.Outbox(ctx, 10)
			if err != nil || len(items) != 1 {
				return fmt.Errorf("Outbox = %v, %v", items, err)
			}
			b.Outbox = []int64{items[0].ID}
		}
		if err := tx.AppendBatch(ctx, b); err != nil {
			return fmt.Errorf("AppendBatch: %w", err)
		}
		if n, err := tx.TrailSize(ctx); err != nil || n != 4 {
			return fmt.Errorf("TrailSize after AppendBatch = %d, %v", n, err)
		}
		hs, err := tx.TrailHashes(ctx, []int64{b.HashStart})
		if err != nil || hs[0] != b.Hashes[0] {
			return fmt.Errorf("TrailHashes in the transaction: %v, %v", hs, err)
		}
		heads, err := tx.SubjectHeads(ctx, []string{Handle(1), Handle(3)})
		if err != nil || len(heads) != 1 || heads[Handle(1)].Seq != 2 || heads[Handle(1)].Hash != b.Entries[0].Hash {
			return fmt.Errorf("SubjectHeads in the transaction: %v, %v", heads, err)
		}
		if err := tx.SaveCheckpoint(ctx, trail.StoredCheckpoint{Size: 4, Note: []byte("not a note\n")}); err != nil {
			return err
		}
		if c, err := tx.LatestCheckpoint(ctx); err != nil || c.Size != 4 {
			return fmt.Errorf("LatestCheckpoint in the transaction = %d, %v", c.Size, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Sequence = %v, want the function's error", err)
	}
	if n, err := st.TrailSize(ctx); err != nil || n != 3 {
		t.Fatalf("TrailSize after a failed Sequence = %d, %v", n, err)
	}
	if _, err := st.TrailHashes(ctx, []int64{tlog.StoredHashIndex(0, 3)}); !errors.Is(err, trail.ErrNotFound) {
		t.Errorf("a hash of the failed batch: %v", err)
	}
	if c, err := st.LatestCheckpoint(ctx); err != nil || c.Size != 3 {
		t.Errorf("LatestCheckpoint after a failed Sequence = %d, %v", c.Size, err)
	}
	if idx, err := st.SubjectEntries(ctx, Handle(1)); err != nil || len(idx) != 1 {
		t.Errorf("SubjectEntries after a failed Sequence = %v, %v", idx, err)
	}
	err = st.Sequence(ctx, func(tx trail.SequenceTx) error {
		heads, err := tx.SubjectHeads(ctx, []string{Handle(1)})
		if err != nil || heads[Handle(1)].Seq != 1 {
			return fmt.Errorf("SubjectHeads after a failed Sequence: %v, %v", heads, err)
		}
		if enqueue != nil {
			if items, err := tx.Outbox(ctx, 10); err != nil || len(items) != 1 {
				return fmt.Errorf("Outbox after a failed Sequence = %v, %v", items, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The log goes on where it was.
	if enqueue != nil {
		if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 1 {
			t.Fatalf("DrainOutbox = %d, %v", n, err)
		}
	}
	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit, Subject: Handle(1)}); err != nil {
		t.Fatal(err)
	}
	CheckStore(t, st)
}

// nextBatch builds by hand the batch that appends ev to a tree of n
// entries, reading the tree's edge through tx.
func nextBatch(ctx context.Context, tx trail.SequenceTx, n int64, ev trail.Event) (*trail.Batch, error) {
	e := trail.Entry{V: trail.EntryVersion, Kind: ev.Kind, Time: time.Now(), Subject: ev.Subject}
	var head trail.Head
	if ev.Subject != "" {
		heads, err := tx.SubjectHeads(ctx, []string{ev.Subject})
		if err != nil {
			return nil, err
		}
		head = heads[ev.Subject]
		e.Seq = head.Seq + 1
		if head.Seq > 0 {
			e.Prev = encodeHash(head.Hash)
		}
	}
	data, err := e.Marshal()
	if err != nil {
		return nil, err
	}
	leaf := trail.LeafHash(data)
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return tx.TrailHashes(ctx, idx)
	}))
	if err != nil {
		return nil, err
	}
	b := &trail.Batch{Start: n, HashStart: tlog.StoredHashIndex(0, n), Hashes: hs,
		Entries: []trail.StoredEntry{{Index: n, Data: data, Hash: leaf, Kind: e.Kind, Subject: e.Subject, Seq: e.Seq}}}
	return b, nil
}

// testBadBatch: AppendBatch refuses a batch that does not start at the
// end of the tree, and nothing is written.
func testBadBatch(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	l := NewLog(t, st, NewKey(t))
	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit}, trail.Event{Kind: trail.KindDeposit}); err != nil {
		t.Fatal(err)
	}
	for _, start := range []int64{1, 3} {
		err := st.Sequence(ctx, func(tx trail.SequenceTx) error {
			b, err := nextBatch(ctx, tx, 2, trail.Event{Kind: trail.KindDeposit})
			if err != nil {
				return err
			}
			b.Start, b.Entries[0].Index = start, start
			b.HashStart = tlog.StoredHashIndex(0, start)
			return tx.AppendBatch(ctx, b)
		})
		if err == nil {
			t.Errorf("a batch starting at %d was appended to a log of 2", start)
		}
	}
	if n, err := st.TrailSize(ctx); err != nil || n != 2 {
		t.Fatalf("TrailSize = %d, %v", n, err)
	}
	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit}); err != nil {
		t.Fatal(err)
	}
	CheckStore(t, st)
}

// testConcurrent: many goroutines appending through one Log get distinct
// indexes, and the tree and chains stay whole.
func testConcurrent(t *testing.T, st trail.Store, _ Enqueue) {
	l := NewLog(t, st, NewKey(t))
	seen := appendConcurrently(t, []*trail.Log{l}, 24, 30)
	if n := CheckStore(t, st); n != int64(len(seen)) {
		t.Fatalf("size %d, %d receipts", n, len(seen))
	}
}

// testTwoLogs: two Log values on one store (two processes) append and
// publish checkpoints at once; every checkpoint matches the tree.
func testTwoLogs(t *testing.T, st trail.Store, _ Enqueue) {
	ctx := t.Context()
	k := NewKey(t)
	logs := []*trail.Log{NewLog(t, st, k), NewLog(t, st, k)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var cps []trail.StoredCheckpoint
	var mu sync.Mutex
	for _, l := range logs {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				sc, _, err := l.PublishCheckpoint(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				cps = append(cps, sc)
				mu.Unlock()
			}
		})
	}
	seen := appendConcurrently(t, logs, 16, 40)
	close(stop)
	wg.Wait()
	if n := CheckStore(t, st); n != int64(len(seen)) {
		t.Fatalf("size %d, %d receipts", n, len(seen))
	}
	for _, sc := range cps {
		cp, _, err := trail.OpenCheckpoint(sc.Note, noteVerifiers(k))
		if err != nil {
			t.Fatal(err)
		}
		if root, err := logs[0].TreeHash(ctx, cp.Size); err != nil || root != cp.Hash {
			t.Fatalf("checkpoint of size %d does not match the tree: %v", cp.Size, err)
		}
	}
	checkProofs(t, st, logs[1], k)
}

// appendConcurrently runs goroutines that each make appends of one to
// three events, spread over logs, and returns the receipts' indexes.
func appendConcurrently(t *testing.T, logs []*trail.Log, goroutines, appends int) map[int64]bool {
	t.Helper()
	ctx := t.Context()
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			l := logs[g%len(logs)]
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := range appends {
				evs := make([]trail.Event, 1+rng.IntN(3))
				for j := range evs {
					evs[j] = trail.Event{Kind: trail.KindDisclosure, Subject: Handle(rng.IntN(13)), Ref: fmt.Sprintf("g%d-%d", g, i)}
				}
				rs, err := l.Append(ctx, evs...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for j, r := range rs {
					if seen[r.Index] {
						t.Errorf("index %d handed out twice", r.Index)
					}
					if j > 0 && r.Index != rs[j-1].Index+1 {
						t.Errorf("the events of one append are not contiguous: %v", rs)
					}
					seen[r.Index] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return seen
}
