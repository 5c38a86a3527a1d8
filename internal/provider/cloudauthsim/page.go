package cloudauthsim

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed static/sim.css
var simCSS []byte

//go:embed static/sim.js
var simJS []byte

// Content hashes of the embedded assets. The page links them with ?v=hash,
// so an answer to a versioned URL may be cached for good.
var (
	simCSSHash = assetHash(simCSS)
	simJSHash  = assetHash(simJS)
)

func assetHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// pageTemplate is the hosted sandbox page: an H5 liveness page look-alike
// that is always marked as a sandbox. It has no inline script or style, so
// it works under the strict CSP set in setPageHeaders.
//
// Without JavaScript it is one screen: the explanation and the outcome
// form, which POSTs outcome to .../complete. static/sim.js (loaded in the
// head, so that it marks <html class="js"> before the first paint) turns it
// into three steps: 1 准备 (#sim-start), 2 活体检测 (optional camera
// preview, never recorded), 3 完成 (the same form). The element ids are
// listed at the top of static/sim.js; browser tests rely on them.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>【沙箱】{{.Title}} · SANDBOX</title>
<link rel="stylesheet" href="{{.CSS}}">
{{- if .Pending}}
<script src="{{.JS}}"></script>
{{- end}}
</head>
<body>
<header class="sandbox">
<p><strong>沙箱 / SANDBOX</strong> — 不是真实的人脸识别。这是测试用的模拟页面，结果由测试人员选择。</p>
</header>
<main aria-labelledby="sim-title">
<h1 id="sim-title">{{.Title}}</h1>
{{- if .Pending}}
<ol class="progress js-only" aria-label="认证步骤">
<li id="sim-progress-1" aria-current="step"><span class="num" aria-hidden="true">1</span>准备</li>
<li id="sim-progress-2"><span class="num" aria-hidden="true">2</span>活体检测</li>
<li id="sim-progress-3"><span class="num" aria-hidden="true">3</span>完成</li>
</ol>
<section class="step" id="sim-step-1" aria-labelledby="sim-step-1-title">
<h2 id="sim-step-1-title" tabindex="-1">准备</h2>
<p>这是实人认证的沙箱页面，代替阿里云的刷脸页面。沙箱不做真实的人脸比对：测试人员选择一个模拟结果，沙箱像真实服务一样通知业务服务器，然后返回业务页面。</p>
<p class="privacy js-only">摄像头是可选的：画面只在本机预览，不会被录制、截取或上传。没有摄像头也可以继续。</p>
<button type="button" id="sim-start" class="primary js-only">开始认证</button>
</section>
<section class="step js-only" id="sim-step-2" aria-labelledby="sim-step-2-title">
<h2 id="sim-step-2-title" tabindex="-1">活体检测（模拟）</h2>
<div class="frame" id="sim-frame">
<video id="sim-camera" autoplay muted playsinline disablepictureinpicture aria-label="摄像头预览，仅在本机显示，不录制、不上传"></video>
<span class="frame-badge" aria-hidden="true">沙箱 · 不录制</span>
</div>
<p id="sim-camera-status" class="status" role="status" aria-live="polite"></p>
<p class="privacy">沙箱不会录制、截取或上传摄像头画面。</p>
<div class="actions">
<button type="button" id="sim-camera-next" class="primary" disabled>下一步：选择结果</button>
<button type="button" id="sim-skip-camera" class="secondary">跳过摄像头，直接选择结果</button>
</div>
</section>
<form class="step" id="sim-step-3" method="post" action="{{.Action}}" aria-labelledby="sim-step-3-title">
<h2 id="sim-step-3-title" tabindex="-1">选择模拟结果</h2>
<p class="hint">业务服务器会收到所选的结果，和真实服务的通知一样。</p>
<div class="choices">
{{- range .Choices}}
<button type="submit" name="outcome" value="{{.Value}}" class="choice {{.Value}}"><span class="zh">{{.Label}}</span> <span class="en" lang="en">{{.Value}}</span></button>
{{- end}}
</div>
</form>
{{- else}}
<p class="result" role="status">{{.Message}}</p>
{{- end}}
{{- if .ID}}
<p class="meta">认证编号（CertifyId）：<code>{{.ID}}</code></p>
{{- end}}
</main>
</body>
</html>
`))

type choice struct{ Value, Label string }

// choices are the page's buttons, in order.
var choices = []choice{
	{OutcomePass, "通过"},
	{OutcomeFaceMismatch, "人脸不一致"},
	{OutcomeLivenessAttack, "活体攻击"},
	{OutcomeCancel, "取消"},
}

// outcomeText describes a finished or cancelled session.
var outcomeText = map[string]string{
	OutcomePass:           "模拟结果：通过（SubCode 200）。",
	OutcomeFaceMismatch:   "模拟结果：人脸不一致，未通过（SubCode 204）。",
	OutcomeLivenessAttack: "模拟结果：活体攻击，未通过（SubCode 205）。",
	OutcomeCancel:         "认证已取消，业务服务器不会收到通知。",
}

type pageData struct {
	Title, CSS, JS, Action, ID, Message string
	Pending                             bool
	Choices                             []choice
	// FormOrigin is the origin of the session's ReturnUrl, which the form's
	// 303 goes to: Chromium and WebKit check form-action on redirects too.
	FormOrigin string
}

// pageCSP is the page's Content-Security-Policy, with %s the extra
// form-action source (or nothing). The camera preview is a MediaStream set
// as video.srcObject, which CSP does not check; blob: and mediastream: in
// media-src cover browsers that still go through a URL.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob: mediastream:; connect-src 'self'; form-action 'self'%s; " +
	"base-uri 'none'; frame-ancestors 'self'"

// setPageHeaders sets the security headers of every page answer. The page
// may be framed by its own origin only (realname's SDK opens it in a
// same-origin overlay iframe with allow="camera") and may use the camera.
func setPageHeaders(h http.Header) { setPageHeadersFor(h, "") }

// setPageHeadersFor is setPageHeaders with formOrigin ("" or a checked
// "scheme://host[:port]") also allowed as a form target.
func setPageHeadersFor(h http.Header, formOrigin string) {
	extra := ""
	if formOrigin != "" {
		extra = " " + formOrigin
	}
	h.Set("Content-Security-Policy", fmt.Sprintf(pageCSP, extra))
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// originRE is what formOrigin lets into the CSP: nothing that could end a
// source expression or the directive.
var originRE = regexp.MustCompile(`^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// formOrigin returns the origin of a ReturnUrl for the CSP, or "".
func formOrigin(returnURL string) string {
	u, err := url.Parse(returnURL)
	if returnURL == "" || err != nil {
		return ""
	}
	o := strings.ToLower(u.Scheme) + "://" + u.Host
	if !originRE.MatchString(o) {
		return ""
	}
	return o
}

