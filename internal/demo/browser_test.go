package demo_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/browsertest"
)

// jsCodes are the error codes of docs/api.md and the SDK's own, as a
// JavaScript array.
const jsCodes = `['INVALID_ID_NUMBER','INVALID_NAME','CONSENT_REQUIRED','IDENTITY_MISMATCH','IDENTITY_NO_RECORD',
'ALREADY_AUTHENTICATED','IDENTITY_BOUND_TO_OTHER_USER','PROVIDER_UNAVAILABLE','RATE_LIMITED','INVALID_TOKEN',
'UNAUTHORIZED','FORBIDDEN','USER_NOT_FOUND','NOT_FOUND','BODY_TOO_LARGE','INVALID_REQUEST','UNSUPPORTED_DOCUMENT',
'FACE_MISMATCH','LIVENESS_ATTACK','RISK_POLICY','NO_REFERENCE_PHOTO','PROVIDER_REJECTED','TIMEOUT','NETWORK',
'PROVIDER_LOST_SESSION','REPLACED','NOT_VERIFIED','EXPIRED','PENDING','GUARDIAN_CONSENT_REQUIRED','USER_LOCKED',
'BUDGET_EXHAUSTED','REVIEW_REJECTED','ERASED','CONSENT_WITHDRAWN','USER_TOKEN_REQUIRED']`

// The answers the demo provokes on purpose and shows to the person: nobody
// signed in yet, a user who never started, a letter refused.
func expectShownErrors(p *browsertest.Page) {
	p.Expect(`status of 401 .*/demo/api/me`)
	p.Expect(`status of 404 .*/api/v1/auth/status/`)
	p.Expect(`status of 403 .*/demo/api/letters`)
}

// openVerifyURL is the verify_url of the user's open session: an init for
// the same person returns the session the page started.
func openVerifyURL(t *testing.T, a *app.App, user string) string {
	t.Helper()
	var init struct {
		VerifyURL string `json:"verify_url"`
		Code      string `json:"code"`
	}
	code := api(t, http.MethodPost, a.URL()+"/api/v1/auth/init", a.DevAPIKey(), map[string]any{
		"user_id": user, "real_name": "张三", "id_card_number": "11010519491231002X", "consent": consent(),
	}, &init)
	if code != 200 || init.VerifyURL == "" {
		t.Fatalf("init for the open session: %d %+v", code, init)
	}
	return init.VerifyURL
}

func waitOpenSession(t *testing.T, a *app.App, user string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct{ Status string }
		api(t, http.MethodGet, a.URL()+"/api/v1/auth/status/"+user, a.DevAPIKey(), nil, &st)
		if st.Status == "processing" || st.Status == "pending" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no open session for %s (status %q)", user, st.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func textOf(p *browsertest.Page, sel string) string {
	var s string
	p.Eval(`document.querySelector(`+jsString(sel)+`).textContent`, &s)
	return s
}

