package realname

import (
	"context"
	"log/slog"
)

// Provider checks identities and faces. Every call may cost money.
// Implementations MUST be safe for concurrent use, MUST honour ctx, and MUST
// report failures with the sentinel errors of this package:
// ErrProviderUnavailable for anything retryable (network, throttling, 5xx),
// ErrNotFinished while the person has not finished, ErrUnknownSession and
// ErrRejected for the rest.
type Provider interface {
	// Name is the provider's name as stored with sessions (e.g. "aliyun").
	Name() string
	// CheckIdentity matches name and number against the national record.
	CheckIdentity(ctx context.Context, id IdentityInput) (IdentityMatch, error)
	// StartFaceCheck opens a hosted face check and returns where the person
	// does it. A repeat with the same OrderNo MUST NOT open a second check
	// where the provider supports idempotency.
	StartFaceCheck(ctx context.Context, req FaceCheckRequest) (FaceCheckSession, error)
	// FaceCheckResult fetches the authoritative result of a face check.
	FaceCheckResult(ctx context.Context, ref string) (FaceResult, error)
}

// FaceComparer is an optional capability: compare a new face picture with
// the person's identity (used by /verify with face_image).
type FaceComparer interface {
	CompareFace(ctx context.Context, req CompareRequest) (FaceResult, error)
}

// ResultDeleter is an optional capability: ask the provider to delete its
// copy of a finished face check (pictures included).
type ResultDeleter interface {
	DeleteResult(ctx context.Context, ref string) error
}

// IdentityInput is a name and a document number, in the clear, on their way
// to the provider. It redacts itself in logs.
type IdentityInput struct {
	CertType string
	Name     string
	Number   string
}

// LogValue hides the identity.
func (IdentityInput) LogValue() slog.Value { return slog.StringValue("[identity redacted]") }

// String hides the identity from fmt as well.
func (IdentityInput) String() string { return "[identity redacted]" }

// IdentityMatch is the answer of the national-record check.
type IdentityMatch int

// The national-record answers.
const (
	IdentityMatches  IdentityMatch = iota + 1 // name and number belong together
	IdentityMismatch                          // they don't
	IdentityNoRecord                          // no such number in the record
)

// FaceCheckRequest opens a face check.
type FaceCheckRequest struct {
	OrderNo       string // our CertifyID: the idempotency key at the provider
	Identity      IdentityInput
	CallbackURL   string
	CallbackToken string // random per session
	ReturnURL     string
	URLType       string // "H5" (phones) or "WEB"
	MetaInfo      string // the provider's device info JSON, if the page sent one
}

// FaceCheckSession is an opened face check.
type FaceCheckSession struct {
	Ref       string // the provider's id for it (Cloudauth CertifyId)
	VerifyURL string
}

// FaceResult is a provider's verdict.
type FaceResult struct {
	Passed  bool
	SubCode string  // Cloudauth SubCode: 200 passed, 201–206 reasons
	Score   float64 // face similarity 0–100 when known
	// Reason is a machine code for a failure (FACE_MISMATCH, LIVENESS_ATTACK…).
	Reason string
}

// CompareRequest compares a new face picture with a person's identity.
type CompareRequest struct {
	OrderNo  string
	Identity IdentityInput
	Picture  []byte
}

// ReasonForSubCode turns a Cloudauth SubCode into a machine reason.
func ReasonForSubCode(sub string) string {
	switch sub {
	case "200":
		return ""
	case "201":
		return CodeIdentityMismatch
	case "202":
		return CodeIdentityNoRecord
	case "203":
		return "NO_REFERENCE_PHOTO"
	case "204":
		return "FACE_MISMATCH"
	case "205":
		return "LIVENESS_ATTACK"
	case "206":
		return "RISK_POLICY"
	default:
		return "PROVIDER_REJECTED"
	}
}