func (s *Simulator) renderPage(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	d.CSS = s.basePath + "/static/sim.css?v=" + simCSSHash
	d.JS = s.basePath + "/static/sim.js?v=" + simJSHash
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "page rendering failed", http.StatusInternalServerError)
		return
	}
	setPageHeadersFor(w.Header(), d.FormOrigin)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// pageFor renders what the page shows for ss now.
func (s *Simulator) pageFor(ss session) (int, pageData) {
	d := pageData{Title: "模拟人脸认证", ID: ss.certifyID}
	switch {
	case ss.state == stateCancelled:
		d.Message = outcomeText[OutcomeCancel]
	case ss.state == stateFinished:
		d.Message = outcomeText[ss.verdict.outcome]
		if d.Message == "" { // ContrastFaceVerify sessions
			d.Message = "认证已结束（SubCode " + ss.verdict.subCode + "）。"
		}
	case ss.expired(s.now()):
		return http.StatusGone, pageData{Title: "认证已过期", ID: ss.certifyID,
			Message: "该认证会话已超过有效期，请返回业务页面重新发起认证。"}
	default:
		d.Pending = true
		d.Action = s.basePath + "/verify/" + ss.certifyID + "/complete"
		d.Choices = choices
		d.FormOrigin = formOrigin(ss.returnURL)
	}
	return http.StatusOK, d
}

