package idnum

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on personal names.
const (
	maxNameBytes = 256 // raw input, before normalisation
	minNameRunes = 2
	maxNameRunes = 32
)

// middleDot is the separator between the parts of transliterated names,
// as in 阿依古丽·买买提.
const middleDot = '·'

// Name is a validated, normalised personal name. The zero value is not a
// valid name. Its String, GoString and LogValue return the masked form; only
// Value returns the full name.
type Name struct {
	v string
}

// ParseName normalises s (see NormalizeName) and validates it as a personal
// name: 2–32 characters, made of Han characters, Latin letters, the middle
// dot '·', spaces, hyphens and apostrophes. Separators may not start or end
// the name or follow each other. Invalid UTF-8, digits, control characters
// and other symbols are refused, as is input longer than 256 bytes. Every
// error wraps ErrName; an empty name also wraps ErrEmpty.
func ParseName(s string) (Name, error) {
	if len(s) > maxNameBytes {
		return Name{}, fmt.Errorf("%w: longer than %d bytes", ErrName, maxNameBytes)
	}
	if !utf8.ValidString(s) {
		return Name{}, fmt.Errorf("%w: invalid UTF-8", ErrName)
	}
	v := NormalizeName(s)
	if v == "" {
		return Name{}, fmt.Errorf("%w: %w: no name given", ErrName, ErrEmpty)
	}
	if err := checkName(v); err != nil {
		return Name{}, err
	}
	return Name{v: v}, nil
}

// NormalizeName prepares a personal name for validation. It trims white
// space at both ends, maps full-width ASCII (U+FF01–U+FF5E) to half-width
// and other space characters (such as U+3000) to ' ', turns the middle-dot
// variants U+00B7, U+30FB, U+2022, U+2027 and U+FF0E, and a '.' between Han
// characters, into '·', collapses runs of spaces into one, and removes spaces
// between Han characters and next to '·', hyphens and apostrophes. It never
// fails and is idempotent.
func NormalizeName(s string) string {
	s = strings.TrimFunc(s, unicode.IsSpace)
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == 0x00B7 || r == 0x30FB || r == 0x2022 || r == 0x2027 || r == 0xFF0E:
			r = middleDot
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case unicode.Is(unicode.Zs, r):
			r = ' '
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		if r == '.' && isHan(neighbour(rs, i, -1)) && isHan(neighbour(rs, i, 1)) {
			rs[i] = middleDot
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r != ' ' {
			b.WriteRune(r)
			continue
		}
		j := i
		for j < len(rs) && rs[j] == ' ' {
			j++
		}
		if i == 0 || j == len(rs) {
			i = j - 1
			continue // leading or trailing space
		}
		prev, next := rs[i-1], rs[j]
		i = j - 1
		if prev == middleDot || prev == '-' || prev == '\'' || next == middleDot || next == '-' || next == '\'' ||
			(isHan(prev) && isHan(next)) {
			continue
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// neighbour returns the nearest rune that is not a space before (dir -1) or
// after (dir 1) position i, or -1 if there is none.
func neighbour(rs []rune, i, dir int) rune {
	for i += dir; i >= 0 && i < len(rs); i += dir {
		if rs[i] != ' ' {
			return rs[i]
		}
	}
	return -1
}

// checkName validates a normalised name.
func checkName(v string) error {
	n := 0
	prev := rune(-1)
	for _, r := range v {
		n++
		switch {
		case isHan(r), isLatinLetter(r):
		case isSeparator(r):
			if prev == -1 {
				return fmt.Errorf("%w: starts with a separator", ErrName)
			}
			if isSeparator(prev) {
				return fmt.Errorf("%w: separators next to each other", ErrName)
			}
		case unicode.IsNumber(r):
			return fmt.Errorf("%w: contains a digit", ErrName)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("%w: contains a control character", ErrName)
		default:
			return fmt.Errorf("%w: contains a character not allowed in names", ErrName)
		}
		prev = r
	}
	if isSeparator(prev) {
		return fmt.Errorf("%w: ends with a separator", ErrName)
	}
	if n < minNameRunes {
		return fmt.Errorf("%w: shorter than %d characters", ErrName, minNameRunes)
	}
	if n > maxNameRunes {
		return fmt.Errorf("%w: longer than %d characters", ErrName, maxNameRunes)
	}
	return nil
}

// isHan reports whether r is a Han (Chinese) character.
func isHan(r rune) bool { return r >= 0 && unicode.Is(unicode.Han, r) }

// isLatinLetter reports whether r is a letter of the Latin script.
func isLatinLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return unicode.Is(unicode.Latin, r) && unicode.IsLetter(r)
}

// isSeparator reports whether r may separate the parts of a name.
func isSeparator(r rune) bool {
	return r == ' ' || r == middleDot || r == '-' || r == '\''
}

// Value returns the full normalised name.
func (n Name) Value() string { return n.v }

// IsZero reports whether n is the zero Name.
func (n Name) IsZero() bool { return n.v == "" }

// String returns the masked name.
func (n Name) String() string { return n.Masked() }

// GoString returns the masked name, so %#v does not reveal it either.
func (n Name) GoString() string { return "idnum.Name(" + n.Masked() + ")" }

// LogValue implements slog.LogValuer with the masked name.
func (n Name) LogValue() slog.Value { return slog.StringValue(n.Masked()) }
