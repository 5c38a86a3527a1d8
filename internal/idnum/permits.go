package idnum

import (
	"fmt"
	"strconv"
	"time"
)

// parseForeignPermanent validates a foreign permanent residence ID card
// number in either format and returns it with the birth date as YYYYMMDD
// when the number has only a 2-digit year (2017 format).
//
// 2017 format, 15 characters: ISO 3166-1 alpha-3 nationality (3 letters),
// 4-digit code of the accepting authority (province + city), birth date
// YYMMDD, 2 more digits. The check digit algorithm of this format is not
// public, so it is not verified. The century is inferred: 20YY unless that
// is in the future or not a calendar date, else 19YY; with a zero now, 19YY
// is preferred.
//
// 2023 format, 18 characters: '9', 2-digit province of the accepting
// authority, 3-digit ISO 3166-1 numeric nationality, birth date YYYYMMDD,
// 3-digit sequence (odd male, even female), MOD 11-2 check character.
func parseForeignPermanent(s string, now time.Time) (v, born string, err error) {
	s = upperASCII(s)
	switch len(s) {
	case 15:
		return parseForeign2017(s, now)
	case 18:
		return parseForeign2023(s, now)
	}
	return "", "", fmt.Errorf("%w: foreign permanent residence number must have 15 or 18 characters", ErrFormat)
}

func parseForeign2017(s string, now time.Time) (v, born string, err error) {
	if !isUpperLetter(s[0]) || !isUpperLetter(s[1]) || !isUpperLetter(s[2]) || !AllDigits(s[3:]) {
		return "", "", fmt.Errorf("%w: 2017 format is 3 letters and 12 digits", ErrFormat)
	}
	if !isMainland(s[3:5]) {
		return "", "", fmt.Errorf("%w: unknown province of the accepting authority", ErrRegion)
	}
	yy, mm, dd := atoi(s[7:9]), atoi(s[9:11]), atoi(s[11:13])
	years := [2]int{2000 + yy, 1900 + yy}
	if now.IsZero() {
		years = [2]int{1900 + yy, 2000 + yy}
	}
	for _, y := range years {
		if err = checkDate(y, mm, dd, now); err == nil {
			return s, strconv.Itoa(y) + s[9:13], nil
		}
	}
	return "", "", err
}

func parseForeign2023(s string, now time.Time) (v, born string, err error) {
	if s[0] != '9' || !isBody18(s) {
		return "", "", fmt.Errorf("%w: 2023 format is '9', 16 digits and a check character", ErrFormat)
	}
	if !isMainland(s[1:3]) {
		return "", "", fmt.Errorf("%w: unknown province of the accepting authority", ErrRegion)
	}
	if err := checkYYYYMMDD(s[6:14], now); err != nil {
		return "", "", err
	}
	if err := checkMod112(s); err != nil {
		return "", "", err
	}
	return s, "", nil
}

// afterDate reports whether y-m-d is after now's calendar date.
func afterDate(y, m, d int, now time.Time) bool {
	ny, nm, nd := now.Date()
	return y > ny || (y == ny && (m > int(nm) || (m == int(nm) && d > nd)))
}

// describeForeign describes a foreign permanent residence number. born is
// the birth date stored at parse time for the 2017 format.
func describeForeign(v, born string) Description {
	var d Description
	switch len(v) {
	case 15:
		d.RegionCode = v[3:7] + "00"
		d.BirthDate, d.HasBirthDate = dateOf(born)
	case 18:
		d.RegionCode = v[1:3] + "0000"
		d.BirthDate, d.HasBirthDate = dateOf(v[6:14])
		d.Sex = sexOf(v[16])
	default:
		return Description{}
	}
	d.Province, _ = ProvinceName(d.RegionCode)
	return d
}

// parseHKMacau checks a mainland travel permit for Hong Kong and Macao
// residents: 'H' (Hong Kong) or 'M' (Macao) followed by 8 digits, or by the
// older 10 digits (8 digits and a 2-digit issue count).
func parseHKMacau(s string) (string, error) {
	s = upperASCII(s)
	if (len(s) != 9 && len(s) != 11) || (s[0] != 'H' && s[0] != 'M') || !AllDigits(s[1:]) {
		return "", fmt.Errorf("%w: expected H or M and 8 or 10 digits", ErrFormat)
	}
	return s, nil
}

// parseTaiwan checks a mainland travel permit for Taiwan residents: 8
// digits (card issued since 2015), or 10 digits of the older booklet,
// optionally followed by its issue letter, written "0123456789(B)". The
// normalised form keeps the letter in parentheses.
func parseTaiwan(s string) (string, error) {
	s = upperASCII(s)
	switch {
	case len(s) == 8 && AllDigits(s), len(s) == 10 && AllDigits(s):
		return s, nil
	case len(s) == 11 && AllDigits(s[:10]) && isUpperLetter(s[10]):
		return s[:10] + "(" + s[10:] + ")", nil
	case len(s) == 13 && AllDigits(s[:10]) && s[10] == '(' && isUpperLetter(s[11]) && s[12] == ')':
		return s, nil
	}
	return "", fmt.Errorf("%w: expected 8 digits, or 10 digits with an optional letter", ErrFormat)
}

// parsePassport checks a PRC ordinary passport number: 'E' and 8 digits,
// 'E', a letter and 7 digits (issued once the all-digit range ran out), or
// 'G' and 8 digits (older passports).
func parsePassport(s string) (string, error) {
	s = upperASCII(s)
	if len(s) == 9 && AllDigits(s[2:]) {
		switch {
		case s[0] == 'E' && (isUpperLetter(s[1]) || AllDigits(s[1:2])),
			s[0] == 'G' && AllDigits(s[1:2]):
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: expected E or G and 8 digits, or E, a letter and 7 digits", ErrFormat)
}
