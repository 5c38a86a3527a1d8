package realname

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/internal/trail"
)

// ProviderAuthority is the Provider of a session an authority's deposit
// verified.
const ProviderAuthority = "authority"

// ActorAuthority is an authority institution, in an AuditEntry (Actor is
// its id).
const ActorAuthority = "authority"

// Bounds of deposits and claims.
const (
	// ClaimTTL is how long a deposit's claim code can be used.
	ClaimTTL = 30 * 24 * time.Hour
	// MaxDepositAge is how long after the in-person check a deposit is
	// accepted.
	MaxDepositAge = 366 * 24 * time.Hour
	// VerifiedAtSkew is how far in the future a deposit's verified_at
	// may be: the authority's clock may be a little ahead of ours.
	VerifiedAtSkew = time.Minute
	// claimPrefix starts every claim code.
	claimPrefix = "rc_"
)

// Codes of the authority routes.
const (
	CodeInvalidClaim = "INVALID_CLAIM_CODE"
	// CodeConcurrentDeposit: a deposit lost a race for a new person twice.
	CodeConcurrentDeposit = "CONCURRENT_DEPOSIT"
)

// Authority is an institution (a notary office, a court) registered by an
// operator. It signs its requests with the Ed25519 key whose public half
// is PublicKey.
type Authority struct {
	ID        string // "au" and 30 hex digits
	Name      string
	PublicKey []byte // Ed25519, 32 bytes
	CreatedBy string // the operator who registered it
	CreatedAt time.Time
	RevokedAt time.Time
}

// Revoked reports whether the authority was revoked.
func (a Authority) Revoked() bool { return !a.RevokedAt.IsZero() }

// Deposit is an identity an authority verified in person. The identity is
// the Person's (encrypted); the deposit keeps the authority's signature
// over its request as evidence.
type Deposit struct {
	ID          string // "dp" and 30 hex digits
	AuthorityID string
	PersonID    string
	Method      string // e.g. "in_person", "notarization"
	VerifiedAt  time.Time
	CreatedAt   time.Time
	// Signature is the authority's Ed25519 signature over the signed
	// request; BodyHash the SHA-256 of the request's body it covers;
	// SignedMessage the whole message signed. The body holds the name and
	// number, so its plain hash would let whoever reads the database
	// confirm a guessed identity: the store keeps the three sealed with
	// the person's data key (sealDepositEvidence), gone with an erasure.
	Signature     []byte
	BodyHash      []byte
	SignedMessage []byte
	// Body is the signed body's bytes as sent, so that the signature can
	// be checked again later. It holds the same personal data as the
	// person record and is sealed with the same key: the store keeps it
	// after BodyHash in the sealed body_hash column (no schema change);
	// deposits stored before it was kept open with Body nil.
	Body []byte
	// UserID and CertifyID are set once a user was verified with it.
	UserID    string
	CertifyID string
}

// ClaimCode is a deposit's one-time code, kept only as its hash.
type ClaimCode struct {
	Hash      []byte // SHA-256 of the code
	DepositID string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
	UsedBy    string // the user it verified
}

// AuthorityStore keeps the registered authorities and the nonces of their
// requests. sqlstore.Store implements it.
type AuthorityStore interface {
	// CreateAuthority stores a new authority; ErrConflict if the id is taken.
	CreateAuthority(ctx context.Context, a Authority) error
	// Authority reads one authority, revoked or not; ErrNotFound if none.
	Authority(ctx context.Context, id string) (Authority, error)
	// Authorities lists every authority, oldest first.
	Authorities(ctx context.Context) ([]Authority, error)
	// RevokeAuthority marks it revoked (the first time stays); ErrNotFound
	// if there is no such authority.
	RevokeAuthority(ctx context.Context, id string, at time.Time) error
	// UseNonce records a request's nonce until expires. It MUST return
	// ErrConflict if the authority used the same nonce and it has not
	// expired at now, also when another replica recorded it; it deletes
	// nonces that expired before now.
	UseNonce(ctx context.Context, authorityID, nonce string, now, expires time.Time) error
}

