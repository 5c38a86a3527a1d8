package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/realname/realname/internal/realname"
)

// The bad inputs a client can send to each route of routes(), with the
// exact status and code, the JSON error envelope and the security headers.
// Cases already covered by internal/app's TestBadInputAnswers over real
// HTTP (init's empty body, cut-off JSON, user_id as a number, the unknown
// field userId, {}{}, a form body, 70 KiB; query's "../../etc"; status of
// "a b"; a bad face picture; callback without token or unknown; GET
// /api/v1/nothing) are not repeated here.

const testAPIKey = "rk_test_0123456789abcdefghijkl" // testServerWith's REALNAME_API_KEY

// Credentials of a bad-input case.
const (
	credNone     = ""
	credKey      = "key"       // the API key
	credAlice    = "alice"     // a user token for alice
	credBadKey   = "bad-key"   // an unknown API key
	credBadToken = "bad-token" // a forged user token
	credLongKey  = "long-key"  // a 300-character "API key"
	credBasic    = "basic"     // Authorization: Basic …
)

func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

func consentJSON() string {
	return `{"notice_version":"2026-11-01","accepted_at":"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `","scopes":["id_number","face"]}`
}

type badInput struct {
	name, method, path, body, ctype, cred string
	status                                int
	code                                  string
}

