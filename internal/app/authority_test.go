package app_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
	sqlstore "github.com/realname/realname/internal/storage/sql"
	"github.com/realname/realname/internal/trail"
)

// An authority's test client.
type authorityClient struct {
	t    *testing.T
	base string
	id   string
	key  ed25519.PrivateKey
}

// registerAuthority registers a new authority in the app's database, as
// `realname authority add` does.
func registerAuthority(t *testing.T, cfg config.Config, name string) (authorityClient, *sqlstore.Store) {
	t.Helper()
	store, err := app.OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := authority.Register(t.Context(), store, name, pub, "test-operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return authorityClient{t: t, id: a.ID, key: priv}, store
}

// aud is the audience the client signs for: the host:port of the
// server's base URL (http://127.0.0.1:port in the tests), as
// docs/authority.md tells an institution to compute it.
func (c authorityClient) aud() string {
	return strings.TrimPrefix(c.base, "http://")
}

// send posts body to path with the given Authorization header.
func (c authorityClient) send(path, auth string, body []byte) (int, http.Header, []byte) {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// post signs and sends body as JSON; out, if set, receives the answer.
func (c authorityClient) post(path string, body any, out any) (int, http.Header) {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	code, hdr, raw := c.send(path, authority.Sign(c.key, c.id, c.aud(), "POST", path, b, time.Now()), b)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("POST %s: %d %s: %v", path, code, raw, err)
		}
	}
	return code, hdr
}

type errAnswer struct {
	Success bool   `json:"success"`
	Code    string `json:"code"`
}

func errCode(t *testing.T, raw []byte) string {
	t.Helper()
	var e errAnswer
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error answer %s: %v", raw, err)
	}
	return e.Code
}

type depositAnswer struct {
	Success        bool   `json:"success"`
	DepositID      string `json:"deposit_id"`
	UserID         string `json:"user_id"`
	CertifyID      string `json:"certify_id"`
	Status         string `json:"status"`
	Evidence       string `json:"evidence"`
	ClaimCode      string `json:"claim_code"`
	ClaimExpiresAt string `json:"claim_expires_at"`
	Code           string `json:"code"`
}