func notFoundPage() pageData {
	return pageData{Title: "未找到认证", Message: "没有找到这个认证会话，请返回业务页面重新发起认证。"}
}

// servePage is GET /verify/{id}.
func (s *Simulator) servePage(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ss, ok := session{}, false
	if isCertifyID(id) {
		ss, ok = s.sessions.get(id)
	}
	if !ok {
		s.renderPage(w, r, http.StatusNotFound, notFoundPage())
		return
	}
	status, d := s.pageFor(ss)
	s.renderPage(w, r, status, d)
}

// wantsJSON reports whether the Accept header lists application/json.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// completeAnswer is the JSON answer of POST .../complete.
type completeAnswer struct {
	CertifyID string `json:"certify_id"`
	Outcome   string `json:"outcome"`
	SubCode   string `json:"sub_code"`
}

// serveComplete is POST /verify/{id}/complete with form field outcome.
func (s *Simulator) serveComplete(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	outcome := ""
	if err := r.ParseForm(); err == nil {
		outcome = r.PostForm.Get("outcome")
	}
	ss, err := s.complete(id, outcome)
	if err != nil {
		s.completeFailed(w, r, ss, err)
		return
	}
	if wantsJSON(r) {
		body, _ := json.Marshal(completeAnswer{CertifyID: id, Outcome: outcome, SubCode: ss.verdict.subCode})
		setPageHeaders(w.Header())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	}
	if ss.returnURL != "" {
		setPageHeaders(w.Header())
		http.Redirect(w, r, appendQuery(ss.returnURL, url.Values{"certifyId": {id}}), http.StatusSeeOther)
		return
	}
	status, d := s.pageFor(ss)
	d.Title = "认证结束"
	s.renderPage(w, r, status, d)
}

// completeFailed answers a refused completion: 404 unknown session, 400
// unknown outcome, 409 already finished, 410 expired.
func (s *Simulator) completeFailed(w http.ResponseWriter, r *http.Request, ss session, err error) {
	status, d := http.StatusBadRequest, pageData{Title: "无效的结果", ID: ss.certifyID,
		Message: "请选择页面上的一个模拟结果。"}
	switch {
	case errors.Is(err, ErrUnknownSession):
		status, d = http.StatusNotFound, notFoundPage()
	case errors.Is(err, ErrAlreadyFinished):
		status, d = http.StatusConflict, pageData{Title: "认证已结束", ID: ss.certifyID,
			Message: "该认证已经结束，不能重复提交。"}
	case errors.Is(err, ErrSessionExpired):
		status, d = http.StatusGone, pageData{Title: "认证已过期", ID: ss.certifyID,
			Message: "该认证会话已超过有效期，请返回业务页面重新发起认证。"}
	}
	if wantsJSON(r) {
		body, _ := json.Marshal(map[string]string{"error": strings.TrimPrefix(err.Error(), "cloudauthsim: ")})
		setPageHeaders(w.Header())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	s.renderPage(w, r, status, d)
}

// serveCSS is GET /static/sim.css.
func (s *Simulator) serveCSS(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, simCSS, "text/css; charset=utf-8", simCSSHash)
}

// serveJS is GET /static/sim.js, the page's script.
func (s *Simulator) serveJS(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, simJS, "text/javascript; charset=utf-8", simJSHash)
}

// serveAsset answers GET and HEAD with an embedded file. The page links it
// with ?v=hash: that URL never changes meaning, so it is cached for a year
// (immutable); any other URL is revalidated against the ETag.
func serveAsset(w http.ResponseWriter, r *http.Request, body []byte, contentType, hash string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+hash+`"`)
	if r.URL.Query().Get("v") == hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
