package realname_test

import (
	"context"
	crand "crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/trail"
)

// trailHarness is a harness with the trail on, and a Log on its store.
func trailHarness(t *testing.T) (*harness, *trail.Log) {
	t.Helper()
	return trailHarnessWrap(t, func(s realname.Store) realname.Store { return s })
}

// trailHarnessWrap is trailHarness with the service's store wrapped.
func trailHarnessWrap(t *testing.T, wrap func(realname.Store) realname.Store) (*harness, *trail.Log) {
	t.Helper()
	h := newHarnessConfig(t, cache.NewMemory(0), wrap, func(c *realname.Config) { c.Trail = true })
	skey, _, err := note.GenerateKey(crand.Reader, "rn.test/trail")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	l, err := trail.New(trail.Config{Store: h.store, Origin: "rn.test/trail", Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return h, l
}

// trailEntries drains the outbox and returns every entry.
func trailEntries(t *testing.T, l *trail.Log, st trail.Reader) []trail.Entry {
	t.Helper()
	ctx := context.Background()
	if err := l.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	size, _ := st.TrailSize(ctx)
	raw, err := st.TrailEntries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	var out []trail.Entry
	for _, d := range raw {
		e, err := trail.ParseEntry(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func kindsOf(es []trail.Entry, ref string) string {
	var k []string
	for _, e := range es {
		if ref == "" || e.Ref == ref {
			r := e.Kind
			if e.Attrs["reason"] != "" {
				r += ":" + e.Attrs["reason"]
			}
			k = append(k, r)
		}
	}
	return strings.Join(k, " ")
}

// TestTrailRecordsEveryStatusChange: a failed check, a replaced session, a
// success and an erasure each leave their entries, in the order they
// happened, under the person's handle, with no personal data; the erased
// person's later entries have no handle.
func TestTrailRecordsEveryStatusChange(t *testing.T) {
	h, l := trailHarness(t)
	ctx := context.Background()
	h.prov.result = func(string) (realname.FaceResult, error) { return realname.FaceResult{SubCode: "205"}, nil }
	failed := h.mustInit(t, "u-trail", nameA, numberA)
	if v, err := h.callback(t, failed.CertifyID); err != nil || v.Status != realname.StatusFailed {
		t.Fatalf("callback: %v %v", v.Status, err)
	}
	h.prov.result = nil
	replaced := h.mustInit(t, "u-trail", nameA, numberA)
	if _, err := h.svc.Init(ctx, realname.InitRequest{ClientID: "c1", UserID: "u-trail", RealName: nameA, IDNumber: numberA,
		Consent: h.consent(), Restart: true}); err != nil {
		t.Fatal(err)
	}
	es := trailEntries(t, l, h.store)
	if got := kindsOf(es, failed.CertifyID); got != "verification.started verification.opened verification.failed:LIVENESS_ATTACK" {
		t.Fatalf("failed session: %s", got)
	}
	if got := kindsOf(es, replaced.CertifyID); got != "verification.started verification.opened verification.cancelled:REPLACED" {
		t.Fatalf("replaced session: %s", got)
	}
	handle := es[0].Subject
	for i, e := range es {
		if e.Subject != handle || e.Seq != int64(i+1) || !trail.ValidHandle(handle) {
			t.Fatalf("entry %d: %+v; want the one handle, seq %d", i, e, i+1)
		}
	}
	// Erasure with a session open: cancelled, then the erasure itself.
	if _, err := h.svc.Erase(ctx, realname.Actor{Kind: realname.ActorPerson, Name: "u-trail"}, "u-trail"); err != nil {
		t.Fatal(err)
	}
	es = trailEntries(t, l, h.store)
	tail := kindsOf(es[len(es)-2:], "")
	if tail != "verification.cancelled:ERASED erasure" || es[len(es)-1].Subject != handle {
		t.Fatalf("erasure entries: %s (%+v)", tail, es[len(es)-1])
	}
	// Nothing in the trail names the user, the name or the number. (The
	// user id has a '-', which base64 hashes never hold: "u1" could turn
	// up in one by chance.)
	for _, e := range es {
		b, _ := e.Marshal()
		if s := string(b); strings.Contains(s, "u-trail") || strings.Contains(s, numberA) || strings.Contains(s, nameA) {
			t.Fatalf("personal data in the trail: %s", s)
		}
	}
	// The same number again: a new person, a new handle.
	again := h.mustInit(t, "u-again", nameA, numberA)
	es = trailEntries(t, l, h.store)
	last := es[len(es)-1]
	if last.Ref != again.CertifyID || last.Subject == handle || last.Seq != 2 {
		t.Fatalf("after erasure the number is a new person: %+v", last)
	}
}

// countingStore counts the person reads of its transactions.
type countingStore struct {
	realname.Store
	reads *int
}

type countingTx struct {
	realname.Tx
	realname.TrailQueue
	reads *int
}

func (s countingStore) InTx(ctx context.Context, fn func(realname.Tx) error) error {
	return s.Store.InTx(ctx, func(tx realname.Tx) error {
		return fn(countingTx{Tx: tx, TrailQueue: tx.(realname.TrailQueue), reads: s.reads})
	})
}

func (t countingTx) Person(ctx context.Context, id string) (realname.Person, error) {
	*t.reads++
	return t.Tx.Person(ctx, id)
}

// TestTrailInitDerivesHandleOnce: Init records a session's start and its
// opening under one handle, deriving it once: the opening's transaction
// reads no person (the request keeps the handle it derived), also for a
// person known from before.
func TestTrailInitDerivesHandleOnce(t *testing.T) {
	reads := 0
	h, l := trailHarnessWrap(t, func(s realname.Store) realname.Store { return countingStore{Store: s, reads: &reads} })
	h.prov.result = func(string) (realname.FaceResult, error) { return realname.FaceResult{SubCode: "205"}, nil }
	first := h.mustInit(t, "u-once", nameA, numberA) // a new person
	if reads != 0 {
		t.Fatalf("Init of a new person read a person %d times", reads)
	}
	if _, err := h.callback(t, first.CertifyID); err != nil {
		t.Fatal(err)
	}
	reads = 0
	second := h.mustInit(t, "u-once", nameA, numberA) // the same person again
	if reads != 0 {
		t.Fatalf("Init of a known person read a person %d times", reads)
	}
	es := trailEntries(t, l, h.store)
	if got := kindsOf(es, second.CertifyID); got != "verification.started verification.opened" {
		t.Fatalf("second session: %s", got)
	}
	for _, e := range es {
		if e.Subject != es[0].Subject {
			t.Fatalf("entries under two handles: %+v", es)
		}
	}
}
