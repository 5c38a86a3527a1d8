package realname

import (
	"slices"
	"time"

	"github.com/realname/realname/internal/idnum"
)

// chinaTime is China Standard Time (UTC+8, no daylight saving): the day of
// birth dates and of the provider's daily budget.
var chinaTime = time.FixedZone("CST", 8*60*60)

// The scopes of a consent.
const (
	ScopeIDNumber  = "id_number"
	ScopeFace      = "face"
	ScopeDocuments = "documents" // photos of the ID document, for a manual review
)

// MinAgeWithoutGuardian is the age under which a person's own consent is
// not enough (PIPL Art. 31: a guardian consents for a child under 14).
const MinAgeWithoutGuardian = 14

// The guardian relations a Guardian may name.
const (
	RelationParent   = "parent"
	RelationGuardian = "guardian"
)

// Guardian is the consent of a child's guardian (父母或其他监护人), recorded
// with the child's consent. It holds no identity of the guardian: the
// platform that collected it keeps its own proof.
type Guardian struct {
	Relation   string    `json:"relation"` // RelationParent or RelationGuardian
	AcceptedAt time.Time `json:"accepted_at"`
}

// NoticeVersion is the version of the consent notice text this build serves.
// A consent must name a version the service knows.
const NoticeVersion = "2026-11-01"

// KnownNoticeVersions lists the notice versions a consent may name.
var KnownNoticeVersions = []string{NoticeVersion}

// Consent is the person's separate consent (PIPL Art. 29) to processing
// their ID number and face, recorded with the session.
type Consent struct {
	NoticeVersion string    `json:"notice_version"`
	AcceptedAt    time.Time `json:"accepted_at"`
	Scopes        []string  `json:"scopes"`
	RecordedAt    time.Time `json:"recorded_at"`
	// Guardian is set when a guardian consented for a child under 14.
	Guardian *Guardian `json:"guardian,omitempty"`
	// WithdrawnAt is set once the person withdrew the consent.
	WithdrawnAt time.Time `json:"withdrawn_at,omitzero"`
}

// validate checks that the consent covers a face check and is plausible.
func (c Consent) validate(now time.Time) error {
	return c.validateFor(now, ScopeFace)
}

// validateFor checks that the consent covers the ID number and the given
// second scope (ScopeFace for a face check, ScopeDocuments for a manual
// review) and is plausible.
func (c Consent) validateFor(now time.Time, second string) error {
	if !slices.Contains(KnownNoticeVersions, c.NoticeVersion) {
		return E(KindInvalid, CodeConsentRequired, "consent.notice_version must name the current notice ("+NoticeVersion+")", nil)
	}
	if err := acceptedRecently(c.AcceptedAt, now, "consent.accepted_at", CodeConsentRequired); err != nil {
		return err
	}
	if !slices.Contains(c.Scopes, ScopeIDNumber) || !slices.Contains(c.Scopes, second) {
		if second == ScopeDocuments {
			return E(KindInvalid, CodeConsentRequired, `a manual review needs consent to both scopes "id_number" and "documents"`, nil)
		}
		return E(KindInvalid, CodeConsentRequired, `a face check needs consent to both scopes "id_number" and "face"`, nil)
	}
	if len(c.Scopes) > 3 {
		return E(KindInvalid, CodeConsentRequired, "consent.scopes has too many scopes", nil)
	}
	for _, s := range c.Scopes {
		if s != ScopeIDNumber && s != second {
			return E(KindInvalid, CodeConsentRequired, "consent.scopes has an unknown scope", nil)
		}
	}
	if g := c.Guardian; g != nil {
		if err := g.validate(now, "consent.guardian"); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a guardian's consent; field names it in messages.
func (g Guardian) validate(now time.Time, field string) error {
	if g.Relation != RelationParent && g.Relation != RelationGuardian {
		return E(KindInvalid, CodeGuardianConsentRequired, field+`.relation must be "parent" or "guardian"`, nil)
	}
	return acceptedRecently(g.AcceptedAt, now, field+".accepted_at", CodeGuardianConsentRequired)
}

// acceptedRecently checks the time a consent was given.
func acceptedRecently(at, now time.Time, field, code string) error {
	switch {
	case at.IsZero():
		return E(KindInvalid, code, field+" is required (RFC 3339)", nil)
	case at.After(now.Add(5 * time.Minute)):
		return E(KindInvalid, code, field+" is in the future", nil)
	case now.Sub(at) > 24*time.Hour:
		return E(KindInvalid, code, field+" is older than 24 hours; ask again", nil)
	}
	return nil
}

// ageAt is the age in whole years at now of a person born on birth.
func ageAt(birth, now time.Time) int {
	now = now.In(chinaTime)
	y := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		y--
	}
	return y
}

// checkMinor refuses a person under 14 without a guardian's consent.
func checkMinor(number idnum.Number, c *Consent, now time.Time) error {
	birth, ok := number.BirthDate()
	if !ok || ageAt(birth, now) >= MinAgeWithoutGuardian || c.Guardian != nil {
		return nil
	}
	return E(KindInvalid, CodeGuardianConsentRequired,
		"the person is under 14: a guardian's consent (consent.guardian) is required (PIPL Art. 31)", nil)
}