func clear(p *browsertest.Page, id string) {
	p.Eval(`document.getElementById(`+jsString(id)+`).value = ''`, nil)
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// signInAndFailTheForm opens the demo, signs in, tries a letter (refused),
// and submits a bad ID number (the message under the field). It returns the
// demo user's id.
func signInAndFailTheForm(t *testing.T, p *browsertest.Page, base, shot string) string {
	t.Helper()
	p.Navigate(base + "/demo/")
	p.WaitVisible("#signin")
	p.Screenshot(shot + "-signed-out")
	p.Click("#signin")
	p.WaitText("#status", "未认证")
	user := p.Text("#user-id")
	if !strings.HasPrefix(user, "demo_") {
		t.Fatalf("user id %q", user)
	}

	// A letter before verifying: refused by the backend, said in Chinese.
	p.SetValue("#letter", "妈妈，我很好，勿念。")
	p.Click("#send")
	p.WaitText("#letter-msg", "只有通过实名认证的用户才能寄信")

	// A bad ID number: the SDK's check, under the field, before any request.
	p.Type("#real-name", "张三")
	p.Type("#id-number", "110105194912310021") // wrong check character
	p.Click("#next")
	var invalid string
	p.Eval(`document.getElementById('id-number').getAttribute('aria-invalid')`, &invalid)
	if invalid != "true" || textOf(p, "#id-number-msg") == "" {
		t.Errorf("bad ID number: aria-invalid %q, message %q", invalid, textOf(p, "#id-number-msg"))
	}
	var hidden bool
	p.Eval(`document.getElementById('consent').hidden`, &hidden)
	if !hidden {
		t.Error("the consent step opened for a bad ID number")
	}
	p.Screenshot(shot + "-bad-number")

	// Fixed: the message goes away as the person types.
	clear(p, "id-number")
	p.Type("#id-number", "11010519491231002x")
	p.Eval(`document.getElementById('id-number').getAttribute('aria-invalid')`, &invalid)
	if invalid != "false" {
		t.Errorf("fixed ID number: aria-invalid %q, message %q", invalid, textOf(p, "#id-number-msg"))
	}
	p.Click("#next")
	p.WaitVisible("#consent")
	checkNoticeShown(t, p, base)

	// Both consents are needed, each on its own.
	p.Click("#consent-id")
	p.Click("#start")
	p.WaitText("#consent-msg", "人脸核验")
	p.Screenshot(shot + "-consent")
	p.Click("#consent-face")
	return user
}

// checkNoticeShown: the consent step shows the API's current notice, text
// for text, with its version and hash, and labels the boxes with its
// consent texts.
func checkNoticeShown(t *testing.T, p *browsertest.Page, base string) {
	t.Helper()
	var ans struct {
		Notice struct {
			Version, Title, SHA256 string
			Sections               []struct{ Heading, Text string }
			Consents               map[string]string
		}
	}
	if code := api(t, http.MethodGet, base+"/api/v1/auth/notices/current?lang=zh", "", nil, &ans); code != 200 {
		t.Fatalf("GET notice: %d", code)
	}
	n := ans.Notice
	p.WaitText("#notice .notice-title", n.Title)
	var shown struct {
		Title, ID, Face, Version, SHA, Meta string
		Headings, Texts                     []string
		Start                               bool
	}
	p.Eval(`(() => {
		const q = (s) => document.querySelector(s), all = (s) => [...document.querySelectorAll(s)].map(e => e.textContent);
		return {Title: q('#notice .notice-title').textContent, Headings: all('#notice dt'), Texts: all('#notice dd'),
			ID: q('#consent-id-label').textContent, Face: q('#consent-face-label').textContent,
			Version: q('#notice-meta').dataset.version, SHA: q('#notice-meta').dataset.sha256, Meta: q('#notice-meta').textContent,
			Start: !q('#start').disabled};
	})()`, &shown)
	var headings, texts []string
	for _, s := range n.Sections {
		headings, texts = append(headings, s.Heading), append(texts, s.Text)
	}
	if shown.Title != n.Title || strings.Join(shown.Headings, "|") != strings.Join(headings, "|") ||
		strings.Join(shown.Texts, "|") != strings.Join(texts, "|") || shown.ID != n.Consents["id_number"] ||
		shown.Face != n.Consents["face"] || shown.Version != n.Version || shown.SHA != n.SHA256 ||
		!strings.Contains(shown.Meta, n.Version) || !strings.Contains(shown.Meta, n.SHA256[:12]) || !shown.Start {
		t.Errorf("the consent step shows %+v, the API's notice is %+v", shown, n)
	}
}

// A notice that does not load: the page says so, and nobody can consent
// to a text they have not seen.
func TestDemoNoticeFailsToLoad(t *testing.T) {
	b := browsertest.New(t)
	a := startApp(t)
	p := b.Page(t, browsertest.Desktop)
	expectShownErrors(p)
	p.Expect(`blocked: inspector`)
	p.Run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
			URLPatterns: []*network.BlockPattern{{URLPattern: a.URL() + "/api/v1/auth/notices/*", Block: true}},
		})
		return err
	}))
	p.Navigate(a.URL() + "/demo/")
	p.Click("#signin")
	p.WaitText("#status", "未认证")
	p.Type("#real-name", "张三")
	p.Type("#id-number", "11010519491231002X")
	p.Click("#next")
	p.WaitVisible("#notice-error")
	if msg := textOf(p, "#notice-error-text"); !strings.Contains(msg, "没有加载成功") {
		t.Errorf("notice error %q", msg)
	}
	var state struct{ Start, ID, Face bool }
	p.Eval(`({Start: document.getElementById('start').disabled, ID: document.getElementById('consent-id').disabled,
		Face: document.getElementById('consent-face').disabled})`, &state)
	if !state.Start || !state.ID || !state.Face {
		t.Errorf("with no notice: disabled %+v, want all", state)
	}
	p.Screenshot("demo-desktop-notice-failed")
	// Unblocked, the retry button loads it.
	p.Run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{})
		return err
	}))
	p.Click("#notice-retry")
	checkNoticeShown(t, p, a.URL())
	p.CheckClean()
}