func depositBody(name, number, user string) map[string]any {
	b := map[string]any{"real_name": name, "id_card_number": number, "cert_type": "IDENTITY_CARD",
		"method": "in_person", "verified_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
	if user != "" {
		b["user_id"] = user
	}
	return b
}

const depositPath = "/api/v1/authority/deposits"

// TestAuthorityEndToEnd: an authority deposits an identity with a user
// id, which verifies the user (evidence authority_deposit) and leaves a
// deposit entry under the person's handle; deposits without a user answer
// a claim code a platform redeems once; an evidence package request
// answers a package that verifies offline and holds the request's own
// entry; the person's export lists the deposit and the request; nothing
// personal reaches the logs or the trail.
func TestAuthorityEndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.Trail.CheckpointInterval = time.Second
	r := start(t, cfg, nil)
	ac, store := registerAuthority(t, cfg, "北京市长安公证处")
	ac.base = r.URL()
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}

	// Deposit with a user: verified at once.
	var d depositAnswer
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, "dep-user"), &d); code != 201 || !d.Success {
		t.Fatalf("deposit: %d %+v", code, d)
	}
	if d.Status != "success" || d.Evidence != "authority_deposit" || d.UserID != "dep-user" || d.ClaimCode != "" {
		t.Fatalf("deposit answer %+v", d)
	}
	// The evidence is sealed with the person's data key: a plain SHA-256
	// of the body (32 bytes), the body or a bare signature (64) would let a
	// reader of the database confirm a guessed name and number.
	var sig, bodyHash, msg []byte
	if err := store.DB().QueryRowContext(t.Context(), `SELECT signature, body_hash, signed_message FROM deposits WHERE id = ?`,
		d.DepositID).Scan(&sig, &bodyHash, &msg); err != nil {
		t.Fatal(err)
	}
	// body_hash holds the hash and then the body's bytes, sealed.
	if len(sig) != 64+29 || len(bodyHash) <= 32+29 || bytes.Contains(bodyHash, []byte(testNumber)) ||
		bytes.Contains(msg, []byte("realname-authority-v2")) {
		t.Fatalf("deposit evidence in the clear: %d, %d bytes, %q", len(sig), len(bodyHash), msg)
	}
	var st struct {
		Status  string `json:"status"`
		IsValid bool   `json:"is_valid"`
	}
	if code := c.call("GET", "/api/v1/auth/status/dep-user", nil, &st); code != 200 || st.Status != "success" || !st.IsValid {
		t.Fatalf("status after deposit: %d %+v", code, st)
	}
	var q struct {
		Status string `json:"status"`
		Passed bool   `json:"passed"`
	}
	if c.call("POST", "/api/v1/auth/query", map[string]any{"certify_id": d.CertifyID}, &q); q.Status != "success" || !q.Passed {
		t.Fatalf("query: %+v", q)
	}
	var vf struct {
		Passed bool `json:"passed"`
	}
	if c.call("POST", "/api/v1/auth/verify", map[string]any{"user_id": "dep-user"}, &vf); !vf.Passed {
		t.Fatal("verify after deposit did not pass")
	}
	// The same number for another user is refused.
	var conflict depositAnswer
	if code, _ := ac.post(depositPath, depositBody(testName, testNumber, "other-user"), &conflict); code != 409 || conflict.Code != realname.CodeIdentityBound {
		t.Fatalf("deposit for another user: %d %+v", code, conflict)
	}

	// Evidence package request.
	var pr struct {
		Success    bool            `json:"success"`
		RequestRef string          `json:"request_ref"`
		Package    json.RawMessage `json:"package"`
	}
	reqBody := map[string]any{"id_card_number": testNumber, "legal_basis": "《公证法》第二十九条", "case_reference": "(2026)京长安证字第123号"}
	if code, _ := ac.post("/api/v1/authority/requests", reqBody, &pr); code != 200 || !pr.Success {
		t.Fatalf("request: %d", code)
	}
	p, err := trail.ParsePackage(pr.Package)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := trail.VerifyPackage(p, trail.VerifyOptions{ExpectedRequestRef: pr.RequestRef})
	if err != nil || !rep.OK || pr.RequestRef == "" || pr.RequestRef != p.Manifest.RequestRef {
		t.Fatalf("package does not verify as the answer to request %q: %v %+v", pr.RequestRef, err, rep.Failed())
	}
	if !strings.Contains(p.Manifest.RequestedBy, ac.id) || !strings.Contains(p.Manifest.Purpose, "(2026)京长安证字第123号") {
		t.Errorf("manifest %+v", p.Manifest)
	}
	if last, _ := trail.ParseEntry(p.Entries[len(p.Entries)-1].Data); p.Manifest.RequestRef == "" ||
		last.Kind != trail.KindTrailRequest || last.Ref != p.Manifest.RequestRef {
		t.Errorf("the package does not end with its own request: %q, %+v", p.Manifest.RequestRef, last)
	}
	kinds := map[string]trail.Entry{}
	for _, pe := range p.Entries {
		e, err := trail.ParseEntry(pe.Data)
		if err != nil {
			t.Fatal(err)
		}
		kinds[e.Kind] = e
	}
	if e, ok := kinds[trail.KindDeposit]; !ok || e.Attrs["authority"] != "" || e.Attrs["method"] != "in_person" || e.Ref != d.DepositID {
		t.Errorf("no deposit entry under the handle: %+v", kinds)
	}
	if e, ok := kinds[trail.KindTrailRequest]; !ok || e.Attrs["by"] != "authority" || e.Attrs["authority"] != "" {
		t.Errorf("the request's own entry is missing: %+v", kinds)
	}
	if e := kinds[trail.KindVerificationSucceeded]; e.Attrs["evidence"] != "authority_deposit" || e.Attrs["provider"] != "authority" {
		t.Errorf("succeeded entry %+v", e)
	}
	// An unknown number says nothing more than 404.
	code, _, raw := ac.send("/api/v1/authority/requests", "", nil)
	if code != 401 {
		t.Errorf("unsigned request: %d %s", code, raw)
	}
	var nf errAnswer
	if code, _ := ac.post("/api/v1/authority/requests", map[string]any{"id_card_number": numberB, "legal_basis": "basis",
		"case_reference": "case-1"}, &nf); code != 404 || nf.Code != realname.CodeNotFound {
		t.Errorf("unknown number: %d %+v", code, nf)
	}

	// The person's export shows the deposit and the request.
	var tok struct {
		Token string `json:"token"`
	}
	c.call("POST", "/api/v1/auth/token", map[string]any{"user_id": "dep-user"}, &tok)
	person := client{t: t, base: r.URL(), key: tok.Token}
	var data struct {
		Data realname.PersonalData `json:"data"`
	}
	if code := person.call("GET", "/api/v1/auth/me/data", nil, &data); code != 200 {
		t.Fatalf("me/data: %d", code)
	}
	actions := map[string]realname.AuditEntry{}
	for _, a := range data.Data.Access {
		actions[a.Action] = a
	}
	if a := actions["authority.deposit"]; a.Actor != ac.id || a.ActorKind != "authority" {
		t.Errorf("export lacks the deposit: %+v", data.Data.Access)
	}
	if a := actions["authority.request"]; a.Actor != ac.id || !strings.Contains(a.Reason, "(2026)京长安证字第123号") {
		t.Errorf("export lacks the request: %+v", data.Data.Access)
	}
	if len(data.Data.Verifications) == 0 || data.Data.Verifications[0].Evidence != realname.EvidenceAuthorityDeposit {
		t.Errorf("export verifications %+v", data.Data.Verifications)
	}

	// Deposit without a user: a claim code, redeemed once by a platform.
	const numberC = "110101199003074477"
	var dc depositAnswer
	if code, _ := ac.post(depositPath, depositBody("李四", numberC, ""), &dc); code != 201 || !strings.HasPrefix(dc.ClaimCode, "rc_") || dc.Status != "" {
		t.Fatalf("deposit without user: %d %+v", code, dc)
	}
	var cl struct {
		Success  bool   `json:"success"`
		Status   string `json:"status"`
		Evidence string `json:"evidence"`
		Code     string `json:"code"`
	}
	if code := c.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "claim-user", "claim_code": dc.ClaimCode}, &cl); code != 200 ||
		cl.Status != "success" || cl.Evidence != "authority_deposit" {
		t.Fatalf("claim: %d %+v", code, cl)
	}
	if c.call("GET", "/api/v1/auth/status/claim-user", nil, &st); st.Status != "success" {
		t.Fatalf("status after claim: %+v", st)
	}
	if code := c.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "claim-user2", "claim_code": dc.ClaimCode}, &cl); code != 400 || cl.Code != realname.CodeInvalidClaim {
		t.Fatalf("claim code reused: %d %+v", code, cl)
	}
	// An expired code is refused.
	const numberD = "110101200001010010"
	var dd depositAnswer
	if code, _ := ac.post(depositPath, depositBody("王五", numberD, ""), &dd); code != 201 {
		t.Fatalf("deposit: %d %+v", code, dd)
	}
	if _, err := store.DB().ExecContext(t.Context(), `UPDATE claim_codes SET expires_at = ? WHERE used_at IS NULL`,
		time.Now().Add(-time.Minute).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if code := c.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "claim-user3", "claim_code": dd.ClaimCode}, &cl); code != 400 || cl.Code != realname.CodeInvalidClaim {
		t.Fatalf("expired claim code: %d %+v", code, cl)
	}
	// A user token claims only for its own user.
	if code := person.call("POST", "/api/v1/auth/claim", map[string]any{"user_id": "someone-else", "claim_code": dd.ClaimCode}, &cl); code != 403 {
		t.Fatalf("token for another user: %d %+v", code, cl)
	}

	// Nothing personal in the logs or the trail.
	r.stop()
	for _, pii := range []string{testNumber, testName, "李四", numberC, "王五", numberD} {
		if bytes.Contains(r.logs.Bytes(), []byte(pii)) {
			t.Errorf("the logs hold %q", pii)
		}
	}
	size, err := store.TrailSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ents, err := store.TrailEntries(t.Context(), 0, size)
	if err != nil || len(ents) == 0 {
		t.Fatalf("trail entries: %d %v", len(ents), err)
	}
	for _, e := range ents {
		for _, pii := range []string{testNumber, testName, "李四", numberC, "王五", numberD} {
			if bytes.Contains(e, []byte(pii)) {
				t.Errorf("a trail entry holds %q: %s", pii, e)
			}
		}
	}
}

