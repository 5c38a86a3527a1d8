package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/ratelimit"
	"github.com/realname/realname/internal/realname"
)

const testAdminKey = "admin_0123456789abcdefghijklmnopqrstuv" // ≥ 32 characters, as config requires

// adminServer is testServer with the admin API on.
func adminServer(t testing.TB) *Server {
	t.Helper()
	return testServerWith(t, func(o *Options) { o.AdminKey = testAdminKey })
}

// call sends one request with a JSON body (if not empty) and headers given
// as name, value pairs.
func call(s http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func bearerH(cred string) []string { return []string{"Authorization", "Bearer " + cred} }

// asAdmin are the headers of an operator named "ops-li".
func asAdmin(more ...string) []string {
	return append([]string{"Authorization", "Bearer " + testAdminKey, "X-Operator", "ops-li"}, more...)
}

// asUser are the headers of user's token.
func asUser(s *Server, user string) []string {
	tok, _ := s.tokens.Mint("env", user)
	return bearerH(tok)
}

func decodeBody(t *testing.T, w *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), dst); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
}

func wantOK(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"success":true`)) {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
}

// idNumber is a valid resident ID number (region 110101, MOD 11-2 check
// character) of a person born on birth, with sequence seq (1–999).
func idNumber(birth time.Time, seq int) string {
	body := fmt.Sprintf("110101%s%03d", birth.Format("20060102"), seq)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k := range 17 {
		sum += int(body[k]-'0') * weights[k]
	}
	return body + string("10X98765432"[sum%11])
}

// adultNumber is the seq-th adult's number (born 1990).
func adultNumber(seq int) string { return idNumber(time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC), seq) }

// jpeg, png and pdf are minimal files with the right magic bytes.
var (
	jpegFile = append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{1}, 60)...)
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{2}, 60)...)
)

func fileJSON(kind, ctype string, data []byte) string {
	return `{"kind":"` + kind + `","content_type":"` + ctype + `","data":"` + base64.StdEncoding.EncodeToString(data) + `"}`
}

func reviewConsent(scopes string) string {
	return `{"notice_version":"2026-11-01","accepted_at":"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `","scopes":` + scopes + `}`
}

var docConsent = reviewConsent(`["id_number","documents"]`)

// reviewJSON is a review body; files is the JSON array of files.
func reviewJSON(user, name, number, consent, files string) string {
	return `{"user_id":"` + user + `","real_name":"` + name + `","id_card_number":"` + number + `","consent":` + consent +
		`,"note":"请审核","files":` + files + `}`
}

func goodFiles() string {
	return "[" + fileJSON("id_front", "image/jpeg", jpegFile) + "," + fileJSON("id_back", "image/png", pngFile) + "]"
}

// submit files a review for user with the API key and returns its certify id.
func submit(t *testing.T, s *Server, user, name, number string) string {
	t.Helper()
	w := call(s, "POST", "/api/v1/auth/review", reviewJSON(user, name, number, docConsent, goodFiles()), bearerH(testAPIKey)...)
	wantOK(t, w)
	var b struct {
		CertifyID string `json:"certify_id"`
		Status    string `json:"status"`
	}
	decodeBody(t, w, &b)
	if b.CertifyID == "" || b.Status != "processing" {
		t.Fatalf("review answer %s", w.Body)
	}
	return b.CertifyID
}

// TestReviewSubmit: a review by API key and by the user's own token; every
// bad input with its status and code.
func TestReviewSubmit(t *testing.T) {
	s := adminServer(t)
	w := call(s, "POST", "/api/v1/auth/review", reviewJSON("alice", "张三", adultNumber(1), docConsent, goodFiles()), asUser(s, "alice")...)
	wantOK(t, w)
	for _, f := range []string{`"certify_id":"`, `"status":"processing"`, `"request_id":"`, `"message":"`} {
		if !strings.Contains(w.Body.String(), f) {
			t.Errorf("answer lacks %s: %s", f, w.Body)
		}
	}
	submit(t, s, "bob", "李四", adultNumber(2))

	// A user token acts only for its own user.
	w = call(s, "POST", "/api/v1/auth/review", reviewJSON("carol", "王五", adultNumber(3), docConsent, goodFiles()), asUser(s, "alice")...)
	wantErrorCode(t, w, 403, "FORBIDDEN")
	// No credential.
	w = call(s, "POST", "/api/v1/auth/review", reviewJSON("carol", "王五", adultNumber(3), docConsent, goodFiles()))
	wantErrorCode(t, w, 401, "UNAUTHORIZED")

	child := idNumber(time.Now().AddDate(-10, 0, -3), 5)
	guardian := func(rel, at string) string {
		return `{"notice_version":"2026-11-01","accepted_at":"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) +
			`","scopes":["id_number","documents"],"guardian":{"relation":"` + rel + `","accepted_at":"` + at + `"}}`
	}
	recent := time.Now().UTC().Add(-2 * time.Minute).Format(time.RFC3339)
	big := bytes.Repeat([]byte{0}, realname.MaxReviewFileBytes+1)
	copy(big, jpegFile)
	five := "[" + strings.Repeat(fileJSON("other", "image/jpeg", jpegFile)+",", 4) + fileJSON("other", "image/jpeg", jpegFile) + "]"
	for i, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"no files", reviewJSON("u1", "张三", adultNumber(11), docConsent, `[]`), 400, "INVALID_REQUEST"},
		{"files missing", `{"user_id":"u1","real_name":"张三","id_card_number":"` + adultNumber(11) + `","consent":` + docConsent + `}`, 400, "INVALID_REQUEST"},
		{"five files", reviewJSON("u1", "张三", adultNumber(11), docConsent, five), 400, "INVALID_REQUEST"},
		{"bad kind", reviewJSON("u1", "张三", adultNumber(11), docConsent, "["+fileJSON("selfie", "image/jpeg", jpegFile)+"]"), 400, "INVALID_REQUEST"},
		{"unknown content type", reviewJSON("u1", "张三", adultNumber(11), docConsent, "["+fileJSON("id_front", "image/gif", []byte("GIF89a..."))+"]"), 400, "INVALID_REQUEST"},
		{"content type vs magic bytes", reviewJSON("u1", "张三", adultNumber(11), docConsent, "["+fileJSON("id_front", "image/png", jpegFile)+"]"), 400, "INVALID_REQUEST"},
		{"pdf claimed, jpeg sent", reviewJSON("u1", "张三", adultNumber(11), docConsent, "["+fileJSON("id_front", "application/pdf", jpegFile)+"]"), 400, "INVALID_REQUEST"},
		{"bad base64", reviewJSON("u1", "张三", adultNumber(11), docConsent, `[{"kind":"id_front","content_type":"image/jpeg","data":"/9j/!!!"}]`), 400, "INVALID_REQUEST"},
		{"URL-safe base64", reviewJSON("u1", "张三", adultNumber(11), docConsent, `[{"kind":"id_front","content_type":"image/jpeg","data":"_9j_4A"}]`), 400, "INVALID_REQUEST"},
		{"file over 2 MiB", reviewJSON("u1", "张三", adultNumber(11), docConsent, "["+fileJSON("id_front", "image/jpeg", big)+"]"), 413, "BODY_TOO_LARGE"},
		{"body over 9 MiB", reviewJSON("u1", "张三", adultNumber(11), docConsent, `[{"kind":"id_front","content_type":"image/jpeg","data":"`+strings.Repeat("A", reviewBody)+`"}]`), 413, "BODY_TOO_LARGE"},
		{"no consent", `{"user_id":"u1","real_name":"张三","id_card_number":"` + adultNumber(11) + `","files":` + goodFiles() + `}`, 400, "CONSENT_REQUIRED"},
		{"face scopes", reviewJSON("u1", "张三", adultNumber(11), reviewConsent(`["id_number","face"]`), goodFiles()), 400, "CONSENT_REQUIRED"},
		{"documents only", reviewJSON("u1", "张三", adultNumber(11), reviewConsent(`["documents"]`), goodFiles()), 400, "CONSENT_REQUIRED"},
		{"bad accepted_at", reviewJSON("u1", "张三", adultNumber(11), `{"notice_version":"2026-11-01","accepted_at":"yesterday","scopes":["id_number","documents"]}`, goodFiles()), 400, "CONSENT_REQUIRED"},
		{"under 14 without guardian", reviewJSON("kid", "王小明", child, docConsent, goodFiles()), 400, "GUARDIAN_CONSENT_REQUIRED"},
		{"guardian with bad relation", reviewJSON("kid", "王小明", child, guardian("uncle", recent), goodFiles()), 400, "GUARDIAN_CONSENT_REQUIRED"},
		{"guardian with bad accepted_at", reviewJSON("kid", "王小明", child, guardian("parent", "2026-13-40"), goodFiles()), 400, "GUARDIAN_CONSENT_REQUIRED"},
		{"guardian without accepted_at", reviewJSON("kid", "王小明", child, guardian("parent", ""), goodFiles()), 400, "GUARDIAN_CONSENT_REQUIRED"},
		{"bad ID number", reviewJSON("u1", "张三", "110101199003074478", docConsent, goodFiles()), 400, "INVALID_ID_NUMBER"},
		{"unknown field", `{"user_id":"u1","face_image":"x"}`, 400, "INVALID_JSON"},
	} {
		w := call(s, "POST", "/api/v1/auth/review", c.body, bearerH(testAPIKey)...)
		if w.Code != c.status {
			t.Errorf("%d %s: status %d, want %d: %.300s", i, c.name, w.Code, c.status, w.Body)
			continue
		}
		var b struct{ Code string }
		decodeBody(t, w, &b)
		if b.Code != c.code {
			t.Errorf("%d %s: code %s, want %s", i, c.name, b.Code, c.code)
		}
	}

	// A child with a guardian's consent may be reviewed.
	w = call(s, "POST", "/api/v1/auth/review", reviewJSON("kid", "王小明", child, guardian("parent", recent), goodFiles()), bearerH(testAPIKey)...)
	wantOK(t, w)
	// The guardian's consent is on record.
	w = call(s, "GET", "/api/v1/auth/me/consents", "", asUser(s, "kid")...)
	wantOK(t, w)
	if !strings.Contains(w.Body.String(), `"guardian":{"relation":"parent"`) {
		t.Fatalf("consents lack the guardian: %s", w.Body)
	}
}

