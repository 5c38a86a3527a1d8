package realname

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// maxUserSessions bounds the sessions one user's rights requests handle
// (the per-user limit of starts keeps real users far below it).
const maxUserSessions = 10000

// Actor is who asks for a person's data or its erasure.
type Actor struct {
	Kind   string // ActorPerson, ActorOperator or ActorPlatform
	Name   string // the user id (person), the operator's name or the API key id (platform)
	Reason string // required of an operator
	// Via is, for a person, the API key id that minted the user token
	// they used: a platform can mint a token for any of its users, so the
	// record names it too.
	Via string
}

// auditReason is the reason an audit entry records: the operator's own,
// or for a person or platform own (the purpose or legal basis) and, for a
// person, the platform whose token carried the request.
func (a Actor) auditReason(own string) string {
	switch a.Kind {
	case ActorOperator:
		return a.Reason
	case ActorPlatform:
		return own
	}
	if a.Via != "" {
		return own + "; user token minted by API key " + a.Via
	}
	return own
}

func (a Actor) validate() error {
	switch a.Kind {
	case ActorPerson:
		return nil
	case ActorOperator:
		return Operator{Name: a.Name, Reason: a.Reason}.validate()
	case ActorPlatform, ActorAuthority:
		if ValidLabel(a.Name, 1, 128) {
			return nil
		}
	}
	return E(KindInvalid, CodeInvalidRequest, "unknown actor", nil)
}

// ErasureReport says what an erasure did.
type ErasureReport struct {
	UserID            string    `json:"user_id"`
	Pseudonym         string    `json:"pseudonym"`          // what the user's sessions are kept under, without identity
	SessionsCancelled int       `json:"sessions_cancelled"` // open sessions stopped
	PersonsErased     int       `json:"persons_erased"`     // identities whose data key was destroyed
	ProviderDeletions int       `json:"provider_deletions"` // face checks the provider was told to delete
	SessionsKept      int       `json:"sessions_kept"`      // sessions kept as anonymous facts
	ConsentsWithdrawn int       `json:"consents_withdrawn"` // set for a withdrawal
	NothingHeld       bool      `json:"nothing_held"`       // the user had no data
	ErasedAt          time.Time `json:"erased_at"`
}

// Erase erases a user: every person the user verified or tried to verify
// (unless another user is verified with it) loses its data key, so every
// ciphertext of it is unreadable; open sessions stop; the user's record,
// idempotent answers and lockout lift are deleted; the provider is told to
// delete its copies; cached answers are dropped. What stays is the fact
// that verifications happened — sessions without identity, under a random
// pseudonym — and the audit log, under the same pseudonym.
func (s *Service) Erase(ctx context.Context, by Actor, userID string) (ErasureReport, error) {
	return s.erase(ctx, by, userID, false)
}

// WithdrawConsent withdraws the user's consents: every processing that
// relied on them stops (open sessions are cancelled, the verified standing
// ends) and what they covered is erased as by Erase. The consents stay on
// record, marked withdrawn.
func (s *Service) WithdrawConsent(ctx context.Context, by Actor, userID string) (ErasureReport, error) {
	return s.erase(ctx, by, userID, true)
}

