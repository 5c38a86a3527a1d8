package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskName masks a personal name for display: the first non-space rune is
// kept, every other rune becomes '*', and separators are kept so the shape
// stays readable. Separators are white space and the middle dots used in
// transliterated minority and foreign names (U+00B7 '·', U+30FB '・',
// U+2022 '•'), which reveal no more than a space does.
//
//	张三        → 张*
//	欧阳娜娜    → 欧***
//	John Smith  → J*** *****
//	买买提·艾力 → 买**·**
//
// Invalid UTF-8 bytes are masked like any other rune. MaskName is for
// display only; it is not a privacy-preserving transformation for storage
// or for logs of anything but the masked form.
func MaskName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	first := true
	for _, r := range name {
		switch {
		case isNameSeparator(r):
			b.WriteRune(r)
		case first && r != utf8.RuneError:
			b.WriteRune(r)
			first = false
		default:
			b.WriteByte('*')
			first = false
		}
	}
	return b.String()
}

func isNameSeparator(r rune) bool {
	return unicode.IsSpace(r) || r == '\u00b7' || r == '\u30fb' || r == '\u2022'
}