// TestInitGuardian: init takes consent.guardian too.
func TestInitGuardian(t *testing.T) {
	s := testServer(t)
	child := idNumber(time.Now().AddDate(-10, 0, -3), 7)
	base := `{"user_id":"kid2","real_name":"王小红","id_card_number":"` + child + `","consent":{"notice_version":"2026-11-01","accepted_at":"` +
		time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `","scopes":["id_number","face"]`
	w := call(s, "POST", "/api/v1/auth/init", base+`}}`, bearerH(testAPIKey)...)
	wantErrorCode(t, w, 400, "GUARDIAN_CONSENT_REQUIRED")
	w = call(s, "POST", "/api/v1/auth/init", base+`,"guardian":{"relation":"guardian","accepted_at":"not a time"}}}`, bearerH(testAPIKey)...)
	wantErrorCode(t, w, 400, "GUARDIAN_CONSENT_REQUIRED")
	w = call(s, "POST", "/api/v1/auth/init", base+`,"guardian":{"relation":"guardian","accepted_at":"`+
		time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)+`"}}}`, bearerH(testAPIKey)...)
	wantOK(t, w)
}

// adminRoutes are every route of the admin API, with a body where it takes one.
var adminRoutes = []struct{ method, path, body string }{
	{"GET", "/api/v1/admin/reviews", ""},
	{"GET", "/api/v1/admin/reviews/vf_x", ""},
	{"POST", "/api/v1/admin/reviews/vf_x/approve", `{"reason":"ok"}`},
	{"POST", "/api/v1/admin/reviews/vf_x/reject", `{"reason":"no"}`},
	{"POST", "/api/v1/admin/users/alice/unlock", `{"reason":"called"}`},
	{"DELETE", "/api/v1/admin/users/alice", `{"reason":"asked"}`},
	{"GET", "/api/v1/admin/users/alice/data", ""},
}

