package idnum

import (
	"strings"
	"unicode/utf8"
)

// Masked returns the number with its middle replaced by '*': the first 6
// and last 4 characters are kept for 18-character numbers
// (110101********1234), the first and last 3 for 12–17 characters, the first
// one and last 2 for 6–11 characters. The zero Number masks to "".
func (n Number) Masked() string { return MaskNumber(n.v) }

// MaskNumber masks an arbitrary document number with the rules of
// Number.Masked, without validating it. At least half of any input longer
// than 4 characters is hidden; shorter input is hidden completely. It is
// meant for logging raw input that failed to parse.
func MaskNumber(s string) string {
	n := utf8.RuneCountInString(s)
	var head, tail int
	switch {
	case n >= 18:
		head, tail = 6, 4
	case n >= 12:
		head, tail = 3, 3
	case n >= 6:
		head, tail = 1, 2
	case n > 4:
		head, tail = 1, 1
	}
	var b strings.Builder
	b.Grow(n + 3*(head+tail))
	i := 0
	for _, r := range s {
		if i < head || i >= n-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// Masked returns the name with every letter after the first replaced by
// '*'; separators (space, '·', hyphen, apostrophe) are kept: 张三 → 张*,
// 欧阳娜娜 → 欧***, 阿依古丽·买买提 → 阿***·***, John Smith → J*** *****.
// The zero Name masks to "".
func (n Name) Masked() string {
	var b strings.Builder
	b.Grow(len(n.v))
	first := true
	for _, r := range n.v {
		switch {
		case first:
			b.WriteRune(r)
			first = false
		case isSeparator(r):
			b.WriteRune(r)
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}