// DepositTx is implemented by the transactions of a store that keeps
// deposits and claim codes.
type DepositTx interface {
	InsertDeposit(ctx context.Context, d Deposit) error
	Deposit(ctx context.Context, id string) (Deposit, error)
	// SetDepositUser records the user (and session) a deposit verified.
	SetDepositUser(ctx context.Context, id, userID, certifyID string) error
	InsertClaimCode(ctx context.Context, c ClaimCode) error
	// ClaimCode reads a code by its hash; ErrNotFound if none.
	ClaimCode(ctx context.Context, hash []byte) (ClaimCode, error)
	// UseClaimCode marks a code used by userID at at. It MUST return
	// ErrConflict if the code was used already (one statement, so two
	// concurrent claims cannot both succeed).
	UseClaimCode(ctx context.Context, hash []byte, userID string, at time.Time) error
	// Authority reads one authority, revoked or not; ErrNotFound if none.
	Authority(ctx context.Context, id string) (Authority, error)
}

// AuthorityRevokeTx is implemented by the transactions of a store that
// can revoke an authority and void its unused claim codes at once
// (authority.Revoke uses it when the store has one).
type AuthorityRevokeTx interface {
	// RevokeAuthority marks it revoked (the first time stays); ErrNotFound
	// if there is no such authority.
	RevokeAuthority(ctx context.Context, id string, at time.Time) error
	// VoidClaimCodes marks every unused claim code of the authority's
	// deposits used at at (by no user) and returns how many.
	VoidClaimCodes(ctx context.Context, authorityID string, at time.Time) (int64, error)
}

// DepositRequest is an authority's deposit, its signature checked.
type DepositRequest struct {
	Authority  Authority
	RealName   string
	IDNumber   string
	CertType   string // "" means IDENTITY_CARD
	Method     string
	VerifiedAt time.Time
	UserID     string // optional: the platform user to verify now
	// Guardian is the consent of the guardian of a person under 14
	// (required then, PIPL Art. 31), as consent.guardian of an init.
	Guardian *Guardian
	// The signed request, kept as evidence.
	Signature     []byte
	BodyHash      []byte
	SignedMessage []byte
	Body          []byte // the signed body's bytes as sent (at most 64 KiB)
}

// DepositResult answers a deposit.
type DepositResult struct {
	DepositID string
	// With a user: the session that verified the user.
	Verification *Verification
	// Without a user: the one-time claim code and its expiry.
	ClaimCode      string
	ClaimExpiresAt time.Time
}