// TestAuthoritySignatures: every way a signature can be wrong is refused
// with 401 and its own code; a body over 64 KiB is 413.
func TestAuthoritySignatures(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg, nil)
	ac, store := registerAuthority(t, cfg, "某某人民法院")
	ac.base = r.URL()
	body, _ := json.Marshal(depositBody(testName, testNumber, ""))
	now := time.Now()
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := json.Marshal(depositBody(testName, numberB, ""))
	replayed := authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, body, now)
	for _, tc := range []struct {
		name, auth, path string
		body             []byte
		status           int
		code             string
	}{
		{"good", replayed, depositPath, body, 201, ""},
		{"replayed nonce", replayed, depositPath, body, 401, "REPLAYED_NONCE"},
		{"no header", "", depositPath, body, 401, "AUTHORITY_SIGNATURE_REQUIRED"},
		{"bearer", "Bearer x", depositPath, body, 401, "MALFORMED_AUTHORIZATION"},
		{"wrong key", authority.Sign(otherKey, ac.id, ac.aud(), "POST", depositPath, body, now), depositPath, body, 401, "BAD_SIGNATURE"},
		{"tampered body", authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, body, now), depositPath, other, 401, "BAD_SIGNATURE"},
		{"tampered path", authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath+"?x=1", body, now), depositPath, body, 401, "BAD_SIGNATURE"},
		{"tampered method", authority.Sign(ac.key, ac.id, ac.aud(), "PUT", depositPath, body, now), depositPath, body, 401, "BAD_SIGNATURE"},
		{"other deployment", authority.Sign(ac.key, ac.id, "staging.realname.example.cn", "POST", depositPath, body, now), depositPath, body, 401, "BAD_SIGNATURE"},
		{"version 1", signV1(ac.key, ac.id, depositPath, body, now), depositPath, body, 401, "BAD_SIGNATURE"},
		{"stale ts", authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, body, now.Add(-301*time.Second)), depositPath, body, 401, "STALE_TIMESTAMP"},
		{"future ts", authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, body, now.Add(400*time.Second)), depositPath, body, 401, "STALE_TIMESTAMP"},
		{"unknown authority", authority.Sign(ac.key, authority.NewID(), ac.aud(), "POST", depositPath, body, now), depositPath, body, 401, "INVALID_AUTHORITY"},
		{"too large", authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, bytes.Repeat([]byte(" "), 65<<10), now), depositPath, bytes.Repeat([]byte(" "), 65<<10), 413, "BODY_TOO_LARGE"},
		{"bad body", authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, []byte(`{"x":1}`), now), depositPath, []byte(`{"x":1}`), 400, "INVALID_JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, raw := ac.send(tc.path, tc.auth, tc.body)
			if code != tc.status || tc.code != "" && errCode(t, raw) != tc.code {
				t.Fatalf("%d %s, want %d %s", code, raw, tc.status, tc.code)
			}
		})
	}
	// Revoked: refused from then on.
	if err := authority.Revoke(t.Context(), store, ac.id, "test-operator", time.Now()); err != nil {
		t.Fatal(err)
	}
	code, _, raw := ac.send(depositPath, authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, other, time.Now()), other)
	if code != 401 || errCode(t, raw) != "INVALID_AUTHORITY" {
		t.Fatalf("revoked authority: %d %s", code, raw)
	}
}

