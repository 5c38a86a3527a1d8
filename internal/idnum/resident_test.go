package idnum

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNow is the reference time of the tests.
var testNow = time.Date(2025, time.June, 15, 10, 0, 0, 0, time.UTC)

// withCheck appends the MOD 11-2 check character to a 17-digit body.
func withCheck(t testing.TB, body string) string {
	t.Helper()
	c, err := CheckCharacter(body)
	if err != nil {
		t.Fatalf("CheckCharacter(%q): %v", body, err)
	}
	return body + string(c)
}

// badCheck returns body with a wrong check character.
func badCheck(t testing.TB, body string) string {
	t.Helper()
	good := withCheck(t, body)
	for _, c := range "0123456789X" {
		if byte(c) != good[17] {
			return body + string(c)
		}
	}
	panic("unreachable")
}

func TestCheckCharacter(t *testing.T) {
	tests := []struct {
		body    string
		want    byte
		wantErr error
	}{
		{"11010519491231002", 'X', nil}, // GB 11643-1999 example
		{"44052418800101001", '4', nil}, // GB 11643-1999 example
		{"1101051949123100", 0, ErrFormat},
		{"1101051949123100A", 0, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := CheckCharacter(tt.body)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("CheckCharacter(%q) = %q, %v; want %q, %v", tt.body, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseIdentityCard(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // expected Value when wantErr is nil
		wantErr error
	}{
		{"standard example", "11010519491231002X", "11010519491231002X", nil},
		{"published 1880 example", "440524188001010014", "440524188001010014", nil},
		{"lower-case x", "11010519491231002x", "11010519491231002X", nil},
		{"full-width", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", nil},
		{"full-width lower x", "１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", nil},
		{"spaces and hyphens", "\u3000110105 1949-1231 002X\t", "11010519491231002X", nil},
		{"leap day 2000", withCheck(t, "11010520000229001"), withCheck(t, "11010520000229001"), nil},
		{"leap day 1904", withCheck(t, "11010519040229001"), withCheck(t, "11010519040229001"), nil},
		{"born today", withCheck(t, "11010520250615001"), withCheck(t, "11010520250615001"), nil},
		{"born 1800-01-01", withCheck(t, "11010518000101001"), withCheck(t, "11010518000101001"), nil},
		{"Chongqing", withCheck(t, "50010119800101001"), withCheck(t, "50010119800101001"), nil},
		{"Xinjiang", withCheck(t, "65010119800101001"), withCheck(t, "65010119800101001"), nil},

		{"bad checksum", "110105194912310021", "", ErrChecksum},
		{"bad checksum generated", badCheck(t, "32010219850312123"), "", ErrChecksum},
		{"Feb 29 non-leap 2001", withCheck(t, "11010520010229001"), "", ErrDate},
		{"Feb 29 non-leap 1900", withCheck(t, "11010519000229001"), "", ErrDate},
		{"Feb 30", withCheck(t, "11010520000230001"), "", ErrDate},
		{"month 13", withCheck(t, "11010519901301001"), "", ErrDate},
		{"day 00", withCheck(t, "11010519900100001"), "", ErrDate},
		{"April 31", withCheck(t, "11010519900431001"), "", ErrDate},
		{"future tomorrow", withCheck(t, "11010520250616001"), "", ErrDate},
		{"future year", withCheck(t, "11010520300101001"), "", ErrDate},
		{"before 1800", withCheck(t, "11010517991231001"), "", ErrDate},
		{"province 99", withCheck(t, "99010519491231002"), "", ErrRegion},
		{"province 00", withCheck(t, "00010519491231002"), "", ErrRegion},
		{"province 16", withCheck(t, "16010519491231002"), "", ErrRegion},
		{"Taiwan 71", withCheck(t, "71000019491231002"), "", ErrRegion},
		{"Hong Kong 81", withCheck(t, "81000019491231002"), "", ErrRegion},
		{"Macao 82", withCheck(t, "82000019491231002"), "", ErrRegion},
		{"Taiwan 83", withCheck(t, "83000019491231002"), "", ErrRegion},
		{"17 digits", "11010519491231002", "", ErrFormat},
		{"19 characters", "11010519491231002X1", "", ErrFormat},
		{"X inside", "1101051949123100X2", "", ErrFormat},
		{"letter", "11010519491231002A", "", ErrFormat},
		{"zero-width space", "110105\u200b19491231002X", "", ErrFormat},
		{"empty", "", "", ErrEmpty},
		{"only spaces", " \u3000 - ", "", ErrEmpty},
		{"over 64 bytes", "11010519491231002X" + strings.Repeat(" ", 47), "", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(IdentityCard, tt.in, testNow)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				if !n.IsZero() {
					t.Errorf("Parse returned a non-zero Number with an error")
				}
				if v := Normalize(tt.in); len(v) >= 8 && strings.Contains(err.Error(), v) {
					t.Errorf("error %q contains the number", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if n.Value() != tt.want || n.Type() != IdentityCard {
				t.Fatalf("Parse(%q) = %s %q, want %q", tt.in, n.Type(), n.Value(), tt.want)
			}
		})
	}
}

func TestParseIdentityCardLegacy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"standard example", "110105491231002", "11010519491231002X", nil},
		{"1900s", "130503670401001", withCheck(t, "13050319670401001"), nil},
		{"sequence 995 is 19yy", "110105801231995", withCheck(t, "11010519801231995"), nil},
		{"sequence 996 is 18yy", "110105801231996", "110105188012319968", nil},
		{"sequence 999 is 18yy", "440524800101999", withCheck(t, "44052418800101999"), nil},
		{"spaces and full-width", " １１０１０５ 491231-002 ", "11010519491231002X", nil},
		{"1900-02-29 impossible", "110105000229001", "", ErrDate},
		{"1800-02-29 impossible", "110105000229997", "", ErrDate},
		{"1904-02-29 fine", "110105040229001", withCheck(t, "11010519040229001"), nil},
		{"month 00", "110105490031002", "", ErrDate},
		{"bad province", "990105491231002", "", ErrRegion},
		{"Hong Kong prefix", "810000491231002", "", ErrRegion},
		{"letter", "11010549123100X", "", ErrFormat},
		{"16 digits", "1101054912310021", "", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(IdentityCard, tt.in, testNow)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n.Value() != tt.want {
				t.Fatalf("Parse(%q) = %q, want %q", tt.in, n.Value(), tt.want)
			}
			again, err := Parse(IdentityCard, n.Value(), testNow)
			if err != nil || again != n {
				t.Fatalf("re-parse of converted number: %v, %v", again, err)
			}
		})
	}
	t.Run("legacy only for identity cards", func(t *testing.T) {
		if _, err := Parse(ResidencePermit, "810000491231002", testNow); !errors.Is(err, ErrFormat) {
			t.Fatalf("got %v, want ErrFormat", err)
		}
	})
}

func TestParseResidencePermit(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantErr  error
		province string
	}{
		{"Hong Kong", withCheck(t, "81000019900101001"), nil, "香港特别行政区"},
		{"Macao", withCheck(t, "82000019851231002"), nil, "澳门特别行政区"},
		{"Taiwan", withCheck(t, "83000019700615003"), nil, "台湾省"},
		{"lower-case x", strings.ToLower(withCheck(t, "81000019900101021")), nil, "香港特别行政区"},
		{"region 810001", withCheck(t, "81000119900101001"), ErrRegion, ""},
		{"region 820100", withCheck(t, "82010019900101001"), ErrRegion, ""},
		{"mainland region", "11010519491231002X", ErrRegion, ""},
		{"Taiwan 710000", withCheck(t, "71000019900101001"), ErrRegion, ""},
		{"bad checksum", badCheck(t, "81000019900101001"), ErrChecksum, ""},
		{"bad date", withCheck(t, "81000019900230001"), ErrDate, ""},
		{"future", withCheck(t, "81000020991231001"), ErrDate, ""},
		{"short", "81000019900101001", ErrFormat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(ResidencePermit, tt.in, testNow)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n.Value() != strings.ToUpper(tt.in) {
				t.Errorf("Value = %q, want %q", n.Value(), strings.ToUpper(tt.in))
			}
			d := n.Describe()
			if d.Province != tt.province || d.RegionCode != n.Value()[:6] || !d.HasBirthDate {
				t.Errorf("Describe = %+v", d)
			}
		})
	}
}

