package idnum

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Sentinel errors. Every error returned by this package wraps one or more of
// them, so callers can test with errors.Is. The messages never contain the
// full input.
var (
	// ErrEmpty means the input was empty after normalisation.
	ErrEmpty = errors.New("idnum: empty input")
	// ErrFormat means the input has the wrong length or characters.
	ErrFormat = errors.New("idnum: invalid format")
	// ErrChecksum means the check character does not match.
	ErrChecksum = errors.New("idnum: check character mismatch")
	// ErrDate means the embedded birth date is impossible, before
	// 1800-01-01 or in the future.
	ErrDate = errors.New("idnum: invalid birth date")
	// ErrRegion means the region code is unknown or not allowed for the
	// document type.
	ErrRegion = errors.New("idnum: invalid region code")
	// ErrDocType means the document type is unknown.
	ErrDocType = errors.New("idnum: unknown document type")
	// ErrName means a personal name is not acceptable.
	ErrName = errors.New("idnum: invalid name")
)

// maxInput bounds the raw length of a document number, in bytes. Longer
// input is refused before any other work is done.
const maxInput = 64

// DocType identifies a kind of identity document.
type DocType string

// The supported document types.
const (
	// IdentityCard is the PRC resident identity card (居民身份证): 18
	// characters; the legacy 15-digit number is accepted and converted.
	IdentityCard DocType = "IDENTITY_CARD"
	// ResidencePermit is the residence permit for Hong Kong, Macao and Taiwan
	// residents (港澳台居民居住证): 18 characters with region 810000, 820000
	// or 830000.
	ResidencePermit DocType = "RESIDENCE_PERMIT_HMT"
	// ForeignPermanent is the foreign permanent residence ID card
	// (外国人永久居留身份证): the 2017 format of 3 letters and 12 digits, or
	// the 2023 format of 18 characters starting with 9.
	ForeignPermanent DocType = "FOREIGN_PERMANENT_RESIDENCE"
	// HKMacauTravelPermit is the mainland travel permit for Hong Kong and
	// Macao residents (港澳居民来往内地通行证): H or M and 8 or 10 digits.
	HKMacauTravelPermit DocType = "HOME_VISIT_PERMIT_HK_MC"
	// TaiwanTravelPermit is the mainland travel permit for Taiwan residents
	// (台湾居民来往大陆通行证): 8 digits, or the old 10 digits with an
	// optional issue letter.
	TaiwanTravelPermit DocType = "HOME_VISIT_PERMIT_TAIWAN"
	// Passport is the PRC ordinary passport: E and 8 digits, E, a letter and
	// 7 digits, or G and 8 digits.
	Passport DocType = "PASSPORT"
)

// DocumentInfo describes one document type for display and configuration.
type DocumentInfo struct {
	Type        DocType
	Name        string // Chinese name of the document
	Description string // short Chinese/English description of the number
	Checksum    bool   // whether Parse verifies a check character
}

// Documents returns every document type, in a fixed order. The slice is a
// fresh copy on every call.
func Documents() []DocumentInfo {
	return []DocumentInfo{
		{IdentityCard, "居民身份证", "18位公民身份号码（兼容15位旧号）；PRC resident identity card, 18 characters, legacy 15 digits accepted", true},
		{ResidencePermit, "港澳台居民居住证", "18位，地址码810000/820000/830000；residence permit for Hong Kong, Macao and Taiwan residents", true},
		{ForeignPermanent, "外国人永久居留身份证", "2023版18位（首位9，校验码）或2017版3位字母+12位数字；foreign permanent residence ID card, check character on the 2023 format", true},
		{HKMacauTravelPermit, "港澳居民来往内地通行证", "H/M+8位或10位数字；mainland travel permit for Hong Kong and Macao residents, format check only", false},
		{TaiwanTravelPermit, "台湾居民来往大陆通行证", "8位数字（旧版10位）；mainland travel permit for Taiwan residents, format check only", false},
		{Passport, "中华人民共和国护照", "E+8位数字、E+字母+7位数字或G+8位数字；PRC ordinary passport, format check only", false},
	}
}

