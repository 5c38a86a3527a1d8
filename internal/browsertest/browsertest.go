// Package browsertest runs pages in a real headless Chromium for tests
// (through chromedp). The browser is the one named by REALNAME_TEST_CHROMIUM;
// without it the tests skip, and under REALNAME_TEST_REQUIRE=all (as in CI)
// they fail instead.
//
// Every page records what a person would never want to see: console
// errors, uncaught exceptions and unhandled promise rejections, requests
// that failed on the network (not cancelled ones) or answered 5xx, 4xx
// answers to anything but fetch/XHR (a missing script, stylesheet or image;
// /favicon.ico excepted), and the other errors of the browser log, where
// Chromium reports Content-Security-Policy violations. Page.CheckClean
// fails the test on any of them; Page.Expect tolerates one a test provokes.
//
// Every method of a Page is bounded by Timeout and fails the test with the
// page's problems so far when it goes wrong, so tests read as a list of steps:
//
//	b := browsertest.New(t)
//	p := b.Page(t, browsertest.Phone)
//	p.Navigate(srv.URL + "/demo/")
//	p.Click("#start")
//	p.WaitText("#status", "已认证")
//	p.CheckClean()
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/realname/realname/internal/testenv"
)

// Env names the Chromium (or Chrome) binary.
const Env = "REALNAME_TEST_CHROMIUM"

// ScreenshotDir is where Screenshot writes, below the module root. It is
// git-ignored.
const ScreenshotDir = "test-screenshots"

// Timeout bounds each step of a Page (Run, Navigate, Click, WaitText, …).
const Timeout = 30 * time.Second

// Browser is one headless Chromium process, shared by the pages of a test.
type Browser struct {
	ctx context.Context
}

// New starts Chromium for t and stops it when t ends. It skips t when
// REALNAME_TEST_CHROMIUM is unset (fails under REALNAME_TEST_REQUIRE).
func New(t *testing.T) *Browser {
	t.Helper()
	path := testenv.RequireOrSkip(t, Env, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// A fake camera, so pages that ask for one can be tested; the
		// permission prompt is answered yes.
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return &Browser{ctx: bctx}
}

// Viewport is a page's screen.
type Viewport struct {
	Width, Height int
	Mobile        bool // touch, mobile emulation, a phone's user agent, device scale 2
}

// Desktop and Phone are the viewports the tests use. Like a real phone,
// Phone lays out a page that has no <meta name="viewport"
// content="width=device-width"> 980 CSS pixels wide.
var (
	Desktop = Viewport{Width: 1280, Height: 900}
	Phone   = Viewport{Width: 360, Height: 740, Mobile: true}
)

// PhoneUA is the user agent of the Phone viewport, for pages that tell
// phones from desktops by it.
const PhoneUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36"

// Page is one tab.
type Page struct {
	Ctx      context.Context // the tab's chromedp context, for chromedp calls of your own
	t        *testing.T
	mu       sync.Mutex
	problems []string
	ignore   []*regexp.Regexp
}

// Page opens a new tab with the given viewport; it is closed when t ends.
func (b *Browser) Page(t *testing.T, vp Viewport) *Page {
	t.Helper()
	p := &Page{t: t}
	// WithListener sees every event of the tab from its start, in order, and
	// before the reply to the command that follows the event: a console.error
	// written by an Eval is recorded when Eval returns.
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(p.listen))
	t.Cleanup(cancel)
	p.Ctx = ctx
	// The first call opens the tab (enabling the runtime, log and network
	// domains) and binds the tab's life to its context, so it must get ctx
	// itself and not a child with a timeout; the timer bounds it instead.
	timer := time.AfterFunc(Timeout, cancel)
	err := chromedp.Do(ctx)
	timer.Stop()
	if err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if vp.Mobile {
		opts = []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulatePortrait,
			chromedp.EmulateMobile, chromedp.EmulateTouch}
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(int64(vp.Width), int64(vp.Height), opts...)}
	if vp.Mobile {
		steps = append(steps, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: PhoneUA, Platform: "Linux armv8l",
			})
			return err
		}))
	}
	p.Run(steps...)
	return p
}

