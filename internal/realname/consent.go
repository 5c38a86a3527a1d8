package realname

import (
	"slices"
	"time"
)

// The scopes of a consent.
const (
	ScopeIDNumber = "id_number"
	ScopeFace     = "face"
)

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
}

// validate checks that the consent covers a face check and is plausible.
func (c Consent) validate(now time.Time) error {
	if !slices.Contains(KnownNoticeVersions, c.NoticeVersion) {
		return E(KindInvalid, CodeConsentRequired, "consent.notice_version must name the current notice ("+NoticeVersion+")", nil)
	}
	if c.AcceptedAt.IsZero() {
		return E(KindInvalid, CodeConsentRequired, "consent.accepted_at is required (RFC 3339)", nil)
	}
	if c.AcceptedAt.After(now.Add(5 * time.Minute)) {
		return E(KindInvalid, CodeConsentRequired, "consent.accepted_at is in the future", nil)
	}
	if now.Sub(c.AcceptedAt) > 24*time.Hour {
		return E(KindInvalid, CodeConsentRequired, "consent.accepted_at is older than 24 hours; ask the person again", nil)
	}
	if !slices.Contains(c.Scopes, ScopeIDNumber) || !slices.Contains(c.Scopes, ScopeFace) {
		return E(KindInvalid, CodeConsentRequired, `a face check needs consent to both scopes "id_number" and "face"`, nil)
	}
	for _, s := range c.Scopes {
		if s != ScopeIDNumber && s != ScopeFace {
			return E(KindInvalid, CodeConsentRequired, "consent.scopes has an unknown scope", nil)
		}
	}
	return nil
}
