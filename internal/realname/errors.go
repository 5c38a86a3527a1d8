package realname

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the outside world. Only the HTTP layer maps
// kinds to statuses.
type Kind int

// The error kinds.
const (
	KindInternal     Kind = iota // a bug or an unexpected failure
	KindInvalid                  // bad input
	KindUnauthorized             // no or bad credentials
	KindPermission               // credentials valid, action not allowed
	KindNotFound                 // no such thing
	KindConflict                 // the state forbids it (already verified, bound elsewhere…)
	KindRateLimited              // too many requests; RetryAfter says when to come back
	KindUnavailable              // a dependency (the provider) is down; retry later
	KindTooLarge                 // request body too large
)

// Error is the error type the domain returns. Code is a stable machine code
// (e.g. "INVALID_ID_NUMBER"), Message a human text safe to show (never PII).
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error.
func E(kind Kind, code, message string, cause error) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Err: cause}
}

// KindOf reports the Kind of err (KindInternal if err is not an *Error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// CodeOf reports the machine code of err ("INTERNAL" if it has none).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "INTERNAL"
}

// errBadTransition reports a move the state machine forbids.
var errBadTransition = errors.New("transition not allowed")

// Storage sentinel errors. Stores MUST return these (wrapped is fine).
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict reports a uniqueness violation (for example a person
	// already bound to another user, or a duplicate key).
	ErrConflict = errors.New("conflict")
)

// Provider sentinel errors. Providers MUST return these (wrapped is fine).
var (
	// ErrProviderUnavailable: the provider could not be reached or failed
	// (timeouts, throttling after retries, 5xx). Nothing was decided; the
	// caller may retry later.
	ErrProviderUnavailable = errors.New("provider unavailable")
	// ErrNotFinished: the person has not finished the face check (or gave
	// up); there is no result yet.
	ErrNotFinished = errors.New("face check not finished")
	// ErrUnknownSession: the provider does not know the session.
	ErrUnknownSession = errors.New("provider does not know the session")
	// ErrRejected: the provider refused the request's parameters.
	ErrRejected = errors.New("provider rejected the request")
)

// Common machine codes used in answers.
const (
	CodeInvalidRequest          = "INVALID_REQUEST"
	CodeInvalidIDNumber         = "INVALID_ID_NUMBER"
	CodeInvalidName             = "INVALID_NAME"
	CodeInvalidCertType         = "INVALID_CERT_TYPE"
	CodeUnsupportedDocument     = "UNSUPPORTED_DOCUMENT"
	CodeConsentRequired         = "CONSENT_REQUIRED"
	CodeAlreadyAuthenticated    = "ALREADY_AUTHENTICATED"
	CodeIdentityBound           = "IDENTITY_BOUND_TO_OTHER_USER"
	CodeIdentityMismatch        = "IDENTITY_MISMATCH"
	CodeIdentityNoRecord        = "IDENTITY_NO_RECORD"
	CodeNotFound                = "NOT_FOUND"
	CodeUserNotFound            = "USER_NOT_FOUND"
	CodeProviderUnavailable     = "PROVIDER_UNAVAILABLE"
	CodeIdempotencyConflict     = "IDEMPOTENCY_KEY_REUSED"
	CodeSessionClosed           = "SESSION_CLOSED"
	CodeInvalidCallback         = "INVALID_CALLBACK"
	CodeFaceCheckUnsupported    = "FACE_CHECK_UNSUPPORTED"
	CodeRateLimited             = "RATE_LIMITED"
	CodeGuardianConsentRequired = "GUARDIAN_CONSENT_REQUIRED"
	CodeUserLocked              = "USER_LOCKED"
	CodeBudgetExhausted         = "BUDGET_EXHAUSTED"
	CodeReviewRejected          = "REVIEW_REJECTED"
	CodeErased                  = "ERASED"
	CodeConsentWithdrawn        = "CONSENT_WITHDRAWN"
	CodeReasonRequired          = "REASON_REQUIRED"
	CodeInternal                = "INTERNAL"
)

// RateLimited is the error of a request over a rate limit: what says which
// limit ("too many … for this user"); retry is when to come back.
func RateLimited(what string, retry time.Duration) *Error {
	e := E(KindRateLimited, CodeRateLimited, what+"; retry after the time in Retry-After", nil)
	e.RetryAfter = retry
	return e
}
