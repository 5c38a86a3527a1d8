package cloudauthsim_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"
)

func TestId2MetaVerify(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, testKeyID, testSecret)
	tests := []struct {
		name, paramType, num, user string
		code, bizCode              string
	}{
		{"match", "normal", "11010119900307001X", "张三", "200", "1"},
		{"mismatch", "normal", "11010119900307001X", "测试不符", "200", "2"},
		{"no record", "normal", "11010119900307001X", "测试无档", "200", "3"},
		{"missing name", "normal", "11010119900307001X", "", "400", ""},
		{"missing number", "normal", "", "张三", "400", ""},
		{"missing param type", "", "11010119900307001X", "张三", "400", ""},
		{"md5 param type", "md5", "11010119900307001X", "张三", "401", ""},
		{"number too long", "normal", strings.Repeat("1", 40), "张三", "401", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cloudauth.CreateId2MetaVerifyRequest()
			e.prep(req)
			req.ParamType, req.IdentifyNum, req.UserName = tt.paramType, tt.num, tt.user
			resp, err := c.Id2MetaVerify(req)
			if err != nil {
				t.Fatalf("Id2MetaVerify: %v", err)
			}
			if resp.Code != tt.code || resp.ResultObject.BizCode != tt.bizCode || resp.RequestId == "" {
				t.Fatalf("got Code %q BizCode %q, want %q %q", resp.Code, resp.ResultObject.BizCode, tt.code, tt.bizCode)
			}
			wantMsg := map[string]string{"200": "success", "400": "参数不能为空", "401": "参数非法"}[tt.code]
			if resp.Message != wantMsg {
				t.Fatalf("Message = %q, want %q", resp.Message, wantMsg)
			}
		})
	}
}

func TestInitFaceVerify(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t)

	t.Run("idempotent on OuterOrderNo", func(t *testing.T) {
		first, err := c.InitFaceVerify(e.initReq("order1", cb.URL))
		if err != nil || first.Code != "200" {
			t.Fatalf("InitFaceVerify: %v %+v", err, first)
		}
		id := first.ResultObject.CertifyId
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("CertifyId %q is not 32 lower-case hex", id)
		}
		if want := e.public + "/verify/" + id; first.ResultObject.CertifyUrl != want {
			t.Fatalf("CertifyUrl = %q, want %q", first.ResultObject.CertifyUrl, want)
		}
		again, err := c.InitFaceVerify(e.initReq("order1", cb.URL))
		if err != nil || again.ResultObject.CertifyId != id || again.ResultObject.CertifyUrl != first.ResultObject.CertifyUrl {
			t.Fatalf("repeat: %v %+v", err, again.ResultObject)
		}
		other, err := c.InitFaceVerify(e.initReq("order2", cb.URL))
		if err != nil || other.ResultObject.CertifyId == id {
			t.Fatalf("other order got the same id: %v", err)
		}
	})

	tests := []struct {
		name string
		mut  func(r *cloudauth.InitFaceVerifyRequest)
		code string
	}{
		{"missing SceneId", func(r *cloudauth.InitFaceVerifyRequest) { r.SceneId = "" }, "400"},
		{"missing OuterOrderNo", func(r *cloudauth.InitFaceVerifyRequest) { r.OuterOrderNo = "" }, "400"},
		{"missing ProductCode", func(r *cloudauth.InitFaceVerifyRequest) { r.ProductCode = "" }, "400"},
		{"missing CertType", func(r *cloudauth.InitFaceVerifyRequest) { r.CertType = "" }, "400"},
		{"missing CertName", func(r *cloudauth.InitFaceVerifyRequest) { r.CertName = "" }, "400"},
		{"missing CertNo", func(r *cloudauth.InitFaceVerifyRequest) { r.CertNo = "" }, "400"},
		{"missing MetaInfo", func(r *cloudauth.InitFaceVerifyRequest) { r.MetaInfo = "" }, "400"},
		{"missing CertifyUrlType", func(r *cloudauth.InitFaceVerifyRequest) { r.CertifyUrlType = "" }, "400"},
		{"missing CallbackUrl", func(r *cloudauth.InitFaceVerifyRequest) { r.CallbackUrl = "" }, "400"},
		{"missing CallbackToken", func(r *cloudauth.InitFaceVerifyRequest) { r.CallbackToken = "" }, "400"},
		{"ProductCode ID_MIN", func(r *cloudauth.InitFaceVerifyRequest) { r.ProductCode = "ID_MIN" }, "401"},
		{"CertType passport", func(r *cloudauth.InitFaceVerifyRequest) { r.CertType = "PASSPORT" }, "401"},
		{"CertifyUrlType APP", func(r *cloudauth.InitFaceVerifyRequest) { r.CertifyUrlType = "APP" }, "401"},
		{"MetaInfo not JSON", func(r *cloudauth.InitFaceVerifyRequest) { r.MetaInfo = "{not json" }, "401"},
		{"CallbackUrl ftp", func(r *cloudauth.InitFaceVerifyRequest) { r.CallbackUrl = "ftp://example.com/cb" }, "401"},
		{"CallbackUrl relative", func(r *cloudauth.InitFaceVerifyRequest) { r.CallbackUrl = "/cb" }, "401"},
		{"CallbackUrl fragment", func(r *cloudauth.InitFaceVerifyRequest) { r.CallbackUrl = "https://example.com/cb#x" }, "401"},
		{"ReturnUrl javascript", func(r *cloudauth.InitFaceVerifyRequest) { r.ReturnUrl = "javascript:alert(1)" }, "401"},
		{"OuterOrderNo too long", func(r *cloudauth.InitFaceVerifyRequest) { r.OuterOrderNo = strings.Repeat("a", 33) }, "401"},
		{"OuterOrderNo hyphen", func(r *cloudauth.InitFaceVerifyRequest) { r.OuterOrderNo = "a-b" }, "401"},
		{"SceneId not a number", func(r *cloudauth.InitFaceVerifyRequest) { r.SceneId = "abc" }, "401"},
		{"residence permit accepted", func(r *cloudauth.InitFaceVerifyRequest) { r.CertType = "RESIDENCE_PERMIT_HMT" }, "200"},
		{"WEB accepted", func(r *cloudauth.InitFaceVerifyRequest) { r.CertifyUrlType = "WEB" }, "200"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.sim.Calls("InitFaceVerify")
			req := e.initReq(fmt.Sprintf("tbl%d", i), cb.URL)
			tt.mut(req)
			resp, err := c.InitFaceVerify(req)
			if err != nil {
				t.Fatalf("InitFaceVerify: %v", err)
			}
			if resp.Code != tt.code {
				t.Fatalf("Code = %q (%s), want %q", resp.Code, resp.Message, tt.code)
			}
			if (tt.code == "200") != (resp.ResultObject.CertifyId != "") {
				t.Fatalf("CertifyId %q with Code %s", resp.ResultObject.CertifyId, resp.Code)
			}
			if e.sim.Calls("InitFaceVerify") != before+1 {
				t.Fatal("call not counted")
			}
		})
	}
}

