package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestParallelStartsForOneUserOverHTTP: 50 parallel restarts for one user,
// half with the API key and half with the user's own token, get at most
// 10 (REALNAME_RATE_USER_INIT's default) successful starts; the others get
// 429 RATE_LIMITED with Retry-After, counted in the metric.
func TestParallelStartsForOneUserOverHTTP(t *testing.T) {
	r := start(t, testConfig(t), nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	var tok struct {
		Token string `json:"token"`
	}
	if code := c.call("POST", "/api/v1/auth/token", map[string]any{"user_id": "carol"}, &tok); code != 200 {
		t.Fatalf("token: %d", code)
	}
	body, err := json.Marshal(map[string]any{"user_id": "carol", "real_name": testName, "id_card_number": testNumber,
		"consent": consent(), "restart": true})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 50 {
		cred := r.DevAPIKey()
		if i%2 == 1 {
			cred = tok.Token
		}
		wg.Go(func() {
			req, _ := http.NewRequest("POST", r.URL()+"/api/v1/auth/init", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+cred)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusTooManyRequests {
				ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if err != nil || ra < 1 || !strings.Contains(string(raw), `"code":"RATE_LIMITED"`) || !strings.Contains(string(raw), `"success":false`) {
					t.Errorf("429 answer: Retry-After %q, body %s", resp.Header.Get("Retry-After"), raw)
				}
			}
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] > 10 || codes[429] < 40 || codes[200]+codes[429] != 50 {
		t.Fatalf("answers by status %v: want at most 10 × 200 and the rest 429", codes)
	}
	resp, err := http.Get(r.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	want := `realname_rate_limited_total{rule="user_init"} ` + strconv.Itoa(codes[429])
	if !strings.Contains(string(raw), want) {
		t.Fatalf("metrics lack %q", want)
	}
	// Another user is not affected.
	if code, a := c.init("dave", "李四", numberB); code != 200 {
		t.Fatalf("another user: %d %+v", code, a)
	}
}
