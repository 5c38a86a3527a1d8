package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/cli"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/realname"
)

// submitReviews opens the service on dir and submits a manual review for
// each user; it returns the certify ids.
func submitReviews(t *testing.T, dir string, users ...string) []string {
	t.Helper()
	ctx := context.Background()
	getenv := func(string) string { return "" }
	cfg, err := config.Load("test", []string{"--data", dir}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	o, err := app.OpenOffline(ctx, cfg, getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var ids []string
	for _, u := range users {
		v, err := o.Service.SubmitReview(ctx, realname.ReviewRequest{
			UserID: u, RealName: "张三", IDNumber: "11010519491231002X", Note: "please check",
			Consent: &realname.Consent{NoticeVersion: realname.NoticeVersion, AcceptedAt: time.Now(), Scopes: []string{"id_number", "documents"}},
			Files:   []realname.ReviewFile{{Kind: "id_front", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n" + "x")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.CertifyID)
	}
	return ids
}

// runIn runs a command with stdin.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	e, out, errb := env(map[string]string{"USER": "alice"})
	e.Stdin = strings.NewReader(stdin)
	code := cli.Run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	ids := submitReviews(t, dir, "u1", "u2")
	op := []string{"--data", dir, "--operator", "bob"}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, nil, append(args, op...)...)
		if code != 0 {
			t.Fatalf("%q: %d %q %q", args, code, out, errOut)
		}
		return out
	}

	out := must("review", "list")
	if !strings.Contains(out, ids[0]) || !strings.Contains(out, "u1") || strings.Contains(out, "张三") || strings.Contains(out, "11010519491231002X") {
		t.Fatalf("review list:\n%s", out)
	}
	if !regexp.MustCompile(`CERTIFY_ID\s+USER_ID\s+NAME\s+ID_NUMBER\s+SUBMITTED\s+DEADLINE`).MatchString(out) {
		t.Fatalf("review list header:\n%s", out)
	}

	out = must("review", "show", ids[0])
	if strings.Contains(out, "张三") || strings.Contains(out, "please check") || !strings.Contains(out, "masked") {
		t.Fatalf("review show without reason:\n%s", out)
	}

	files := filepath.Join(t.TempDir(), "files")
	out = must("review", "show", ids[0], "--reason", "check the documents", "--files", files)
	if !strings.Contains(out, "张三") || !strings.Contains(out, "11010519491231002X") || !strings.Contains(out, "please check") || strings.Contains(out, "PNG") {
		t.Fatalf("review show with reason:\n%s", out)
	}
	path := filepath.Join(files, ids[0]+"-1-id_front.png")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("review file: %v %v", fi, err)
	}
	if fi, err := os.Stat(files); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("review files dir: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "\x89PNG\r\n\x1a\nx" || !strings.Contains(out, path) {
		t.Fatalf("review file %q; output:\n%s", b, out)
	}
	if code, _, errOut := run(t, nil, append([]string{"review", "show", ids[0], "--files", files}, op...)...); code != 1 || !strings.Contains(errOut, "--reason") {
		t.Fatalf("--files without reason: %d %q", code, errOut)
	}

	if code, _, errOut := run(t, nil, append([]string{"review", "approve", ids[0]}, op...)...); code != 1 || !strings.HasPrefix(errOut, "error: REASON_REQUIRED: ") {
		t.Fatalf("approve without reason: %d %q", code, errOut)
	}
	out = must("review", "approve", ids[0], "--reason", "documents match")
	if !strings.Contains(out, "status success") || !strings.Contains(out, "manual_review") {
		t.Fatalf("approve: %q", out)
	}
	if code, _, errOut := run(t, nil, append([]string{"review", "approve", ids[0], "--reason", "again"}, op...)...); code != 1 || !strings.HasPrefix(errOut, "error: SESSION_CLOSED: ") {
		t.Fatalf("second approve: %d %q", code, errOut)
	}
	// The operator defaults to $USER.
	code, out, errOut := run(t, map[string]string{"USER": "carol"}, "review", "reject", ids[1], "--reason", "blurred photo", "--data", dir)
	if code != 0 || !strings.Contains(out, "status failed") {
		t.Fatalf("reject: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, nil, "review", "list", "--data", dir); code != 1 || !strings.Contains(errOut, "--operator is required") {
		t.Fatalf("no operator: %d %q", code, errOut)
	}

	out = must("user", "unlock", "u2", "--reason", "called support")
	if !strings.Contains(out, "u2 unlocked") {
		t.Fatalf("unlock: %q", out)
	}

	out = must("user", "data", "u1", "--reason", "subject access request")
	if !strings.Contains(out, `"name": "张三"`) || !strings.Contains(out, `"user_id": "u1"`) {
		t.Fatalf("data before erase:\n%s", out)
	}

	// Without --yes a wrong answer aborts; the right one erases.
	code, out, errOut = runIn(t, "u3\n", "user", "erase", "u1", "--reason", "user asked", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "type the user id to confirm") || !strings.Contains(errOut, "not confirmed") {
		t.Fatalf("erase, wrong confirmation: %d %q %q", code, out, errOut)
	}
	out = must("user", "data", "u1", "--reason", "check")
	if !strings.Contains(out, "张三") {
		t.Fatal("aborted erase erased")
	}
	code, out, errOut = runIn(t, "u1\n", "user", "erase", "u1", "--reason", "user asked", "--data", dir)
	if code != 0 || !strings.Contains(out, "u1 erased") || !regexp.MustCompile(`persons erased:\s+1`).MatchString(out) ||
		!regexp.MustCompile(`pseudonym:\s+\S+`).MatchString(out) || !strings.Contains(out, "provider deletions flushed:") {
		t.Fatalf("erase: %d %q %q", code, out, errOut)
	}
	out = must("user", "erase", "u2", "--reason", "user asked", "--yes")
	if !strings.Contains(out, "u2 erased") {
		t.Fatalf("erase --yes: %q", out)
	}
	out = must("user", "data", "u1", "--reason", "check after erasure")
	if strings.Contains(out, "张三") || strings.Contains(out, "11010519491231002X") {
		t.Fatalf("data after erase:\n%s", out)
	}

	out = must("retention", "run")
	for _, item := range []string{"expired user records:", "persons erased:", "review files deleted:", "idempotent answers:", "audit entries:", "total:"} {
		if !strings.Contains(out, item) {
			t.Fatalf("retention run: no %q in\n%s", item, out)
		}
	}

	// After an erasure the user's entries are kept under its pseudonym.
	out = must("audit", "--limit", "500")
	for _, want := range []string{
		`operator\s+bob\s+review\.list\s+erased-\S+\s+` + ids[0] + `\s+name,id_number\s+yes`,
		`operator\s+bob\s+review\.view\s+erased-\S+\s+` + ids[0] + `\s+name,id_number,documents\s+no\s+check the documents`,
		`operator\s+bob\s+review\.approve\s+erased-\S+\s+` + ids[0] + `\s+-\s+-\s+documents match`,
		`operator\s+carol\s+review\.reject\s+erased-\S+\s+`,
		`operator\s+bob\s+user\.unlock\s+erased-\S+\s+`,
		`operator\s+bob\s+data\.export\s+`,
		`operator\s+bob\s+user\.erase\s+`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("audit: no %s in\n%s", want, out)
		}
	}
	ids2 := regexp.MustCompile(`(?m)^(\d+)\s`).FindAllStringSubmatch(out, -1)
	if len(ids2) < 3 {
		t.Fatalf("audit ids: %q", out)
	}
	after := ids2[len(ids2)-2][1]
	out = must("audit", "--after", after)
	if n := len(regexp.MustCompile(`(?m)^\d+\s`).FindAllString(out, -1)); n != 1 {
		t.Fatalf("audit --after %s: %d entries\n%s", after, n, out)
	}
	out = must("audit", "--subject", "u1")
	if n := len(regexp.MustCompile(`(?m)^\d+\s`).FindAllString(out, -1)); n != 1 || !regexp.MustCompile(`data\.export\s+u1\s`).MatchString(out) {
		t.Fatalf("audit --subject u1: %d entries\n%s", n, out)
	}
}

func TestOperatorUsage(t *testing.T) {
	for _, bad := range [][]string{
		{"review"}, {"review", "decide"}, {"review", "show"}, {"review", "approve", "--reason", "x"},
		{"user"}, {"user", "erase"}, {"retention"}, {"retention", "now"},
	} {
		if code, _, errOut := run(t, map[string]string{"USER": "alice"}, bad...); code != 1 || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: %d %q", bad, code, errOut)
		}
	}
	code, _, errOut := run(t, nil, "help")
	for _, c := range []string{"review", "user", "retention", "audit"} {
		if code != 0 || !strings.Contains(errOut, "\n  "+c+" ") {
			t.Errorf("usage lacks %s: %q", c, errOut)
		}
	}
}
