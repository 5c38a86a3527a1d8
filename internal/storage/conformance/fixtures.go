package conformance

import (
	"time"

	"github.com/realname/realname/internal/realname"
)

// samplePerson is a person with every field set and random identifiers.
func samplePerson() realname.Person {
	return realname.Person{
		ID:         newID("pn_"),
		Index:      randomBytes(32),
		KeyID:      newID("key_"),
		WrappedKey: randomBytes(60),
		NameCT:     randomBytes(40),
		NumberCT:   randomBytes(46),
		CertType:   "IDENTITY_CARD",
		CreatedAt:  base.Add(-48 * time.Hour),
	}
}

// sampleConsent is a complete consent.
func sampleConsent() realname.Consent {
	return realname.Consent{
		NoticeVersion: realname.NoticeVersion,
		AcceptedAt:    base.Add(-2*time.Minute - 987654321),
		Scopes:        []string{realname.ScopeIDNumber, realname.ScopeFace},
		RecordedAt:    base.Add(-time.Minute + 1),
		Guardian:      &realname.Guardian{Relation: realname.RelationParent, AcceptedAt: base.Add(-3*time.Minute + 5)},
		WithdrawnAt:   base.Add(time.Hour + 3),
	}
}

// erasedPerson is a person after erasure, every field set that one has.
func erasedPerson() realname.Person {
	p := samplePerson()
	p.ErasedAt = base.Add(-time.Hour + 21)
	return p
}

// sampleVerification is a finished session with every field set.
func sampleVerification(userID, personID string) realname.Verification {
	return realname.Verification{
		CertifyID:         newID("vf_"),
		UserID:            userID,
		PersonID:          personID,
		Provider:          "aliyun",
		ProviderRef:       newID("sha"),
		Status:            realname.StatusSuccess,
		CertType:          "IDENTITY_CARD",
		Attempts:          2,
		IdentityChecked:   true,
		Score:             97.125,
		SubCode:           "200",
		FailReason:        "NONE_FOR_TEST",
		VerifyURL:         "https://verify.example.test/face?c=" + newID(""),
		CallbackTokenHash: randomBytes(32),
		Consent:           sampleConsent(),
		Evidence:          realname.EvidenceFace,
		ResultDeleted:     true,
		CreatedAt:         base.Add(-10*time.Minute + 111),
		UpdatedAt:         base.Add(-time.Minute + 222),
		Deadline:          base.Add(20*time.Minute + 333),
		CompletedAt:       base.Add(-time.Minute + 444),
		ExpiresAt:         base.Add(365*24*time.Hour + 555),
		NotifyURL:         "https://platform.example.test/notify?n=" + newID(""),
	}
}

// openVerification is a session waiting for its result: empty provider
// reference, no completion, no expiry.
func openVerification(userID string, status realname.Status, created time.Time) realname.Verification {
	v := sampleVerification(userID, newID("pn_"))
	v.Status = status
	v.ProviderRef = ""
	v.FailReason = ""
	v.CompletedAt = time.Time{}
	v.ExpiresAt = time.Time{}
	v.CreatedAt = created
	v.UpdatedAt = created
	return v
}

// sampleUser is a valid user record with every field set.
func sampleUser(userID, personID string) realname.UserRecord {
	return realname.UserRecord{
		UserID:     userID,
		PersonID:   personID,
		CertifyID:  newID("vf_"),
		Status:     realname.StatusSuccess,
		Evidence:   realname.EvidenceFace,
		VerifiedAt: base.Add(-time.Hour + 7),
		ExpiresAt:  base.Add(365*24*time.Hour + 9),
	}
}

// sampleAPIKey is an API key, revoked or not.
func sampleAPIKey(revoked bool) realname.APIKey {
	k := realname.APIKey{
		ID:        newID("ak_"),
		Name:      "platform " + newID(""),
		Hash:      randomBytes(32),
		CreatedAt: base.Add(-30*24*time.Hour + 13),
	}
	if revoked {
		k.RevokedAt = base.Add(-time.Hour + 17)
	}
	return k
}

// sampleAnswer is an idempotent answer with every field set.
func sampleAnswer() realname.IdempotentAnswer {
	return realname.IdempotentAnswer{
		Scope:       newID("ak_"),
		Key:         newID("idem-"),
		Fingerprint: randomBytes(32),
		CertifyID:   newID("vf_"),
		CreatedAt:   base.Add(-5*time.Second + 19),
	}
}