// Valid reports whether t is one of the known document types.
func (t DocType) Valid() bool {
	switch t {
	case IdentityCard, ResidencePermit, ForeignPermanent, HKMacauTravelPermit, TaiwanTravelPermit, Passport:
		return true
	}
	return false
}

// ParseDocType returns the document type named by s, ignoring surrounding
// spaces and letter case. The empty string means IdentityCard.
func ParseDocType(s string) (DocType, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return IdentityCard, nil
	}
	if len(s) > maxInput {
		return "", fmt.Errorf("%w: name too long", ErrDocType)
	}
	t := DocType(strings.ToUpper(s))
	if !t.Valid() {
		return "", fmt.Errorf("%w: %q", ErrDocType, s)
	}
	return t, nil
}

// Sex is the sex encoded in a document number.
type Sex string

// The sexes. SexUnknown is used when the document does not carry one.
const (
	SexUnknown Sex = ""
	SexMale    Sex = "male"
	SexFemale  Sex = "female"
)

// Description is what a document number says about its holder. Fields the
// document does not carry are zero.
type Description struct {
	BirthDate    time.Time // midnight UTC of the birth date
	HasBirthDate bool
	Sex          Sex
	RegionCode   string // 6-digit GB/T 2260 code (padded with zeros where the document carries fewer digits)
	Province     string // Chinese province name from the 2-digit prefix of RegionCode
}

// Number is a validated, normalised document number. The zero value is not
// a valid number. Its String, GoString and LogValue return the masked form;
// only Value returns the full number.
type Number struct {
	t    DocType
	v    string
	born string // YYYYMMDD, only where the number has a 2-digit year
}

// Parse normalises s (see Normalize) and validates it as a number of
// document type t. now is the reference for the "not in the future" check on
// birth dates; a zero now skips that check.
func Parse(t DocType, s string, now time.Time) (Number, error) {
	if len(s) > maxInput {
		return Number{}, fmt.Errorf("%w: longer than %d bytes", ErrFormat, maxInput)
	}
	if !t.Valid() {
		return Number{}, fmt.Errorf("%w: %q", ErrDocType, truncate(string(t), 40))
	}
	s = Normalize(s)
	if s == "" {
		return Number{}, fmt.Errorf("%w: no document number", ErrEmpty)
	}
	var v, born string
	var err error
	switch t {
	case IdentityCard:
		v, err = parseIdentityCard(s, now)
	case ResidencePermit:
		v, err = parseResidencePermit(s, now)
	case ForeignPermanent:
		v, born, err = parseForeignPermanent(s, now)
	case HKMacauTravelPermit:
		v, err = parseHKMacau(s)
	case TaiwanTravelPermit:
		v, err = parseTaiwan(s)
	case Passport:
		v, err = parsePassport(s)
	}
	if err != nil {
		return Number{}, err
	}
	return Number{t: t, v: v, born: born}, nil
}

// Type returns the document type.
func (n Number) Type() DocType { return n.t }

// Value returns the full normalised number. For a legacy 15-digit identity
// card number it is the converted 18-character number.
func (n Number) Value() string { return n.v }

// IsZero reports whether n is the zero Number.
func (n Number) IsZero() bool { return n.v == "" }

// String returns the masked number.
func (n Number) String() string { return n.Masked() }

// GoString returns the masked number, so %#v does not reveal it either.
func (n Number) GoString() string { return "idnum.Number(" + string(n.t) + " " + n.Masked() + ")" }

// LogValue implements slog.LogValuer with the masked number.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// BirthDate returns the holder's birth date when the document carries one.
func (n Number) BirthDate() (time.Time, bool) {
	d := n.Describe()
	return d.BirthDate, d.HasBirthDate
}

// Describe returns what the number says about its holder.
func (n Number) Describe() Description {
	switch n.t {
	case IdentityCard, ResidencePermit:
		return describeResident(n.v)
	case ForeignPermanent:
		return describeForeign(n.v, n.born)
	}
	return Description{}
}

// truncate shortens s to at most n bytes for use in error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
