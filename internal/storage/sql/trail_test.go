package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
	sqlstore "github.com/realname/realname/internal/storage/sql"
	"github.com/realname/realname/internal/trail"
	"github.com/realname/realname/internal/trail/trailtest"
)

// enqueue queues an outbox event in its own transaction, through InTx.
func enqueue(ctx context.Context, st trail.Store, ev trail.Event) error {
	return st.(*sqlstore.Store).InTx(ctx, func(tx realname.Tx) error {
		return tx.(realname.TrailQueue).TrailEnqueue(ctx, ev)
	})
}

// trailDatabases lists the databases the trail's tests run on; PostgreSQL
// skips (or fails under REALNAME_TEST_REQUIRE) without its env var.
var trailDatabases = map[string]func(t *testing.T) string{
	"sqlite":   func(t *testing.T) string { return sqliteURL(t) },
	"postgres": func(t *testing.T) string { return conformance.PostgresURL(t) },
}

func TestSQLiteTrailContract(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store { return openMigrated(t, sqliteURL(t)) }, enqueue)
}

func TestSQLiteMemoryTrailContract(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store { return openMigrated(t, ":memory:") }, enqueue)
}

func TestPostgresTrailContract(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store { return openMigrated(t, conformance.PostgresURL(t)) }, enqueue)
}

// TestTrailTwoProcesses: two pools on one database (two processes of the
// service), a Log on each, append at once; the stored tree equals the
// tree of the entries and every subject chain is whole.
func TestTrailTwoProcesses(t *testing.T) {
	for name, url := range trailDatabases {
		t.Run(name, func(t *testing.T) {
			u := url(t)
			a := openMigrated(t, u)
			b := openMigrated(t, u)
			k := trailtest.NewKey(t)
			logs := []*trail.Log{trailtest.NewLog(t, a, k), trailtest.NewLog(t, b, k)}
			ctx := t.Context()
			var wg sync.WaitGroup
			for g := range 32 {
				wg.Go(func() {
					l := logs[g%2]
					for i := range 25 {
						ev := trail.Event{Kind: trail.KindDisclosure, Subject: trailtest.Handle((g + i) % 9), Ref: fmt.Sprintf("g%d-%d", g, i)}
						if _, err := l.Append(ctx, ev); err != nil {
							t.Error(err)
							return
						}
					}
					if g%8 == 0 {
						if _, _, err := l.PublishCheckpoint(ctx); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			size := trailtest.CheckStore(t, b)
			if size != 32*25 {
				t.Fatalf("size %d, want %d", size, 32*25)
			}
			ra, err := logs[0].TreeHash(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			if rb, err := logs[1].TreeHash(ctx, size); err != nil || rb != ra {
				t.Fatalf("the two processes see different trees: %v %v (%v)", ra, rb, err)
			}
			for s := range 9 {
				idx, err := a.SubjectEntries(ctx, trailtest.Handle(s))
				if err != nil || len(idx) == 0 {
					t.Fatalf("subject %d: %v, %v", s, idx, err)
				}
			}
		})
	}
}

// TestTrailRestart: a log closed and reopened goes on from where it was,
// and a consistency proof links the checkpoints before and after.
func TestTrailRestart(t *testing.T) {
	for name, url := range trailDatabases {
		t.Run(name, func(t *testing.T) {
			u := url(t)
			ctx := t.Context()
			k := trailtest.NewKey(t)
			s1, err := sqlstore.Open(ctx, u, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s1.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			l1 := trailtest.NewLog(t, s1, k)
			for i := range 50 {
				if _, err := l1.Append(ctx, trail.Event{Kind: trail.KindDeposit, Subject: trailtest.Handle(i % 4)}); err != nil {
					t.Fatal(err)
				}
			}
			before, _, err := l1.PublishCheckpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s1.Close(); err != nil {
				t.Fatal(err)
			}

			s2 := openMigrated(t, u)
			l2 := trailtest.NewLog(t, s2, k)
			for i := range 33 {
				if _, err := l2.Append(ctx, trail.Event{Kind: trail.KindDeposit, Subject: trailtest.Handle(i % 5)}); err != nil {
					t.Fatal(err)
				}
			}
			after, fresh, err := l2.PublishCheckpoint(ctx)
			if err != nil || !fresh || after.Size != 83 {
				t.Fatalf("checkpoint after the restart: %d %v %v", after.Size, fresh, err)
			}
			vs := note.VerifierList(k.Verifier)
			cb, _, err := trail.OpenCheckpoint(before.Note, vs)
			if err != nil {
				t.Fatal(err)
			}
			ca, _, err := trail.OpenCheckpoint(after.Note, vs)
			if err != nil {
				t.Fatal(err)
			}
			p, err := l2.ConsistencyProof(ctx, cb.Size, ca.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(p, ca.Size, ca.Hash, cb.Size, cb.Hash); err != nil {
				t.Fatalf("consistency %d → %d: %v", cb.Size, ca.Size, err)
			}
			trailtest.CheckStore(t, s2)
			// Subject 0 had entries before the restart: its chain goes on.
			idx, _ := s2.SubjectEntries(ctx, trailtest.Handle(0))
			if len(idx) != 13+7 {
				t.Fatalf("subject 0 has %d entries, want 20", len(idx))
			}
		})
	}
}

// TestTrailEnqueue: an outbox event is queued only if its transaction
// commits; a malformed event is refused; one written past TrailEnqueue is
// dropped by the sequencer without blocking the outbox.
func TestTrailEnqueue(t *testing.T) {
	for name, url := range trailDatabases {
		t.Run(name, func(t *testing.T) {
			st := openMigrated(t, url(t))
			ctx := t.Context()
			l := trailtest.NewLog(t, st, trailtest.NewKey(t))
			ev := trail.Event{Kind: trail.KindVerificationSucceeded, Subject: trailtest.Handle(1), Ref: "vf_1"}
			rollback := errors.New("rollback")
			err := st.InTx(ctx, func(tx realname.Tx) error {
				if err := tx.(realname.TrailQueue).TrailEnqueue(ctx, ev); err != nil {
					return err
				}
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatal(err)
			}
			if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 0 {
				t.Fatalf("a rolled back event was drained: %d, %v", n, err)
			}
			if err := enqueue(ctx, st, trail.Event{Kind: "BAD KIND"}); err == nil {
				t.Fatal("a malformed event was queued")
			}
			if _, err := st.DB().ExecContext(ctx, `INSERT INTO trail_outbox (event, created_at) VALUES ('{"kind":"BAD KIND"}', `+
				map[string]string{"sqlite": "0", "postgres": "now()"}[name]+`)`); err != nil {
				t.Fatal(err)
			}
			if err := enqueue(ctx, st, ev); err != nil {
				t.Fatal(err)
			}
			if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 1 {
				t.Fatalf("DrainOutbox = %d, %v", n, err)
			}
			if n, err := l.DrainOutbox(ctx, 0); err != nil || n != 0 {
				t.Fatalf("DrainOutbox of an empty outbox = %d, %v", n, err)
			}
			d, err := l.Entry(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if e, err := trail.ParseEntry(d); err != nil || e.Ref != "vf_1" || e.Seq != 1 {
				t.Fatalf("entry 0: %+v, %v", e, err)
			}
		})
	}
}
