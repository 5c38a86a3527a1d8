package cloudauthsim_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"

	"github.com/realname/realname/internal/provider/cloudauthsim"
)

const (
	testKeyID  = "LTAI5tSandboxKeyID01"
	testSecret = "sandbox-secret-0123456789abcdef"
	testScene  = "1000000001"
	testPrefix = "/sandbox/cloudauth"
)

// env is a simulator mounted under testPrefix with http.StripPrefix, as in
// sandbox mode, behind a real loopback server.
type env struct {
	sim    *cloudauthsim.Simulator
	srv    *httptest.Server
	public string // PublicURL
	domain string // SDK Domain: host:port + prefix
}

func newEnv(t testing.TB, mutate func(*cloudauthsim.Config)) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := cloudauthsim.Config{
		AccessKeyID:        testKeyID,
		AccessKeySecret:    testSecret,
		PublicURL:          srv.URL + testPrefix,
		CallbackRetryDelay: 50 * time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	sim, err := cloudauthsim.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() }) // runs before srv.Close
	mux.Handle(testPrefix+"/", http.StripPrefix(testPrefix, sim))
	return &env{sim: sim, srv: srv, public: cfg.PublicURL,
		domain: strings.TrimPrefix(srv.URL, "http://") + testPrefix}
}

// client returns a new SDK client; use one per goroutine.
func (e *env) client(t testing.TB, id, secret string) *cloudauth.Client {
	t.Helper()
	c, err := cloudauth.NewClientWithAccessKey("cn-hangzhou", id, secret)
	if err != nil {
		t.Fatalf("NewClientWithAccessKey: %v", err)
	}
	return c
}

// prep points an SDK request at the simulator.
func (e *env) prep(r requests.AcsRequest) {
	r.SetDomain(e.domain)
	r.SetScheme("http")
}

// initReq is a valid InitFaceVerify request.
func (e *env) initReq(order, callback string) *cloudauth.InitFaceVerifyRequest {
	r := cloudauth.CreateInitFaceVerifyRequest()
	e.prep(r)
	r.SceneId = requests.NewInteger64(1000000001)
	r.OuterOrderNo = order
	r.ProductCode = "ID_PRO"
	r.CertType = "IDENTITY_CARD"
	r.CertName = "张三"
	r.CertNo = "11010119900307001X"
	r.MetaInfo = `{"zimVer":"3.0.0","appVersion":"1","bioMetaInfo":"4.1.0:1150,0","ua":"test"}`
	r.CertifyUrlType = "H5"
	r.CallbackUrl = callback
	r.CallbackToken = "cb-token-" + order
	return r
}

func (e *env) describe(t testing.TB, c *cloudauth.Client, certifyID string) *cloudauth.DescribeFaceVerifyResponse {
	t.Helper()
	r := cloudauth.CreateDescribeFaceVerifyRequest()
	e.prep(r)
	r.CertifyId = certifyID
	r.SceneId = requests.Integer(testScene)
	resp, err := c.DescribeFaceVerify(r)
	if err != nil {
		t.Fatalf("DescribeFaceVerify: %v", err)
	}
	return resp
}

// rfc3986 is the test's own percent-encoding, written without net/url.
func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// testStringToSign is an independent implementation of RPC signature v1.
func testStringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = rfc3986(k) + "=" + rfc3986(params[k])
	}
	return method + "&" + rfc3986("/") + "&" + rfc3986(strings.Join(parts, "&"))
}

func testSign(secret, sts string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

var nonceSeq atomic.Int64

// commonParams returns the RPC common parameters as the SDK sends them.
func commonParams(action string, now time.Time) map[string]string {
	return map[string]string{
		"AccessKeyId":      testKeyID,
		"Action":           action,
		"Format":           "JSON",
		"RegionId":         "cn-hangzhou",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   fmt.Sprintf("nonce-%d-%d", time.Now().UnixNano(), nonceSeq.Add(1)),
		"SignatureType":    "",
		"SignatureVersion": "1.0",
		"Timestamp":        now.UTC().Format("2006-01-02T15:04:05Z"),
		"Version":          "2019-03-07",
	}
}

// signInto signs the union of query and body with secret and puts the
// Signature into query.
func signInto(method, secret string, query, body map[string]string) {
	all := map[string]string{}
	for k, v := range query {
		all[k] = v
	}
	for k, v := range body {
		all[k] = v
	}
	query["Signature"] = testSign(secret, testStringToSign(method, all))
}

func encode(m map[string]string) string {
	v := url.Values{}
	for k, x := range m {
		v.Set(k, x)
	}
	return v.Encode()
}

// rpcRequest builds an RPC request for the simulator's handler root.
func rpcRequest(method string, query, body map[string]string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(encode(body))
	}
	r := httptest.NewRequest(method, "/?"+encode(query), rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

// reply is either envelope.
type reply struct {
	RequestID    string         `json:"RequestId"`
	HostID       string         `json:"HostId"`
	Code         string         `json:"Code"`
	Message      string         `json:"Message"`
	Recommend    string         `json:"Recommend"`
	ResultObject map[string]any `json:"ResultObject"`
}

// serve runs req through h and decodes the JSON answer.
func serve(t testing.TB, h http.Handler, req *http.Request) (int, reply) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var rep reply
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("answer is not JSON (%d): %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	return rec.Code, rep
}

// callbackServer records the callbacks it receives and answers the scripted
// statuses in order (200 once the script is used up).
type callbackServer struct {
	*httptest.Server
	mu      sync.Mutex
	script  []int
	queries []url.Values
	methods []string
	times   []time.Time
	got     chan struct{}
}

func newCallbackServer(t testing.TB, script ...int) *callbackServer {
	cs := &callbackServer{script: script, got: make(chan struct{}, 100)}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		n := len(cs.queries)
		cs.queries = append(cs.queries, r.URL.Query())
		cs.methods = append(cs.methods, r.Method)
		cs.times = append(cs.times, time.Now())
		status := http.StatusOK
		if n < len(cs.script) {
			status = cs.script[n]
		}
		cs.mu.Unlock()
		w.WriteHeader(status)
		cs.got <- struct{}{}
	}))
	t.Cleanup(cs.Close)
	return cs
}

// wait waits for n callbacks in total.
func (cs *callbackServer) wait(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for cs.count() < n {
		select {
		case <-cs.got:
		case <-deadline:
			t.Fatalf("got %d callbacks, want %d within %v", cs.count(), n, within)
		}
	}
}

func (cs *callbackServer) count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.queries)
}

func (cs *callbackServer) snapshot() ([]url.Values, []string, []time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]url.Values(nil), cs.queries...), append([]string(nil), cs.methods...), append([]time.Time(nil), cs.times...)
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
