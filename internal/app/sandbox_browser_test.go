package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/realname/realname/internal/browsertest"
)

// The sandbox page (the simulator's verify_url) as a tester uses it in a
// real browser: start, the camera step (with Chromium's fake camera, or
// skipped), an outcome button; the session then ends as that outcome says.
// The person is verified last: a verified person refuses other users' inits.
func TestSandboxPageInABrowser(t *testing.T) {
	b := browsertest.New(t)
	r := start(t, testConfig(t), nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	for _, tc := range []struct {
		name    string
		vp      browsertest.Viewport
		camera  bool
		outcome string
		want    string
	}{
		{"phone-skip-camera-face_mismatch", browsertest.Phone, false, "face_mismatch", "failed"},
		{"desktop-camera-liveness_attack", browsertest.Desktop, true, "liveness_attack", "failed"},
		// Like Cloudauth, a cancel sends no callback and leaves nothing to
		// fetch: the session waits for its timeout (see TestSandboxEndToEnd).
		{"phone-camera-cancel", browsertest.Phone, true, "cancel", "processing"},
		{"phone-camera-pass", browsertest.Phone, true, "pass", "success"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, a := c.init("page-"+tc.outcome, testName, testNumber)
			if code != 200 {
				t.Fatalf("init: %d %+v", code, a)
			}
			p := b.Page(t, tc.vp)
			p.Navigate(a.VerifyURL)
			p.WaitText("body", "SANDBOX")
			p.Click("#sim-start")
			if tc.camera {
				// The fake camera runs: the preview plays and "next" is enabled.
				p.Run(chromedp.WaitEnabled(chromedp.CSS("#sim-camera-next")))
				var playing bool
				p.Eval(`(() => { const v = document.getElementById('sim-camera'); return !!v.srcObject && v.videoWidth > 0; })()`, &playing)
				if !playing {
					t.Error("the camera preview does not play")
				}
				if tc.outcome == "pass" {
					p.Screenshot("sandbox-camera-" + tc.name)
				}
				p.Click("#sim-camera-next")
			} else {
				p.Click("#sim-skip-camera")
			}
			p.Click(`button[name=outcome][value=` + tc.outcome + `]`)
			p.WaitVisible("p.result")
			if tc.camera {
				var live int
				p.Eval(`(() => { const v = document.getElementById('sim-camera'); return v && v.srcObject ? v.srcObject.getTracks().filter(t => t.readyState === 'live').length : 0; })()`, &live)
				if live != 0 {
					t.Errorf("%d camera tracks still live after the outcome was sent", live)
				}
			}
			c.waitStatus(a.CertifyID, tc.want)
			p.CheckClean()
		})
	}
}
