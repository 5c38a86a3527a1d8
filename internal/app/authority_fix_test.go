package app_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
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

// residentNumber makes a valid resident ID number of someone born on birth.
func residentNumber(birth time.Time, seq int) string {
	body := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), seq)
	c, _ := idnum.CheckCharacter(body)
	return body + string(c)
}

// TestAuthorityDepositRefusedAudited: a refused deposit (the number bound
// to another user, or the user verified with another identity) is
// audited as authority.deposit_refused under the bound user, with the
// refusal's code, though the deposit's own transaction rolled back; the
// logs name the authority and the code, nothing personal.
func TestAuthorityDepositRefusedAudited(t *testing.T) {
	r, ac, store, _ := startAuthority(t, testConfig(t), "拒绝公证处")
	var d depositAnswer
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, "owner"), &d); code != 201 {
		t.Fatalf("deposit: %d %+v", code, d)
	}
	var e depositAnswer
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, "prober"), &e); code != 409 || e.Code != realname.CodeIdentityBound {
		t.Fatalf("deposit for another user: %d %+v", code, e)
	}
	if code, _ := ac.post(depositPath, depositBody("李四", numberB, "owner"), &e); code != 409 || e.Code != realname.CodeAlreadyAuthenticated {
		t.Fatalf("deposit of another identity: %d %+v", code, e)
	}
	refused := auditActions(t, store, "authority.deposit_refused")
	if len(refused) != 2 {
		t.Fatalf("refused deposits audited: %+v", refused)
	}
	if a := refused[0]; a.Actor != ac.id || a.ActorKind != "authority" || a.Subject != "owner" ||
		!strings.Contains(a.Reason, realname.CodeIdentityBound) {
		t.Errorf("first refusal %+v", a)
	}
	if a := refused[1]; a.Actor != ac.id || a.Subject != "" || !strings.Contains(a.Reason, realname.CodeAlreadyAuthenticated) {
		t.Errorf("second refusal %+v", a)
	}
	r.stop()
	logs := r.logs.Bytes()
	if !bytes.Contains(logs, []byte("authority deposit refused")) || !bytes.Contains(logs, []byte(realname.CodeIdentityBound)) {
		t.Error("the refusal is not logged")
	}
	for _, pii := range []string{testNumber, testName, "李四", numberB} {
		if bytes.Contains(logs, []byte(pii)) {
			t.Errorf("the logs hold %q", pii)
		}
	}
}

// TestAuthorityDepositBoundSubject: a deposit without a user for a person
// validly bound to user U is audited under U, so U's export lists it.
func TestAuthorityDepositBoundSubject(t *testing.T) {
	_, ac, store, _ := startAuthority(t, testConfig(t), "归属公证处")
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, "bound-user"), nil); code != 201 {
		t.Fatalf("deposit: %d", code)
	}
	var d depositAnswer
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, ""), &d); code != 201 || d.ClaimCode == "" {
		t.Fatalf("deposit without user: %d %+v", code, d)
	}
	for _, a := range auditActions(t, store, "authority.deposit") {
		if a.Target == d.DepositID && a.Subject != "bound-user" {
			t.Fatalf("deposit without user audited under %q, want the bound user", a.Subject)
		}
	}
	list, err := store.AuditFor(t.Context(), "bound-user", 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range list {
		if a.Action == "authority.deposit" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("bound user's audit lists %d deposits, want 2: %+v", n, list)
	}
}

