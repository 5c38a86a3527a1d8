package cloudauthsim_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/utils"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"
)

// sdkStringToSign is how the SDK computes StringToSign
// (sdk/auth/rpc_signature_composer.go), built from its exported utils.
func sdkStringToSign(method string, params map[string]string) string {
	s := utils.GetUrlFormedMap(params)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	return method + "&%2F&" + url.QueryEscape(s)
}

func TestTestSignerMatchesKnownVectors(t *testing.T) {
	// Alibaba Cloud's documented example (ECS DescribeRegions).
	doc := map[string]string{
		"AccessKeyId":      "testid",
		"Action":           "DescribeRegions",
		"Format":           "XML",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0",
		"Timestamp":        "2016-02-23T12:46:24Z",
		"Version":          "2014-05-26",
	}
	const wantSTS = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
		"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
		"%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := testStringToSign("GET", doc); got != wantSTS {
		t.Fatalf("test signer StringToSign:\n got %s\nwant %s", got, wantSTS)
	}
	if got := testSign("testsecret", wantSTS); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("test signer signature = %s", got)
	}

	// A vector with the awkward characters, compared with the SDK's utils.
	params := commonParams("Id2MetaVerify", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	params["UserName"] = "张 三*~+/=&?"
	params["MetaInfo"] = `{"a":"b c","d":[1,2]}`
	params["IdentifyNum"] = "11010119900307001X"
	for _, method := range []string{"GET", "POST"} {
		ours, sdks := testStringToSign(method, params), sdkStringToSign(method, params)
		if ours != sdks {
			t.Fatalf("%s: StringToSign differs from the SDK's:\n ours %s\n sdk  %s", method, ours, sdks)
		}
		if a, b := testSign(testSecret, ours), utils.ShaHmac1(sdks, testSecret+"&"); a != b {
			t.Fatalf("%s: signature %s, SDK %s", method, a, b)
		}
	}
}

func TestSDKAuthenticationFailures(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name       string
		id, secret string
		status     int
		code       string
		message    string
	}{
		{"wrong secret", testKeyID, "not-the-secret", 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."},
		{"unknown key id", "LTAIunknown", testSecret, 404, "InvalidAccessKeyId.NotFound", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cloudauth.CreateId2MetaVerifyRequest()
			e.prep(req)
			req.ParamType, req.IdentifyNum, req.UserName = "normal", "11010119900307001X", "张三"
			_, err := e.client(t, tt.id, tt.secret).Id2MetaVerify(req)
			var se *sdkerrors.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *errors.ServerError", err)
			}
			if se.HttpStatus() != tt.status || se.ErrorCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", se.HttpStatus(), se.ErrorCode(), tt.status, tt.code)
			}
			if tt.message != "" && se.Message() != tt.message {
				t.Fatalf("Message = %q", se.Message())
			}
			if se.HostId() != "cloudauth.aliyuncs.com" || len(se.RequestId()) != 36 {
				t.Fatalf("envelope HostId %q RequestId %q", se.HostId(), se.RequestId())
			}
		})
	}
	if n := e.sim.Calls("Id2MetaVerify"); n != 0 {
		t.Fatalf("Calls = %d after refused calls, want 0", n)
	}
}

