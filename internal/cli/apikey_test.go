package cli_test

import (
	"regexp"
	"strings"
	"testing"
)

func TestAPIKeyListAndRevoke(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, nil, "apikey", "create", "--name", "letters platform", "--data", dir)
	id := regexp.MustCompile(`Key (key_[0-9a-f]+) \(letters platform\)`).FindStringSubmatch(errOut)
	if code != 0 || !strings.HasPrefix(out, "rk_") || id == nil {
		t.Fatalf("apikey create: %d %q %q", code, out, errOut)
	}
	code, out, errOut = run(t, nil, "apikey", "list", "--data", dir)
	if code != 0 || !regexp.MustCompile(id[1]+`\s+letters platform\s+\S+Z\s+-`).MatchString(out) {
		t.Fatalf("apikey list: %d %q %q", code, out, errOut)
	}
	if strings.Contains(out, "rk_") {
		t.Fatal("apikey list shows a secret")
	}
	code, out, errOut = run(t, nil, "apikey", "revoke", id[1], "--data", dir)
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("apikey revoke: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, nil, "apikey", "list", "--data", dir)
	if code != 0 || !regexp.MustCompile(id[1]+`\s+letters platform\s+\S+Z\s+\S+Z`).MatchString(out) {
		t.Fatalf("apikey list after revoke: %d %q", code, out)
	}
	for _, bad := range [][]string{
		{"apikey", "revoke", "key_0000000000000000", "--data", dir},
		{"apikey", "revoke"},
		{"apikey"},
		{"apikey", "delete", "x"},
	} {
		if code, _, errOut := run(t, nil, bad...); code != 1 || !strings.Contains(errOut, "apikey") {
			t.Errorf("%q: %d %q", bad, code, errOut)
		}
	}
}
