package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realname/realname/internal/trail"
)

// TestTrailExportThenVerify: an operator exports the evidence package of
// a user verified by manual review; the offline verifier accepts it; the
// package holds the session's entries and the export's own trail.request
// entry, no personal data, and the export is in the person's access
// records.
func TestTrailExportThenVerify(t *testing.T) {
	dir := t.TempDir()
	ids := submitReviews(t, dir, "u1")
	op := []string{"--data", dir, "--operator", "bob"}
	if code, out, errOut := run(t, nil, append([]string{"review", "approve", ids[0], "--reason", "documents checked"}, op...)...); code != 0 {
		t.Fatalf("approve: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := run(t, nil, append([]string{"trail", "export", "--user", "u1"}, op...)...); code == 0 || !strings.Contains(errOut, "reason") {
		t.Fatalf("export without a reason: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, append([]string{"trail", "export", "--user", "nobody", "--reason", "case 7"}, op...)...); code == 0 {
		t.Fatalf("export of an unknown user: %d %s", code, errOut)
	}
	code, out, errOut := run(t, nil, append([]string{"trail", "export", "--user", "u1", "--reason", "(2026)京0105民初1号"}, op...)...)
	if code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	if strings.Contains(out, "张三") || strings.Contains(out, "11010519491231002X") || strings.Contains(out, `"u1"`) {
		t.Fatalf("the package holds personal data:\n%s", out)
	}
	p, err := trail.ParsePackage([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range p.Entries {
		en, err := trail.ParseEntry(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, en.Kind)
	}
	last, _ := trail.ParseEntry(p.Entries[len(p.Entries)-1].Data)
	if p.Manifest.RequestRef == "" || last.Ref != p.Manifest.RequestRef {
		t.Fatalf("the package does not end with its own request: manifest %q, last entry %+v", p.Manifest.RequestRef, last)
	}
	want := []string{trail.KindVerificationStarted, trail.KindVerificationSucceeded, trail.KindTrailRequest}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("package entries %v, want %v", kinds, want)
	}
	file := filepath.Join(t.TempDir(), "package.json")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, vout, verr := run(t, nil, "trail", "verify", file); code != 0 {
		t.Fatalf("verify: %d\n%s\n%s", code, vout, verr)
	}
	// The person sees the export among the accesses to their data.
	code, data, _ := run(t, nil, append([]string{"user", "data", "u1", "--reason", "support ticket 9"}, op...)...)
	var d struct {
		Access []struct {
			Action string `json:"action"`
			Reason string `json:"reason"`
		} `json:"access_records"`
	}
	if err := json.Unmarshal([]byte(data), &d); code != 0 || err != nil {
		t.Fatalf("user data: %d %v", code, err)
	}
	found := false
	for _, a := range d.Access {
		found = found || a.Action == "trail.export" && a.Reason == "(2026)京0105民初1号"
	}
	if !found {
		t.Fatalf("the export is not in the access records: %s", data)
	}
}
