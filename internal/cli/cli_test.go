package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/cli"
)

// lockedBuffer collects output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func env(vars map[string]string) (cli.Env, *lockedBuffer, *lockedBuffer) {
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	return cli.Env{Stdout: out, Stderr: errb, Getenv: func(k string) string { return vars[k] }}, out, errb
}

func run(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	e, out, errb := env(vars)
	code := cli.Run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// serve runs "realname serve" in the background until the test ends and
// returns its base URL and development API key from the banner.
func serve(t *testing.T, dir string) (string, string, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	e, _, errb := env(nil)
	e.Stdout = pw
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, e)
		pw.Close()
	}()
	var base, key string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && (base == "" || key == "") {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "realname listening on "); ok {
			base = strings.Fields(rest)[0]
		}
		if rest, ok := strings.CutPrefix(line, "development API key: "); ok {
			key = rest
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" || key == "" {
		cancel()
		t.Fatalf("no banner; stderr:\n%s", errb.String())
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d:\n%s", code, errb.String())
			}
		})
	}
	t.Cleanup(stop)
	return base, key, stop
}

func call(t *testing.T, method, u, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func verifyUser(t *testing.T, base, key, user, name, number string) {
	t.Helper()
	body := `{"user_id":"` + user + `","real_name":"` + name + `","id_card_number":"` + number + `","consent":{"notice_version":"2026-11-01","accepted_at":"` +
		time.Now().UTC().Format(time.RFC3339) + `","scopes":["id_number","face"]}}`
	code, m := call(t, "POST", base+"/api/v1/auth/init", key, body)
	if code != 200 {
		t.Fatalf("init: %d %v", code, m)
	}
	resp, err := http.PostForm(m["verify_url"].(string)+"/complete", url.Values{"outcome": {"pass"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Poll query, not status: status would decrypt and cache the name.
	q := `{"certify_id":"` + m["certify_id"].(string) + `"}`
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, st := call(t, "POST", base+"/api/v1/auth/query", key, q); code == 200 && st["status"] == "success" {
			return
		}
	}
	t.Fatal("the user was not verified in time")
}

func TestServeAPIKeyAndRotate(t *testing.T) {
	dir := t.TempDir()
	base, devKey, stop := serve(t, dir)
	verifyUser(t, base, devKey, "u1", "张三", "11010519491231002X")
	verifyUser(t, base, devKey, "u0", "李四", "440524188001010014")
	// Rotate while the server runs: it must keep reading re-wrapped keys.
	if code, out, errOut := run(t, nil, "keys", "rotate", "--data", dir); code != 0 || !strings.Contains(out, "re-wrapped 2 of 2") {
		t.Fatalf("keys rotate while serving: %d %q %q", code, out, errOut)
	}
	if code, st := call(t, "GET", base+"/api/v1/auth/status/u0", devKey, ""); code != 200 || st["real_name"] != "李*" {
		t.Fatalf("status after a live rotation: %d %v", code, st)
	}
	stop()

	code, out, errOut := run(t, nil, "apikey", "create", "--name", "letters platform", "--data", dir)
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "rk_") || !strings.Contains(errOut, "only once") {
		t.Fatalf("apikey create: %d %q %q", code, out, errOut)
	}
	db, err := os.ReadFile(filepath.Join(dir, "realname.db"))
	if err != nil || bytes.Contains(db, []byte(key)) {
		t.Fatal("the API key is stored in the clear")
	}

	code, out, errOut = run(t, nil, "keys", "rotate", "--data", dir)
	if code != 0 || !strings.Contains(out, "re-wrapped 2 of 2") {
		t.Fatalf("keys rotate: %d %q %q", code, out, errOut)
	}
	var ring struct {
		Primary string `json:"primary"`
		Keys    []struct {
			ID string `json:"id"`
		} `json:"keys"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "keys", "keyring.json"))
	if err != nil || json.Unmarshal(b, &ring) != nil || len(ring.Keys) != 3 || ring.Primary != ring.Keys[2].ID {
		t.Fatalf("key ring after rotation: %s %v", b, err)
	}

	base, _, _ = serve(t, dir)
	code, st := call(t, "GET", base+"/api/v1/auth/status/u1", key, "")
	if code != 200 || st["status"] != "success" || st["real_name"] != "张*" {
		t.Fatalf("after rotation with the new key: %d %v", code, st)
	}
	if code, _ := call(t, "GET", base+"/api/v1/auth/status/u1", "rk_wrong", ""); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
}

func TestMigrateTwice(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		if code, out, errOut := run(t, nil, "migrate", "--data", dir); code != 0 || !strings.Contains(out, "migrations applied (sqlite)") {
			t.Fatalf("migrate: %d %q %q", code, out, errOut)
		}
	}
}

func TestBadConfigurationListsEveryProblem(t *testing.T) {
	code, _, errOut := run(t, map[string]string{"REALNAME_PROVIDER": "bogus", "REALNAME_SESSION_TTL": "1s"}, "serve", "--addr", "nonsense")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"addr", "provider", "session_ttl"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code, _, errOut := run(t, map[string]string{"REALNAME_PROVIDER": "aliyun"}, "serve"); code != 1 || !strings.Contains(errOut, "ALIYUN_ACCESS_KEY_ID") || !strings.Contains(errOut, "ALIYUN_SCENE_ID") {
		t.Fatalf("aliyun without credentials: %d %s", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := run(t, nil, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, "apikey", "create"); code != 1 || !strings.Contains(errOut, "--name") {
		t.Fatalf("apikey without name: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, "cloudauth-sim"); code != 1 || !strings.Contains(errOut, "ALIYUN_ACCESS_KEY_ID") {
		t.Fatalf("sim without keys: %d %s", code, errOut)
	}
}

func TestCloudauthSimAlone(t *testing.T) {
	e, out, errb := env(map[string]string{"ALIYUN_ACCESS_KEY_ID": "ak", "ALIYUN_ACCESS_KEY_SECRET": "sk-0123456789"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, []string{"cloudauth-sim", "--addr", "127.0.0.1:0"}, e) }()
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rest, ok := strings.CutPrefix(out.String(), "Cloudauth simulator on "); ok {
			base = strings.Fields(rest)[0]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no banner: %s", errb.String())
	}
	// An unsigned request gets Alibaba's error envelope.
	resp, err := http.Get(base + "/?Action=DescribeFaceVerify")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Code, RequestId string }
	_ = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 400 || env.Code == "" || env.RequestId == "" {
		t.Fatalf("unsigned request: %d %+v", resp.StatusCode, env)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
