package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
)

// sdkModule is the ES module the classic build is derived from.
const sdkModule = "sdk/realname.js"

// GlobalSDK derives the classic-script build of the SDK from the ES module
// src: the module's body inside an IIFE, `import.meta.url` replaced by the
// script's own address (document.currentScript.src, captured while the
// script runs) and `export default RealnameAuth;` replaced by
// `window.RealnameAuth = RealnameAuth;`. It fails if src has another export,
// an import, or not exactly one default export, so a change of the module
// that the transform cannot follow is caught by the tests and not in a
// browser.
func GlobalSDK(src string) (string, error) {
	const export = "export default RealnameAuth;"
	if n := strings.Count(src, export); n != 1 {
		return "", fmt.Errorf("web: the SDK module needs exactly one %q line, has %d", export, n)
	}
	for _, line := range strings.Split(strings.Replace(src, export, "", 1), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "export ") || strings.HasPrefix(l, "import ") || strings.HasPrefix(l, "import{") {
			return "", fmt.Errorf("web: the SDK module has a line the classic build cannot carry: %q", l)
		}
	}
	body := strings.Replace(src, export, "window.RealnameAuth = RealnameAuth;", 1)
	body = strings.ReplaceAll(body, "import.meta.url", "__realnameScriptURL")
	if strings.Contains(body, "import.meta") || strings.Contains(body, "import(") {
		return "", fmt.Errorf("web: the SDK module uses import.meta or import() beyond import.meta.url")
	}
	var b strings.Builder
	b.WriteString("// realname.global.js — generated at run time from /sdk/realname.js by web.GlobalSDK; do not edit.\n")
	b.WriteString("// A classic script: it defines the global RealnameAuth. Load it with <script src=\".../sdk/realname.global.js\">.\n")
	b.WriteString("(function () {\n'use strict';\n")
	b.WriteString("var __realnameScriptURL = (document.currentScript && document.currentScript.src) || new URL('/sdk/realname.global.js', location.href).href;\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("})();\n")
	return b.String(), nil
}

var global struct {
	once sync.Once
	js   []byte
	err  error
}

func globalSDK() ([]byte, error) {
	global.once.Do(func() {
		src, err := fs.ReadFile(files, sdkModule)
		if err != nil {
			global.err = err
			return
		}
		js, err := GlobalSDK(string(src))
		global.js, global.err = []byte(js), err
	})
	return global.js, global.err
}

// SDKGlobalHandler serves the classic-script build of the SDK (mount it at
// GET /sdk/realname.global.js), with the same headers as Handler.
func SDKGlobalHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		h := w.Header()
		js, err := globalSDK()
		if err != nil {
			http.Error(w, "the SDK build failed", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(js)
	})
}
