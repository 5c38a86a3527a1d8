package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/realname"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// auditActions returns the audit entries with the given action.
func auditActions(t *testing.T, store *sqlstore.Store, action string) []realname.AuditEntry {
	t.Helper()
	all, err := store.AuditLog(t.Context(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []realname.AuditEntry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// startAuthority starts an app with a registered authority.
func startAuthority(t *testing.T, cfg config.Config, name string) (*running, authorityClient, *sqlstore.Store, client) {
	t.Helper()
	r := start(t, cfg, nil)
	ac, store := registerAuthority(t, cfg, name)
	ac.base = r.URL()
	return r, ac, store, client{t: t, base: r.URL(), key: r.DevAPIKey()}
}

// TestAuthorityRevokedClaim: a revoked authority's claim codes are void:
// the revocation marks them used (audited), and a claim checks the
// authority anyway (a code the revocation missed is refused alike).
func TestAuthorityRevokedClaim(t *testing.T) {
	_, ac, store, c := startAuthority(t, testConfig(t), "撤销公证处")
	var d depositAnswer
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, ""), &d); code != 201 || d.ClaimCode == "" {
		t.Fatalf("deposit: %d %+v", code, d)
	}
	if err := authority.Revoke(t.Context(), store, ac.id, "test-operator", time.Now()); err != nil {
		t.Fatal(err)
	}
	rev := auditActions(t, store, "authority.revoke")
	if len(rev) != 1 || !strings.Contains(rev[0].Reason, "1 unused claim codes voided") {
		t.Fatalf("revoke audit %+v", rev)
	}
	var cl errAnswer
	if code := c.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "claim-user", "claim_code": d.ClaimCode}, &cl); code != 400 || cl.Code != realname.CodeInvalidClaim {
		t.Fatalf("claim after revoke: %d %+v", code, cl)
	}
	// A code left unused (say, revoked by an older build) is refused too.
	if _, err := store.DB().ExecContext(t.Context(), `UPDATE claim_codes SET used_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if code := c.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "claim-user", "claim_code": d.ClaimCode}, &cl); code != 400 || cl.Code != realname.CodeInvalidClaim {
		t.Fatalf("claim of an unvoided code after revoke: %d %+v", code, cl)
	}
	var st struct {
		Status string `json:"status"`
	}
	if c.call("GET", "/api/v1/auth/status/claim-user", nil, &st); st.Status == "success" {
		t.Fatal("the revoked authority's code verified the user")
	}
}