func TestDescribeResident(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		birth    time.Time
		sex      Sex
		region   string
		province string
	}{
		{"standard example", "11010519491231002X", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), SexFemale, "110105", "北京市"},
		{"published 1880 example", "440524188001010014", time.Date(1880, 1, 1, 0, 0, 0, 0, time.UTC), SexMale, "440524", "广东省"},
		{"legacy converted", "130503670401001", time.Date(1967, 4, 1, 0, 0, 0, 0, time.UTC), SexMale, "130503", "河北省"},
		{"legacy 18yy", "110105801231996", time.Date(1880, 12, 31, 0, 0, 0, 0, time.UTC), SexFemale, "110105", "北京市"},
		{"Xinjiang", withCheck(t, "65010219800229017"), time.Date(1980, 2, 29, 0, 0, 0, 0, time.UTC), SexMale, "650102", "新疆维吾尔自治区"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(IdentityCard, tt.in, testNow)
			if err != nil {
				t.Fatal(err)
			}
			want := Description{BirthDate: tt.birth, HasBirthDate: true, Sex: tt.sex, RegionCode: tt.region, Province: tt.province}
			if got := n.Describe(); got != want {
				t.Fatalf("Describe = %+v, want %+v", got, want)
			}
			b, ok := n.BirthDate()
			if !ok || !b.Equal(tt.birth) {
				t.Fatalf("BirthDate = %v, %v", b, ok)
			}
		})
	}
}

func TestZeroNow(t *testing.T) {
	// A zero now skips the future check.
	in := withCheck(t, "11010520990101001")
	if _, err := Parse(IdentityCard, in, time.Time{}); err != nil {
		t.Fatalf("zero now: %v", err)
	}
	if _, err := Parse(IdentityCard, in, testNow); !errors.Is(err, ErrDate) {
		t.Fatalf("with now: %v, want ErrDate", err)
	}
}

func TestFutureUsesNowLocation(t *testing.T) {
	// 2025-06-15 23:30 UTC is already 2025-06-16 in Beijing.
	shanghai := time.FixedZone("CST", 8*3600)
	now := time.Date(2025, 6, 15, 23, 30, 0, 0, time.UTC).In(shanghai)
	in := withCheck(t, "11010520250616001")
	if _, err := Parse(IdentityCard, in, now); err != nil {
		t.Fatalf("born today in Beijing: %v", err)
	}
	if _, err := Parse(IdentityCard, in, now.UTC()); !errors.Is(err, ErrDate) {
		t.Fatalf("tomorrow in UTC: %v, want ErrDate", err)
	}
}
