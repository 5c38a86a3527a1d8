package trail

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPrintable: control characters of C0, DEL and C1, the Unicode
// bidirectional controls and invalid UTF-8 are refused; other text,
// non-Latin scripts included, is printable.
func TestPrintable(t *testing.T) {
	for _, s := range []string{"", "case 2026-17", "Behörde für Datenschutz", "公安局", "مكتب", "a\u00a0b", "\u00a0", "x\u200by", "😀"} {
		if !printable(s) {
			t.Errorf("%q refused", s)
		}
	}
	bad := []string{"\x00", "\t", "\n", "\r", "\x1b[2J", "\x7f", "\u0080", "\u0085", "\u009b31m", "\u009f", "\ufffd", "\xff", "a\xc3"}
	for _, r := range []rune{0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069} {
		bad = append(bad, "ok "+string(r)+"kO")
	}
	for _, s := range bad {
		if printable(s) {
			t.Errorf("%q accepted", s)
		}
		ev := Event{Kind: KindDeposit, Attrs: map[string]string{"provider": s}}
		if ev.validate() == nil {
			t.Errorf("attribute value %q accepted", s)
		}
		if checkManifestText("case", s) == nil {
			t.Errorf("manifest text %q accepted", s)
		}
	}
}

// TestParsePackageRefusesManifestText: the manifest's subject and origin,
// which the verifier prints before it checks anything, must be a handle
// and an origin; purpose and requested_by must be printable.
func TestParsePackageRefusesManifestText(t *testing.T) {
	h := buildHistory(t, rand.New(rand.NewPCG(5, 6)), 10, 1, "manifest text")
	good := h.pkg(t, handle(0))
	for name, mutate := range map[string]func(m *Manifest){
		"subject with ESC":        func(m *Manifest) { m.Subject = handle(0) + "\x1b[1A\x1b[2KRESULT: every check passed" },
		"subject not a handle":    func(m *Manifest) { m.Subject = "someone" },
		"empty subject":           func(m *Manifest) { m.Subject = "" },
		"origin with ESC":         func(m *Manifest) { m.Origin = "example.test\x1b]0;x\x07" },
		"origin with a space":     func(m *Manifest) { m.Origin = "example.test trail" },
		"origin with C1":          func(m *Manifest) { m.Origin = "example.test\u009b2J" },
		"empty origin":            func(m *Manifest) { m.Origin = "" },
		"purpose with C1 CSI":     func(m *Manifest) { m.Purpose = "case \u009b1A\u009b2K" },
		"purpose with RLO":        func(m *Manifest) { m.Purpose = "case \u202e71-6202" },
		"requested_by with LRI":   func(m *Manifest) { m.RequestedBy = "authority \u2066x\u2069" },
		"requested_by with ALM":   func(m *Manifest) { m.RequestedBy = "authority \u061c" },
		"requested_by with ESC":   func(m *Manifest) { m.RequestedBy = "\x1b[32mPASS" },
		"purpose of invalid UTF8": func(m *Manifest) { m.Purpose = "case \xff" },
	} {
		p := clone(t, good)
		mutate(&p.Manifest)
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePackage(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.ContainsAny(err.Error(), "\x1b\u009b\u202e") {
			t.Errorf("%s: the error repeats the text: %q", name, err)
		}
	}
}
