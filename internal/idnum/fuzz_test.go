package idnum

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzTypes are the document types FuzzParse picks from; the last one is
// deliberately unknown.
var fuzzTypes = []DocType{IdentityCard, ResidencePermit, ForeignPermanent, HKMacauTravelPermit, TaiwanTravelPermit, Passport, "UNKNOWN"}

var sentinels = []error{ErrEmpty, ErrFormat, ErrChecksum, ErrDate, ErrRegion, ErrDocType}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"11010519491231002X", "11010519491231002x", "110105491231002", "110105801231996",
		"440524188001010014", "１１０１０５１９４９１２３１００２Ｘ", "110105 1949-1231 002X",
		"810000199001010019", "910000199001010019", "USA110090123105", "911840199001010026",
		"H12345678", "M1234567801", "12345678", "1234567890(B)", "1234567890b",
		"E12345678", "EA1234567", "G12345678", "", " ", "\xff", strings.Repeat("9", 65),
	}
	for _, s := range seeds {
		for i := range fuzzTypes {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, s string, ti uint8) {
		typ := fuzzTypes[int(ti)%len(fuzzTypes)]
		n, err := Parse(typ, s, testNow)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("error %v with non-zero Number", err)
			}
			wrapped := false
			for _, e := range sentinels {
				wrapped = wrapped || errors.Is(err, e)
			}
			if !wrapped {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if v := Normalize(s); len(v) >= 8 && AllDigits(v) && strings.Contains(err.Error(), v) {
				t.Fatalf("error %q contains the input", err)
			}
			return
		}
		v := n.Value()
		if n.Type() != typ || v == "" {
			t.Fatalf("Parse = %s %q", n.Type(), v)
		}
		again, err := Parse(typ, v, testNow)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", v, err)
		}
		if again.Value() != v || again != n {
			t.Fatalf("re-parse changed %q to %q", v, again.Value())
		}
		m := n.Masked()
		if len(v) > 8 && strings.Contains(m, v) {
			t.Fatalf("Masked %q contains %q", m, v)
		}
		if utf8.RuneCountInString(m) != utf8.RuneCountInString(v) || n.String() != m {
			t.Fatalf("Masked %q / String %q for %q", m, n.String(), v)
		}
		d := n.Describe()
		if d.HasBirthDate != !d.BirthDate.IsZero() {
			t.Fatalf("inconsistent birth date: %+v", d)
		}
		if d.HasBirthDate && (d.BirthDate.Year() < 1800 || d.BirthDate.After(testNow)) {
			t.Fatalf("birth date out of range: %v", d.BirthDate)
		}
		if d.RegionCode != "" && d.Province == "" {
			t.Fatalf("region %q without province", d.RegionCode)
		}
	})
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"张三", "欧阳娜娜", "阿依古丽·买买提", "阿依古丽・买买提", "阿依古丽 . 买买提", "John Smith",
		"  John   Smith ", "Ｊｏｈｎ\u3000Ｓｍｉｔｈ", "Mary-Jane O'Neil", "José Müller", "张",
		strings.Repeat("李", 33), "张三1", "张\x00三", "\xff\xfe", "·张三", "张 . . 三", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm := NormalizeName(s)
		if utf8.ValidString(s) && NormalizeName(norm) != norm {
			t.Fatalf("NormalizeName not idempotent: %q → %q → %q", s, norm, NormalizeName(norm))
		}
		n, err := ParseName(s)
		if err != nil {
			if !errors.Is(err, ErrName) || !n.IsZero() {
				t.Fatalf("bad error %v / %q", err, n.Value())
			}
			return
		}
		v := n.Value()
		if c := utf8.RuneCountInString(v); c < 2 || c > 32 {
			t.Fatalf("accepted %q with %d runes", v, c)
		}
		if v != norm || NormalizeName(v) != v {
			t.Fatalf("value %q is not the normal form", v)
		}
		again, err := ParseName(v)
		if err != nil || again != n {
			t.Fatalf("re-parse of %q: %q, %v", v, again.Value(), err)
		}
		m := n.Masked()
		if m == v || utf8.RuneCountInString(m) != utf8.RuneCountInString(v) || n.String() != m {
			t.Fatalf("Masked %q for %q", m, v)
		}
	})
}