func noHorizontalScroll(t *testing.T, p *browsertest.Page, when string) {
	t.Helper()
	var ok bool
	p.Eval(`document.documentElement.scrollWidth <= window.innerWidth`, &ok)
	if !ok {
		t.Errorf("%s: the page scrolls sideways", when)
	}
}

func sendLetter(t *testing.T, p *browsertest.Page) {
	t.Helper()
	clear(p, "letter")
	p.Type("#letter", "妈妈，我很好，勿念。")
	p.Click("#send")
	p.WaitText("#letter-msg", "信已寄出")
}

func TestDemoInTheBrowserDesktop(t *testing.T) {
	b := browsertest.New(t)
	a := startApp(t)
	p := b.Page(t, browsertest.Desktop)
	expectShownErrors(p)
	user := signInAndFailTheForm(t, p, a.URL(), "demo-desktop")

	statusHeight := func() float64 {
		var h float64
		p.Eval(`document.getElementById('status-card').getBoundingClientRect().height`, &h)
		return h
	}
	before := statusHeight()

	// Every failure the API can answer has a Chinese message for the person.
	var missing []string
	p.Eval(`import('/sdk/realname.js').then(m => `+jsCodes+`.filter(c => !/[\u4e00-\u9fff]/.test(m.default.messages(c, 'zh') || '')))`, &missing)
	if len(missing) > 0 {
		t.Errorf("no Chinese message for %v", missing)
	}

	// The national record does not match (sandbox name 测试不符): init
	// refuses before any face check, and the page says so.
	p.Expect(`status of 400 .*/api/v1/auth/init`)
	p.Click("#back")
	clear(p, "real-name")
	p.Type("#real-name", "测试不符")
	p.Click("#next")
	p.Click("#consent-id")
	p.Click("#consent-face")
	p.Click("#start")
	p.WaitVisible("#verify-error")
	if msg := textOf(p, "#verify-error"); !regexp.MustCompile(`[\p{Han}]`).MatchString(msg) {
		t.Errorf("identity mismatch: message %q", msg)
	}
	p.Screenshot("demo-desktop-identity-mismatch")
	// Back and on again with the keyboard only: Enter submits the form,
	// Space ticks a box, Enter on the button starts.
	p.Click("#back")
	clear(p, "real-name")
	p.Type("#real-name", "张三\r")
	p.WaitVisible("#consent")
	p.Type("#consent-id", " ")
	p.Type("#consent-face", " ")
	var ticked bool
	p.Eval(`document.getElementById('consent-id').checked && document.getElementById('consent-face').checked`, &ticked)
	if !ticked {
		t.Error("the consent boxes do not tick with the keyboard")
	}

	// Labelled for screen readers: landmarks, a label for every field, a
	// live status.
	var unlabelled []string
	p.Eval(`[...document.querySelectorAll('input, textarea, button')].filter(e =>
		!(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id || e.outerHTML)`, &unlabelled)
	if len(unlabelled) > 0 {
		t.Errorf("elements without a label: %v", unlabelled)
	}
	var landmarks bool
	p.Eval(`!!(document.querySelector('header') && document.querySelector('main') && document.querySelector('footer') &&
		document.getElementById('status').getAttribute('aria-live') === 'polite' && document.documentElement.lang === 'zh-CN')`, &landmarks)
	if !landmarks {
		t.Error("landmarks, lang or the live status are missing")
	}

	// The person closes the provider's page: cancelled, said plainly.
	p.Type("#start", "\r")
	p.WaitVisible(".realname-overlay__close")
	p.Click(".realname-overlay__close")
	p.WaitText("#verify-error", "取消")
	p.WaitText("#status", "未认证")
	waitOpenSession(t, a, user) // the session stays open at the provider until it times out

	// Each outcome the provider's page can end with, finished from here
	// while the page polls (as the sandbox page does when a person clicks).
	for _, c := range []struct{ outcome, status string }{
		{"face_mismatch", "未认证"},
		{"liveness_attack", "未认证"},
		{"pass", "已认证，有效期至 "},
	} {
		p.Click("#start")
		p.WaitText("#status", "认证中")
		waitOpenSession(t, a, user)
		if c.outcome == "face_mismatch" {
			p.Screenshot("demo-desktop-overlay")
		}
		if h := statusHeight(); h != before {
			t.Errorf("%s: the status card is %v px high while polling, %v before", c.outcome, h, before)
		}
		Complete(t, openVerifyURL(t, a, user), c.outcome)
		p.WaitText("#status", c.status)
		if c.outcome != "pass" {
			p.WaitVisible("#verify-error")
			if msg := textOf(p, "#verify-error"); msg == "" {
				t.Errorf("%s: no message", c.outcome)
			}
			p.Screenshot("demo-desktop-" + c.outcome)
			p.WaitVisible("#consent")
		}
	}
	want := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	p.WaitText("#status", want)
	if h := statusHeight(); h != before {
		t.Errorf("verified: the status card is %v px high, %v before", h, before)
	}
	var verifyShown bool
	p.Eval(`!document.getElementById('verify-card').hidden`, &verifyShown)
	if verifyShown {
		t.Error("the verification form is still shown to a verified person")
	}
	sendLetter(t, p)
	shot := p.Screenshot("demo-desktop-verified")
	p.CheckClean()
	copyToDocs(t, shot, "demo-desktop.png")

	// A reload keeps the session and shows the status straight away.
	p.Navigate(a.URL() + "/demo/")
	p.WaitText("#status", "已认证")
	p.CheckClean()
}

