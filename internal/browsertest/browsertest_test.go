package browsertest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/realname/realname/internal/browsertest"
)

// pages serves the test pages. "/csp" has a policy that forbids inline
// scripts and carries one; the scripts are files so the policy allows them.
func pages() http.Handler {
	mux := http.NewServeMux()
	html := func(body string, csp string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if csp != "" {
				w.Header().Set("Content-Security-Policy", csp)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><html lang=zh><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><title>t</title>" + body))
		}
	}
	js := func(src string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(src))
		}
	}
	mux.HandleFunc("/clean", html(`<h1 id=h>实名认证 clean</h1><input id=in><button id=b>go</button><p id=out></p><script src=/clean.js></script>`,
		"default-src 'self'"))
	mux.HandleFunc("/clean.js", js(`document.getElementById('b').addEventListener('click', () => {
		setTimeout(() => { document.getElementById('out').textContent = 'got ' + document.getElementById('in').value; }, 200);
	});`))
	mux.HandleFunc("/console", html(`<script src=/console.js></script>`, ""))
	mux.HandleFunc("/console.js", js(`console.error('boom', 42);`))
	mux.HandleFunc("/throw", html(`<script src=/throw.js></script>`, ""))
	mux.HandleFunc("/throw.js", js(`throw new Error('kaput');`))
	mux.HandleFunc("/reject", html(`<script src=/reject.js></script>`, ""))
	mux.HandleFunc("/reject.js", js(`Promise.reject(new Error('nobody catches me'));`))
	mux.HandleFunc("/csp", html(`<p>csp</p><script>document.title = 'inline ran';</script>`, "script-src 'self'"))
	mux.HandleFunc("/500", html(`<img src=/broken.png alt="">`, ""))
	mux.HandleFunc("/404", html(`<script src=/missing.js></script><script src=/fetch404.js></script>`, ""))
	mux.HandleFunc("/fetch404.js", js(`fetch('/api-404').then(r => { document.title = 'fetched ' + r.status; });`))
	mux.HandleFunc("/broken.png", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	return mux
}

func TestProblems(t *testing.T) {
	b := browsertest.New(t)
	srv := httptest.NewServer(pages())
	defer srv.Close()

	for _, c := range []struct {
		path, want string
	}{
		{"/console", "console.error: boom 42"},
		{"/throw", "uncaught exception: Uncaught Error: kaput"},
		{"/reject", "nobody catches me"},
		{"/csp", "Content Security Policy"},
		{"/500", "503 from " + srv.URL + "/broken.png"},
		{"/404", "404 from " + srv.URL + "/missing.js (Script)"},
	} {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			p := b.Page(t, browsertest.Desktop)
			p.Navigate(srv.URL + c.path)
			p.Eval(`new Promise(r => setTimeout(r, 100))`, nil) // let late events arrive
			probs := p.Problems()
			found := false
			for _, pr := range probs {
				found = found || strings.Contains(pr, c.want)
			}
			if !found {
				t.Errorf("problems %q, want one containing %q", probs, c.want)
			}
			for _, pr := range probs {
				if strings.Contains(pr, "api-404") {
					t.Errorf("a 404 answer to fetch is a problem: %q", pr)
				}
			}
			p.Expect(`.`)
			if pr := p.Problems(); len(pr) != 0 {
				t.Errorf("after Expect: problems %q", pr)
			}
			p.CheckClean()
		})
	}
}

func TestCleanPage(t *testing.T) {
	b := browsertest.New(t)
	srv := httptest.NewServer(pages())
	defer srv.Close()

	p := b.Page(t, browsertest.Desktop)
	p.Navigate(srv.URL + "/clean")
	p.WaitVisible("#h")
	if got := p.Text("#h"); got != "实名认证 clean" {
		t.Errorf("Text = %q", got)
	}
	p.Type("#in", "abc")
	p.Click("#b")
	p.WaitText("#out", "got abc")
	p.SetValue("#in", "xyz")
	p.Click("#b")
	p.WaitText("#out", "got xyz")
	var v struct {
		Sum   int    `json:"sum"`
		Width int    `json:"width"`
		UA    string `json:"ua"`
	}
	p.Eval(`Promise.resolve({sum: 1 + 2, width: innerWidth, ua: navigator.userAgent})`, &v)
	if v.Sum != 3 || v.Width != 1280 {
		t.Errorf("desktop eval = %+v", v)
	}
	if strings.Contains(v.UA, "Mobile") {
		t.Errorf("desktop UA %q is a phone's", v.UA)
	}
	if pr := p.Problems(); len(pr) != 0 {
		t.Errorf("clean page has problems %q", pr)
	}

	path := p.Screenshot("browsertest-clean")
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", path)
	}
	os.Remove(path)
	p.CheckClean()
}

func TestPhone(t *testing.T) {
	b := browsertest.New(t)
	srv := httptest.NewServer(pages())
	defer srv.Close()

	p := b.Page(t, browsertest.Phone)
	p.Navigate(srv.URL + "/clean")
	var v struct {
		Width  int    `json:"width"`
		UA     string `json:"ua"`
		Touch  bool   `json:"touch"`
		Narrow bool   `json:"narrow"`
	}
	p.Eval(`({width: innerWidth, ua: navigator.userAgent, touch: navigator.maxTouchPoints > 0,
		narrow: matchMedia('(max-width: 768px)').matches})`, &v)
	if v.Width != 360 || !v.Touch || !v.Narrow {
		t.Errorf("phone: %+v, want width 360, touch, narrow", v)
	}
	if !strings.Contains(v.UA, "Mobile") || !strings.Contains(v.UA, "Android") {
		t.Errorf("phone UA %q", v.UA)
	}
	p.CheckClean()
}
