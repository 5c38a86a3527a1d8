package aliyun

import (
	"strings"
	"testing"
	"time"
)

func TestOuterOrderNo(t *testing.T) {
	if got := outerOrderNo("abcDEF123"); got != "abcDEF123" {
		t.Errorf("a conforming order number was changed to %q", got)
	}
	ok32 := strings.Repeat("a", 32)
	if got := outerOrderNo(ok32); got != ok32 {
		t.Errorf("32 letters were changed to %q", got)
	}
	for _, in := range []string{"vf_0123456789abcdef0123456789abcdef", strings.Repeat("a", 33), "订单1", "a-b"} {
		got := outerOrderNo(in)
		if len(got) != 32 || strings.IndexFunc(got, notAlnum) >= 0 {
			t.Errorf("outerOrderNo(%q) = %q, want 32 letters/digits", in, got)
		}
		if again := outerOrderNo(in); again != got {
			t.Errorf("outerOrderNo(%q) is not deterministic", in)
		}
	}
	if outerOrderNo("vf_1") == outerOrderNo("fc_1") {
		t.Error("different order numbers collide")
	}
}

func TestSafeText(t *testing.T) {
	cases := map[string]string{
		"参数非法":           "参数非法",
		"a\nb\rc\x00d":   "a b c d",
		"bad \xff utf8":  "bad   utf8",
		"0123456789abcd": "0123456789…",
	}
	for in, want := range cases {
		if got := safeText(in, 10); got != want {
			t.Errorf("safeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := &Provider{backoffBase: 200 * time.Millisecond, backoffCap: 2 * time.Second}
	for n := 1; n <= 70; n++ {
		want := min(200*time.Millisecond<<min(n-1, 20), 2*time.Second)
		for range 20 {
			d := p.backoff(n)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestClassifyMisconfigCodes(t *testing.T) {
	for _, code := range []string{"SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidTimeStamp.Expired",
		"InvalidTimeStamp.Format", "Forbidden.RAM", "IncompleteSignature"} {
		if f := classifyServer("X", 400, code); !f.misconfig || f.retry {
			t.Errorf("%s: %+v, want misconfiguration without retry", code, f)
		}
	}
	for _, code := range []string{"Throttling", "Throttling.User", "ServiceUnavailable", "SignatureNonceUsed"} {
		if f := classifyServer("X", 400, code); !f.retry {
			t.Errorf("%s: %+v, want retry", code, f)
		}
	}
	if f := classifyServer("X", 400, "InvalidAccessKeyIdX"); f.misconfig {
		t.Errorf("a code merely starting like a misconfiguration code was taken for one")
	}
}