// TestAuthorityDepositMinor: a deposit for a person under 14 needs a
// guardian's consent (as /auth/init), which the session's consent record
// keeps.
func TestAuthorityDepositMinor(t *testing.T) {
	_, ac, store, _ := startAuthority(t, testConfig(t), "监护公证处")
	child := residentNumber(time.Now().AddDate(-10, 0, -3), 11)
	var e depositAnswer
	for _, user := range []string{"kid", ""} {
		if code, _ := ac.post(depositPath, depositBody("王小明", child, user), &e); code != 400 || e.Code != realname.CodeGuardianConsentRequired {
			t.Fatalf("minor without guardian (user %q): %d %+v", user, code, e)
		}
	}
	for _, g := range []map[string]any{
		{"relation": "uncle", "accepted_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)},
		{"relation": "parent", "accepted_at": time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)},
		{"relation": "parent"},
	} {
		b := depositBody("王小明", child, "kid")
		b["guardian"] = g
		if code, _ := ac.post(depositPath, b, &e); code != 400 || e.Code != realname.CodeGuardianConsentRequired {
			t.Fatalf("bad guardian %v: %d %+v", g, code, e)
		}
	}
	b := depositBody("王小明", child, "kid")
	b["guardian"] = map[string]any{"relation": "parent", "extra": 1}
	if code, _ := ac.post(depositPath, b, &e); code != 400 || e.Code != "INVALID_JSON" {
		t.Fatalf("guardian with an unknown field: %d %+v", code, e)
	}
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	b["guardian"] = map[string]any{"relation": "parent", "accepted_at": at.Format(time.RFC3339)}
	var d depositAnswer
	if code, _ := ac.post(depositPath, b, &d); code != 201 || d.Status != "success" {
		t.Fatalf("minor with guardian: %d %+v", code, d)
	}
	v, err := store.Verification(t.Context(), d.CertifyID)
	if err != nil {
		t.Fatal(err)
	}
	if g := v.Consent.Guardian; g == nil || g.Relation != "parent" || !g.AcceptedAt.Equal(at) {
		t.Fatalf("consent record %+v", v.Consent)
	}
	// An adult needs none.
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, "adult"), &d); code != 201 {
		t.Fatalf("adult: %d %+v", code, d)
	}
}

// testConcurrentDeposits: deposits of one new number at once all succeed
// (the losers of the person's insert retry and find the winner's).
func testConcurrentDeposits(t *testing.T, cfg config.Config) {
	_, ac, store, _ := startAuthority(t, cfg, "并发公证处")
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b, _ := json.Marshal(depositBody(testName, testNumber, ""))
			codes[i], _, _ = ac.send(depositPath, authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, b, time.Now()), b)
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 201 {
			t.Errorf("deposit %d: %d", i, c)
		}
	}
	var persons int
	if err := store.DB().QueryRowContext(t.Context(), `SELECT COUNT(DISTINCT person_id) FROM deposits`).Scan(&persons); err != nil {
		t.Fatal(err)
	}
	if persons != 1 {
		t.Fatalf("%d persons for one number", persons)
	}
}

func TestAuthorityConcurrentDeposits(t *testing.T) { testConcurrentDeposits(t, testConfig(t)) }

func TestAuthorityConcurrentDepositsPostgres(t *testing.T) {
	cfg := postgresConfig(t)
	for range 3 {
		testConcurrentDeposits(t, cfg)
	}
}

// TestAuthorityNonceClockSkewSQL: two verifiers on one SQL store (SQLite,
// and PostgreSQL when REALNAME_TEST_POSTGRES_URL is set) with clocks 10 s
// apart: the fast one's purge does not forget a nonce the slow one still
// accepts, so a replay on the slow one is REPLAYED_NONCE.
func TestAuthorityNonceClockSkewSQL(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			if name == "postgres" {
				cfg.DatabaseURL = conformance.PostgresURL(t) // skips without REALNAME_TEST_POSTGRES_URL
			}
			ac, store := registerAuthority(t, cfg, "时钟公证处")
			ts := time.Now().Add(-295 * time.Second)
			slowNow := time.Now()
			const aud = "skew.test" // no server here: the verifiers are made in the test
			slow := &authority.Verifier{Store: store, Audience: aud, Now: func() time.Time { return slowNow }}
			fast := &authority.Verifier{Store: store, Audience: aud, Now: func() time.Time { return slowNow.Add(10 * time.Second) }}
			body := []byte(`{}`)
			h := authority.Sign(ac.key, ac.id, aud, "POST", depositPath, body, ts)
			if _, err := slow.Verify(t.Context(), "POST", depositPath, h, body); err != nil {
				t.Fatal(err)
			}
			if _, err := fast.Verify(t.Context(), "POST", depositPath, authority.Sign(ac.key, ac.id, aud, "POST", depositPath, body, time.Now()), body); err != nil {
				t.Fatal(err)
			}
			slowNow = slowNow.Add(time.Second)
			if _, err := slow.Verify(t.Context(), "POST", depositPath, h, body); realname.CodeOf(err) != "REPLAYED_NONCE" {
				t.Fatalf("replay on the slow replica: %v", err)
			}
		})
	}
}

