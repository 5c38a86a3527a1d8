package cloudauthsim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed static/sim.css
var simCSS []byte

// pageTemplate is the hosted sandbox page. It has no script and no inline
// style, so it works under the strict CSP set in setPageHeaders.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · 沙箱 SANDBOX</title>
<link rel="stylesheet" href="{{.CSS}}">
</head>
<body>
<main>
<p class="sandbox" role="note">沙箱 / SANDBOX — 不是真实的人脸识别</p>
<h1>{{.Title}}</h1>
{{- if .Pending}}
<p>这是实人认证的沙箱页面，代替阿里云的刷脸页面。这里不会打开摄像头，也不会采集或上传任何图像。</p>
<ol class="steps">
<li>确认这是测试环境中的操作。</li>
<li>选择下面的一个模拟结果。</li>
<li>提交后，沙箱会像真实服务一样通知业务服务器，然后返回业务页面。</li>
</ol>
<form method="post" action="{{.Action}}">
<fieldset>
<legend>选择模拟结果</legend>
<div class="choices">
{{- range .Choices}}
<button type="submit" name="outcome" value="{{.Value}}" class="{{.Value}}">{{.Label}}</button>
{{- end}}
</div>
</fieldset>
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
	Title, CSS, Action, ID, Message string
	Pending                         bool
	Choices                         []choice
}

// setPageHeaders sets the security headers of every page answer.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *Simulator) renderPage(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	d.CSS = s.basePath + "/static/sim.css"
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "page rendering failed", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w.Header())
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
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(simCSS)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(simCSS)
	}
}
