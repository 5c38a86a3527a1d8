package idnum

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"11010519491231002X", "11010519491231002X"},
		{"11010519491231002x", "11010519491231002X"},
		{"  110105 19491231 002x  ", "11010519491231002X"},
		{"\u3000１１０１０５－１９４９\u3000１２３１－００２ｘ\u3000", "11010519491231002X"},
		{"110105-1949\u20101231\u2014002X", "11010519491231002X"},
		{"\t\n", ""},
		{"h12345678", "h12345678"},
		{"（Ｂ）", "(B)"},
		{"abcxyz", "abcXyz"},
		{"张三", "张三"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Normalize(tt.in)
			if got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Normalize(got); again != got {
				t.Fatalf("Normalize not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestParseDocType(t *testing.T) {
	tests := []struct {
		in      string
		want    DocType
		wantErr error
	}{
		{"", IdentityCard, nil},
		{"  ", IdentityCard, nil},
		{"IDENTITY_CARD", IdentityCard, nil},
		{"identity_card", IdentityCard, nil},
		{" RESIDENCE_PERMIT_HMT ", ResidencePermit, nil},
		{"FOREIGN_PERMANENT_RESIDENCE", ForeignPermanent, nil},
		{"HOME_VISIT_PERMIT_HK_MC", HKMacauTravelPermit, nil},
		{"HOME_VISIT_PERMIT_TAIWAN", TaiwanTravelPermit, nil},
		{"passport", Passport, nil},
		{"DRIVING_LICENCE", "", ErrDocType},
		{strings.Repeat("A", 100), "", ErrDocType},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDocType(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("ParseDocType(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestDocuments(t *testing.T) {
	docs := Documents()
	if len(docs) != 6 {
		t.Fatalf("Documents() has %d entries, want 6", len(docs))
	}
	seen := map[DocType]bool{}
	for _, d := range docs {
		t.Run(string(d.Type), func(t *testing.T) {
			if !d.Type.Valid() {
				t.Errorf("invalid type %q", d.Type)
			}
			if seen[d.Type] {
				t.Errorf("duplicate %q", d.Type)
			}
			seen[d.Type] = true
			if d.Name == "" || d.Description == "" {
				t.Errorf("missing name or description: %+v", d)
			}
			if got, err := ParseDocType(string(d.Type)); err != nil || got != d.Type {
				t.Errorf("ParseDocType(%q) = %q, %v", d.Type, got, err)
			}
		})
	}
	want := map[DocType]bool{IdentityCard: true, ResidencePermit: true, ForeignPermanent: true,
		HKMacauTravelPermit: false, TaiwanTravelPermit: false, Passport: false}
	for _, d := range docs {
		if d.Checksum != want[d.Type] {
			t.Errorf("%s: Checksum = %v, want %v", d.Type, d.Checksum, want[d.Type])
		}
	}
	docs[0].Name = "changed"
	if Documents()[0].Name == "changed" {
		t.Error("Documents returns shared state")
	}
}

func TestParseUnknownDocType(t *testing.T) {
	for _, typ := range []DocType{"", "identity_card", "VISA"} {
		t.Run(string(typ), func(t *testing.T) {
			if _, err := Parse(typ, "11010519491231002X", testNow); !errors.Is(err, ErrDocType) {
				t.Fatalf("Parse(%q) error = %v, want ErrDocType", typ, err)
			}
		})
	}
}

func TestErrorsAreWrapped(t *testing.T) {
	_, err := Parse(IdentityCard, "110105194912310021", testNow)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, ErrChecksum.Error()+": ") || len(msg) <= len(ErrChecksum.Error())+2 {
		t.Fatalf("message %q has no reason", msg)
	}
	if strings.Contains(msg, "110105194912310021") {
		t.Fatalf("message %q contains the number", msg)
	}
}

func TestZeroNumber(t *testing.T) {
	var n Number
	if !n.IsZero() || n.Value() != "" || n.Masked() != "" || n.String() != "" {
		t.Fatalf("zero Number: %q %q", n.Value(), n.Masked())
	}
	if d := n.Describe(); d != (Description{}) {
		t.Fatalf("zero Describe = %+v", d)
	}
}

func TestProvinceName(t *testing.T) {
	tests := []struct {
		code string
		want string
		ok   bool
	}{
		{"11", "北京市", true},
		{"110105", "北京市", true},
		{"65", "新疆维吾尔自治区", true},
		{"81", "香港特别行政区", true},
		{"83", "台湾省", true},
		{"71", "台湾省", true},
		{"99", "", false},
		{"1", "", false},
		{"A1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, ok := ProvinceName(tt.code)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ProvinceName(%q) = %q, %v", tt.code, got, ok)
			}
		})
	}
}
