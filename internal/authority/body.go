package authority

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/realname/realname/internal/realname"
)

// MaxBody bounds the body of an authority's request.
const MaxBody = 64 << 10

// Field bounds (characters) checked before the domain's own validation.
const (
	maxNameField   = 64
	maxNumberField = 64
	maxTypeField   = 64
	maxUserField   = 128
	maxTimeField   = 40
)

// DepositBody is the body of POST /api/v1/authority/deposits.
type DepositBody struct {
	RealName     string `json:"real_name"`
	IDCardNumber string `json:"id_card_number"`
	CertType     string `json:"cert_type"`
	Method       string `json:"method"`
	VerifiedAt   string `json:"verified_at"` // RFC 3339
	UserID       string `json:"user_id"`     // optional
	// Guardian (optional; required for a person under 14) is the consent
	// of the person's guardian, as consent.guardian of /auth/init; the
	// domain validates it.
	Guardian   *realname.Guardian `json:"guardian"`
	verifiedAt time.Time
}

// VerifiedTime is verified_at, parsed.
func (b DepositBody) VerifiedTime() time.Time { return b.verifiedAt }

// RequestBody is the body of POST /api/v1/authority/requests.
type RequestBody struct {
	IDCardNumber  string `json:"id_card_number"`
	CertType      string `json:"cert_type"`
	LegalBasis    string `json:"legal_basis"`
	CaseReference string `json:"case_reference"`
}

func invalid(msg string) error {
	return realname.E(realname.KindInvalid, realname.CodeInvalidRequest, msg, nil)
}

// decodeStrict decodes exactly one JSON object with known fields only.
func decodeStrict(b []byte, dst any) error {
	if len(b) > MaxBody {
		return realname.E(realname.KindTooLarge, "BODY_TOO_LARGE", "the body is larger than 65536 bytes", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return realname.E(realname.KindInvalid, "INVALID_JSON", "a field has the wrong type", nil)
		}
		return realname.E(realname.KindInvalid, "INVALID_JSON", "the body must be one JSON object with the documented fields", nil)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return realname.E(realname.KindInvalid, "INVALID_JSON", "the body must hold exactly one JSON object", nil)
	}
	return nil
}

func within(s string, max int) bool { return len([]rune(s)) <= max }

// ParseDeposit decodes and bounds a deposit's body. The domain validates
// name, number and method further (realname.Service.Deposit).
func ParseDeposit(b []byte) (DepositBody, error) {
	var d DepositBody
	if err := decodeStrict(b, &d); err != nil {
		return DepositBody{}, err
	}
	switch {
	case d.RealName == "" || !within(d.RealName, maxNameField):
		return DepositBody{}, realname.E(realname.KindInvalid, realname.CodeInvalidName, "real_name is required (at most 64 characters)", nil)
	case d.IDCardNumber == "" || !within(d.IDCardNumber, maxNumberField):
		return DepositBody{}, realname.E(realname.KindInvalid, realname.CodeInvalidIDNumber, "id_card_number is required (at most 64 characters)", nil)
	case !within(d.CertType, maxTypeField):
		return DepositBody{}, realname.E(realname.KindInvalid, realname.CodeInvalidCertType, "cert_type is too long", nil)
	case !realname.ValidDepositMethod(d.Method):
		return DepositBody{}, invalid("method must be 2–32 lower-case letters, digits and _ (e.g. in_person, notarization)")
	case d.UserID != "" && (len(d.UserID) > maxUserField || !realname.ValidUserID(d.UserID)):
		return DepositBody{}, realname.ErrBadUserID
	case d.VerifiedAt == "" || len(d.VerifiedAt) > maxTimeField:
		return DepositBody{}, invalid("verified_at is required (RFC 3339)")
	}
	t, err := time.Parse(time.RFC3339, d.VerifiedAt)
	if err != nil {
		return DepositBody{}, invalid("verified_at must be an RFC 3339 time")
	}
	d.verifiedAt = t
	return d, nil
}

// ParseRequest decodes and bounds an evidence package request's body.
func ParseRequest(b []byte) (RequestBody, error) {
	var r RequestBody
	if err := decodeStrict(b, &r); err != nil {
		return RequestBody{}, err
	}
	switch {
	case r.IDCardNumber == "" || !within(r.IDCardNumber, maxNumberField):
		return RequestBody{}, realname.E(realname.KindInvalid, realname.CodeInvalidIDNumber, "id_card_number is required (at most 64 characters)", nil)
	case !within(r.CertType, maxTypeField):
		return RequestBody{}, realname.E(realname.KindInvalid, realname.CodeInvalidCertType, "cert_type is too long", nil)
	case !realname.ValidLabel(r.LegalBasis, 2, 200):
		return RequestBody{}, invalid("legal_basis must be 2–200 printable characters")
	case !realname.ValidLabel(r.CaseReference, 2, 100):
		return RequestBody{}, invalid("case_reference must be 2–100 printable characters")
	}
	return r, nil
}