// listen runs in the loop of the tab: it must return fast and run no command.
func (p *Page) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				switch {
				case a.Type == runtime.RemoteObjectTypeString && a.Value != nil:
					var s string
					if json.Unmarshal(a.Value, &s) == nil {
						parts = append(parts, s)
						continue
					}
					parts = append(parts, string(a.Value))
				case a.Value != nil:
					parts = append(parts, string(a.Value))
				default:
					parts = append(parts, a.Description)
				}
			}
			p.report("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		} else if d.Exception != nil && d.Exception.Value != nil {
			msg += " " + string(d.Exception.Value)
		}
		p.report("uncaught exception: %s (%s:%d)", msg, d.URL, d.LineNumber+1)
	case *cdplog.EventEntryAdded:
		// "Failed to load resource: the server responded with a status of
		// …" is left to EventResponseReceived, which knows the request's type.
		if ev.Entry.Level == cdplog.EntryLevelError &&
			!(ev.Entry.Source == cdplog.EntrySourceNetwork && strings.Contains(ev.Entry.Text, "the server responded with a status of")) {
			p.report("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			msg := ev.ErrorText
			if ev.BlockedReason != "" {
				msg += " (blocked: " + string(ev.BlockedReason) + ")"
			}
			p.report("request failed: %s %s", ev.Type, msg)
		}
	case *network.EventResponseReceived:
		r := ev.Response
		switch {
		case r == nil:
		case r.Status >= 500:
			p.report("%d from %s", r.Status, r.URL)
		case r.Status >= 400 && ev.Type != network.ResourceTypeFetch && ev.Type != network.ResourceTypeXHR &&
			!strings.HasSuffix(r.URL, "/favicon.ico"):
			// A missing script, stylesheet, image or page. A 4xx answer to
			// fetch is an API answer the page is meant to handle.
			p.report("%d from %s (%s)", r.Status, r.URL, ev.Type)
		}
	}
}

func (p *Page) report(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, re := range p.ignore {
		if re.MatchString(msg) {
			return
		}
	}
	p.problems = append(p.problems, msg)
}

// Expect makes the page ignore problems matching pattern (a regular
// expression): an error the test provokes on purpose (a server answer the
// page is meant to show, say). It also drops such problems recorded so far.
func (p *Page) Expect(pattern string) {
	re := regexp.MustCompile(pattern)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ignore = append(p.ignore, re)
	kept := p.problems[:0]
	for _, pr := range p.problems {
		if !re.MatchString(pr) {
			kept = append(kept, pr)
		}
	}
	p.problems = kept
}

// Problems returns what went wrong on the page so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// CheckClean fails the test (without stopping it) for each thing that went
// wrong on the page.
func (p *Page) CheckClean() {
	p.t.Helper()
	for _, pr := range p.Problems() {
		p.t.Errorf("page problem: %s", pr)
	}
}

func (p *Page) fatalf(format string, args ...any) {
	p.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if pr := p.Problems(); len(pr) > 0 {
		msg += "\npage problems so far:\n\t" + strings.Join(pr, "\n\t")
	}
	p.t.Fatal(msg)
}

// Run runs chromedp steps within Timeout and fails the test on error.
func (p *Page) Run(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fatalf("browser: %v", err)
	}
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		p.fatalf("navigate to %s: %v", url, err)
	}
}

// Click clicks the first visible element matching the CSS selector sel.
func (p *Page) Click(sel string) {
	p.t.Helper()
	p.step("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// SetValue sets the value of the input matching sel (no key events).
func (p *Page) SetValue(sel, v string) {
	p.t.Helper()
	p.step("set value of "+sel, chromedp.SetValue(chromedp.CSS(sel), v))
}

// Type focuses the element matching sel and types text key by key.
func (p *Page) Type(sel, text string) {
	p.t.Helper()
	p.step("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// WaitVisible waits until an element matching sel is visible.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	p.step("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (p *Page) step(what string, a chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, a); err != nil {
		p.fatalf("%s: %v", what, err)
	}
}

// Text returns the visible text of the first element matching sel.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
	if err != nil {
		p.fatalf("text of %s: %v", sel, err)
	}
	return s
}

// WaitText waits until the element matching sel exists and its text contains
// want.
func (p *Page) WaitText(sel, want string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	var got string
	var err error
	for {
		got, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
		if err == nil && strings.Contains(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				p.fatalf("%s: %v (waiting for the text %q)", sel, err, want)
			}
			p.fatalf("%s says %q after %v, want it to contain %q", sel, got, Timeout, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Eval evaluates a JavaScript expression, awaits it if it is a promise, and
// unmarshals its JSON value into out (which may be nil). A thrown error or a
// rejected promise fails the test.
func (p *Page) Eval(expr string, out any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fatalf("eval %s: %v", short(expr), err)
	}
	if out == nil || len(raw) == 0 {
		return
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.fatalf("eval %s: result %s: %v", short(expr), raw, err)
	}
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Screenshot saves the whole page as test-screenshots/NAME.png below the
// module root and returns the file's path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(moduleRoot(p.t), ScreenshotDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// moduleRoot is the directory holding go.mod, above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}
