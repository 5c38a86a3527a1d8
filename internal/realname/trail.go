package realname

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/realname/realname/internal/trail"
)

// TrailQueue is implemented by the transactions of a store that keeps the
// trail's outbox: an event queued there commits or rolls back with the
// change it records, so no change goes unrecorded and nothing is recorded
// that did not happen.
type TrailQueue interface {
	// TrailEnqueue refuses an event the log would refuse.
	TrailEnqueue(ctx context.Context, ev trail.Event) error
}

// trailKinds maps a session's status to the kind of its trail entry. An
// expiry of a success is not an entry of its own: the succeeded entry
// carries expires_at.
var trailKinds = map[Status]string{
	StatusPending:    trail.KindVerificationStarted,
	StatusProcessing: trail.KindVerificationOpened,
	StatusSuccess:    trail.KindVerificationSucceeded,
	StatusFailed:     trail.KindVerificationFailed,
	StatusCancelled:  trail.KindVerificationCancelled,
	StatusExpired:    trail.KindVerificationExpired,
}

// inTx runs fn in a store transaction; with the trail on, the transaction
// records every status change and erasure it makes.
func (s *Service) inTx(ctx context.Context, fn func(Tx) error) error {
	if !s.cfg.Trail {
		return s.store.InTx(ctx, fn)
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		q, ok := tx.(TrailQueue)
		if !ok {
			return errors.New("trail: the store's transactions cannot queue trail events")
		}
		return fn(&trailTx{Tx: tx, q: q, s: s, seen: map[string]Status{}, persons: map[string]Person{}})
	})
}

// trailTx is a Tx that queues a trail event for each status change.
type trailTx struct {
	Tx
	q    TrailQueue
	s    *Service
	seen map[string]Status // a session's status when this transaction first read it
	// persons this transaction read or wrote, so that deriving a handle
	// needs no second read of the same row.
	persons map[string]Person
}

func (t *trailTx) Person(ctx context.Context, id string) (Person, error) {
	if p, ok := t.persons[id]; ok {
		return p, nil
	}
	p, err := t.Tx.Person(ctx, id)
	if err == nil {
		t.persons[id] = p
	}
	return p, err
}

func (t *trailTx) PersonByIndex(ctx context.Context, index []byte) (Person, error) {
	p, err := t.Tx.PersonByIndex(ctx, index)
	if err == nil {
		t.persons[p.ID] = p
	}
	return p, err
}

func (t *trailTx) InsertPerson(ctx context.Context, p Person) error {
	delete(t.persons, p.ID)
	if err := t.Tx.InsertPerson(ctx, p); err != nil {
		return err
	}
	t.persons[p.ID] = p
	return nil
}

func (t *trailTx) UpdatePerson(ctx context.Context, p Person) error {
	delete(t.persons, p.ID) // UpdatePerson may change nothing (an erased person): read again
	return t.Tx.UpdatePerson(ctx, p)
}

func (t *trailTx) LockVerification(ctx context.Context, certifyID string) (Verification, error) {
	v, err := t.Tx.LockVerification(ctx, certifyID)
	if err == nil {
		if _, ok := t.seen[certifyID]; !ok {
			t.seen[certifyID] = v.Status
		}
	}
	return v, err
}

func (t *trailTx) InsertVerification(ctx context.Context, v Verification) error {
	if err := t.Tx.InsertVerification(ctx, v); err != nil {
		return err
	}
	t.seen[v.CertifyID] = v.Status
	return t.record(ctx, v, trail.KindVerificationStarted) // a review starts as processing: still its start
}

func (t *trailTx) UpdateVerification(ctx context.Context, v Verification) error {
	prev, ok := t.seen[v.CertifyID]
	if !ok {
		cur, err := t.Tx.Verification(ctx, v.CertifyID)
		if err != nil {
			return err
		}
		prev = cur.Status
	}
	if err := t.Tx.UpdateVerification(ctx, v); err != nil {
		return err
	}
	t.seen[v.CertifyID] = v.Status
	if prev == v.Status {
		return nil
	}
	return t.record(ctx, v, trailKinds[v.Status])
}

// ErasePerson records the erasure under the person's handle while the
// handle can still be derived, then erases.
func (t *trailTx) ErasePerson(ctx context.Context, id string, newIndex []byte, at time.Time) error {
	h, err := t.s.subject(ctx, t, id)
	if err != nil {
		return err
	}
	delete(t.persons, id)
	if h != "" {
		if err := t.queue(ctx, trail.Event{Kind: trail.KindErasure, Subject: h, Time: at}); err != nil {
			return err
		}
	}
	return t.Tx.ErasePerson(ctx, id, newIndex, at)
}

// record queues an entry of the given kind about v.
func (t *trailTx) record(ctx context.Context, v Verification, kind string) error {
	h, err := t.s.subject(ctx, t, v.PersonID)
	if err != nil {
		return err
	}
	attrs := map[string]string{"provider": v.Provider, "cert_type": v.CertType}
	switch v.Status {
	case StatusSuccess:
		attrs["evidence"] = string(v.Evidence)
		if !v.ExpiresAt.IsZero() {
			attrs["expires_at"] = v.ExpiresAt.UTC().Format(time.RFC3339)
		}
	case StatusFailed, StatusCancelled:
		if v.FailReason != "" {
			attrs["reason"] = v.FailReason
		}
	}
	return t.queue(ctx, trail.Event{Kind: kind, Subject: h, Ref: v.CertifyID, Attrs: attrs, Time: v.UpdatedAt})
}

