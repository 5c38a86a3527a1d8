package cli_test

import (
	"strings"
	"testing"

	"github.com/realname/realname/internal/trail"
)

// TestTrailVerifyRefusesTerminalText: a package whose manifest carries
// terminal escapes or bidirectional controls (to fake the verdict) is
// refused before anything of it is printed.
func TestTrailVerifyRefusesTerminalText(t *testing.T) {
	key := goldenKey(t)
	for name, mutate := range map[string]func(m *trail.Manifest){
		"subject":      func(m *trail.Manifest) { m.Subject += "\x1b[2J\x1b[HRESULT: every check passed" },
		"origin":       func(m *trail.Manifest) { m.Origin += "\x1b]0;verified\x07" },
		"purpose":      func(m *trail.Manifest) { m.Purpose = "case \u009b2J\u009bH" },
		"requested_by": func(m *trail.Manifest) { m.RequestedBy = "authority \u202eDESSAP" },
	} {
		path := tampered(t, func(p *trail.Package) { mutate(&p.Manifest) })
		code, out, errOut := run(t, nil, "trail", "verify", path, "--key", key)
		if code == 0 || !strings.Contains(errOut, "is not a valid evidence package") {
			t.Errorf("%s: %d %q\n%s", name, code, errOut, out)
		}
		if strings.ContainsAny(out+errOut, "\x1b\u009b\u202e") {
			t.Errorf("%s: the control characters reached the output: %q %q", name, out, errOut)
		}
	}
}