func TestDemoInTheBrowserPhone(t *testing.T) {
	b := browsertest.New(t)
	a := startApp(t)
	p := b.Page(t, browsertest.Phone)
	expectShownErrors(p)
	signInAndFailTheForm(t, p, a.URL(), "demo-phone")
	noHorizontalScroll(t, p, "consent")

	// On a phone the SDK sends the person to the provider's page and back.
	for _, c := range []struct{ outcome, status string }{
		{"face_mismatch", "未认证"},
		{"pass", "已认证，有效期至 "},
	} {
		p.Click("#start")
		// The sandbox page's steps (ids from cloudauthsim/static/sim.js):
		// start, skip the camera, pick the outcome.
		sandboxOutcome(p, c.outcome, "demo-phone-sandbox-page")
		p.WaitText("#status", c.status)
		if c.outcome != "pass" {
			// Back on the demo, the SDK finishes the session it started
			// and says why it failed.
			p.WaitVisible("#verify-error")
			p.Screenshot("demo-phone-" + c.outcome)
			noHorizontalScroll(t, p, c.outcome)
			// The page came back fresh from the redirect: fill it in again.
			p.Type("#real-name", "张三")
			p.Type("#id-number", "11010519491231002X")
			p.Click("#next")
			p.WaitVisible("#consent")
			p.Click("#consent-id")
			p.Click("#consent-face")
		}
	}
	sendLetter(t, p)
	noHorizontalScroll(t, p, "verified")
	shot := p.Screenshot("demo-phone-verified")
	copyToDocs(t, shot, "demo-phone.png")

	// Cancel on the provider's page, as another person: like Cloudauth,
	// the sandbox sends no answer for it, so the person stops waiting here.
	p.Click("#signout")
	p.WaitVisible("#signin")
	p.Click("#signin")
	p.WaitText("#status", "未认证")
	fillAndConsent(p, "李四", "440524188001010014")
	p.Click("#start")
	sandboxOutcome(p, "cancel", "")
	p.WaitText("#status", "认证中")
	p.WaitVisible("#stop-waiting")
	p.Click("#stop-waiting")
	p.WaitText("#status", "未认证")
	// Trying again opens a new face check ("restart"), not the finished
	// page. The page came back fresh from the redirect: fill it in again.
	fillAndConsent(p, "李四", "440524188001010014")
	p.Click("#start")
	sandboxOutcome(p, "pass", "")
	p.WaitText("#status", "已认证，有效期至 ")
	p.CheckClean()
}