// TestAdminDisabled: without an admin key the admin API does not exist.
func TestAdminDisabled(t *testing.T) {
	s := testServer(t)
	for _, rt := range adminRoutes {
		wantErrorCode(t, call(s, rt.method, rt.path, rt.body, asAdmin()...), 404, "NOT_FOUND")
	}
}

// TestAdminAuth: the admin key, then X-Operator; bad keys count against
// the per-IP limit.
func TestAdminAuth(t *testing.T) {
	s := adminServer(t)
	for _, rt := range adminRoutes {
		wantErrorCode(t, call(s, rt.method, rt.path, rt.body), 401, "INVALID_ADMIN_KEY")
		wantErrorCode(t, call(s, rt.method, rt.path, rt.body, "Authorization", "Bearer "+testAdminKey+"x", "X-Operator", "ops"), 401, "INVALID_ADMIN_KEY")
		wantErrorCode(t, call(s, rt.method, rt.path, rt.body, "Authorization", "Bearer "+testAPIKey, "X-Operator", "ops"), 401, "INVALID_ADMIN_KEY")
		wantErrorCode(t, call(s, rt.method, rt.path, rt.body, bearerH(testAdminKey)...), 400, "OPERATOR_REQUIRED")
	}
	for _, op := range []string{"a\tb", strings.Repeat("x", 65), "\xff\xfe", "a\x7fb"} {
		wantErrorCode(t, call(s, "GET", "/api/v1/admin/reviews", "", "Authorization", "Bearer "+testAdminKey, "X-Operator", op), 400, "OPERATOR_REQUIRED")
	}
	wantOK(t, call(s, "GET", "/api/v1/admin/reviews", "", "Authorization", "Bearer "+testAdminKey, "X-Operator", "运维-李"))
	// The admin key is no API key.
	wantErrorCode(t, call(s, "GET", "/api/v1/auth/status/alice", "", bearerH(testAdminKey)...), 401, "INVALID_API_KEY")

	limited := testServerWith(t, func(o *Options) {
		o.AdminKey = testAdminKey
		o.IPLimit = ratelimit.NewMemory(ratelimit.Rule{Limit: 4, Window: time.Minute}, 0)
	})
	codes := []int{}
	for range 3 {
		codes = append(codes, call(limited, "GET", "/api/v1/admin/reviews", "", "Authorization", "Bearer wrong", "X-Operator", "ops").Code)
	}
	if fmt.Sprint(codes) != "[401 401 429]" {
		t.Fatalf("bad admin keys from one address: %v, want [401 401 429]", codes)
	}
	w := call(limited, "GET", "/api/v1/admin/reviews", "", asAdmin()...)
	wantErrorCode(t, w, 429, "RATE_LIMITED")
	if w.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

type reviewItemJSON struct {
	CertifyID string `json:"certify_id"`
	UserID    string `json:"user_id"`
	Name      string `json:"name"`
	IDNumber  string `json:"id_number"`
	Masked    bool   `json:"masked"`
	Status    string `json:"status"`
	Note      string `json:"note"`
	Files     []struct {
		Kind        string `json:"kind"`
		ContentType string `json:"content_type"`
		Data        []byte `json:"data"`
	} `json:"files"`
	Decision  string `json:"decision"`
	DecidedBy string `json:"decided_by"`
}

// TestAdminReviewApprove: the queue and a review without a reason are
// masked; with X-Access-Reason the review is in full with its files;
// approval verifies the user with evidence manual_review; a second
// decision is a conflict.
func TestAdminReviewApprove(t *testing.T) {
	s := adminServer(t)
	number := adultNumber(21)
	id := submit(t, s, "alice", "张三", number)

	w := call(s, "GET", "/api/v1/admin/reviews?limit=10", "", asAdmin()...)
	wantOK(t, w)
	var q struct{ Reviews []reviewItemJSON }
	decodeBody(t, w, &q)
	if len(q.Reviews) != 1 || q.Reviews[0].CertifyID != id || !q.Reviews[0].Masked || q.Reviews[0].Status != "processing" {
		t.Fatalf("queue %s", w.Body)
	}
	if strings.Contains(w.Body.String(), "张三") || strings.Contains(w.Body.String(), number) || q.Reviews[0].Name == "" || len(q.Reviews[0].Files) != 0 {
		t.Fatalf("queue not masked: %s", w.Body)
	}
	wantErrorCode(t, call(s, "GET", "/api/v1/admin/reviews?limit=x", "", asAdmin()...), 400, "INVALID_REQUEST")

	w = call(s, "GET", "/api/v1/admin/reviews/"+id, "", asAdmin()...)
	wantOK(t, w)
	if strings.Contains(w.Body.String(), "张三") || strings.Contains(w.Body.String(), number) || strings.Contains(w.Body.String(), `"files"`) {
		t.Fatalf("detail without a reason not masked: %s", w.Body)
	}
	w = call(s, "GET", "/api/v1/admin/reviews/"+id, "", asAdmin("X-Access-Reason", "核对证件照片")...)
	wantOK(t, w)
	var d struct{ Review reviewItemJSON }
	decodeBody(t, w, &d)
	r := d.Review
	if r.Masked || r.Name != "张三" || r.IDNumber != number || r.Note != "请审核" || len(r.Files) != 2 ||
		r.Files[0].Kind != "id_front" || !bytes.Equal(r.Files[0].Data, jpegFile) || !bytes.Equal(r.Files[1].Data, pngFile) {
		t.Fatalf("detail with a reason: %s", w.Body)
	}
	wantErrorCode(t, call(s, "GET", "/api/v1/admin/reviews/vf"+strings.Repeat("0", 30), "", asAdmin()...), 404, "NOT_FOUND")
	wantErrorCode(t, call(s, "GET", "/api/v1/admin/reviews/vf_nosuch", "", asAdmin()...), 400, "INVALID_REQUEST")

	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/approve", `{}`, asAdmin()...), 400, "REASON_REQUIRED")
	w = call(s, "POST", "/api/v1/admin/reviews/"+id+"/approve", `{"reason":"证件清晰,与信息一致"}`, asAdmin()...)
	wantOK(t, w)
	var v struct {
		Verification struct {
			CertifyID  string `json:"certify_id"`
			Status     string `json:"status"`
			FailReason string `json:"fail_reason"`
		}
	}
	decodeBody(t, w, &v)
	if v.Verification.CertifyID != id || v.Verification.Status != "success" || v.Verification.FailReason != "" {
		t.Fatalf("approve: %s", w.Body)
	}
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/approve", `{"reason":"again"}`, asAdmin()...), 409, "SESSION_CLOSED")
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", `{"reason":"again"}`, asAdmin()...), 409, "SESSION_CLOSED")

	w = call(s, "GET", "/api/v1/auth/status/alice", "", bearerH(testAPIKey)...)
	wantOK(t, w)
	var st statusAnswer
	decodeBody(t, w, &st)
	if st.Status != "success" || !st.IsValid || st.RealName == "张三" || st.RealName == "" {
		t.Fatalf("status after approval: %s", w.Body)
	}
	w = call(s, "GET", "/api/v1/auth/me/data", "", asUser(s, "alice")...)
	wantOK(t, w)
	var pd struct {
		Data struct {
			Standing struct{ Status, Evidence string }
		}
	}
	decodeBody(t, w, &pd)
	if pd.Data.Standing.Status != "success" || pd.Data.Standing.Evidence != "manual_review" {
		t.Fatalf("standing after approval: %s", w.Body)
	}
	// The queue is empty again.
	w = call(s, "GET", "/api/v1/admin/reviews", "", asAdmin()...)
	if !strings.Contains(w.Body.String(), `"reviews":[]`) {
		t.Fatalf("queue after the decision: %s", w.Body)
	}
}

// TestAdminReviewReject: a rejection needs a reason and fails the session
// with REVIEW_REJECTED.
func TestAdminReviewReject(t *testing.T) {
	s := adminServer(t)
	id := submit(t, s, "bob", "李四", adultNumber(31))
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", `{}`, asAdmin()...), 400, "REASON_REQUIRED")
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", `{"reason":" "}`, asAdmin()...), 400, "REASON_REQUIRED")
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", ``, asAdmin()...), 400, "INVALID_JSON")
	w := call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", `{"reason":"照片模糊"}`, asAdmin()...)
	wantOK(t, w)
	if !strings.Contains(w.Body.String(), `"status":"failed"`) || !strings.Contains(w.Body.String(), `"fail_reason":"REVIEW_REJECTED"`) {
		t.Fatalf("reject: %s", w.Body)
	}
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", `{"reason":"twice"}`, asAdmin()...), 409, "SESSION_CLOSED")
	w = call(s, "POST", "/api/v1/auth/query", `{"certify_id":"`+id+`"}`, bearerH(testAPIKey)...)
	wantOK(t, w)
	if !strings.Contains(w.Body.String(), `"status":"failed"`) || !strings.Contains(w.Body.String(), `"fail_reason":"REVIEW_REJECTED"`) {
		t.Fatalf("query after rejection: %s", w.Body)
	}
}

// TestLockoutAndUnlock: five rejected reviews lock the user (403
// USER_LOCKED with Retry-After); an operator's unlock, with a reason,
// lifts it.
func TestLockoutAndUnlock(t *testing.T) {
	s := adminServer(t)
	number := adultNumber(41)
	for i := range 5 {
		id := submit(t, s, "dave", "赵六", number)
		wantOK(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/reject", `{"reason":"第`+strconv.Itoa(i+1)+`次不符"}`, asAdmin()...))
	}
	w := call(s, "POST", "/api/v1/auth/review", reviewJSON("dave", "赵六", number, docConsent, goodFiles()), bearerH(testAPIKey)...)
	wantErrorCode(t, w, 403, "USER_LOCKED")
	ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || ra < 23*3600 || ra > 24*3600+1 {
		t.Fatalf("USER_LOCKED Retry-After %q, want about 24 h", w.Header().Get("Retry-After"))
	}
	// init is locked too.
	w = call(s, "POST", "/api/v1/auth/init", `{"user_id":"dave","real_name":"赵六","id_card_number":"`+number+`","consent":`+consentJSON()+`}`, bearerH(testAPIKey)...)
	wantErrorCode(t, w, 403, "USER_LOCKED")
	if w.Header().Get("Retry-After") == "" {
		t.Fatal("init's USER_LOCKED without Retry-After")
	}

	wantErrorCode(t, call(s, "POST", "/api/v1/admin/users/dave/unlock", `{}`, asAdmin()...), 400, "REASON_REQUIRED")
	wantErrorCode(t, call(s, "POST", "/api/v1/admin/users/a%20b/unlock", `{"reason":"called"}`, asAdmin()...), 400, "INVALID_REQUEST")
	wantOK(t, call(s, "POST", "/api/v1/admin/users/dave/unlock", `{"reason":"用户来电核实身份"}`, asAdmin()...))
	submit(t, s, "dave", "赵六", number)
}

// accessJSON is an access record of an export.
type accessJSON struct {
	At        string   `json:"at"`
	ActorKind string   `json:"actor_kind"`
	Actor     string   `json:"actor"`
	Action    string   `json:"action"`
	Fields    []string `json:"fields"`
	Masked    bool     `json:"masked"`
	Reason    string   `json:"reason"`
}

type dataJSON struct {
	Data struct {
		UserID     string `json:"user_id"`
		Identities []struct {
			Name     string `json:"name"`
			IDNumber string `json:"id_number"`
			Erased   bool   `json:"erased"`
		} `json:"identities"`
		Verifications []struct {
			CertifyID string `json:"certify_id"`
			Status    string `json:"status"`
		} `json:"verifications"`
		Access []accessJSON `json:"access_records"`
	} `json:"data"`
}

// hasAccess reports whether recs has the access; reason "*" matches any
// non-empty reason.
func hasAccess(recs []accessJSON, kind, actor, action, reason string) bool {
	for _, a := range recs {
		if a.ActorKind == kind && a.Actor == actor && a.Action == action && a.At != "" &&
			(a.Reason == reason || reason == "*" && a.Reason != "") {
			return true
		}
	}
	return false
}

// TestMyData: the person's export with a user token: decrypted identity,
// the export itself and an operator's earlier view among the access
// records. Not with an API key; an operator's export needs a reason.
func TestMyData(t *testing.T) {
	s := adminServer(t)
	number := adultNumber(51)
	id := submit(t, s, "erin", "孙七", number)
	wantOK(t, call(s, "GET", "/api/v1/admin/reviews/"+id, "", asAdmin("X-Access-Reason", "核对证件")...))

	// The platform mints the token with its API key (the bootstrap key,
	// whose id is "env"); the export's record names that key.
	w := call(s, "POST", "/api/v1/auth/token", `{"user_id":"erin"}`, bearerH(testAPIKey)...)
	wantOK(t, w)
	var minted struct {
		Token string `json:"token"`
	}
	decodeBody(t, w, &minted)
	w = call(s, "GET", "/api/v1/auth/me/data", "", bearerH(minted.Token)...)
	wantOK(t, w)
	var d dataJSON
	decodeBody(t, w, &d)
	if d.Data.UserID != "erin" || len(d.Data.Identities) != 1 || d.Data.Identities[0].Name != "孙七" || d.Data.Identities[0].IDNumber != number {
		t.Fatalf("export identities: %s", w.Body)
	}
	if len(d.Data.Verifications) != 1 || d.Data.Verifications[0].CertifyID != id {
		t.Fatalf("export verifications: %s", w.Body)
	}
	if !hasAccess(d.Data.Access, realname.ActorPerson, "erin", "data.export",
		"the person's own request (PIPL Art. 45); user token minted by API key env") {
		t.Errorf("the export does not list itself with the key that minted the token: %s", w.Body)
	}
	if !hasAccess(d.Data.Access, realname.ActorOperator, "ops-li", "review.view", "核对证件") {
		t.Errorf("the export does not list the operator's view: %s", w.Body)
	}
	if strings.Contains(w.Body.String(), `"ActorKind"`) {
		t.Errorf("access records not in snake_case: %s", w.Body)
	}

	for _, p := range []struct{ method, path string }{
		{"GET", "/api/v1/auth/me/data"}, {"GET", "/api/v1/auth/me/consents"},
		{"POST", "/api/v1/auth/me/consents/withdraw"}, {"DELETE", "/api/v1/auth/me"},
	} {
		wantErrorCode(t, call(s, p.method, p.path, "", bearerH(testAPIKey)...), 403, "USER_TOKEN_REQUIRED")
		wantErrorCode(t, call(s, p.method, p.path, ""), 401, "UNAUTHORIZED")
	}

	wantErrorCode(t, call(s, "GET", "/api/v1/admin/users/erin/data", "", asAdmin()...), 400, "REASON_REQUIRED")
	w = call(s, "GET", "/api/v1/admin/users/erin/data", "", asAdmin("X-Access-Reason", "监管调取")...)
	wantOK(t, w)
	decodeBody(t, w, &d)
	if d.Data.Identities[0].Name != "孙七" || !hasAccess(d.Data.Access, realname.ActorOperator, "ops-li", "data.export", "监管调取") {
		t.Fatalf("operator's export: %s", w.Body)
	}
}

// TestMyErase: DELETE /me erases the user's identities; the export then
// shows none and /status answers USER_NOT_FOUND.
func TestMyErase(t *testing.T) {
	s := adminServer(t)
	id := submit(t, s, "frank", "周八", adultNumber(61))
	wantOK(t, call(s, "POST", "/api/v1/admin/reviews/"+id+"/approve", `{"reason":"一致"}`, asAdmin()...))
	wantOK(t, call(s, "GET", "/api/v1/auth/status/frank", "", bearerH(testAPIKey)...))

	w := call(s, "DELETE", "/api/v1/auth/me", "", asUser(s, "frank")...)
	wantOK(t, w)
	var e struct {
		Erasure struct {
			UserID        string `json:"user_id"`
			Pseudonym     string `json:"pseudonym"`
			PersonsErased int    `json:"persons_erased"`
		}
	}
	decodeBody(t, w, &e)
	if e.Erasure.UserID != "frank" || e.Erasure.PersonsErased != 1 || e.Erasure.Pseudonym == "" {
		t.Fatalf("erasure: %s", w.Body)
	}
	w = call(s, "GET", "/api/v1/auth/me/data", "", asUser(s, "frank")...)
	wantOK(t, w)
	if strings.Contains(w.Body.String(), "周八") || strings.Contains(w.Body.String(), adultNumber(61)) {
		t.Fatalf("export after erasure still holds the identity: %s", w.Body)
	}
	var d dataJSON
	decodeBody(t, w, &d)
	for _, id := range d.Data.Identities {
		if id.Name != "" || id.IDNumber != "" {
			t.Fatalf("identity after erasure: %s", w.Body)
		}
	}
	wantErrorCode(t, call(s, "GET", "/api/v1/auth/status/frank", "", bearerH(testAPIKey)...), 404, "USER_NOT_FOUND")
}

// TestWithdrawConsent: withdrawal marks the consents withdrawn, cancels
// the open review and erases as DELETE /me does. The sessions (with their
// withdrawn consents) are kept under the erasure's pseudonym, so the
// user's own list no longer shows an unwithdrawn consent.
func TestWithdrawConsent(t *testing.T) {
	s := adminServer(t)
	submit(t, s, "gina", "吴九", adultNumber(71))
	w := call(s, "GET", "/api/v1/auth/me/consents", "", asUser(s, "gina")...)
	wantOK(t, w)
	if strings.Contains(w.Body.String(), "withdrawn_at") || !strings.Contains(w.Body.String(), `"scopes":["id_number","documents"]`) {
		t.Fatalf("consents before withdrawal: %s", w.Body)
	}
	w = call(s, "POST", "/api/v1/auth/me/consents/withdraw", "", asUser(s, "gina")...)
	wantOK(t, w)
	var e struct {
		Erasure struct {
			ConsentsWithdrawn int `json:"consents_withdrawn"`
			SessionsCancelled int `json:"sessions_cancelled"`
			PersonsErased     int `json:"persons_erased"`
		}
	}
	decodeBody(t, w, &e)
	if e.Erasure.ConsentsWithdrawn != 1 || e.Erasure.SessionsCancelled != 1 || e.Erasure.PersonsErased != 1 {
		t.Fatalf("withdraw: %s", w.Body)
	}
	w = call(s, "GET", "/api/v1/auth/me/consents", "", asUser(s, "gina")...)
	wantOK(t, w)
	var c struct {
		Consents []struct {
			Consent struct {
				WithdrawnAt string `json:"withdrawn_at"`
			} `json:"consent"`
		} `json:"consents"`
	}
	decodeBody(t, w, &c)
	for _, r := range c.Consents {
		if r.Consent.WithdrawnAt == "" {
			t.Fatalf("a consent not withdrawn after withdrawal: %s", w.Body)
		}
	}
	w = call(s, "GET", "/api/v1/auth/me/data", "", asUser(s, "gina")...)
	if strings.Contains(w.Body.String(), "吴九") {
		t.Fatalf("data after withdrawal: %s", w.Body)
	}
}

// TestAdminErase: an operator's erasure needs a reason.
func TestAdminErase(t *testing.T) {
	s := adminServer(t)
	submit(t, s, "hank", "郑十", adultNumber(81))
	wantErrorCode(t, call(s, "DELETE", "/api/v1/admin/users/hank", `{}`, asAdmin()...), 400, "REASON_REQUIRED")
	w := call(s, "DELETE", "/api/v1/admin/users/hank", `{"reason":"用户书面申请删除"}`, asAdmin()...)
	wantOK(t, w)
	if !strings.Contains(w.Body.String(), `"persons_erased":1`) {
		t.Fatalf("admin erase: %s", w.Body)
	}
	w = call(s, "GET", "/api/v1/admin/users/hank/data", "", asAdmin("X-Access-Reason", "核实删除")...)
	wantOK(t, w)
	if strings.Contains(w.Body.String(), "郑十") {
		t.Fatalf("data after erasure: %s", w.Body)
	}
}
