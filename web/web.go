// Package web holds what realname serves to browsers, embedded in the
// binary (no separate web server, no CDN, works offline): the JavaScript
// SDK under /sdk/ and the platform demo under /demo/. The sandbox's hosted
// page belongs to the simulator (internal/provider/cloudauthsim).
//
// Every answer carries a strict Content-Security-Policy: scripts, styles and
// requests only from this origin, no inline scripts, and no framing.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed sdk demo
var files embed.FS

// FS is the embedded tree (sdk/…, demo/…), for tests and tools.
func FS() fs.FS { return files }

// csp is the policy of every page and script served from here. frame-src
// 'self' lets the SDK's overlay frame the sandbox page of this origin; a
// real provider's page opens by redirect (see docs/sdk.md).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the embedded files at /sdk/… and /demo/… ("/demo/" is
// demo/index.html).
func Handler() http.Handler {
	files := http.FileServer(http.FS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if guard(w, r) {
			files.ServeHTTP(w, r)
		}
	})
}

// guard sets the headers of every answer served from here and refuses
// methods other than GET and HEAD; it reports whether to go on.
func guard(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}