// sandboxOutcome goes through the sandbox page's steps (ids from
// cloudauthsim/static/sim.js) without the camera and picks the outcome;
// with a name, it saves a screenshot before the choice.
func sandboxOutcome(p *browsertest.Page, outcome, shot string) {
	p.WaitVisible("#sim-start")
	p.Click("#sim-start")
	p.WaitVisible("#sim-skip-camera")
	p.Click("#sim-skip-camera")
	sel := `button[name=outcome][value=` + outcome + `]`
	p.WaitVisible(sel)
	if shot != "" {
		p.Screenshot(shot)
	}
	p.Click(sel)
}

// fillAndConsent fills in the form afresh and gives both consents.
func fillAndConsent(p *browsertest.Page, name, number string) {
	clear(p, "real-name")
	clear(p, "id-number")
	p.Type("#real-name", name)
	p.Type("#id-number", number)
	p.Click("#next")
	p.WaitVisible("#consent")
	var checked bool
	p.Eval(`(() => { for (const id of ['consent-id', 'consent-face']) document.getElementById(id).checked = true; return true; })()`, &checked)
}

// copyToDocs refreshes the README's screenshot when REALNAME_UPDATE_SCREENSHOTS
// is set (the images are committed; a test run should not change them).
func copyToDocs(t *testing.T, from, name string) {
	t.Helper()
	if os.Getenv("REALNAME_UPDATE_SCREENSHOTS") == "" {
		return
	}
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	root := filepath.Dir(filepath.Dir(from)) // test-screenshots/ is below the module root
	dst, err := os.Create(filepath.Join(root, "docs", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
}

// My data: a verified person sees their export (the full name, from
// realname's /me/data through the SDK), cancels a withdrawal, erases, and
// the status goes back to not verified.
func TestDemoMyData(t *testing.T) {
	b := browsertest.New(t)
	a := startApp(t)
	p := b.Page(t, browsertest.Desktop)
	expectShownErrors(p)
	p.Navigate(a.URL() + "/demo/")
	p.Click("#signin")
	p.WaitText("#status", "未认证")
	p.WaitVisible("#mydata-card")
	user := p.Text("#user-id")

	// Verified in the sandbox, as in TestDemoInTheBrowserDesktop.
	fillAndConsent(p, "张三", "11010519491231002X")
	p.Click("#start")
	p.WaitText("#status", "认证中")
	waitOpenSession(t, a, user)
	Complete(t, openVerifyURL(t, a, user), "pass")
	p.WaitText("#status", "已认证")

	// The export: the identity decrypted, the session, the access records
	// (the export lists itself), all as text.
	p.Click("#mydata-show")
	p.WaitText("#mydata-export", "张三")
	var shown struct {
		Text     string
		Elements []string
		Hidden   bool
	}
	p.Eval(`(() => { const e = document.getElementById('mydata-export');
		return {Text: e.textContent, Hidden: e.hidden, Elements: [...new Set([...e.querySelectorAll('*')].map(n => n.tagName))]}; })()`, &shown)
	for _, want := range []string{"11010519491231002X", "身份信息（1）", "认证记录（1）", "已认证", "访问记录", "导出数据", "本人"} {
		if !strings.Contains(shown.Text, want) {
			t.Errorf("the export lacks %q: %s", want, shown.Text)
		}
	}
	for _, tag := range shown.Elements {
		if !strings.Contains(" H3 P DL DT DD UL LI ", " "+tag+" ") {
			t.Errorf("the export has a <%s>", tag)
		}
	}
	if shown.Hidden {
		t.Error("the export is hidden")
	}
	p.Screenshot("demo-desktop-my-data")

	// Withdrawing asks first; "cancel" changes nothing.
	p.Click("#mydata-withdraw")
	p.WaitVisible("#mydata-confirm")
	p.WaitText("#mydata-confirm-yes", "撤回")
	p.Click("#mydata-confirm-no")
	var closed bool
	p.Eval(`document.getElementById('mydata-confirm').hidden`, &closed)
	if !closed {
		t.Error("the confirmation is still open after 取消")
	}
	WaitStatus(t, a.URL(), a.DevAPIKey(), user, "success")

	// Erasing asks first too; nothing happens before the second click.
	p.Click("#mydata-erase")
	p.WaitVisible("#mydata-confirm")
	p.WaitText("#mydata-confirm-yes", "删除")
	p.Screenshot("demo-desktop-erase-confirm")
	WaitStatus(t, a.URL(), a.DevAPIKey(), user, "success")
	p.Click("#mydata-confirm-yes")
	p.WaitText("#mydata-msg", "已删除")
	p.WaitText("#status", "未认证")
	var after struct {
		ExportHidden, VerifyShown bool
		ExportText                string
	}
	p.Eval(`({ExportHidden: document.getElementById('mydata-export').hidden,
		ExportText: document.getElementById('mydata-export').textContent,
		VerifyShown: !document.getElementById('verify-card').hidden})`, &after)
	if !after.ExportHidden || after.ExportText != "" || !after.VerifyShown {
		t.Errorf("after erasure: %+v", after)
	}
	// realname agrees: no standing, no readable identity.
	var st struct{ Code string }
	if code := api(t, http.MethodGet, a.URL()+"/api/v1/auth/status/"+user, a.DevAPIKey(), nil, &st); code != 404 || st.Code != "USER_NOT_FOUND" {
		t.Errorf("status after erasure: %d %+v", code, st)
	}
	// The export again, from the page: the identity is gone.
	p.Click("#mydata-show")
	p.WaitText("#mydata-export", "身份信息")
	if text := textOf(p, "#mydata-export"); strings.Contains(text, "张三") || strings.Contains(text, "11010519491231002X") {
		t.Errorf("the export after erasure still shows the identity: %s", text)
	}
	p.Screenshot("demo-desktop-erased")

	// Signing out leaves nothing of the export in the page.
	p.Click("#signout")
	p.WaitVisible("#signin")
	var left string
	p.Eval(`document.getElementById('mydata-export').textContent + document.getElementById('mydata-msg').textContent`, &left)
	if left != "" {
		t.Errorf("after signing out the page still holds %q", left)
	}
	p.CheckClean()
}
