package authority

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/realname/realname/internal/realname"
)

// FuzzParseHeader: the parser never panics, and what it accepts formats
// back to the same header and is within every bound.
func FuzzParseHeader(f *testing.F) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	f.Add(Sign(key, "au0123456789abcdef0123456789abcd", testAudience, "POST", "/api/v1/authority/deposits", []byte("{}"), testNow))
	f.Add("Realname-Authority id=au0123456789abcdef0123456789abcd,ts=1,nonce=aaaaaaaaaaaaaaaa,sig=")
	f.Add("Realname-Authority id=,ts=,nonce=,sig=")
	f.Add("Bearer abc")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		got, err := ParseHeader(h)
		if err != nil {
			return
		}
		if got.String() != h {
			t.Fatalf("accepted %q but formats as %q", h, got.String())
		}
		if !ValidID(got.AuthorityID) || len(got.Signature) != ed25519.SignatureSize ||
			len(got.Nonce) < minNonce || len(got.Nonce) > maxNonce || got.Timestamp < 0 {
			t.Fatalf("accepted out of bounds: %+v", got)
		}
	})
}

// FuzzParseBodies: the body parsers never panic, and what they accept is
// within the documented bounds.
func FuzzParseBodies(f *testing.F) {
	f.Add([]byte(`{"real_name":"张三","id_card_number":"11010519491231002X","cert_type":"IDENTITY_CARD","method":"in_person","verified_at":"2026-11-01T10:00:00+08:00","user_id":"u1"}`))
	f.Add([]byte(`{"id_card_number":"11010519491231002X","legal_basis":"《公证法》","case_reference":"(2026)1号"}`))
	f.Add([]byte(`{"real_name":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseDeposit(b); err == nil {
			if d.RealName == "" || len([]rune(d.RealName)) > maxNameField ||
				len([]rune(d.IDCardNumber)) > maxNumberField || d.VerifiedTime().IsZero() || len(d.UserID) > maxUserField {
				t.Fatalf("accepted out of bounds: %+v", d)
			}
		}
		if r, err := ParseRequest(b); err == nil {
			if !realname.ValidLabel(r.LegalBasis, 2, 200) || !realname.ValidLabel(r.CaseReference, 2, 100) ||
				strings.ContainsRune(r.LegalBasis, 0) || len([]rune(r.IDCardNumber)) > maxNumberField {
				t.Fatalf("accepted out of bounds: %+v", r)
			}
		}
	})
}