func TestHandBuiltRequests(t *testing.T) {
	e := newEnv(t, nil)
	biz := map[string]string{"ParamType": "normal", "IdentifyNum": "11010119900307001X", "UserName": "张三"}
	now := time.Now()
	mk := func(mut func(q map[string]string)) *http.Request {
		q := commonParams("Id2MetaVerify", now)
		for k, v := range biz {
			q[k] = v
		}
		if mut != nil {
			mut(q)
		}
		signInto("POST", testSecret, q, nil)
		return rpcRequest("POST", q, nil)
	}
	reused := mk(nil)
	reusedAgain := reused.Clone(reused.Context())
	if _, rep := serve(t, e.sim, reused); rep.Code != "200" {
		t.Fatalf("first use of nonce: %+v", rep)
	}

	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"stale timestamp", mk(func(q map[string]string) {
			q["Timestamp"] = now.Add(-16 * time.Minute).UTC().Format("2006-01-02T15:04:05Z")
		}), 400, "InvalidTimeStamp.Expired"},
		{"future timestamp", mk(func(q map[string]string) {
			q["Timestamp"] = now.Add(16 * time.Minute).UTC().Format("2006-01-02T15:04:05Z")
		}), 400, "InvalidTimeStamp.Expired"},
		{"unparsable timestamp", mk(func(q map[string]string) { q["Timestamp"] = "2024-01-02 03:04:05" }), 400, "InvalidTimeStamp.Format"},
		{"reused nonce", reusedAgain, 400, "SignatureNonceUsed"},
		{"missing nonce", mk(func(q map[string]string) { delete(q, "SignatureNonce") }), 400, "MissingParameter"},
		{"missing timestamp", mk(func(q map[string]string) { delete(q, "Timestamp") }), 400, "MissingParameter"},
		{"format XML", mk(func(q map[string]string) { q["Format"] = "XML" }), 400, "InvalidParameter"},
		{"wrong version", mk(func(q map[string]string) { q["Version"] = "2020-11-12" }), 400, "InvalidVersion"},
		{"wrong method", mk(func(q map[string]string) { q["SignatureMethod"] = "HMAC-SHA256" }), 400, "InvalidSignatureMethod"},
		{"unknown action", mk(func(q map[string]string) { q["Action"] = "VerifyMaterial2" }), 404, "InvalidAction.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, rep := serve(t, e.sim, tt.req)
			if status != tt.status || rep.Code != tt.code {
				t.Fatalf("got %d %+v, want %d %s", status, rep, tt.status, tt.code)
			}
			if rep.HostID != "cloudauth.aliyuncs.com" || rep.RequestID == "" || rep.Message == "" {
				t.Fatalf("bad envelope %+v", rep)
			}
		})
	}
	if !strings.Contains(mustMessage(t, e, mk(func(q map[string]string) { delete(q, "SignatureNonce") })), `"SignatureNonce"`) {
		t.Fatal("MissingParameter message does not name SignatureNonce")
	}
	if n := e.sim.Calls("Id2MetaVerify"); n != 1 {
		t.Fatalf("Calls = %d, want 1", n)
	}
}

func mustMessage(t *testing.T, e *env, r *http.Request) string {
	_, rep := serve(t, e.sim, r)
	return rep.Message
}

func TestParametersFromQueryAndBody(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	tests := []struct {
		name    string
		split   func(all map[string]string) (q, b map[string]string)
		tamper  func(q, b map[string]string)
		status  int
		code    string
		bizCode string
	}{
		{"biz params in body", func(all map[string]string) (map[string]string, map[string]string) {
			return pick(all, false, "UserName", "IdentifyNum", "ParamType"), pick(all, true, "UserName", "IdentifyNum", "ParamType")
		}, nil, 200, "200", "2"},
		{"everything in body", func(all map[string]string) (map[string]string, map[string]string) {
			return map[string]string{}, all
		}, nil, 200, "200", "2"},
		{"everything in query", func(all map[string]string) (map[string]string, map[string]string) {
			return all, nil
		}, nil, 200, "200", "2"},
		{"tampered body param", func(all map[string]string) (map[string]string, map[string]string) {
			return pick(all, false, "UserName"), pick(all, true, "UserName")
		}, func(q, b map[string]string) { b["UserName"] = "李四" }, 400, "SignatureDoesNotMatch", ""},
		{"param moved to query and duplicated in body", func(all map[string]string) (map[string]string, map[string]string) {
			return all, map[string]string{"UserName": all["UserName"]}
		}, nil, 400, "InvalidParameter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := commonParams("Id2MetaVerify", now)
			all["ParamType"], all["IdentifyNum"], all["UserName"] = "normal", "11010119900307001X", "测试不符"
			signInto("POST", testSecret, all, nil) // Signature computed over everything
			q, b := tt.split(all)
			if tt.tamper != nil {
				tt.tamper(q, b)
			}
			status, rep := serve(t, e.sim, rpcRequest("POST", q, b))
			if status != tt.status || rep.Code != tt.code {
				t.Fatalf("got %d %+v, want %d %s", status, rep, tt.status, tt.code)
			}
			if tt.bizCode != "" && rep.ResultObject["BizCode"] != tt.bizCode {
				t.Fatalf("BizCode = %v, want %s", rep.ResultObject["BizCode"], tt.bizCode)
			}
		})
	}
}

