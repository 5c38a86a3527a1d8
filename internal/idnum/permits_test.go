package idnum

import (
	"errors"
	"testing"
	"time"
)

func TestParseForeignPermanent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		now     time.Time
		want    string
		wantErr error
		desc    Description
	}{
		{
			name: "2023 format", in: withCheck(t, "91184019900101002"), now: testNow,
			want: withCheck(t, "91184019900101002"),
			desc: Description{BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), HasBirthDate: true, Sex: SexFemale, RegionCode: "110000", Province: "北京市"},
		},
		{
			name: "2023 format Shanghai male", in: withCheck(t, "93139220050315011"), now: testNow,
			want: withCheck(t, "93139220050315011"),
			desc: Description{BirthDate: time.Date(2005, 3, 15, 0, 0, 0, 0, time.UTC), HasBirthDate: true, Sex: SexMale, RegionCode: "310000", Province: "上海市"},
		},
		{name: "2023 bad checksum", in: badCheck(t, "91184019900101002"), now: testNow, wantErr: ErrChecksum},
		{name: "2023 bad province", in: withCheck(t, "99984019900101002"), now: testNow, wantErr: ErrRegion},
		{name: "2023 bad date", in: withCheck(t, "91184019900229002"), now: testNow, wantErr: ErrDate},
		{name: "2023 future", in: withCheck(t, "91184020300101002"), now: testNow, wantErr: ErrDate},
		{name: "2023 not starting with 9", in: "11010519491231002X", now: testNow, wantErr: ErrFormat},
		{
			name: "2017 format", in: "USA110090123105", now: testNow, want: "USA110090123105",
			desc: Description{BirthDate: time.Date(1990, 12, 31, 0, 0, 0, 0, time.UTC), HasBirthDate: true, RegionCode: "110000", Province: "北京市"},
		},
		{
			name: "2017 format lower case, 20yy", in: "kaz440110052001", now: testNow, want: "KAZ440110052001",
			desc: Description{BirthDate: time.Date(2010, 5, 20, 0, 0, 0, 0, time.UTC), HasBirthDate: true, RegionCode: "440100", Province: "广东省"},
		},
		{
			name: "2017 format, 20yy in the future means 19yy", in: "GBR310130061512", now: testNow, want: "GBR310130061512",
			desc: Description{BirthDate: time.Date(1930, 6, 15, 0, 0, 0, 0, time.UTC), HasBirthDate: true, RegionCode: "310100", Province: "上海市"},
		},
		{
			name: "2017 format, 2000-02-29", in: "DEU110100022901", now: testNow, want: "DEU110100022901",
			desc: Description{BirthDate: time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), HasBirthDate: true, RegionCode: "110100", Province: "北京市"},
		},
		{
			name: "2017 format, zero now prefers 19yy", in: "USA110001010105", now: time.Time{}, want: "USA110001010105",
			desc: Description{BirthDate: time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC), HasBirthDate: true, RegionCode: "110000", Province: "北京市"},
		},
		{name: "2017 Feb 29 in no century", in: "USA110001022901", now: testNow, wantErr: ErrDate},
		{name: "2017 month 13", in: "USA110090133105", now: testNow, wantErr: ErrDate},
		{name: "2017 bad province", in: "USA990090123105", now: testNow, wantErr: ErrRegion},
		{name: "2017 digit in letters", in: "US1110090123105", now: testNow, wantErr: ErrFormat},
		{name: "2017 letter in digits", in: "USA11009012310A", now: testNow, wantErr: ErrFormat},
		{name: "16 characters", in: "USA1100901231050", now: testNow, wantErr: ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(ForeignPermanent, tt.in, tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n.Value() != tt.want {
				t.Fatalf("Value = %q, want %q", n.Value(), tt.want)
			}
			if got := n.Describe(); got != tt.desc {
				t.Fatalf("Describe = %+v, want %+v", got, tt.desc)
			}
		})
	}
}

func TestParseFormatOnly(t *testing.T) {
	tests := []struct {
		typ     DocType
		in      string
		want    string
		wantErr error
	}{
		{HKMacauTravelPermit, "H12345678", "H12345678", nil},
		{HKMacauTravelPermit, "M87654321", "M87654321", nil},
		{HKMacauTravelPermit, "H1234567801", "H1234567801", nil},
		{HKMacauTravelPermit, "h 1234 5678", "H12345678", nil},
		{HKMacauTravelPermit, "Ｈ１２３４５６７８", "H12345678", nil},
		{HKMacauTravelPermit, "H1234567", "", ErrFormat},
		{HKMacauTravelPermit, "H123456789", "", ErrFormat},
		{HKMacauTravelPermit, "A12345678", "", ErrFormat},
		{HKMacauTravelPermit, "H1234567A", "", ErrFormat},
		{HKMacauTravelPermit, "12345678", "", ErrFormat},

		{TaiwanTravelPermit, "12345678", "12345678", nil},
		{TaiwanTravelPermit, "1234567890", "1234567890", nil},
		{TaiwanTravelPermit, "1234567890(B)", "1234567890(B)", nil},
		{TaiwanTravelPermit, "1234567890b", "1234567890(B)", nil},
		{TaiwanTravelPermit, "1234567890（Ｂ）", "1234567890(B)", nil},
		{TaiwanTravelPermit, "1234567", "", ErrFormat},
		{TaiwanTravelPermit, "123456789", "", ErrFormat},
		{TaiwanTravelPermit, "A1234567", "", ErrFormat},
		{TaiwanTravelPermit, "1234567890(B", "", ErrFormat},
		{TaiwanTravelPermit, "12345678(B)", "", ErrFormat},
		{TaiwanTravelPermit, "1234567890(1)", "", ErrFormat},

		{Passport, "E12345678", "E12345678", nil},
		{Passport, "EA1234567", "EA1234567", nil},
		{Passport, "G12345678", "G12345678", nil},
		{Passport, "e12345678", "E12345678", nil},
		{Passport, "ea 123 4567", "EA1234567", nil},
		{Passport, "E1234567", "", ErrFormat},
		{Passport, "E123456789", "", ErrFormat},
		{Passport, "GA1234567", "", ErrFormat},
		{Passport, "D12345678", "", ErrFormat},
		{Passport, "EA123456A", "", ErrFormat},
		{Passport, "123456789", "", ErrFormat},
		{Passport, "", "", ErrEmpty},
		{Passport, "E\u017f1234567", "", ErrFormat},             // long s must not upper-case to 'S'
		{TaiwanTravelPermit, "1234567890\u0131", "", ErrFormat}, // dotless i must not become 'I'
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.in, func(t *testing.T) {
			n, err := Parse(tt.typ, tt.in, testNow)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%s, %q) error = %v, want %v", tt.typ, tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n.Value() != tt.want || n.Type() != tt.typ {
				t.Fatalf("Parse = %s %q, want %q", n.Type(), n.Value(), tt.want)
			}
			if d := n.Describe(); d != (Description{}) {
				t.Errorf("Describe = %+v, want zero", d)
			}
			if _, ok := n.BirthDate(); ok {
				t.Errorf("BirthDate reported for %s", tt.typ)
			}
		})
	}
}
