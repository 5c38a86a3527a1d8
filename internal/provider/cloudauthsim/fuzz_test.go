package cloudauthsim_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/provider/cloudauthsim"
)

func newBareSim(tb testing.TB) *cloudauthsim.Simulator {
	tb.Helper()
	sim, err := cloudauthsim.New(cloudauthsim.Config{
		AccessKeyID:     testKeyID,
		AccessKeySecret: testSecret,
		PublicURL:       "http://127.0.0.1:8001/sandbox/cloudauth",
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sim.Close() })
	return sim
}

// fuzzSign signs a fuzzed request the way a client holding the secret
// would: Timestamp "NOW" and SignatureNonce "NONCE" are replaced by fresh
// values, then Signature is computed over query+body. It reports false when
// the input cannot be signed (malformed or repeated parameters).
func fuzzSign(method, rawQuery, body string) (string, string, bool) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return rawQuery, body, false
	}
	b, err := url.ParseQuery(body)
	if err != nil {
		return rawQuery, body, false
	}
	all := map[string]string{}
	for _, vals := range []url.Values{q, b} {
		for k, vs := range vals {
			if _, dup := all[k]; dup || len(vs) != 1 {
				return rawQuery, body, false
			}
			all[k] = vs[0]
		}
	}
	fresh := func(k, v string) {
		if q.Has(k) {
			q.Set(k, v)
		} else {
			b.Set(k, v)
		}
		all[k] = v
	}
	if all["Timestamp"] == "NOW" {
		fresh("Timestamp", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
	}
	if all["SignatureNonce"] == "NONCE" {
		fresh("SignatureNonce", fmt.Sprintf("fz%d%d", time.Now().UnixNano(), nonceSeq.Add(1)))
	}
	b.Del("Signature")
	delete(all, "Signature")
	q.Set("Signature", testSign(testSecret, testStringToSign(method, all)))
	return q.Encode(), b.Encode(), true
}

func seedQuery(action string, extra map[string]string) string {
	p := commonParams(action, time.Now())
	p["Timestamp"], p["SignatureNonce"] = "NOW", "NONCE"
	for k, v := range extra {
		p[k] = v
	}
	return encode(p)
}

func FuzzSignedRequest(f *testing.F) {
	sim := newBareSim(f)
	pic := base64.StdEncoding.EncodeToString([]byte("face SANDBOX_ATTACK"))
	f.Add("POST", seedQuery("Id2MetaVerify", nil), "ParamType=normal&IdentifyNum=11010119900307001X&UserName=%E6%B5%8B", true)
	f.Add("POST", seedQuery("InitFaceVerify", map[string]string{
		"SceneId": testScene, "OuterOrderNo": "fz1", "ProductCode": "ID_PRO", "CertType": "IDENTITY_CARD",
		"CertName": "张三", "CertNo": "11010119900307001X", "MetaInfo": "{}", "CertifyUrlType": "H5",
		"CallbackUrl": "http://127.0.0.1:1/cb?x=1", "CallbackToken": "t", "ReturnUrl": "https://a.example/#r",
	}), "", true)
	f.Add("GET", seedQuery("DescribeFaceVerify", map[string]string{"CertifyId": strings.Repeat("a", 32), "SceneId": testScene}), "", true)
	f.Add("POST", seedQuery("ContrastFaceVerify", nil), "SceneId=1&OuterOrderNo=o&ProductCode=ID_MIN&CertName=a&CertNo=1&CertType=IDENTITY_CARD&FaceContrastPicture="+url.QueryEscape(pic), true)
	f.Add("POST", seedQuery("DeleteFaceVerifyResult", map[string]string{"CertifyId": "x", "DeleteAfterQuery": "Y"}), "", true)
	f.Add("POST", seedQuery("NoSuchAction", nil), "", true)
	f.Add("POST", seedQuery("Id2MetaVerify", map[string]string{"Format": "XML"}), "", true)
	f.Add("POST", seedQuery("Id2MetaVerify", map[string]string{"Timestamp": "2024-01-01T00:00:00Z"}), "", true)
	f.Add("POST", seedQuery("Id2MetaVerify", nil)+"&Signature=AAAA", "UserName=x", false)
	f.Add("GET", "a=%zz&b", "", false)
	f.Add("POST", "", "a=1;b=2", false)
	f.Add("DELETE", "Action=Id2MetaVerify", "", false)
	f.Add("POST", "Signature=x&Signature=y", "Signature=z", false)

	f.Fuzz(func(t *testing.T, method, rawQuery, body string, signIt bool) {
		signed := false
		if signIt {
			rawQuery, body, signed = fuzzSign(method, rawQuery, body)
		}
		req := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: "/", RawQuery: rawQuery},
			Header:        http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Host:          "cloudauth.aliyuncs.com",
		}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %s ?%q body %q: %s", rec.Code, method, rawQuery, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
		if !signed && rec.Code == http.StatusOK {
			t.Fatalf("unsigned request succeeded: %s ?%q body %q: %s", method, rawQuery, body, rec.Body)
		}
	})
}

func BenchmarkDescribeFaceVerify(b *testing.B) {
	e := newEnv(b, nil)
	c := e.client(b, testKeyID, testSecret)
	cb := newCallbackServer(b)
	init, err := c.InitFaceVerify(e.initReq("bench", cb.URL))
	if err != nil {
		b.Fatal(err)
	}
	id := init.ResultObject.CertifyId
	if err := e.sim.Complete(id, "pass"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q := commonParams("DescribeFaceVerify", time.Now())
		q["CertifyId"], q["SceneId"] = id, testScene
		signInto("POST", testSecret, q, nil)
		rec := httptest.NewRecorder()
		e.sim.ServeHTTP(rec, rpcRequest("POST", q, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"Passed":"T"`) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