func (s *Service) erase(ctx context.Context, by Actor, userID string, withdraw bool) (ErasureReport, error) {
	if err := by.validate(); err != nil {
		return ErasureReport{}, err
	}
	if !ValidUserID(userID) {
		return ErasureReport{}, ErrBadUserID
	}
	now := s.clock()
	rep := ErasureReport{UserID: userID, Pseudonym: "erased-" + newID("")[:30], ErasedAt: now}
	reason, action, basis := CodeErased, "user.erase", "the person's own request (PIPL Art. 47)"
	if withdraw {
		reason, action, basis = CodeConsentWithdrawn, "consent.withdraw", "the person withdrew consent (PIPL Art. 15)"
	}
	var deletions []Verification
	err := s.inTx(ctx, func(tx Tx) error {
		rep.SessionsCancelled, rep.PersonsErased, rep.ConsentsWithdrawn, rep.SessionsKept = 0, 0, 0, 0
		deletions = deletions[:0]
		vs, err := tx.UserVerifications(ctx, userID, maxUserSessions)
		if err != nil {
			return err
		}
		persons := map[string]bool{}
		if rec, err := tx.UserRecord(ctx, userID); err == nil {
			persons[rec.PersonID] = true
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if len(vs) == 0 && len(persons) == 0 {
			rep.NothingHeld = true
			return nil
		}
		for _, v := range vs {
			persons[v.PersonID] = true
			if v.Status.Open() {
				if v, err = tx.LockVerification(ctx, v.CertifyID); err != nil {
					return err
				}
			}
			changed := false
			if v.Status.Open() {
				v.FailReason = reason
				if err := v.move(StatusCancelled, now); err != nil {
					return err
				}
				rep.SessionsCancelled++
				changed = true
			}
			if withdraw && v.Consent.WithdrawnAt.IsZero() {
				v.Consent.WithdrawnAt = now
				rep.ConsentsWithdrawn++
				changed = true
			}
			if changed {
				v.UpdatedAt = now
				if err := tx.UpdateVerification(ctx, v); err != nil {
					return err
				}
			}
			if v.Provider == ProviderManual {
				if err := dropReviewFiles(ctx, tx, v.CertifyID); err != nil {
					return err
				}
			}
			if v.ProviderRef != "" && !v.ResultDeleted {
				deletions = append(deletions, v)
			}
		}
		for id := range persons {
			if other, err := tx.UserByPerson(ctx, id); err == nil && other.UserID != userID {
				continue // another user's verified identity (this user only typed its number)
			} else if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err := erasePerson(ctx, tx, id, now); err != nil {
				return err
			}
			rep.PersonsErased++
		}
		rep.SessionsKept = len(vs)
		if err := tx.Audit(ctx, AuditEntry{At: now, ActorKind: by.Kind, Actor: by.Name, Action: action,
			Subject: userID, Reason: by.auditReason(basis)}); err != nil {
			return err
		}
		return tx.AnonymiseUser(ctx, userID, rep.Pseudonym)
	})
	if err != nil {
		return ErasureReport{}, fmt.Errorf("erase: %w", err)
	}
	s.forgetUser(ctx, userID)
	if rep.NothingHeld {
		rep.Pseudonym = ""
		return rep, nil
	}
	for _, v := range deletions {
		s.queueDeletion(v)
	}
	rep.ProviderDeletions = len(deletions)
	s.log.InfoContext(ctx, "user erased", "action", action, "actor_kind", by.Kind, "pseudonym", rep.Pseudonym,
		"persons", rep.PersonsErased, "cancelled", rep.SessionsCancelled)
	return rep, nil
}

// ConsentRecord is one recorded consent, with the session it was given for.
type ConsentRecord struct {
	CertifyID string   `json:"certify_id"`
	Evidence  Evidence `json:"evidence"`
	Status    Status   `json:"status"`
	Consent   Consent  `json:"consent"`
}

// Consents lists the consents the user gave, newest first.
func (s *Service) Consents(ctx context.Context, userID string) ([]ConsentRecord, error) {
	if !ValidUserID(userID) {
		return nil, ErrBadUserID
	}
	vs, err := s.store.UserVerifications(ctx, userID, maxUserSessions)
	if err != nil {
		return nil, err
	}
	out := make([]ConsentRecord, 0, len(vs))
	for _, v := range vs {
		out = append(out, ConsentRecord{CertifyID: v.CertifyID, Evidence: v.Evidence, Status: v.EffectiveStatus(s.clock()), Consent: v.Consent})
	}
	return out, nil
}

// PersonalData is everything held about a user, decrypted (the answer to
// GET /api/v1/auth/me/data, PIPL Art. 45).
type PersonalData struct {
	UserID        string             `json:"user_id"`
	Standing      *UserRecordView    `json:"standing"`
	Identities    []IdentityView     `json:"identities"`
	Verifications []VerificationView `json:"verifications"`
	Reviews       []ReviewView       `json:"reviews"`
	Access        []AuditEntry       `json:"access_records"`
	ExportedAt    time.Time          `json:"exported_at"`
}

// UserRecordView is the user's standing in an export.
type UserRecordView struct {
	Status     Status    `json:"status"`
	Evidence   Evidence  `json:"evidence"`
	CertifyID  string    `json:"certify_id"`
	VerifiedAt time.Time `json:"verified_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// IdentityView is one identity held for the user, decrypted.
type IdentityView struct {
	PersonID  string    `json:"person_id"`
	CertType  string    `json:"cert_type"`
	Name      string    `json:"name,omitempty"`
	IDNumber  string    `json:"id_number,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Erased    bool      `json:"erased"`
}

// VerificationView is one session in an export.
type VerificationView struct {
	CertifyID   string    `json:"certify_id"`
	PersonID    string    `json:"person_id"`
	Provider    string    `json:"provider"`
	Status      Status    `json:"status"`
	Evidence    Evidence  `json:"evidence"`
	FailReason  string    `json:"fail_reason,omitempty"`
	Score       float64   `json:"score,omitempty"`
	Consent     Consent   `json:"consent"`
	CreatedAt   time.Time `json:"created_at"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// ProviderCopyDeleted: the provider was told to delete its copy.
	ProviderCopyDeleted bool `json:"provider_copy_deleted"`
}

// ReviewView is one manual review in an export.
type ReviewView struct {
	CertifyID   string       `json:"certify_id"`
	SubmittedAt time.Time    `json:"submitted_at"`
	DecidedAt   time.Time    `json:"decided_at,omitzero"`
	Decision    string       `json:"decision,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Note        string       `json:"note,omitempty"`
	Files       []ReviewFile `json:"files,omitempty"` // while still held
}

// Data returns everything held about a user, decrypted, and every recorded
// access to it. The export itself is recorded first, so it lists itself.
func (s *Service) Data(ctx context.Context, by Actor, userID string) (PersonalData, error) {
	if err := by.validate(); err != nil {
		return PersonalData{}, err
	}
	if !ValidUserID(userID) {
		return PersonalData{}, ErrBadUserID
	}
	now := s.clock()
	err := s.store.Audit(ctx, AuditEntry{At: now, ActorKind: by.Kind, Actor: by.Name, Action: "data.export",
		Subject: userID, Fields: []string{FieldName, FieldIDNumber, FieldDocuments}, Reason: by.auditReason("the person's own request (PIPL Art. 45)")})
	if err != nil {
		return PersonalData{}, err
	}
	out := PersonalData{UserID: userID, ExportedAt: now, Identities: []IdentityView{}, Verifications: []VerificationView{}, Reviews: []ReviewView{}}
	if rec, err := s.store.UserRecord(ctx, userID); err == nil {
		out.Standing = &UserRecordView{Status: rec.Status, Evidence: rec.Evidence, CertifyID: rec.CertifyID, VerifiedAt: rec.VerifiedAt, ExpiresAt: rec.ExpiresAt}
		if rec.Status == StatusSuccess && !now.Before(rec.ExpiresAt) {
			out.Standing.Status = StatusExpired
		}
	} else if !errors.Is(err, ErrNotFound) {
		return PersonalData{}, err
	}
	vs, err := s.store.UserVerifications(ctx, userID, maxUserSessions)
	if err != nil {
		return PersonalData{}, err
	}
	persons := map[string]Person{}
	for _, v := range vs {
		out.Verifications = append(out.Verifications, VerificationView{CertifyID: v.CertifyID, PersonID: v.PersonID,
			Provider: v.Provider, Status: v.EffectiveStatus(now), Evidence: v.Evidence, FailReason: v.FailReason, Score: v.Score,
			Consent: v.Consent, CreatedAt: v.CreatedAt, CompletedAt: v.CompletedAt, ExpiresAt: v.ExpiresAt,
			ProviderCopyDeleted: v.ResultDeleted})
		p, seen := persons[v.PersonID]
		if !seen {
			if p, err = s.store.Person(ctx, v.PersonID); err != nil {
				return PersonalData{}, fmt.Errorf("load person: %w", err)
			}
			persons[v.PersonID] = p
			if other, err := s.store.UserByPerson(ctx, p.ID); err == nil && other.UserID != userID {
				// Another user is verified with this number: it is theirs,
				// not this user's, to see.
				out.Identities = append(out.Identities, IdentityView{PersonID: p.ID, CertType: p.CertType, CreatedAt: p.CreatedAt,
					Name: "(held for another account)"})
				continue
			}
			iv := IdentityView{PersonID: p.ID, CertType: p.CertType, CreatedAt: p.CreatedAt, Erased: p.Erased()}
			if !p.Erased() {
				id, err := s.keys.openPerson(p)
				if err != nil {
					return PersonalData{}, err
				}
				iv.Name, iv.IDNumber = id.Name, id.Number
			}
			out.Identities = append(out.Identities, iv)
		}
		if v.Provider == ProviderManual {
			rv, err := s.store.Review(ctx, v.CertifyID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return PersonalData{}, err
			}
			view := ReviewView{CertifyID: v.CertifyID, SubmittedAt: rv.SubmittedAt, DecidedAt: rv.DecidedAt,
				Decision: rv.Decision, Reason: rv.Reason}
			if len(rv.FilesCT) > 0 && !p.Erased() {
				plain, err := s.keys.openWith(p, rv.FilesCT, reviewAAD(v.CertifyID))
				if err != nil {
					return PersonalData{}, err
				}
				var sr sealedReview
				if err := json.Unmarshal(plain, &sr); err != nil {
					return PersonalData{}, fmt.Errorf("decode review: %w", err)
				}
				view.Note, view.Files = sr.Note, sr.Files
			}
			out.Reviews = append(out.Reviews, view)
		}
	}
	if out.Access, err = s.store.AuditFor(ctx, userID, 10000); err != nil {
		return PersonalData{}, err
	}
	return out, nil
}
