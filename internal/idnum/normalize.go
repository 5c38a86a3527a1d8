package idnum

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize prepares a document number for validation: it maps full-width
// ASCII (U+FF01–U+FF5E) to half-width, removes all white space (including
// the ideographic space U+3000) and hyphens (ASCII, full-width and the
// Unicode dashes U+2010–U+2015 and U+2212), and turns a lower-case 'x' into
// 'X'. Other characters are kept as they are; Normalize never fails.
func Normalize(s string) string {
	if isCleanASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case unicode.IsSpace(r), isHyphen(r):
			continue
		case r == 'x':
			r = 'X'
		}
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isCleanASCII reports whether s needs no normalisation: only ASCII digits,
// letters other than 'x', and parentheses.
func isCleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c == '(', c == ')':
		case c >= 'a' && c <= 'z' && c != 'x':
		default:
			return false
		}
	}
	return true
}

// isHyphen reports whether r is a hyphen or dash to drop from numbers.
func isHyphen(r rune) bool {
	return r == '-' || (r >= 0x2010 && r <= 0x2015) || r == 0x2212
}

// upperASCII returns s with ASCII letters in upper case; other bytes are
// left alone (unlike strings.ToUpper, which maps e.g. U+017F to 'S'). It is
// used for the letter-bearing document types.
func upperASCII(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			if b == nil {
				b = []byte(s)
			}
			b[i] = c - ('a' - 'A')
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// AllDigits reports whether s is non-empty and consists of ASCII digits
// (also what other parsers of outside input use for numeric fields).
func AllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUpperLetter reports whether c is an ASCII upper-case letter.
func isUpperLetter(c byte) bool { return c >= 'A' && c <= 'Z' }

// atoi converts a short string of ASCII digits. The caller has checked the
// digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