// TestAuthorityDepositEvidence: the sealed evidence of a deposit opens
// (for an operator, audited) to the body as sent, whose SHA-256 is the
// stored hash and whose signature verifies with the authority's key.
func TestAuthorityDepositEvidence(t *testing.T) {
	r, ac, store, _ := startAuthority(t, testConfig(t), "证据公证处")
	body, _ := json.Marshal(depositBody(testName, testNumber, "ev-user"))
	code, _, raw := ac.send(depositPath, authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, body, time.Now()), body)
	var d depositAnswer
	if err := json.Unmarshal(raw, &d); err != nil || code != 201 {
		t.Fatalf("deposit: %d %s", code, raw)
	}
	op := realname.Operator{Name: "auditor", Reason: "ticket 7: re-check a deposit"}
	ev, err := r.Service().DepositEvidence(t.Context(), op, d.DepositID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ev.Body)
	if !bytes.Equal(ev.Body, body) || !bytes.Equal(sum[:], ev.BodyHash) {
		t.Fatalf("opened body %q, hash %x", ev.Body, ev.BodyHash)
	}
	pub := ac.key.Public().(ed25519.PublicKey)
	if !ed25519.Verify(pub, ev.SignedMessage, ev.Signature) {
		t.Fatal("the stored signature does not verify over the stored message")
	}
	if !bytes.HasSuffix(ev.SignedMessage, []byte(hex.EncodeToString(sum[:]))) {
		t.Fatal("the signed message does not name the body's hash")
	}
	if a := auditActions(t, store, "authority.deposit_evidence"); len(a) != 1 || a[0].Actor != "auditor" || a[0].Subject != "ev-user" {
		t.Fatalf("evidence read audit %+v", a)
	}
	if _, err := r.Service().DepositEvidence(t.Context(), op, "dp-missing"); realname.KindOf(err) != realname.KindNotFound {
		t.Fatalf("unknown deposit: %v", err)
	}
}

// TestAuthorityClaimMinor: a claim of a minor's deposit records the
// guardian's consent the deposit's signed body carried.
func TestAuthorityClaimMinor(t *testing.T) {
	_, ac, store, c := startAuthority(t, testConfig(t), "未成年公证处")
	child := residentNumber(time.Now().AddDate(-9, 0, -1), 12)
	b := depositBody("王小红", child, "")
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	b["guardian"] = map[string]any{"relation": "guardian", "accepted_at": at.Format(time.RFC3339)}
	var d depositAnswer
	if code, _ := ac.post(depositPath, b, &d); code != 201 || d.ClaimCode == "" {
		t.Fatalf("deposit: %d %+v", code, d)
	}
	var cl struct {
		CertifyID string `json:"certify_id"`
		Code      string `json:"code"`
	}
	if code := c.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "kid2", "claim_code": d.ClaimCode}, &cl); code != 200 {
		t.Fatalf("claim: %d %+v", code, cl)
	}
	v, err := store.Verification(t.Context(), cl.CertifyID)
	if err != nil {
		t.Fatal(err)
	}
	if g := v.Consent.Guardian; g == nil || g.Relation != "guardian" || !g.AcceptedAt.Equal(at) {
		t.Fatalf("consent record %+v", v.Consent)
	}
}

// TestAuthorityVerifiedAtFuture: verified_at up to a minute ahead of the
// server's clock is accepted (clock difference), later is refused.
func TestAuthorityVerifiedAtFuture(t *testing.T) {
	_, ac, _, _ := startAuthority(t, testConfig(t), "时间公证处")
	b := depositBody(testName, testNumber, "")
	b["verified_at"] = time.Now().Add(30 * time.Second).UTC().Format(time.RFC3339)
	var d depositAnswer
	if code, _ := ac.post(depositPath, b, &d); code != 201 {
		t.Fatalf("30 s ahead: %d %+v", code, d)
	}
	b["verified_at"] = time.Now().Add(2 * time.Minute).UTC().Format(time.RFC3339)
	if code, _ := ac.post(depositPath, b, &d); code != 400 || d.Code != realname.CodeInvalidRequest {
		t.Fatalf("2 min ahead: %d %+v", code, d)
	}
	b["verified_at"] = time.Now().AddDate(-1, 0, -2).UTC().Format(time.RFC3339)
	if code, _ := ac.post(depositPath, b, &d); code != 400 || d.Code != realname.CodeInvalidRequest {
		t.Fatalf("over a year old: %d %+v", code, d)
	}
}