func TestContrastFaceVerify(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, testKeyID, testSecret)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, certName, picture, productCode string
		code, passed, subCode                string
	}{
		{"pass", "张三", b64("\xff\xd8\xffJPEG face"), "ID_MIN", "200", "T", "200"},
		{"mismatch marker", "张三", b64("\xff\xd8..SANDBOX_MISMATCH.."), "ID_MIN", "200", "F", "204"},
		{"attack marker", "张三", b64("\xff\xd8..SANDBOX_ATTACK.."), "ID_MIN", "200", "F", "205"},
		{"name mismatch", "测试不符", b64("face"), "ID_MIN", "200", "F", "201"},
		{"no record", "测试无档", b64("face"), "ID_MIN", "200", "F", "202"},
		{"missing picture", "张三", "", "ID_MIN", "400", "", ""},
		{"undecodable picture", "张三", "%%%not base64", "ID_MIN", "401", "", ""},
		{"picture too large", "张三", base64.StdEncoding.EncodeToString(make([]byte, 5<<20+1)), "ID_MIN", "401", "", ""},
		{"wrong product", "张三", b64("face"), "ID_PRO", "401", "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cloudauth.CreateContrastFaceVerifyRequest()
			e.prep(req)
			req.SceneId = requests.Integer(testScene)
			req.OuterOrderNo = fmt.Sprintf("contrast%d", i)
			req.ProductCode = tt.productCode
			req.CertType = "IDENTITY_CARD"
			req.CertName = tt.certName
			req.CertNo = "11010119900307001X"
			req.FaceContrastPicture = tt.picture
			resp, err := c.ContrastFaceVerify(req)
			if err != nil {
				t.Fatalf("ContrastFaceVerify: %v", err)
			}
			ro := resp.ResultObject
			if resp.Code != tt.code || ro.Passed != tt.passed || ro.SubCode != tt.subCode {
				t.Fatalf("got %s %s %s, want %s %s %s", resp.Code, ro.Passed, ro.SubCode, tt.code, tt.passed, tt.subCode)
			}
			if tt.code != "200" {
				return
			}
			var mi map[string]any
			if err := json.Unmarshal([]byte(ro.MaterialInfo), &mi); err != nil || mi["facialPictureFront"] == nil {
				t.Fatalf("MaterialInfo %q: %v", ro.MaterialInfo, err)
			}
			if len(ro.CertifyId) != 32 {
				t.Fatalf("CertifyId %q", ro.CertifyId)
			}
			d := e.describe(t, c, ro.CertifyId)
			if d.Code != "200" || d.ResultObject.Passed != tt.passed || d.ResultObject.SubCode != tt.subCode {
				t.Fatalf("Describe of contrast id: %+v", d)
			}
		})
	}
}