// queueTrail queues ev in tx's outbox when the trail is on (tx is a
// trailTx), and does nothing when it is off. The subject of ev is a handle
// (Service.subject); status changes are recorded by trailTx itself.
func queueTrail(ctx context.Context, tx Tx, ev trail.Event) error {
	if t, ok := tx.(*trailTx); ok {
		return t.queue(ctx, ev)
	}
	return nil
}

func (t *trailTx) queue(ctx context.Context, ev trail.Event) error {
	if err := t.q.TrailEnqueue(ctx, ev); err != nil {
		return fmt.Errorf("queue trail event: %w", err)
	}
	return nil
}

// subject returns a person's trail handle: "h_" and 32 hex digits derived
// from the person's data key. Nothing stores the link between handle and
// person; whoever can unwrap the data key can compute it, and once the
// person is erased (the wrapped key destroyed) nobody can. An erased or
// unknown person has no handle ("").
func (s *Service) subject(ctx context.Context, r Reader, personID string) (string, error) {
	if personID == "" {
		return "", nil
	}
	memo, _ := ctx.Value(handleMemoKey{}).(handleMemo)
	if h, ok := memo[personID]; ok {
		return h, nil
	}
	p, err := r.Person(ctx, personID)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("trail subject: %w", err)
	}
	h, err := s.keys.trailHandle(p)
	if err == nil && h != "" && memo != nil {
		memo[personID] = h
	}
	return h, err
}

// handleMemo keeps the handles one request derived, so that its later
// transactions need not read the person again: Init records a session's
// start and, a provider call later, its opening. It lives only as long as
// the request, and belongs to its one goroutine. A handle stays valid
// while the person does. An erasure that commits in between cancels the
// erased user's sessions, so their later transaction records nothing; at
// worst a session of another user naming the same person records its
// opening under the erased handle, which nobody can link to the person
// any more.
type handleMemo map[string]string

type handleMemoKey struct{}

// withHandleMemo gives ctx a memo of handles (see handleMemo).
func withHandleMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, handleMemoKey{}, handleMemo{})
}

// trailHandle derives a person's handle (see Service.subject).
func (k *keyState) trailHandle(p Person) (string, error) {
	if p.Erased() {
		return "", nil
	}
	dek, err := k.unwrap(p)
	if err != nil {
		return "", fmt.Errorf("unwrap data key of %s: %w", p.ID, err)
	}
	b, err := dek.Derive("trail-handle")
	if err != nil {
		return "", err
	}
	return "h_" + hex.EncodeToString(b[:16]), nil
}

// TrailSubjects returns the trail handles of the persons a user verified
// or tried (erased persons have none), for an evidence package.
func (s *Service) TrailSubjects(ctx context.Context, userID string) ([]string, error) {
	if !ValidUserID(userID) {
		return nil, ErrBadUserID
	}
	vs, err := s.store.UserVerifications(ctx, userID, maxUserSessions)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if seen[v.PersonID] {
			continue
		}
		seen[v.PersonID] = true
		h, err := s.subject(ctx, s.store, v.PersonID)
		if err != nil {
			return nil, err
		}
		if h != "" {
			out = append(out, h)
		}
	}
	return out, nil
}

// TrailRequest records that someone asked for a user's trail (an evidence
// package): an audit entry about the user, which the person sees in their
// export, and a trail.request entry under each of the user's handles,
// which their package then shows and ends with. It returns the handles to
// package and the ref of the request's entries (for
// trail.PackageOptions.RequestRef); a user with no handle (nothing
// verified, or erased) is ErrNotFound.
func (s *Service) TrailRequest(ctx context.Context, by Actor, userID, purpose string) (subjects []string, ref string, err error) {
	if err := by.validate(); err != nil {
		return nil, "", err
	}
	if subjects, err = s.TrailSubjects(ctx, userID); err != nil {
		return nil, "", err
	}
	if len(subjects) == 0 {
		return nil, "", E(KindNotFound, CodeNotFound, "nothing of this user is in the trail", nil)
	}
	ref = newID("tr")
	now := s.clock()
	reason := by.auditReason(purpose)
	err = s.inTx(ctx, func(tx Tx) error {
		if err := tx.Audit(ctx, AuditEntry{At: now, ActorKind: by.Kind, Actor: by.Name, Action: "trail.export",
			Subject: userID, Reason: reason}); err != nil {
			return err
		}
		for _, h := range subjects {
			if err := queueTrail(ctx, tx, trail.Event{Kind: trail.KindTrailRequest, Subject: h, Ref: ref, Time: now,
				Attrs: map[string]string{"by": by.Kind}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("record trail request: %w", err)
	}
	return subjects, ref, nil
}
