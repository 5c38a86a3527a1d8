package idnum

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestMasked(t *testing.T) {
	tests := []struct {
		typ  DocType
		in   string
		want string
	}{
		{IdentityCard, "11010519491231002X", "110105********002X"},
		{IdentityCard, "110105491231002", "110105********002X"},
		{ResidencePermit, withCheck(t, "81000019900101001"), "810000********0019"},
		{ForeignPermanent, "USA110090123105", "USA*********105"},
		{ForeignPermanent, withCheck(t, "91184019900101002"), "911840********0026"},
		{HKMacauTravelPermit, "H12345678", "H******78"},
		{HKMacauTravelPermit, "M1234567801", "M********01"},
		{TaiwanTravelPermit, "12345678", "1*****78"},
		{TaiwanTravelPermit, "1234567890B", "123*******(B)"},
		{Passport, "E12345678", "E******78"},
		{Passport, "EA1234567", "E******67"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.in, func(t *testing.T) {
			n, err := Parse(tt.typ, tt.in, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Masked(); got != tt.want {
				t.Fatalf("Masked = %q, want %q", got, tt.want)
			}
			if len(n.Masked()) != len(n.Value()) {
				t.Errorf("mask changes the length: %q vs %d", n.Masked(), len(n.Value()))
			}
			assertHidden(t, n.Value(), n.Masked(), n)
			if out := fmt.Sprint(&n); out != n.Masked() {
				t.Errorf("*Number prints %q", out)
			}
		})
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"1234", "****"},
		{"12345", "1***5"},
		{"123456", "1***56"},
		{"123456789012", "123******012"},
		{"1234567890123456789012", "123456************9012"},
		{"张三李四王五", "张***王五"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskNumber(tt.in); got != tt.want {
				t.Fatalf("MaskNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNameMasked(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张*"},
		{"欧阳娜娜", "欧***"},
		{"阿依古丽·买买提", "阿***·***"},
		{"John Smith", "J*** *****"},
		{"Mary-Jane O'Neil", "M***-**** *'****"},
		{"José Müller", "J*** ******"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := ParseName(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Masked(); got != tt.want {
				t.Fatalf("Masked = %q, want %q", got, tt.want)
			}
			assertHidden(t, n.Value(), n.Masked(), n)
		})
	}
	var zero Name
	if zero.Masked() != "" || zero.String() != "" || !zero.IsZero() {
		t.Fatal("zero Name is not empty")
	}
}

// assertHidden checks that neither fmt nor log/slog ever prints full.
func assertHidden(t *testing.T, full, masked string, v any) {
	t.Helper()
	if full == masked || strings.Contains(masked, full) {
		t.Fatalf("masked form %q contains %q", masked, full)
	}
	type wrapper struct {
		Doc any
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, v)
		if strings.Contains(out, full) {
			t.Errorf("fmt %s prints the full value: %s", verb, out)
		}
		out = fmt.Sprintf(verb, wrapper{Doc: v})
		if strings.Contains(out, full) {
			t.Errorf("fmt %s of a struct prints the full value: %s", verb, out)
		}
	}
	if s := v.(fmt.Stringer).String(); s != masked {
		t.Errorf("String = %q, want %q", s, masked)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("verify", "doc", v, slog.Any("any", v), slog.Group("g", "doc", v))
	logger.With("with", v).Info("again")
	text := slog.New(slog.NewTextHandler(&buf, nil))
	text.Info("verify", "doc", v)
	out := buf.String()
	if strings.Contains(out, full) {
		t.Fatalf("slog output contains the full value: %s", out)
	}
	if !strings.Contains(out, masked) {
		t.Errorf("slog output lacks the masked value %q: %s", masked, out)
	}
}