// signV1 signs as version 1 did: no authority id, no audience.
func signV1(key ed25519.PrivateKey, id, path string, body []byte, now time.Time) string {
	h, _ := authority.ParseHeader(authority.Sign(key, id, "x", "POST", path, body, now))
	sum := sha256.Sum256(body)
	h.Signature = ed25519.Sign(key, []byte("realname-authority-v1\nPOST\n"+path+"\n"+h.TS+"\n"+h.Nonce+"\n"+hex.EncodeToString(sum[:])))
	return h.String()
}

// TestAuthorityRateLimit: past REALNAME_RATE_AUTHORITY an authority gets
// 429 with Retry-After.
func TestAuthorityRateLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.Rate.Authority = 2
	r := start(t, cfg, nil)
	ac, _ := registerAuthority(t, cfg, "限速公证处")
	ac.base = r.URL()
	body := map[string]any{"id_card_number": numberB, "legal_basis": "basis", "case_reference": "case-1"}
	for i := range 2 {
		if code, _ := ac.post("/api/v1/authority/requests", body, nil); code != 404 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	var e errAnswer
	code, hdr := ac.post("/api/v1/authority/requests", body, &e)
	if code != 429 || e.Code != realname.CodeRateLimited {
		t.Fatalf("third request: %d %+v", code, e)
	}
	if ra, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || ra < 1 {
		t.Fatalf("Retry-After %q", hdr.Get("Retry-After"))
	}
}