// ValidDepositMethod reports whether m is an acceptable method label:
// 2–32 lower-case letters, digits and underscores, starting with a letter.
func ValidDepositMethod(m string) bool {
	if len(m) < 2 || len(m) > 32 || m[0] < 'a' || m[0] > 'z' {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// depositTx returns the store's transaction behind tx as a DepositTx.
func depositTx(tx Tx) (DepositTx, error) {
	if t, ok := tx.(*trailTx); ok {
		tx = t.Tx
	}
	d, ok := tx.(DepositTx)
	if !ok {
		return nil, errors.New("deposit: the store's transactions cannot keep deposits")
	}
	return d, nil
}

// Deposit stores an identity an authority verified in person: the person
// (found by the blind index, or created), the deposit with the
// authority's signature, a deposit entry in the trail and an audit entry.
// With UserID it verifies that user at once (evidence authority_deposit);
// without, it answers a one-time claim code the person hands to a
// platform (Claim). A refusal (a conflict, a missing guardian's consent…)
// is audited too, as authority.deposit_refused (auditRefusal).
func (s *Service) Deposit(ctx context.Context, r DepositRequest) (DepositResult, error) {
	now := s.clock()
	in, err := s.validateDeposit(r, now)
	if err != nil {
		s.auditRefusal(ctx, r, in, err, now)
		return DepositResult{}, err
	}
	res, err := s.storeDeposit(ctx, r, in, now)
	if errors.Is(err, ErrConflict) && KindOf(err) == KindInternal {
		// Two first deposits (or a deposit and an init) for one new
		// person raced and this one lost the insert; the second try
		// finds the winner's person.
		res, err = s.storeDeposit(ctx, r, in, now)
		if errors.Is(err, ErrConflict) && KindOf(err) == KindInternal {
			err = E(KindConflict, CodeConcurrentDeposit, "another request for this ID number was being stored; try again", err)
		}
	}
	if err != nil {
		s.auditRefusal(ctx, r, in, err, now)
		return DepositResult{}, err
	}
	s.log.InfoContext(ctx, "authority deposit stored", "authority", r.Authority.ID, "deposit", res.DepositID,
		"method", r.Method, "user_verified", res.Verification != nil)
	return res, nil
}

// storeDeposit is one try of Deposit's transaction.
func (s *Service) storeDeposit(ctx context.Context, r DepositRequest, in validated, now time.Time) (DepositResult, error) {
	res := DepositResult{DepositID: newID("dp")}
	var code string
	var out Verification
	changed := false
	err := s.inTx(ctx, func(tx Tx) error {
		dtx, err := depositTx(tx)
		if err != nil {
			return err
		}
		person, boundUser, err := s.depositPerson(ctx, tx, r.UserID, in, now)
		if err != nil {
			return err
		}
		d := Deposit{ID: res.DepositID, AuthorityID: r.Authority.ID, PersonID: person.ID, Method: r.Method,
			VerifiedAt: r.VerifiedAt.UTC().Truncate(time.Microsecond), CreatedAt: now,
			Signature: r.Signature, BodyHash: r.BodyHash, SignedMessage: r.SignedMessage, Body: r.Body}
		if err := s.keys.sealDepositEvidence(person, &d); err != nil {
			return err
		}
		if err := dtx.InsertDeposit(ctx, d); err != nil {
			return fmt.Errorf("insert deposit: %w", err)
		}
		if s.cfg.Trail {
			h, err := s.subject(ctx, tx, person.ID)
			if err != nil {
				return err
			}
			// Not which authority: entries are public, and that a court
			// rather than a notary dealt with a person is itself sensitive.
			// The audit log, which the person sees, names it.
			if err := queueTrail(ctx, tx, trail.Event{Kind: trail.KindDeposit, Subject: h, Ref: d.ID, Time: now,
				Attrs: map[string]string{"method": r.Method}}); err != nil {
				return err
			}
		}
		// The subject is the user the person is (or is to be) bound to,
		// so that the user's export lists it; the person id only while
		// no user is known.
		audit := AuditEntry{At: now, ActorKind: ActorAuthority, Actor: r.Authority.ID, Action: "authority.deposit",
			Subject: person.ID, Target: d.ID, Reason: "deposit of an identity verified by " + r.Method}
		if r.UserID == "" {
			if boundUser != "" {
				audit.Subject = boundUser
			}
			if code, err = newClaimCode(); err != nil {
				return err
			}
			res.ClaimExpiresAt = now.Add(ClaimTTL)
			if err := dtx.InsertClaimCode(ctx, ClaimCode{Hash: hashClaimCode(code), DepositID: d.ID,
				CreatedAt: now, ExpiresAt: res.ClaimExpiresAt}); err != nil {
				return fmt.Errorf("insert claim code: %w", err)
			}
			return tx.Audit(ctx, audit)
		}
		audit.Subject = r.UserID
		if err := tx.Audit(ctx, audit); err != nil {
			return err
		}
		out, changed, err = s.verifyByDeposit(ctx, tx, dtx, d, r.UserID, in.certType, r.Guardian, now)
		return err
	})
	if err != nil {
		return DepositResult{}, err
	}
	if changed {
		s.finished(ctx, out)
		res.Verification = &out
	}
	res.ClaimCode = code
	return res, nil
}

// auditRefusal records a refused deposit (its signature was accepted) in
// the audit log, in a transaction of its own (the deposit's rolled back),
// so that probing which numbers are verified, and for whom, leaves a
// trace the person sees: action authority.deposit_refused, the authority
// as actor, the refusal's code as reason, and as subject the user the
// number is validly bound to, else its person's id, else nothing (never
// the name or number). An internal failure is not a refusal.
func (s *Service) auditRefusal(ctx context.Context, r DepositRequest, in validated, refusal error, now time.Time) {
	kind := KindOf(refusal)
	if kind == KindInternal || kind == KindUnavailable {
		return
	}
	code := CodeOf(refusal)
	s.log.InfoContext(ctx, "authority deposit refused", "authority", r.Authority.ID, "code", code)
	subject := ""
	if in.number.Value() != "" {
		p, err := s.store.PersonByIndex(ctx, s.keys.index.Sum(indexPurposeNumber, in.number.Value()))
		switch {
		case err == nil:
			subject = p.ID
			if u, err := s.store.UserByPerson(ctx, p.ID); err == nil && u.Valid(now) {
				subject = u.UserID
			}
		case !errors.Is(err, ErrNotFound):
			s.log.WarnContext(ctx, "refused deposit: find person", "authority", r.Authority.ID, "err", err)
		}
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		return tx.Audit(ctx, AuditEntry{At: now, ActorKind: ActorAuthority, Actor: r.Authority.ID,
			Action: "authority.deposit_refused", Subject: subject, Target: r.UserID, Fields: []string{},
			Reason: "refused: " + code})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit refused deposit", "authority", r.Authority.ID, "code", code, "err", err)
	}
}

// depositPerson finds or creates the deposit's person. With a user it is
// personFor; without, a person verified for some user is found as it is
// (only that user can claim the deposit then), and that user is returned.
func (s *Service) depositPerson(ctx context.Context, tx Tx, userID string, in validated, now time.Time) (Person, string, error) {
	if userID != "" {
		p, err := s.personFor(ctx, tx, userID, in, now)
		return p, "", err
	}
	p, err := tx.PersonByIndex(ctx, s.keys.index.Sum(indexPurposeNumber, in.number.Value()))
	if err != nil {
		p, err := s.personFor(ctx, tx, userID, in, now)
		return p, "", err
	}
	if bound, err := tx.UserByPerson(ctx, p.ID); err == nil && bound.Valid(now) {
		return p, bound.UserID, nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Person{}, "", fmt.Errorf("find binding: %w", err)
	}
	p, err = s.personFor(ctx, tx, userID, in, now)
	return p, "", err
}

func (s *Service) validateDeposit(r DepositRequest, now time.Time) (validated, error) {
	userID := r.UserID
	if userID == "" {
		userID = "-" // validateIdentity checks a user id; there is none yet
	}
	in, err := s.validateIdentity(userID, r.CertType, r.RealName, r.IDNumber, false, now)
	if err != nil {
		return validated{}, err
	}
	if r.Guardian != nil {
		if err := r.Guardian.validate(now, "guardian"); err != nil {
			return in, err
		}
	}
	if err := checkMinor(in.number, &Consent{Guardian: r.Guardian}, now); err != nil {
		return in, E(KindInvalid, CodeGuardianConsentRequired,
			"the person is under 14: a guardian's consent (guardian) is required (PIPL Art. 31)", nil)
	}
	if !ValidDepositMethod(r.Method) {
		return validated{}, E(KindInvalid, CodeInvalidRequest, "method must be 2–32 lower-case letters, digits and _ (e.g. in_person)", nil)
	}
	// Not in the future, with VerifiedAtSkew for the authority's clock.
	if r.VerifiedAt.IsZero() || r.VerifiedAt.After(now.Add(VerifiedAtSkew)) || now.Sub(r.VerifiedAt) > MaxDepositAge {
		return validated{}, E(KindInvalid, CodeInvalidRequest, "verified_at must be an RFC 3339 time in the last year, not in the future (1 minute of clock difference is allowed)", nil)
	}
	if r.Authority.ID == "" || r.Authority.Revoked() {
		return validated{}, E(KindUnauthorized, "INVALID_AUTHORITY", "unknown or revoked authority", nil)
	}
	return in, nil
}

// verifyByDeposit verifies userID with deposit d inside tx: a session of
// provider authority, evidence authority_deposit, finished as passed by
// the same machinery as a review. A user verified with another identity,
// or a person verified for another user, is a conflict.
func (s *Service) verifyByDeposit(ctx context.Context, tx Tx, dtx DepositTx, d Deposit, userID, certType string, guardian *Guardian, now time.Time) (Verification, bool, error) {
	if rec, err := tx.UserRecord(ctx, userID); err == nil && rec.Valid(now) && rec.PersonID != d.PersonID {
		return Verification{}, false, E(KindConflict, CodeAlreadyAuthenticated, "the user is already verified with another identity", nil)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Verification{}, false, fmt.Errorf("load user record: %w", err)
	}
	if bound, err := tx.UserByPerson(ctx, d.PersonID); err == nil && bound.UserID != userID && bound.Valid(now) {
		return Verification{}, false, E(KindConflict, CodeIdentityBound, "this ID number is already verified for another account", nil)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Verification{}, false, fmt.Errorf("find binding: %w", err)
	}
	if open, err := tx.OpenVerificationForUser(ctx, userID); err == nil {
		if open, err = tx.LockVerification(ctx, open.CertifyID); err != nil {
			return Verification{}, false, fmt.Errorf("lock open session: %w", err)
		}
		if err := replaceOpen(ctx, tx, open, now); err != nil {
			return Verification{}, false, err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return Verification{}, false, fmt.Errorf("find open session: %w", err)
	}
	v := Verification{CertifyID: newID("vf"), UserID: userID, PersonID: d.PersonID, Provider: ProviderAuthority,
		Status: StatusProcessing, CertType: certType, Evidence: EvidenceAuthorityDeposit,
		Consent: Consent{NoticeVersion: "authority:" + d.AuthorityID, AcceptedAt: d.VerifiedAt,
			Scopes: []string{ScopeIDNumber}, RecordedAt: now, Guardian: guardian},
		CreatedAt: now, UpdatedAt: now, Deadline: now.Add(time.Minute)}
	if err := tx.InsertVerification(ctx, v); err != nil {
		return Verification{}, false, fmt.Errorf("insert verification: %w", err)
	}
	out, changed, err := s.finishTx(ctx, tx, v.CertifyID, outcome{FaceResult: FaceResult{Passed: true}})
	if err != nil {
		return Verification{}, false, err
	}
	if out.Status != StatusSuccess {
		return Verification{}, false, E(KindConflict, CodeIdentityBound, "this ID number is already verified for another account", nil)
	}
	if err := dtx.SetDepositUser(ctx, d.ID, userID, out.CertifyID); err != nil {
		return Verification{}, false, err
	}
	return out, changed, nil
}

// Claim verifies userID with the deposit whose claim code the person gave
// the platform. A code works once, within ClaimTTL; a wrong, used or
// expired code is refused alike.
func (s *Service) Claim(ctx context.Context, by Actor, userID, code string) (Verification, error) {
	if err := by.validate(); err != nil {
		return Verification{}, err
	}
	if !ValidUserID(userID) {
		return Verification{}, ErrBadUserID
	}
	errClaim := E(KindInvalid, CodeInvalidClaim, "the claim code is unknown, used or expired", nil)
	if !validClaimCode(code) {
		return Verification{}, errClaim
	}
	now := s.clock()
	hash := hashClaimCode(code)
	var out Verification
	changed := false
	err := s.inTx(ctx, func(tx Tx) error {
		dtx, err := depositTx(tx)
		if err != nil {
			return err
		}
		c, err := dtx.ClaimCode(ctx, hash)
		if errors.Is(err, ErrNotFound) || err == nil && (!c.UsedAt.IsZero() || !now.Before(c.ExpiresAt)) {
			return errClaim
		}
		if err != nil {
			return err
		}
		d, err := dtx.Deposit(ctx, c.DepositID)
		if err != nil {
			return fmt.Errorf("load deposit: %w", err)
		}
		// A revoked authority's codes are void (its deposits no longer
		// vouch for anyone), even one a revocation did not mark used.
		if a, err := dtx.Authority(ctx, d.AuthorityID); errors.Is(err, ErrNotFound) || err == nil && a.Revoked() {
			return errClaim
		} else if err != nil {
			return fmt.Errorf("load authority: %w", err)
		}
		if s.personErased(ctx, tx, d.PersonID) {
			return errClaim
		}
		p, err := tx.Person(ctx, d.PersonID)
		if err != nil {
			return err
		}
		guardian, err := s.depositGuardian(p, d, now)
		if err != nil {
			return err
		}
		if err := dtx.UseClaimCode(ctx, hash, userID, now); errors.Is(err, ErrConflict) {
			return errClaim
		} else if err != nil {
			return err
		}
		if out, changed, err = s.verifyByDeposit(ctx, tx, dtx, d, userID, p.CertType, guardian, now); err != nil {
			return err
		}
		return tx.Audit(ctx, AuditEntry{At: now, ActorKind: by.Kind, Actor: by.Name, Action: "authority.claim",
			Subject: userID, Target: d.ID, Reason: by.auditReason("claim of a deposit by authority " + d.AuthorityID)})
	})
	if err != nil {
		return Verification{}, err
	}
	if changed {
		s.finished(ctx, out)
	}
	return out, nil
}

// depositGuardian returns the guardian's consent the deposit's signed
// body carried, for the consent record of the session its claim opens,
// and refuses a person under 14 without one (a deposit stored before the
// rule, or before the body was kept).
func (s *Service) depositGuardian(p Person, d Deposit, now time.Time) (*Guardian, error) {
	if err := s.keys.openDepositEvidence(p, &d); err != nil {
		return nil, fmt.Errorf("open deposit evidence: %w", err)
	}
	var body struct {
		Guardian *Guardian `json:"guardian"`
	}
	if len(d.Body) > 0 {
		if err := json.Unmarshal(d.Body, &body); err != nil {
			return nil, fmt.Errorf("deposit %s: the signed body does not decode: %w", d.ID, err)
		}
	}
	id, err := s.keys.openPerson(p)
	if err != nil {
		return nil, fmt.Errorf("open person: %w", err)
	}
	dt, err := idnum.ParseDocType(p.CertType)
	if err != nil {
		return nil, fmt.Errorf("person %s: %w", p.ID, err)
	}
	number, err := idnum.Parse(dt, id.Number, now)
	if err != nil {
		return nil, fmt.Errorf("person %s: stored number: %w", p.ID, err)
	}
	if err := checkMinor(number, &Consent{Guardian: body.Guardian}, now); err != nil {
		return nil, E(KindInvalid, CodeGuardianConsentRequired,
			"the person is under 14 and the deposit carries no guardian's consent: the authority must deposit again with one", nil)
	}
	return body.Guardian, nil
}

// newClaimCode returns "rc_" and 32 url-safe base64 characters (192
// random bits).
func newClaimCode() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("claim code: %w", err)
	}
	return claimPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func validClaimCode(code string) bool {
	if len(code) != len(claimPrefix)+32 || !strings.HasPrefix(code, claimPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(code[len(claimPrefix):])
	return err == nil
}

func hashClaimCode(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// AuthorityRequest records an authority's request for the evidence
// package of the person with idNumber: an audit entry about the user bound
// to the person (or, if none, about the person id), which the person sees
// in their export, and a trail.request entry under the person's handle. It
// returns the handle to package and the ref of the request's entry (for
// trail.PackageOptions.RequestRef). An unknown or erased person is
// ErrNotFound-kind, saying nothing more.
func (s *Service) AuthorityRequest(ctx context.Context, a Authority, certType, idNumber, legalBasis, caseRef string) (subject, ref string, err error) {
	if a.ID == "" || a.Revoked() {
		return "", "", E(KindUnauthorized, "INVALID_AUTHORITY", "unknown or revoked authority", nil)
	}
	if !ValidLabel(legalBasis, 2, 200) {
		return "", "", E(KindInvalid, CodeInvalidRequest, "legal_basis must be 2–200 printable characters", nil)
	}
	if !ValidLabel(caseRef, 2, 100) {
		return "", "", E(KindInvalid, CodeInvalidRequest, "case_reference must be 2–100 printable characters", nil)
	}
	now := s.clock()
	dt, err := idnum.ParseDocType(certType)
	if err != nil {
		return "", "", E(KindInvalid, CodeInvalidCertType, "cert_type is not a known document type", err)
	}
	number, err := idnum.Parse(dt, idNumber, now)
	if err != nil {
		return "", "", E(KindInvalid, CodeInvalidIDNumber, "id_card_number is not a valid "+string(dt)+" number", err)
	}
	notFound := E(KindNotFound, CodeNotFound, "no evidence is held for this ID number", nil)
	p, err := s.store.PersonByIndex(ctx, s.keys.index.Sum(indexPurposeNumber, number.Value()))
	if errors.Is(err, ErrNotFound) {
		return "", "", notFound
	}
	if err != nil {
		return "", "", fmt.Errorf("find person: %w", err)
	}
	h, err := s.subject(ctx, s.store, p.ID)
	if err != nil {
		return "", "", err
	}
	if h == "" {
		return "", "", notFound
	}
	subject = p.ID
	if u, err := s.store.UserByPerson(ctx, p.ID); err == nil {
		subject = u.UserID
	} else if !errors.Is(err, ErrNotFound) {
		return "", "", fmt.Errorf("find binding: %w", err)
	}
	reason := "legal basis: " + legalBasis + "; case: " + caseRef
	ref = newID("tr")
	err = s.inTx(ctx, func(tx Tx) error {
		if err := tx.Audit(ctx, AuditEntry{At: now, ActorKind: ActorAuthority, Actor: a.ID, Action: "authority.request",
			Subject: subject, Target: p.ID, Fields: []string{}, Reason: reason}); err != nil {
			return err
		}
		// Not which authority (see Deposit): the audit entry names it.
		return queueTrail(ctx, tx, trail.Event{Kind: trail.KindTrailRequest, Subject: h, Ref: ref, Time: now,
			Attrs: map[string]string{"by": ActorAuthority}})
	})
	if err != nil {
		return "", "", fmt.Errorf("record authority request: %w", err)
	}
	return h, ref, nil
}

// sealDepositEvidence seals the deposit's signature, body hash and signed
// message with the person's data key, each bound to the deposit and its
// column. The body's bytes are sealed after the hash (the body_hash
// column: 32 bytes of SHA-256, then the body), so no column is added and
// evidence stored before (the hash alone) still opens.
func (k *keyState) sealDepositEvidence(p Person, d *Deposit) error {
	if len(d.BodyHash) != sha256.Size {
		return fmt.Errorf("deposit %s: the body hash is %d bytes, want %d", d.ID, len(d.BodyHash), sha256.Size)
	}
	d.BodyHash = append(append(make([]byte, 0, len(d.BodyHash)+len(d.Body)), d.BodyHash...), d.Body...)
	d.Body = nil
	for _, f := range depositEvidenceFields(d) {
		ct, err := k.sealWith(p, *f.v, "deposit|"+d.ID+"|"+f.name)
		if err != nil {
			return err
		}
		*f.v = ct
	}
	return nil
}

// depositEvidenceFields are the sealed fields of d, each with the name
// its seal is bound to.
func depositEvidenceFields(d *Deposit) []sealedField {
	return []sealedField{{"signature", &d.Signature}, {"body_hash", &d.BodyHash}, {"signed_message", &d.SignedMessage}}
}

// sealedField is a field sealed on its own, and the name its seal is
// bound to.
type sealedField struct {
	name string
	v    *[]byte
}

// openDepositEvidence undoes sealDepositEvidence on d.
func (k *keyState) openDepositEvidence(p Person, d *Deposit) error {
	for _, f := range depositEvidenceFields(d) {
		plain, err := k.openWith(p, *f.v, "deposit|"+d.ID+"|"+f.name)
		if err != nil {
			return err
		}
		*f.v = plain
	}
	if len(d.BodyHash) < sha256.Size {
		return fmt.Errorf("deposit %s: the sealed body hash is %d bytes", d.ID, len(d.BodyHash))
	}
	if len(d.BodyHash) > sha256.Size {
		d.Body = d.BodyHash[sha256.Size:]
	}
	d.BodyHash = d.BodyHash[:sha256.Size:sha256.Size]
	return nil
}

// DepositEvidence opens a deposit's sealed evidence for an operator (to
// check the authority's signature again: Body's SHA-256 is BodyHash, and
// Signature verifies over SignedMessage with the authority's key). Body
// holds the name and number, so the read is audited with the operator's
// reason. A deposit of an erased person is ErrNotFound-kind.
func (s *Service) DepositEvidence(ctx context.Context, op Operator, depositID string) (Deposit, error) {
	if err := op.validate(); err != nil {
		return Deposit{}, err
	}
	notFound := E(KindNotFound, CodeNotFound, "no such deposit (or its person was erased)", nil)
	if !strings.HasPrefix(depositID, "dp") || len(depositID) > 64 {
		return Deposit{}, notFound
	}
	var d Deposit
	err := s.store.InTx(ctx, func(tx Tx) error {
		dtx, err := depositTx(tx)
		if err != nil {
			return err
		}
		if d, err = dtx.Deposit(ctx, depositID); errors.Is(err, ErrNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		if s.personErased(ctx, tx, d.PersonID) {
			return notFound
		}
		p, err := tx.Person(ctx, d.PersonID)
		if errors.Is(err, ErrNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		if err := s.keys.openDepositEvidence(p, &d); err != nil {
			return err
		}
		subject := d.UserID
		if subject == "" {
			subject = d.PersonID
		}
		return tx.Audit(ctx, AuditEntry{At: s.clock(), ActorKind: ActorOperator, Actor: op.Name,
			Action: "authority.deposit_evidence", Subject: subject, Target: d.ID,
			Fields: []string{FieldName, FieldIDNumber}, Reason: op.Reason})
	})
	if err != nil {
		return Deposit{}, err
	}
	return d, nil
}