func TestDescribeAndDelete(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t)
	init, err := c.InitFaceVerify(e.initReq("orderdel", cb.URL))
	if err != nil {
		t.Fatal(err)
	}
	id := init.ResultObject.CertifyId

	del := func(id, after string) *cloudauth.DeleteFaceVerifyResultResponse {
		r := cloudauth.CreateDeleteFaceVerifyResultRequest()
		e.prep(r)
		r.CertifyId, r.DeleteAfterQuery = id, after
		resp, err := c.DeleteFaceVerifyResult(r)
		if err != nil {
			t.Fatalf("DeleteFaceVerifyResult: %v", err)
		}
		return resp
	}
	t.Run("describe errors", func(t *testing.T) {
		cases := []struct{ name, id, scene, code string }{
			{"unknown id", strings.Repeat("0", 32), testScene, "406"},
			{"other scene", id, "1000000002", "406"},
			{"pending", id, testScene, "424"},
			{"missing id", "", testScene, "400"},
		}
		for _, cc := range cases {
			r := cloudauth.CreateDescribeFaceVerifyRequest()
			e.prep(r)
			r.CertifyId, r.SceneId = cc.id, requests.Integer(cc.scene)
			resp, err := c.DescribeFaceVerify(r)
			if err != nil || resp.Code != cc.code {
				t.Fatalf("%s: %v Code %q, want %s", cc.name, err, resp.Code, cc.code)
			}
		}
	})
	if err := e.sim.Complete(id, "pass"); err != nil {
		t.Fatal(err)
	}
	d := e.describe(t, c, id)
	if d.Code != "200" || d.ResultObject.Passed != "T" || d.ResultObject.SubCode != "200" || d.ResultObject.IdentityInfo != "" {
		t.Fatalf("describe: %+v", d.ResultObject)
	}
	if !strings.Contains(d.GetHttpContentString(), `"IdentityInfo":null`) {
		t.Fatalf("IdentityInfo is not null on the wire: %s", d.GetHttpContentString())
	}
	if resp := del(id, "Y"); resp.Code != "200" || resp.ResultObject.DeleteResult != "Y" {
		t.Fatalf("delete: %+v", resp)
	}
	d = e.describe(t, c, id)
	var mi map[string]any
	if err := json.Unmarshal([]byte(d.ResultObject.MaterialInfo), &mi); err != nil {
		t.Fatal(err)
	}
	if d.ResultObject.Passed != "T" || mi["facialPictureFront"] != nil || mi["faceAttack"] != "F" {
		t.Fatalf("after delete: Passed %q MaterialInfo %s", d.ResultObject.Passed, d.ResultObject.MaterialInfo)
	}
	for _, cc := range []struct{ id, after, code string }{
		{strings.Repeat("a", 32), "N", "406"},
		{id, "maybe", "401"},
		{"", "Y", "400"},
	} {
		if resp := del(cc.id, cc.after); resp.Code != cc.code {
			t.Fatalf("delete(%q,%q) Code %q, want %s", cc.id, cc.after, resp.Code, cc.code)
		}
	}
}

func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, nil)
	cb := newCallbackServer(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(t, testKeyID, testSecret) // one client per goroutine
			for i := 0; i < 10; i++ {
				resp, err := c.InitFaceVerify(e.initReq(fmt.Sprintf("g%di%d", g, i), cb.URL))
				if err != nil || resp.Code != "200" {
					errs <- fmt.Errorf("init: %v %+v", err, resp)
					return
				}
				r := cloudauth.CreateDescribeFaceVerifyRequest()
				e.prep(r)
				r.CertifyId, r.SceneId = resp.ResultObject.CertifyId, requests.Integer(testScene)
				d, err := c.DescribeFaceVerify(r)
				if err != nil || d.Code != "424" {
					errs <- fmt.Errorf("describe: %v %+v", err, d)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.sim.Calls("InitFaceVerify"); n != 80 {
		t.Fatalf("Calls(InitFaceVerify) = %d, want 80", n)
	}
}
