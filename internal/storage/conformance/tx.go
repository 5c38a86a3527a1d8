package conformance

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

var errRollback = errors.New("conformance: roll back")

func testTxRollback(t *testing.T, s realname.Store) {
	ctx := t.Context()
	existing := openVerification(newID("usr_"), realname.StatusProcessing, base)
	insertVerifications(t, s, existing)

	p := samplePerson()
	v := sampleVerification(newID("usr_"), p.ID)
	u := sampleUser(v.UserID, p.ID)
	a := sampleAnswer()
	err := s.InTx(ctx, func(tx realname.Tx) error {
		if err := tx.InsertPerson(ctx, p); err != nil {
			return err
		}
		if err := tx.InsertVerification(ctx, v); err != nil {
			return err
		}
		if err := tx.PutUserRecord(ctx, u); err != nil {
			return err
		}
		if err := tx.PutIdempotentAnswer(ctx, a); err != nil {
			return err
		}
		changed := existing
		changed.Status, changed.Attempts = realname.StatusSuccess, 9
		if err := tx.UpdateVerification(ctx, changed); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want the function's error", err)
	}

	_, err = s.Person(ctx, p.ID)
	wantErr(t, "Person after rollback", err, realname.ErrNotFound)
	_, err = s.PersonByIndex(ctx, p.Index)
	wantErr(t, "PersonByIndex after rollback", err, realname.ErrNotFound)
	_, err = s.Verification(ctx, v.CertifyID)
	wantErr(t, "Verification after rollback", err, realname.ErrNotFound)
	_, err = s.UserRecord(ctx, u.UserID)
	wantErr(t, "UserRecord after rollback", err, realname.ErrNotFound)
	_, err = s.IdempotentAnswer(ctx, a.Scope, a.Key)
	wantErr(t, "IdempotentAnswer after rollback", err, realname.ErrNotFound)
	checkVerification(t, s, "updated Verification after rollback", existing)
}

func testTxPanic(t *testing.T, s realname.Store) {
	ctx := t.Context()
	p := samplePerson()
	func() {
		defer func() {
			if r := recover(); r != errRollback {
				t.Errorf("recovered %v, want the panic value", r)
			}
		}()
		_ = s.InTx(ctx, func(tx realname.Tx) error {
			if err := tx.InsertPerson(ctx, p); err != nil {
				return err
			}
			panic(errRollback)
		})
	}()
	_, err := s.Person(ctx, p.ID)
	wantErr(t, "Person after panic", err, realname.ErrNotFound)

	// The store is still usable: the transaction released its locks.
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.InTx(tctx, func(tx realname.Tx) error { return tx.InsertPerson(tctx, p) }); err != nil {
		t.Fatalf("InTx after a panic: %v", err)
	}
}

func testTxReadsOwnWrites(t *testing.T, s realname.Store) {
	p := samplePerson()
	v := sampleVerification(newID("usr_"), p.ID)
	u := sampleUser(v.UserID, p.ID)
	a := sampleAnswer()
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		must(t, "InsertPerson", tx.InsertPerson(ctx, p))
		must(t, "InsertVerification", tx.InsertVerification(ctx, v))
		must(t, "PutUserRecord", tx.PutUserRecord(ctx, u))
		must(t, "PutIdempotentAnswer", tx.PutIdempotentAnswer(ctx, a))

		gp, err := tx.PersonByIndex(ctx, p.Index)
		must(t, "tx.PersonByIndex", err)
		checkEqual(t, "tx.PersonByIndex", gp, p)
		gv, err := tx.LockVerification(ctx, v.CertifyID)
		must(t, "tx.LockVerification", err)
		checkEqual(t, "tx.LockVerification", gv, v)
		gv, err = tx.LatestVerification(ctx, v.UserID)
		must(t, "tx.LatestVerification", err)
		checkEqual(t, "tx.LatestVerification", gv, v)
		gu, err := tx.UserByPerson(ctx, p.ID)
		must(t, "tx.UserByPerson", err)
		checkEqual(t, "tx.UserByPerson", gu, u)
		ga, err := tx.IdempotentAnswer(ctx, a.Scope, a.Key)
		must(t, "tx.IdempotentAnswer", err)
		checkEqual(t, "tx.IdempotentAnswer", ga, a)

		_, err = tx.LockVerification(ctx, newID("vf_"))
		wantErr(t, "tx.LockVerification(unknown)", err, realname.ErrNotFound)
		return nil
	})
	checkVerification(t, s, "Verification after commit", v)
}

