package providertest

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/realname/realname/internal/realname"
)

// The outcomes Harness.Complete must support.
const (
	// OutcomePass: the person passes; the verdict is Passed, SubCode "200".
	OutcomePass = "pass"
	// OutcomeFaceMismatch: the face is not the person's (reason FACE_MISMATCH).
	OutcomeFaceMismatch = "face_mismatch"
	// OutcomeLivenessAttack: a photo, a mask or a replay (reason LIVENESS_ATTACK).
	OutcomeLivenessAttack = "liveness_attack"
	// OutcomeCancel: the person gives up; there is never a verdict.
	OutcomeCancel = "cancel"
)

// Defaults of the Harness's optional fields.
const (
	// DefaultName and DefaultNumber make up a well-formed identity (the
	// number has a valid check character) that sandboxes match.
	DefaultName   = "张三"
	DefaultNumber = "11010519491231002X"
	// DefaultCallbackURL is sent as FaceCheckRequest.CallbackURL.
	DefaultCallbackURL = "https://callback.example.com/realname/callback"
	// DefaultTimeout bounds each subtest.
	DefaultTimeout = 30 * time.Second
	// Goroutines is how many goroutines the concurrency subtest runs.
	Goroutines = 20
)

// DefaultPicture is the picture CompareFace is expected to pass: a few bytes
// framed like a JPEG (sandboxes do not look at faces).
var DefaultPicture = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00providertest face\xff\xd9")

// Harness is what Run needs to exercise a provider.
type Harness struct {
	// Provider is the provider under test. Required.
	Provider realname.Provider
	// Complete finishes the hosted face check ref as a person would, with
	// one of the Outcome constants. Required.
	Complete func(ref, outcome string) error
	// MismatchName and NoRecordName, with Identity's number, make
	// CheckIdentity answer IdentityMismatch and IdentityNoRecord. Required.
	MismatchName, NoRecordName string
	// Identity is a person the provider matches. Zero: DefaultName and
	// DefaultNumber, CertType "" (IDENTITY_CARD).
	Identity realname.IdentityInput
	// MatchPicture is a picture CompareFace passes. Default DefaultPicture.
	MatchPicture []byte
	// MismatchPicture is a picture CompareFace judges not to be the person
	// (reason FACE_MISMATCH). Required when the provider is a
	// realname.FaceComparer.
	MismatchPicture []byte
	// CallbackURL is sent with every face check. Default DefaultCallbackURL.
	CallbackURL string
	// Timeout bounds each subtest. Default DefaultTimeout.
	Timeout time.Duration
	// ResultWait is how long a verdict may take to appear after Complete
	// (it is polled). Default 5 s.
	ResultWait time.Duration
}

// withDefaults fills the optional fields.
func (h Harness) withDefaults() Harness {
	if h.Identity.Name == "" {
		h.Identity.Name = DefaultName
	}
	if h.Identity.Number == "" {
		h.Identity.Number = DefaultNumber
	}
	if h.MatchPicture == nil {
		h.MatchPicture = DefaultPicture
	}
	if h.CallbackURL == "" {
		h.CallbackURL = DefaultCallbackURL
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultTimeout
	}
	if h.ResultWait <= 0 {
		h.ResultWait = 5 * time.Second
	}
	return h
}

// withName is the harness identity under another name.
func (h Harness) withName(name string) realname.IdentityInput {
	id := h.Identity
	id.Name = name
	return id
}

// faceRequest is a fresh face check request for the harness identity.
func (h Harness) faceRequest() realname.FaceCheckRequest {
	return realname.FaceCheckRequest{
		OrderNo:       NewOrderNo("vf"),
		Identity:      h.Identity,
		CallbackURL:   h.CallbackURL,
		CallbackToken: randomHex(16),
		ReturnURL:     "https://app.example.com/realname/done",
		URLType:       "H5",
	}
}

// NewOrderNo returns prefix and 32 random hex digits, the shape of the
// domain's ids (e.g. "vf…" for a verification's CertifyID).
func NewOrderNo(prefix string) string { return prefix + randomHex(15) }

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}