// pick returns the entries of m whose key is (in=true) or is not (in=false)
// one of keys.
func pick(m map[string]string, in bool, keys ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		found := false
		for _, x := range keys {
			found = found || x == k
		}
		if found == in {
			out[k] = v
		}
	}
	return out
}

func TestGatewayErrors(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("body too large", func(t *testing.T) {
		q := commonParams("ContrastFaceVerify", time.Now())
		body := strings.NewReader("FaceContrastPicture=" + strings.Repeat("A", 9<<20))
		r, _ := http.NewRequest("POST", "/?"+encode(q), body)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		status, rep := serve(t, e.sim, r)
		if status != http.StatusRequestEntityTooLarge || rep.Code == "" {
			t.Fatalf("got %d %+v", status, rep)
		}
	})
	t.Run("method", func(t *testing.T) {
		status, rep := serve(t, e.sim, rpcRequest("PUT", commonParams("Id2MetaVerify", time.Now()), nil))
		if status != http.StatusMethodNotAllowed || rep.Code != "UnsupportedHTTPMethod" {
			t.Fatalf("got %d %+v", status, rep)
		}
	})
	t.Run("malformed query", func(t *testing.T) {
		r := newRawRequest("GET", "/?a=%zz")
		status, rep := serve(t, e.sim, r)
		if status != 400 || rep.Code != "InvalidParameter" {
			t.Fatalf("got %d %+v", status, rep)
		}
	})
}

func newRawRequest(method, target string) *http.Request {
	r, err := http.NewRequest(method, target, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestFailNext(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, testKeyID, testSecret)
	call := func() error {
		req := cloudauth.CreateId2MetaVerifyRequest()
		e.prep(req)
		req.ParamType, req.IdentifyNum, req.UserName = "normal", "11010119900307001X", "张三"
		resp, err := c.Id2MetaVerify(req)
		if err == nil && (resp.Code != "200" || resp.ResultObject.BizCode != "1") {
			t.Fatalf("unexpected answer %+v", resp)
		}
		return err
	}
	tests := []struct {
		status int
		n      int
		code   string
	}{
		{503, 1, "ServiceUnavailable"},
		{400, 2, "Throttling.User"},
		{500, 1, "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			before := e.sim.Calls("Id2MetaVerify")
			e.sim.FailNext("Id2MetaVerify", tt.n, tt.status)
			for i := 0; i < tt.n; i++ {
				var se *sdkerrors.ServerError
				if err := call(); !errors.As(err, &se) || se.HttpStatus() != tt.status || se.ErrorCode() != tt.code {
					t.Fatalf("call %d: err = %v", i, err)
				}
			}
			if err := call(); err != nil {
				t.Fatalf("after the failures: %v", err)
			}
			if got := e.sim.Calls("Id2MetaVerify") - before; got != 1 {
				t.Fatalf("Calls grew by %d, want 1", got)
			}
		})
	}
	t.Run("other actions unaffected and clear", func(t *testing.T) {
		e.sim.FailNext("InitFaceVerify", 5, 503)
		if err := call(); err != nil {
			t.Fatal(err)
		}
		e.sim.FailNext("InitFaceVerify", 0, 503)
		cb := newCallbackServer(t)
		if _, err := c.InitFaceVerify(e.initReq("order0clear", cb.URL)); err != nil {
			t.Fatalf("after clearing: %v", err)
		}
	})
}
