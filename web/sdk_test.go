package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGlobalSDK(t *testing.T) {
	src, err := fs.ReadFile(FS(), sdkModule)
	if err != nil {
		t.Fatal(err)
	}
	js, err := GlobalSDK(string(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"export ", "import.meta", "import "} {
		if strings.Contains(js, bad) {
			t.Errorf("the classic build still contains %q", bad)
		}
	}
	for _, want := range []string{"(function () {", "window.RealnameAuth = RealnameAuth;", "document.currentScript", "})();\n"} {
		if !strings.Contains(js, want) {
			t.Errorf("the classic build lacks %q", want)
		}
	}
	if node, err := exec.LookPath("node"); err == nil {
		f := filepath.Join(t.TempDir(), "realname.global.js")
		if err := writeFile(f, js); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(node, "--check", f).CombinedOutput(); err != nil {
			t.Errorf("node --check: %v\n%s", err, out)
		}
	}
}

func TestGlobalSDKRefuses(t *testing.T) {
	for _, src := range []string{
		"class RealnameAuth {}\n",
		"class RealnameAuth {}\nexport default RealnameAuth;\nexport default RealnameAuth;\n",
		"import x from './x.js';\nclass RealnameAuth {}\nexport default RealnameAuth;\n",
		"export const a = 1;\nclass RealnameAuth {}\nexport default RealnameAuth;\n",
		"const u = import.meta.resolve('x');\nexport default RealnameAuth;\n",
	} {
		if _, err := GlobalSDK(src); err == nil {
			t.Errorf("GlobalSDK(%q) succeeded", src)
		}
	}
}

func TestSDKGlobalHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	SDKGlobalHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/sdk/realname.global.js", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", rec.Header())
	}
	if !strings.Contains(rec.Body.String(), "window.RealnameAuth = RealnameAuth;") {
		t.Errorf("body is not the classic build")
	}
	rec = httptest.NewRecorder()
	SDKGlobalHandler().ServeHTTP(rec, httptest.NewRequest("POST", "/sdk/realname.global.js", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

func writeFile(name, s string) error { return os.WriteFile(name, []byte(s), 0o644) }