// testTxConflictKeepsTxUsable: the domain reacts to ErrConflict inside the
// transaction (a person bound elsewhere fails the session), so a refused
// write must not spoil the rest of the transaction.
func testTxConflictKeepsTxUsable(t *testing.T, s realname.Store) {
	p := samplePerson()
	holder := sampleUser(newID("usr_"), p.ID)
	taken := sampleVerification(newID("usr_"), p.ID)
	v := openVerification(newID("usr_"), realname.StatusProcessing, base)
	a := sampleAnswer()
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		must(t, "InsertPerson", tx.InsertPerson(ctx, p))
		must(t, "PutUserRecord", tx.PutUserRecord(ctx, holder))
		must(t, "InsertVerification", tx.InsertVerification(ctx, taken))
		must(t, "InsertVerification", tx.InsertVerification(ctx, v))
		return tx.PutIdempotentAnswer(ctx, a)
	})

	want := v
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		cur, err := tx.LockVerification(ctx, v.CertifyID)
		must(t, "LockVerification", err)
		err = tx.PutUserRecord(ctx, sampleUser(v.UserID, p.ID))
		wantErr(t, "PutUserRecord(bound person)", err, realname.ErrConflict)
		dup := samplePerson()
		dup.Index = p.Index
		wantErr(t, "InsertPerson(same index)", tx.InsertPerson(ctx, dup), realname.ErrConflict)
		again := sampleAnswer()
		again.Scope, again.Key = a.Scope, a.Key
		wantErr(t, "PutIdempotentAnswer(same key)", tx.PutIdempotentAnswer(ctx, again), realname.ErrConflict)
		clash := cur
		clash.ProviderRef = taken.ProviderRef
		wantErr(t, "UpdateVerification(taken ref)", tx.UpdateVerification(ctx, clash), realname.ErrConflict)

		cur.Status, cur.FailReason = realname.StatusFailed, realname.CodeIdentityBound
		cur.UpdatedAt, cur.CompletedAt = base.Add(time.Second), base.Add(time.Second)
		want = cur
		return tx.UpdateVerification(ctx, cur)
	})
	checkVerification(t, s, "Verification failed after the conflicts", want)
	checkUser(t, s, "holder after the conflict", holder)
	_, err := s.UserRecord(t.Context(), v.UserID)
	wantErr(t, "UserRecord(refused)", err, realname.ErrNotFound)
}

// testConcurrentTransitions: many workers race to finish one session; the
// lock lets exactly one of them see it open.
func testConcurrentTransitions(t *testing.T, s realname.Store) {
	ctx := t.Context()
	v := openVerification(newID("usr_"), realname.StatusProcessing, base)
	v.Attempts = 0
	insertVerifications(t, s, v)

	const workers = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		errs  []error
		start = make(chan struct{})
	)
	for i := range workers {
		wg.Go(func() {
			<-start
			won := false
			err := s.InTx(ctx, func(tx realname.Tx) error {
				won = false // the store may run the function again
				cur, err := tx.LockVerification(ctx, v.CertifyID)
				if err != nil {
					return err
				}
				// Hold the lock a moment so a store that does not really
				// lock lets several workers see the session open.
				time.Sleep(2 * time.Millisecond)
				if cur.Status != realname.StatusProcessing {
					return nil
				}
				cur.Status, cur.Attempts = realname.StatusSuccess, cur.Attempts+1
				cur.UpdatedAt = base.Add(time.Duration(i+1) * time.Millisecond)
				cur.CompletedAt = cur.UpdatedAt
				if err := tx.UpdateVerification(ctx, cur); err != nil {
					return err
				}
				won = true
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if won {
				wins++
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("worker failed: %v", err)
	}
	if wins != 1 {
		t.Errorf("%d workers finished the session, want exactly 1", wins)
	}
	got, err := s.Verification(ctx, v.CertifyID)
	must(t, "Verification", err)
	if got.Status != realname.StatusSuccess || got.Attempts != 1 {
		t.Errorf("final session: status %s, attempts %d; want success, 1", got.Status, got.Attempts)
	}
}

// testConcurrentInsertPerson: first inits for one person race; exactly one
// insert wins and the others see ErrConflict.
func testConcurrentInsertPerson(t *testing.T, s realname.Store) {
	ctx := t.Context()
	index := randomBytes(32)
	const workers = 10
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		winners   []string
		conflicts int
		start     = make(chan struct{})
	)
	for range workers {
		wg.Go(func() {
			p := samplePerson()
			p.Index = index
			<-start
			err := s.InTx(ctx, func(tx realname.Tx) error { return tx.InsertPerson(ctx, p) })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, p.ID)
			case errors.Is(err, realname.ErrConflict):
				conflicts++
			default:
				t.Errorf("InsertPerson: unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 || conflicts != workers-1 {
		t.Fatalf("%d inserts succeeded and %d conflicted, want 1 and %d", len(winners), conflicts, workers-1)
	}
	got, err := s.PersonByIndex(ctx, index)
	must(t, "PersonByIndex", err)
	if got.ID != winners[0] {
		t.Errorf("PersonByIndex = %s, want the winner %s", got.ID, winners[0])
	}
}
