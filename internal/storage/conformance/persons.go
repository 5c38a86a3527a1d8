package conformance

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/realname/realname/internal/realname"
)

// insertPersons stores persons in one transaction.
func insertPersons(t *testing.T, s realname.Store, ps ...realname.Person) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		for _, p := range ps {
			if err := tx.InsertPerson(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func testPersonInsertGet(t *testing.T, s realname.Store) {
	ctx := t.Context()
	p := samplePerson()
	insertPersons(t, s, p)

	got, err := s.Person(ctx, p.ID)
	must(t, "Person", err)
	checkEqual(t, "Person", got, p)
	got, err = s.PersonByIndex(ctx, p.Index)
	must(t, "PersonByIndex", err)
	checkEqual(t, "PersonByIndex", got, p)

	_, err = s.Person(ctx, newID("pn_"))
	wantErr(t, "Person(unknown)", err, realname.ErrNotFound)
	_, err = s.PersonByIndex(ctx, randomBytes(32))
	wantErr(t, "PersonByIndex(unknown)", err, realname.ErrNotFound)
}

func testPersonDuplicate(t *testing.T, s realname.Store) {
	ctx := t.Context()
	p := samplePerson()
	insertPersons(t, s, p)

	sameIndex := samplePerson()
	sameIndex.Index = p.Index
	err := s.InTx(ctx, func(tx realname.Tx) error { return tx.InsertPerson(ctx, sameIndex) })
	wantErr(t, "InsertPerson(same index)", err, realname.ErrConflict)
	_, err = s.Person(ctx, sameIndex.ID)
	wantErr(t, "Person(refused)", err, realname.ErrNotFound)

	sameID := samplePerson()
	sameID.ID = p.ID
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.InsertPerson(ctx, sameID) })
	wantErr(t, "InsertPerson(same id)", err, realname.ErrConflict)
	_, err = s.PersonByIndex(ctx, sameID.Index)
	wantErr(t, "PersonByIndex(refused)", err, realname.ErrNotFound)

	got, err := s.Person(ctx, p.ID)
	must(t, "Person", err)
	checkEqual(t, "Person after refused inserts", got, p)
}

func testPersonUpdate(t *testing.T, s realname.Store) {
	ctx := t.Context()
	p := samplePerson()
	insertPersons(t, s, p)

	resealed := p
	resealed.KeyID = newID("key_")
	resealed.WrappedKey = randomBytes(61)
	resealed.NameCT = randomBytes(41)
	resealed.NumberCT = randomBytes(47)
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.UpdatePerson(ctx, resealed) })
	got, err := s.Person(ctx, p.ID)
	must(t, "Person", err)
	checkEqual(t, "Person after UpdatePerson", got, resealed)

	unknown := samplePerson()
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.UpdatePerson(ctx, unknown) })
	wantErr(t, "UpdatePerson(unknown)", err, realname.ErrNotFound)
}

func testUpdatePersonKey(t *testing.T, s realname.Store) {
	ctx := t.Context()
	p, other := samplePerson(), samplePerson()
	insertPersons(t, s, p, other)

	want := p
	want.KeyID = newID("key_")
	want.WrappedKey = randomBytes(64)
	must(t, "UpdatePersonKey", s.UpdatePersonKey(ctx, p.ID, want.KeyID, want.WrappedKey))
	got, err := s.Person(ctx, p.ID)
	must(t, "Person", err)
	checkEqual(t, "Person after UpdatePersonKey", got, want)
	got, err = s.Person(ctx, other.ID)
	must(t, "Person(other)", err)
	checkEqual(t, "other Person after UpdatePersonKey", got, other)

	err = s.UpdatePersonKey(ctx, newID("pn_"), "k", randomBytes(8))
	wantErr(t, "UpdatePersonKey(unknown)", err, realname.ErrNotFound)
}

func testPersonsPaging(t *testing.T, s realname.Store) {
	ctx := t.Context()
	var ps []realname.Person
	for range 7 {
		ps = append(ps, samplePerson())
	}
	insertPersons(t, s, ps...)
	slices.SortFunc(ps, func(a, b realname.Person) int { return strings.Compare(a.ID, b.ID) })

	var got []realname.Person
	after := ""
	for page := 0; ; page++ {
		batch, err := s.Persons(ctx, after, 3)
		must(t, "Persons", err)
		if len(batch) > 3 {
			t.Fatalf("Persons(limit 3) returned %d", len(batch))
		}
		if len(batch) == 0 {
			break
		}
		if page > 10 {
			t.Fatal("Persons does not advance")
		}
		got = append(got, batch...)
		after = batch[len(batch)-1].ID
	}
	if len(got) != len(ps) {
		t.Fatalf("paged through %d persons, want %d", len(got), len(ps))
	}
	for i := range ps {
		checkEqual(t, "Persons["+ps[i].ID+"]", got[i], ps[i])
	}
	last, err := s.Persons(ctx, ps[len(ps)-1].ID, 3)
	must(t, "Persons(after last)", err)
	if len(last) != 0 {
		t.Errorf("Persons(after last) = %d persons, want none", len(last))
	}
}
