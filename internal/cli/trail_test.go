package cli_test

import (
	crand "crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realname/realname/internal/trail"
	"golang.org/x/mod/sumdb/note"
)

// The golden package and key of internal/trail's tests.
var (
	goldenPackage = filepath.Join("..", "trail", "testdata", "golden-package.json")
	goldenKeyFile = filepath.Join("..", "trail", "testdata", "golden-log", "key")
)

func goldenKey(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(goldenKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// tampered writes the golden package changed by mutate to a file.
func tampered(t *testing.T, mutate func(p *trail.Package)) string {
	t.Helper()
	b, err := os.ReadFile(goldenPackage)
	if err != nil {
		t.Fatal(err)
	}
	p, err := trail.ParsePackage(b)
	if err != nil {
		t.Fatal(err)
	}
	mutate(p)
	if b, err = p.Marshal(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "package.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTrailVerify(t *testing.T) {
	key := goldenKey(t)
	steps := []string{trail.StepCheckpoint, trail.StepEntries, trail.StepInclusion, trail.StepChain, trail.StepConsistency, trail.StepSummary}

	code, out, errOut := run(t, nil, "trail", "verify", goldenPackage, "--key", key)
	if code != 0 || !strings.Contains(out, "RESULT: every check passed") || !strings.Contains(out, "you supplied") {
		t.Fatalf("good package: %d\n%s\n%s", code, out, errOut)
	}
	for i, s := range steps {
		if !strings.Contains(out, "\n"+string(rune('1'+i))+". "+s+": PASS\n") {
			t.Errorf("output lacks step %d %s", i+1, s)
		}
	}
	for _, want := range []string{"What this package proves:", "What it does not prove:", "witness", "extends"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// Without --key: passes, with a warning.
	code, out, _ = run(t, nil, "trail", "verify", goldenPackage)
	if code != 0 || !strings.Contains(out, "WARNING: no --key given") {
		t.Fatalf("without a key: %d\n%s", code, out)
	}

	// From standard input, as JSON.
	b, err := os.ReadFile(goldenPackage)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runIn(t, string(b), "trail", "verify", "--json", "--key", key, "-")
	var r trail.Report
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || !r.OK || len(r.Steps) != 6 || r.KeySource != "trusted" {
		t.Fatalf("stdin --json: %d %q\n%s", code, errOut, out)
	}
}

func TestTrailVerifyFails(t *testing.T) {
	key := goldenKey(t)
	_, otherKey, err := note.GenerateKey(crand.Reader, "realname.example/trail")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		args []string
		want string
	}{
		{"changed entry", func(t *testing.T) string {
			return tampered(t, func(p *trail.Package) { p.Entries[2].Data[20] ^= 1 })
		}, nil, "check entry-encoding failed at entry"},
		{"reordered entries", func(t *testing.T) string {
			return tampered(t, func(p *trail.Package) { p.Entries[1], p.Entries[2] = p.Entries[2], p.Entries[1] })
		}, nil, "check subject-chain failed at entry"},
		{"truncated proof", func(t *testing.T) string {
			return tampered(t, func(p *trail.Package) { p.Entries[0].Proof = p.Entries[0].Proof[1:] })
		}, nil, "check inclusion-proofs failed at entry"},
		{"dropped consistency hash", func(t *testing.T) string {
			return tampered(t, func(p *trail.Package) { p.Consistency.Proof = p.Consistency.Proof[1:] })
		}, nil, "check consistency failed"},
		{"another key", func(*testing.T) string { return goldenPackage }, []string{"--key", otherKey}, "check checkpoint-signature failed"},
		{"another request expected", func(*testing.T) string { return goldenPackage }, []string{"--key", key, "--request-ref", "tr-1"},
			"check subject-chain failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"trail", "verify", tc.path(t)}, tc.args...)
			if tc.args == nil {
				args = append(args, "--key", key)
			}
			code, out, errOut := run(t, nil, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) || !strings.Contains(out, "RESULT: FAILED") {
				t.Fatalf("%d %q\n%s", code, errOut, out)
			}
		})
	}
}

// TestTrailVerifyPrintsNoControlCharacters: text from a package cannot
// reach the terminal as control sequences (an ESC could hide the lines
// after a fake verdict), whether the package is refused or reported.
func TestTrailVerifyPrintsNoControlCharacters(t *testing.T) {
	for name, mutate := range map[string]func(p *trail.Package){
		"subject": func(p *trail.Package) { p.Manifest.Subject += "\x1b[8m" },
		"origin":  func(p *trail.Package) { p.Manifest.Origin += "\u009b8m" },
		"purpose": func(p *trail.Package) { p.Manifest.Purpose = "case \u202eRESULT: every check passed" },
	} {
		t.Run(name, func(t *testing.T) {
			_, out, errOut := run(t, nil, "trail", "verify", tampered(t, mutate))
			for _, r := range out + errOut {
				if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == 0x202e {
					t.Fatalf("control character %U printed:\n%q\n%q", r, out, errOut)
				}
			}
		})
	}
}

func TestTrailVerifyUnreadable(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trail", "verify", filepath.Join(dir, "missing.json")}, "cannot read the package"},
		{[]string{"trail", "verify", garbage}, "is not a valid evidence package"},
		{[]string{"trail", "verify", empty}, "is empty"},
		{[]string{"trail", "verify"}, "usage:"},
		{[]string{"trail", "verify", "a", "b"}, "usage:"},
		{[]string{"trail"}, "usage:"},
		{[]string{"trail", "export"}, "usage:"},
	} {
		if code, _, errOut := run(t, nil, tc.args...); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: %d %q", tc.args, code, errOut)
		}
	}
	if code, _, errOut := run(t, nil, "help"); code != 0 || !strings.Contains(errOut, "\n  trail ") {
		t.Errorf("usage lacks trail: %q", errOut)
	}
}
