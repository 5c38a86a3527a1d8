package app_test

import (
	"net/http"
	"testing"
)

// TestCORSOriginsWired: REALNAME_CORS_ORIGINS reaches the API, normalised
// as browsers send Origin: a listed origin's preflight and answers carry
// its Allow-Origin, others none.
func TestCORSOriginsWired(t *testing.T) {
	cfg := testConfig(t)
	cfg.CORSOrigins = "https://Letters.Example.CN:443"
	r := start(t, cfg, nil)
	send := func(method, origin string) *http.Response {
		req, err := http.NewRequest(method, r.URL()+"/api/v1/auth/supported_documents", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "GET")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := send("OPTIONS", "https://letters.example.cn"); resp.StatusCode != 204 ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://letters.example.cn" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := send("GET", "https://letters.example.cn"); resp.StatusCode != 200 ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://letters.example.cn" || resp.Header.Get("Vary") != "Origin" {
		t.Fatalf("GET: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := send("OPTIONS", "https://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin's preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
