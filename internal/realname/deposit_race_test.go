package realname_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// personConflictStore makes the first `fail` person inserts lose a race
// (ErrConflict, as the unique blind index reports it).
type personConflictStore struct {
	realname.Store
	fail, tries int
}

type personConflictTx struct {
	realname.Tx
	realname.DepositTx
	s *personConflictStore
}

func (s *personConflictStore) InTx(ctx context.Context, fn func(realname.Tx) error) error {
	return s.Store.InTx(ctx, func(tx realname.Tx) error {
		return fn(personConflictTx{Tx: tx, DepositTx: tx.(realname.DepositTx), s: s})
	})
}

func (t personConflictTx) InsertPerson(ctx context.Context, p realname.Person) error {
	t.s.tries++
	if t.s.tries <= t.s.fail {
		return fmt.Errorf("insert person: %w", realname.ErrConflict)
	}
	return t.Tx.InsertPerson(ctx, p)
}

// TestDepositPersonRace: a deposit that loses the insert of a new person
// to a concurrent request tries once more; losing again is 409
// CONCURRENT_DEPOSIT, not an internal error.
func TestDepositPersonRace(t *testing.T) {
	for _, tc := range []struct {
		fail  int
		code  string
		tries int
	}{{1, "", 2}, {2, realname.CodeConcurrentDeposit, 2}} {
		t.Run(fmt.Sprint("fail ", tc.fail), func(t *testing.T) {
			var cs *personConflictStore
			h := newHarnessConfig(t, nil, func(s realname.Store) realname.Store {
				cs = &personConflictStore{Store: s, fail: tc.fail}
				return cs
			}, func(*realname.Config) {})
			auth := realname.Authority{ID: "au" + fmt.Sprintf("%030x", 1), Name: "某公证处", PublicKey: make([]byte, 32),
				CreatedBy: "alice", CreatedAt: h.clock.Now()}
			if err := h.store.CreateAuthority(t.Context(), auth); err != nil {
				t.Fatal(err)
			}
			sig := make([]byte, 64)
			_, _ = rand.Read(sig)
			body := []byte("{}")
			sum := sha256.Sum256(body)
			_, err := h.svc.Deposit(t.Context(), realname.DepositRequest{Authority: auth, RealName: nameA, IDNumber: numberA,
				Method: "in_person", VerifiedAt: h.clock.Now().Add(-time.Hour), Signature: sig, BodyHash: sum[:],
				SignedMessage: []byte("m"), Body: body})
			if tc.code == "" && err != nil || tc.code != "" && (realname.CodeOf(err) != tc.code || realname.KindOf(err) != realname.KindConflict) {
				t.Fatalf("deposit: %v, want %q", err, tc.code)
			}
			if cs.tries != tc.tries {
				t.Fatalf("%d person inserts, want %d", cs.tries, tc.tries)
			}
		})
	}
}