// postgresConfig is testConfig on a fresh PostgreSQL schema (skipped
// without REALNAME_TEST_POSTGRES_URL), with key files of its own, as a
// server on PostgreSQL requires.
func postgresConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.DatabaseURL = conformance.PostgresURL(t)
	keyDir := t.TempDir()
	files := pii.KeyFiles{RingPath: filepath.Join(keyDir, "ring.json"), IndexPath: filepath.Join(keyDir, "index.key")}
	if _, err := pii.Generate(files); err != nil {
		t.Fatal(err)
	}
	cfg.Keys.RingFile, cfg.Keys.IndexFile = files.RingPath, files.IndexPath
	return cfg
}

// TestAuthorityPostgres: a deposit and an evidence package request on
// PostgreSQL, nonces included.
func TestAuthorityPostgres(t *testing.T) {
	cfg := postgresConfig(t)
	r := start(t, cfg, nil)
	ac, _ := registerAuthority(t, cfg, "PG 公证处")
	ac.base = r.URL()
	body, _ := json.Marshal(depositBody(testName, testNumber, "pg-dep-user"))
	auth := authority.Sign(ac.key, ac.id, ac.aud(), "POST", depositPath, body, time.Now())
	code, _, raw := ac.send(depositPath, auth, body)
	var d depositAnswer
	if err := json.Unmarshal(raw, &d); err != nil || code != 201 || d.Status != "success" || d.Evidence != "authority_deposit" {
		t.Fatalf("deposit: %d %s", code, raw)
	}
	if code, _, raw := ac.send(depositPath, auth, body); code != 401 || errCode(t, raw) != "REPLAYED_NONCE" {
		t.Fatalf("replay: %d %s", code, raw)
	}
	var pr struct {
		Package json.RawMessage `json:"package"`
	}
	if code, _ := ac.post("/api/v1/authority/requests", map[string]any{"id_card_number": testNumber, "legal_basis": "basis",
		"case_reference": "case-1"}, &pr); code != 200 {
		t.Fatalf("request: %d", code)
	}
	p, err := trail.ParsePackage(pr.Package)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := trail.VerifyPackage(p, trail.VerifyOptions{}); err != nil || !rep.OK {
		t.Fatalf("package: %v %+v", err, rep.Failed())
	}
}
