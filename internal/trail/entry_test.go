package trail

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The forms of an entry's words as regular expressions: the
// specification that the hand-written checks of entry.go follow.
var wordForms = []struct {
	name  string
	re    *regexp.Regexp
	check func(string) bool
}{
	{"kind", regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`), validKind},
	{"handle", regexp.MustCompile(`^h_[0-9a-f]{32}$`), ValidHandle},
	{"ref", regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`), validRef},
	{"attribute", regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`), validAttrKey},
}

// TestWordForms checks each hand-written check against its regular
// expression on chosen edge cases and on random strings over an alphabet
// that exercises every class (and a multi-byte letter).
func TestWordForms(t *testing.T) {
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	cases := []string{"", ".", "a", "a.", ".a", "a..b", "a.b", "a_1.b_2", "A", "1a", "_a", "a-b", "a:b",
		"verification.succeeded", "h_" + long("0", 32), "h_" + long("f", 32), "h_" + long("F", 32), "h_" + long("0", 31),
		"h_" + long("0", 33), "x_" + long("0", 32), long("a", 32), long("a", 33), long("A", 128), long("A", 129),
		"a\n", "é", "a.é", "v-1:2_3.4"}
	alphabet := []string{"a", "f", "g", "z", "A", "Z", "0", "9", "_", ".", ":", "-", "h", "h_", " ", "\n", "é", "\x00", "~"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for range 2000 { // handles and near-handles
		b := []byte("h_" + long("0", 32))
		b[2+rng.IntN(32)] = "0123456789abcdefgA"[rng.IntN(18)]
		cases = append(cases, string(b))
	}
	for _, f := range wordForms {
		for _, s := range cases {
			if got, want := f.check(s), f.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the regular expression says %v", f.name, s, got, want)
			}
		}
	}
}

// BenchmarkEventValidate is the check of a verification's event, which
// every trail event passes twice (queued and drained).
func BenchmarkEventValidate(b *testing.B) {
	ev := Event{Kind: KindVerificationSucceeded, Subject: "h_" + strings.Repeat("ab", 16), Ref: "ca_0123456789abcdef",
		Attrs: map[string]string{"provider": "sandbox", "cert_type": "IDENTITY_CARD", "evidence": "face",
			"expires_at": "2027-11-23T20:00:00Z"}}
	for b.Loop() {
		if err := ev.validate(); err != nil {
			b.Fatal(err)
		}
	}
}
