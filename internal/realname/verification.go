package realname

import (
	"fmt"
	"time"
)

// Status is the state of a verification session.
type Status string

// The statuses. pending → processing → success | failed | cancelled;
// success → expired when its validity ends.
const (
	StatusPending    Status = "pending"    // created; the provider has not started the face check yet
	StatusProcessing Status = "processing" // the face check is open at the provider; waiting for the person
	StatusSuccess    Status = "success"    // verified
	StatusFailed     Status = "failed"     // the check said no (mismatch, liveness attack, no record…)
	StatusCancelled  Status = "cancelled"  // the person gave up, or the session timed out, or a newer session replaced it
	StatusExpired    Status = "expired"    // was success; its validity has ended
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusProcessing, StatusSuccess, StatusFailed, StatusCancelled, StatusExpired:
		return true
	}
	return false
}

// Open reports whether the session still waits for a result.
func (s Status) Open() bool { return s == StatusPending || s == StatusProcessing }

// Terminal reports whether the session is finished.
func (s Status) Terminal() bool { return !s.Open() }

// transitions lists the allowed moves. Anything not listed is refused, so a
// terminal state never moves backwards.
var transitions = map[Status][]Status{
	StatusPending:    {StatusProcessing, StatusSuccess, StatusFailed, StatusCancelled},
	StatusProcessing: {StatusSuccess, StatusFailed, StatusCancelled},
	StatusSuccess:    {StatusExpired},
}

// CanMove reports whether from → to is allowed.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Evidence says how a person was verified.
type Evidence string

// The kinds of evidence.
const (
	EvidenceFace             Evidence = "face"              // name+number checked, live face compared (Cloudauth ID_PRO)
	EvidenceManualReview     Evidence = "manual_review"     // an operator checked the documents
	EvidenceAuthorityDeposit Evidence = "authority_deposit" // an authority verified in person
)

// Verification is one verification session.
type Verification struct {
	CertifyID   string // our id, returned to the platform; also the provider's OuterOrderNo
	UserID      string // the platform's user id
	PersonID    string // the Person checked (an opaque id; the identity is encrypted in Person)
	Provider    string // "aliyun" (also in sandbox mode)
	ProviderRef string // the provider's CertifyId, once the face check started
	Status      Status
	CertType    string
	Attempts    int // provider round trips that tried to start the face check
	// IdentityChecked is set once the national record matched name and
	// number, so a resumed session does not pay for the check again.
	IdentityChecked bool
	Score           float64 // face compare score, 0–100, when known
	SubCode         string  // the provider's result code (Cloudauth SubCode)
	FailReason      string  // machine code of the failure, empty unless failed/cancelled
	VerifyURL       string  // where the person does the face check
	// CallbackTokenHash is SHA-256 of the per-session callback token; the
	// token itself is only ever sent to the provider.
	CallbackTokenHash []byte
	Consent           Consent
	Evidence          Evidence
	ResultDeleted     bool   // the provider was told to delete its copy
	NotifyURL         string // the platform's callback_url, told when the session ends
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Deadline          time.Time // an open session is cancelled after this
	CompletedAt       time.Time // zero while open
	ExpiresAt         time.Time // zero unless it succeeded
}

// move changes the status, refusing a move the state machine forbids.
func (v *Verification) move(to Status, now time.Time) error {
	if !CanMove(v.Status, to) {
		return fmt.Errorf("verification %s: %s → %s: %w", v.CertifyID, v.Status, to, errBadTransition)
	}
	v.Status = to
	v.UpdatedAt = now
	if to.Terminal() && v.CompletedAt.IsZero() {
		v.CompletedAt = now
	}
	return nil
}

// EffectiveStatus is the status as of now: a success past its expiry reads
// as expired even before the store has been updated.
func (v Verification) EffectiveStatus(now time.Time) Status {
	if v.Status == StatusSuccess && !v.ExpiresAt.IsZero() && !now.Before(v.ExpiresAt) {
		return StatusExpired
	}
	return v.Status
}

// UserRecord is a platform user's current standing: the binding between the
// user and a person, and the latest successful verification. At most one
// user is bound to a person (the store enforces it).
type UserRecord struct {
	UserID     string
	PersonID   string
	CertifyID  string
	Status     Status // success or expired
	Evidence   Evidence
	VerifiedAt time.Time
	ExpiresAt  time.Time
}

// Valid reports whether the user is verified as of now.
func (u UserRecord) Valid(now time.Time) bool {
	return u.Status == StatusSuccess && now.Before(u.ExpiresAt)
}