func badInputCases() []badInput {
	long := strings.Repeat("a", 129) // user ids are 1–128 characters
	person := `"real_name":"张三","id_card_number":"11010519491231002X","consent":` + consentJSON()
	js := "application/json"
	const (
		initP   = "/api/v1/auth/init"
		queryP  = "/api/v1/auth/query"
		verifyP = "/api/v1/auth/verify"
		tokenP  = "/api/v1/auth/token"
		cbP     = "/api/v1/auth/callback"
	)
	return []badInput{
		// init
		{"init: trailing comma", "POST", initP, `{"user_id":"u1",}`, js, credKey, 400, "INVALID_JSON"},
		{"init: trailing garbage", "POST", initP, `{"user_id":"u1"} x`, js, credKey, 400, "INVALID_JSON"},
		{"init: an array", "POST", initP, `[]`, js, credKey, 400, "INVALID_JSON"},
		{"init: a string", "POST", initP, `"u1"`, js, credKey, 400, "INVALID_JSON"},
		{"init: null", "POST", initP, `null`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: unknown field in consent", "POST", initP, `{"user_id":"u1","consent":{"notice_version":"1","extra":1}}`, js, credKey, 400, "INVALID_JSON"},
		{"init: consent a string", "POST", initP, `{"user_id":"u1","consent":"yes"}`, js, credKey, 400, "INVALID_JSON"},
		{"init: restart a string", "POST", initP, `{"user_id":"u1","restart":"true"}`, js, credKey, 400, "INVALID_JSON"},
		{"init: scopes a string", "POST", initP, `{"user_id":"u1","consent":{"scopes":"face"}}`, js, credKey, 400, "INVALID_JSON"},
		{"init: malformed Content-Type", "POST", initP, `{}`, "application/", credKey, 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"init: text/plain", "POST", initP, `{}`, "text/plain", credKey, 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"init: nested 33 deep", "POST", initP, `{"consent":{"scopes":` + nested(31) + `}}`, js, credKey, 400, "INVALID_JSON"},
		{"init: nested 100000 deep", "POST", initP, nested(30000), js, credKey, 400, "INVALID_JSON"},
		{"init: brackets in a string are no nesting", "POST", initP, `{"user_id":"` + nested(40) + `"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: empty object", "POST", initP, `{}`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: empty user_id", "POST", initP, `{"user_id":"",` + person + `}`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: user_id too long", "POST", initP, `{"user_id":"` + long + `",` + person + `}`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: user_id with a space", "POST", initP, `{"user_id":"a b",` + person + `}`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: no name", "POST", initP, `{"user_id":"u1","id_card_number":"11010519491231002X","consent":` + consentJSON() + `}`, js, credKey, 400, "INVALID_NAME"},
		{"init: no ID number", "POST", initP, `{"user_id":"u1","real_name":"张三","consent":` + consentJSON() + `}`, js, credKey, 400, "INVALID_ID_NUMBER"},
		{"init: consent without scopes", "POST", initP, `{"user_id":"u1","real_name":"张三","id_card_number":"11010519491231002X","consent":{"notice_version":"2026-11-01","accepted_at":"2026-11-23T08:00:00Z"}}`, js, credKey, 400, "CONSENT_REQUIRED"},
		{"init: unknown cert_type", "POST", initP, `{"user_id":"u1","cert_type":"LIBRARY_CARD",` + person + `}`, js, credKey, 400, "INVALID_CERT_TYPE"},
		{"init: relative return_url", "POST", initP, `{"user_id":"u1","return_url":"/back",` + person + `}`, js, credKey, 400, "INVALID_REQUEST"},
		{"init: token for another user", "POST", initP, `{"user_id":"bob",` + person + `}`, js, credAlice, 403, "FORBIDDEN"},
		{"init: token, no user_id", "POST", initP, `{}`, js, credAlice, 403, "FORBIDDEN"},
		{"init: forged token", "POST", initP, `{}`, js, credBadToken, 401, "INVALID_TOKEN"},
		{"init: Basic credentials", "POST", initP, `{}`, js, credBasic, 401, "UNAUTHORIZED"},
		{"init: over-long key", "POST", initP, `{}`, js, credLongKey, 401, "INVALID_API_KEY"},

		// query
		{"query: malformed", "POST", queryP, `{certify_id:1}`, js, credKey, 400, "INVALID_JSON"},
		{"query: trailing object", "POST", queryP, `{"certify_id":"x"}{}`, js, credKey, 400, "INVALID_JSON"},
		{"query: unknown field", "POST", queryP, `{"certifyId":"vf000000000000000000000000000000"}`, js, credKey, 400, "INVALID_JSON"},
		{"query: certify_id a number", "POST", queryP, `{"certify_id":1}`, js, credKey, 400, "INVALID_JSON"},
		{"query: empty body", "POST", queryP, ``, js, credKey, 400, "INVALID_JSON"},
		{"query: nested too deep", "POST", queryP, `{"certify_id":` + nested(40) + `}`, js, credKey, 400, "INVALID_JSON"},
		{"query: over 64 KiB", "POST", queryP, `{"certify_id":"` + strings.Repeat("a", 65<<10) + `"}`, js, credKey, 413, "BODY_TOO_LARGE"},
		{"query: form body", "POST", queryP, `certify_id=x`, "application/x-www-form-urlencoded", credKey, 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"query: no certify_id", "POST", queryP, `{}`, js, credKey, 400, "INVALID_REQUEST"},
		{"query: certify_id too long", "POST", queryP, `{"certify_id":"vf` + strings.Repeat("0", 300) + `"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"query: certify_id upper case", "POST", queryP, `{"certify_id":"VF000000000000000000000000000000"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"query: certify_id not hex", "POST", queryP, `{"certify_id":"vf00000000000000000000000000000z"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"query: token, unknown certify_id", "POST", queryP, `{"certify_id":"vf000000000000000000000000000000"}`, js, credAlice, 404, "NOT_FOUND"},
		{"query: no credentials", "POST", queryP, `{}`, js, credNone, 401, "UNAUTHORIZED"},
		{"query: unknown key", "POST", queryP, `{}`, js, credBadKey, 401, "INVALID_API_KEY"},

		// verify
		{"verify: malformed", "POST", verifyP, `{"user_id":'u1'}`, js, credKey, 400, "INVALID_JSON"},
		{"verify: trailing data", "POST", verifyP, `{"user_id":"u1"}]`, js, credKey, 400, "INVALID_JSON"},
		{"verify: unknown field", "POST", verifyP, `{"user_id":"u1","face":"x"}`, js, credKey, 400, "INVALID_JSON"},
		{"verify: face_image a number", "POST", verifyP, `{"user_id":"u1","face_image":5}`, js, credKey, 400, "INVALID_JSON"},
		{"verify: nested too deep", "POST", verifyP, `{"face_image":` + nested(33) + `}`, js, credKey, 400, "INVALID_JSON"},
		{"verify: over 8 MiB", "POST", verifyP, `{"user_id":"u1","face_image":"` + strings.Repeat("A", 8<<20) + `"}`, js, credKey, 413, "BODY_TOO_LARGE"},
		{"verify: picture over 5 MiB", "POST", verifyP, `{"user_id":"u1","face_image":"` + strings.Repeat("A", 7<<20) + `"}`, js, credKey, 413, "FACE_IMAGE_TOO_LARGE"},
		{"verify: empty data URL", "POST", verifyP, `{"user_id":"u1","face_image":"data:image/jpeg;base64,"}`, js, credKey, 400, "INVALID_FACE_IMAGE"},
		{"verify: text/plain", "POST", verifyP, `{"user_id":"u1"}`, "text/plain", credKey, 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"verify: no user_id", "POST", verifyP, `{}`, js, credKey, 400, "INVALID_REQUEST"},
		{"verify: user_id too long", "POST", verifyP, `{"user_id":"` + long + `"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"verify: token for another user", "POST", verifyP, `{"user_id":"bob"}`, js, credAlice, 403, "FORBIDDEN"},
		{"verify: no credentials", "POST", verifyP, `{"user_id":"u1"}`, js, credNone, 401, "UNAUTHORIZED"},
		{"verify: forged token", "POST", verifyP, `{"user_id":"alice"}`, js, credBadToken, 401, "INVALID_TOKEN"},

		// status
		{"status: user_id too long", "GET", "/api/v1/auth/status/" + long, ``, "", credKey, 400, "INVALID_REQUEST"},
		{"status: user_id with a slash", "GET", "/api/v1/auth/status/a%2Fb", ``, "", credKey, 400, "INVALID_REQUEST"},
		{"status: no user_id", "GET", "/api/v1/auth/status/", ``, "", credKey, 404, "NOT_FOUND"},
		{"status: extra segment", "GET", "/api/v1/auth/status/a/b", ``, "", credKey, 404, "NOT_FOUND"},
		{"status: token for another user", "GET", "/api/v1/auth/status/bob", ``, "", credAlice, 403, "FORBIDDEN"},
		{"status: token, user_id too long", "GET", "/api/v1/auth/status/" + long, ``, "", credAlice, 403, "FORBIDDEN"},
		{"status: no credentials", "GET", "/api/v1/auth/status/alice", ``, "", credNone, 401, "UNAUTHORIZED"},
		{"status: unknown key", "GET", "/api/v1/auth/status/alice", ``, "", credBadKey, 401, "INVALID_API_KEY"},
		{"status: forged token", "GET", "/api/v1/auth/status/alice", ``, "", credBadToken, 401, "INVALID_TOKEN"},

		// token
		{"token: malformed", "POST", tokenP, `{"user_id"}`, js, credKey, 400, "INVALID_JSON"},
		{"token: trailing data", "POST", tokenP, `{"user_id":"u1"}"x"`, js, credKey, 400, "INVALID_JSON"},
		{"token: unknown field", "POST", tokenP, `{"user_id":"u1","ttl":3600}`, js, credKey, 400, "INVALID_JSON"},
		{"token: user_id a list", "POST", tokenP, `{"user_id":["u1"]}`, js, credKey, 400, "INVALID_JSON"},
		{"token: nested too deep", "POST", tokenP, `{"user_id":` + nested(64) + `}`, js, credKey, 400, "INVALID_JSON"},
		{"token: over 64 KiB", "POST", tokenP, `{"user_id":"` + strings.Repeat("a", 65<<10) + `"}`, js, credKey, 413, "BODY_TOO_LARGE"},
		{"token: text/plain", "POST", tokenP, `{"user_id":"u1"}`, "text/plain; charset=utf-8", credKey, 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"token: no user_id", "POST", tokenP, `{}`, js, credKey, 400, "INVALID_REQUEST"},
		{"token: user_id too long", "POST", tokenP, `{"user_id":"` + long + `"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"token: user_id with a space", "POST", tokenP, `{"user_id":"a b"}`, js, credKey, 400, "INVALID_REQUEST"},
		{"token: with a user token", "POST", tokenP, `{"user_id":"alice"}`, js, credAlice, 403, "API_KEY_REQUIRED"},
		{"token: no credentials", "POST", tokenP, `{"user_id":"u1"}`, js, credNone, 401, "UNAUTHORIZED"},
		{"token: unknown key", "POST", tokenP, `{"user_id":"u1"}`, js, credBadKey, 401, "INVALID_API_KEY"},
		{"token: forged token", "POST", tokenP, `{"user_id":"u1"}`, js, credBadToken, 401, "INVALID_TOKEN"},

		// callback
		{"callback: no certifyId", "GET", cbP + "?callbackToken=t&passed=200", ``, "", credNone, 400, "INVALID_CALLBACK"},
		{"callback: nothing", "GET", cbP, ``, "", credNone, 400, "INVALID_CALLBACK"},
		{"callback: bad escape", "GET", cbP + "?certifyId=%zz&callbackToken=t", ``, "", credNone, 400, "INVALID_CALLBACK"},
		{"callback: certifyId too long", "GET", cbP + "?certifyId=" + strings.Repeat("r", 300) + "&callbackToken=t", ``, "", credNone, 400, "INVALID_CALLBACK"},
		{"callback: token too long", "GET", cbP + "?certifyId=ref&callbackToken=" + strings.Repeat("t", 300), ``, "", credNone, 400, "INVALID_CALLBACK"},
		{"callback: passed too long", "GET", cbP + "?certifyId=ref&callbackToken=t&passed=" + strings.Repeat("2", 300), ``, "", credNone, 400, "INVALID_CALLBACK"},
		{"callback POST: empty form", "POST", cbP, ``, "application/x-www-form-urlencoded", credNone, 400, "INVALID_CALLBACK"},
		{"callback POST: no token", "POST", cbP, `certifyId=ref&passed=200`, "application/x-www-form-urlencoded", credNone, 400, "INVALID_CALLBACK"},
		{"callback POST: bad escape", "POST", cbP, `certifyId=%zz&callbackToken=t`, "application/x-www-form-urlencoded", credNone, 400, "INVALID_CALLBACK"},
		{"callback POST: JSON is not read", "POST", cbP, `{"certifyId":"ref","callbackToken":"t"}`, js, credNone, 400, "INVALID_CALLBACK"},
		{"callback POST: over 16 KiB", "POST", cbP, `certifyId=ref&callbackToken=` + strings.Repeat("t", 17<<10), "application/x-www-form-urlencoded", credNone, 413, "BODY_TOO_LARGE"},
		{"callback POST: unknown certifyId", "POST", cbP, `certifyId=ref-nothing&callbackToken=t&passed=200`, "application/x-www-form-urlencoded", credNone, 404, "NOT_FOUND"},

		// supported_documents, unknown routes and wrong methods
		{"documents: POST", "POST", "/api/v1/auth/supported_documents", `{}`, js, credNone, 404, "NOT_FOUND"},
		{"init: GET", "GET", initP, ``, "", credKey, 404, "NOT_FOUND"},
		{"init: PUT", "PUT", initP, `{}`, js, credKey, 404, "NOT_FOUND"},
		{"query: GET", "GET", queryP + "?certify_id=vf000000000000000000000000000000", ``, "", credKey, 404, "NOT_FOUND"},
		{"verify: GET", "GET", verifyP, ``, "", credKey, 404, "NOT_FOUND"},
		{"status: POST", "POST", "/api/v1/auth/status/alice", `{}`, js, credKey, 404, "NOT_FOUND"},
		{"status: DELETE", "DELETE", "/api/v1/auth/status/alice", ``, "", credKey, 404, "NOT_FOUND"},
		{"token: GET", "GET", tokenP, ``, "", credKey, 404, "NOT_FOUND"},
		{"callback: PUT", "PUT", cbP + "?certifyId=ref&callbackToken=t", ``, "", credNone, 404, "NOT_FOUND"},
		{"callback: DELETE", "DELETE", cbP, ``, "", credNone, 404, "NOT_FOUND"},
		{"unknown: /api/", "GET", "/api/", ``, "", credNone, 404, "NOT_FOUND"},
		{"unknown: another version", "POST", "/api/v2/auth/init", `{}`, js, credKey, 404, "NOT_FOUND"},
		{"unknown: trailing slash", "POST", initP + "/", `{}`, js, credKey, 404, "NOT_FOUND"},
		{"unknown: PATCH", "PATCH", "/api/v1/auth/anything", `{}`, js, credKey, 404, "NOT_FOUND"},
		{"OPTIONS without preflight", "OPTIONS", initP, ``, "", credNone, 404, "NOT_FOUND"},
	}
}

func TestBadInputAnswers(t *testing.T) {
	s := testServer(t)
	alice, _ := s.tokens.Mint("env", "alice")
	creds := map[string]string{
		credKey: "Bearer " + testAPIKey, credAlice: "Bearer " + alice, credBadKey: "Bearer rk_unknown_0123456789abcdefgh",
		credBadToken: "Bearer " + alice[:len(alice)-2] + "xx", credLongKey: "Bearer rk_" + strings.Repeat("k", 300),
		credBasic: "Basic dTE6cGFzc3dvcmQ=",
	}
	for _, tc := range badInputCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			if tc.cred != credNone {
				r.Header.Set("Authorization", creds[tc.cred])
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			wantErrorCode(t, w, tc.status, tc.code)
			wantSecurityHeaders(t, w)
		})
	}
}

// TestBadCallbackToken: a callback naming a real session with a wrong
// token, or with the right one sent twice, never finishes it.
func TestBadCallbackToken(t *testing.T) {
	s := testServer(t)
	r := httptest.NewRequest("POST", "/api/v1/auth/init", strings.NewReader(
		`{"user_id":"alice","real_name":"张三","id_card_number":"11010519491231002X","consent":`+consentJSON()+`}`))
	r.Header.Set("Authorization", "Bearer "+testAPIKey)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var started struct {
		CertifyID string `json:"certify_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &started); w.Code != 200 || err != nil {
		t.Fatalf("init: %d %s", w.Code, w.Body)
	}
	v, err := s.svc.Verification(context.Background(), started.CertifyID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, method, token string }{
		{"GET wrong token", "GET", "not-the-token"},
		{"POST wrong token", "POST", "not-the-token"},
		{"GET empty token", "GET", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"certifyId": {v.ProviderRef}, "callbackToken": {tc.token}, "passed": {"200"}}.Encode()
			var r = httptest.NewRequest("GET", "/api/v1/auth/callback?"+q, nil)
			if tc.method == "POST" {
				r = httptest.NewRequest("POST", "/api/v1/auth/callback", strings.NewReader(q))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			want, code := 401, "INVALID_CALLBACK"
			if tc.token == "" {
				want = 400
			}
			wantErrorCode(t, w, want, code)
			wantSecurityHeaders(t, w)
		})
	}
	after, err := s.svc.Verification(context.Background(), started.CertifyID)
	if err != nil || after.Status != v.Status {
		t.Fatalf("status %q → %q (%v): a bad callback changed the session", v.Status, after.Status, err)
	}
}

// TestJSONDepthBound: decodeJSON accepts maxJSONDepth levels and refuses
// one more, counting only brackets outside strings, across any read sizes.
func TestJSONDepthBound(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		tooDeep    bool
	}{
		{"32 levels", `{"consent":{"scopes":` + nested(30) + `}}`, false},
		{"33 levels", `{"consent":{"scopes":` + nested(31) + `}}`, true},
		{"brackets in strings", `{"user_id":"[[[[{{{{` + strings.Repeat("[", 100) + `"}`, false},
		{"escaped quote keeps the string open", `{"user_id":"\"` + strings.Repeat("[", 100) + `"}`, false},
		{"escaped backslash closes it", `{"user_id":"\\","real_name":` + nested(40) + `}`, true},
		{"closing brackets free levels", `{"consent":{"scopes":` + strings.Repeat(nested(30), 50) + `}}`, false},
	} {
		for _, oneByte := range []bool{false, true} {
			name := tc.name
			if oneByte {
				name += ", one byte a read"
			}
			t.Run(name, func(t *testing.T) {
				var body io.Reader = strings.NewReader(tc.body)
				if oneByte {
					body = iotest.OneByteReader(body)
				}
				r := httptest.NewRequest("POST", "/api/v1/auth/init", body)
				var b initBody
				err := decodeJSON(httptest.NewRecorder(), r, smallBody, &b)
				if got := err != nil && strings.Contains(err.Error(), "deeper than 32"); got != tc.tooDeep {
					t.Fatalf("oneByte=%v: %v, want too deep: %v", oneByte, err, tc.tooDeep)
				}
				if err != nil && realname.KindOf(err) != realname.KindInvalid {
					t.Fatalf("kind %v", realname.KindOf(err))
				}
			})
		}
	}
}
