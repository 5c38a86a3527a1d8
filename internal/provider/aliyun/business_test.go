package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/provider/providertest"
	"github.com/realname/realname/internal/realname"
)

// answer is one canned HTTP answer of fakeCloudauth.
type answer struct {
	status int
	body   string
}

// fakeCloudauth answers the given bodies in order (the last one repeats)
// without checking signatures; it reports how many requests it got.
func fakeCloudauth(t *testing.T, answers ...answer) (*Provider, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answers[min(n, len(answers)-1)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	p, err := New(Config{
		AccessKeyID: testKeyID, AccessKeySecret: testSecret, SceneID: testScene,
		Endpoint: strings.TrimPrefix(srv.URL, "http://") + "/prefix", Scheme: "http",
	})
	if err != nil {
		t.Fatal(err)
	}
	p.backoffBase, p.backoffCap = time.Millisecond, 2*time.Millisecond
	return p, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

const ref32 = "0123456789abcdef0123456789abcdef"

func ok200(body string) answer { return answer{http.StatusOK, body} }

func TestBusinessCode500Retried(t *testing.T) {
	p, hits := fakeCloudauth(t,
		ok200(`{"RequestId":"A","Code":"500","Message":"系统错误"}`),
		ok200(`{"RequestId":"B","Code":"500","Message":"系统错误"}`),
		ok200(`{"RequestId":"C","Code":"200","Message":"success","ResultObject":{"Passed":"T","SubCode":"200",
			"MaterialInfo":"{\"facialPictureFront\":{\"verifyScore\":\"97.25\"}}"}}`),
	)
	res, err := p.FaceCheckResult(t.Context(), ref32)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.SubCode != "200" || res.Score != 97.25 || res.Reason != "" {
		t.Errorf("result = %+v", res)
	}
	if hits() != 3 {
		t.Errorf("hits = %d, want 3", hits())
	}
}

func TestBusinessAnswers(t *testing.T) {
	cases := []struct {
		name string
		body string
		call func(*Provider) error
		want error
		text string // expected in the error
	}{
		{"describe_424", `{"Code":"424","Message":"身份认证记录不存在"}`, describe, realname.ErrNotFinished, "424"},
		{"describe_406", `{"Code":"406","Message":"无效的CertifyId"}`, describe, realname.ErrUnknownSession, "406"},
		{"describe_400", `{"Code":"400","Message":"参数不能为空"}`, describe, realname.ErrRejected, "参数不能为空"},
		{"describe_401", `{"Code":"401","Message":"参数非法"}`, describe, realname.ErrRejected, "参数非法"},
		{"describe_other", `{"Code":"417","Message":"业务异常"}`, describe, realname.ErrRejected, "417"},
		{"id2meta_400", `{"Code":"400","Message":"参数不能为空"}`, id2meta, realname.ErrRejected, "400"},
		{"id2meta_424_is_not_not_finished", `{"Code":"424","Message":"x"}`, id2meta, realname.ErrRejected, "424"},
		{"id2meta_bizcode_unknown", `{"Code":"200","ResultObject":{"BizCode":"9"}}`, id2meta, realname.ErrRejected, "BizCode 9"},
		{"init_without_url", `{"Code":"200","ResultObject":{"CertifyId":"abc"}}`, initFace, realname.ErrRejected, "CertifyUrl"},
		{"init_401", `{"Code":"401","Message":"参数非法"}`, initFace, realname.ErrRejected, "401"},
		{"delete_406", `{"Code":"406","Message":"无效的CertifyId"}`, deleteResult, realname.ErrUnknownSession, "406"},
		{"delete_failed", `{"Code":"200","ResultObject":{"DeleteResult":"N"}}`, deleteResult, realname.ErrProviderUnavailable, "deletion"},
		{"compare_401", `{"Code":"401","Message":"参数非法"}`, compare, realname.ErrRejected, "401"},
		{"message_control_chars", "{\"Code\":\"401\",\"Message\":\"bad\\nINFO forged\"}", describe, realname.ErrRejected, "bad INFO forged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, hits := fakeCloudauth(t, ok200(c.body))
			err := c.call(p)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("err = %q, want %q in it", err, c.text)
			}
			if hits() != 1 {
				t.Errorf("hits = %d, want 1 (business answers are not retried)", hits())
			}
		})
	}
}

func TestGatewayErrors(t *testing.T) {
	// The gateway echoes the string to sign, which holds the parameters.
	echo := `{"Code":"%s","Message":"server string to sign is:POST&%%2F&CertName%%3D` +
		providertest.DefaultName + `%%26CertNo%%3D` + providertest.DefaultNumber + `"}`
	cases := []struct {
		name   string
		status int
		code   string
		want   error
		hits   int
	}{
		{"signature", 400, "SignatureDoesNotMatch", realname.ErrProviderUnavailable, 1},
		{"timestamp", 400, "InvalidTimeStamp.Expired", realname.ErrProviderUnavailable, 1},
		{"key_inactive", 403, "InvalidAccessKeyId.Inactive", realname.ErrProviderUnavailable, 1},
		{"missing_parameter", 400, "MissingParameter", realname.ErrRejected, 1},
		{"throttling_400", 400, "Throttling.User", realname.ErrProviderUnavailable, DefaultMaxRetries + 1},
		{"service_unavailable", 503, "ServiceUnavailable", realname.ErrProviderUnavailable, DefaultMaxRetries + 1},
		{"bad_gateway_html", 502, "", realname.ErrProviderUnavailable, DefaultMaxRetries + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(echo, c.code)
			if c.code == "" {
				body = "<html>502 Bad Gateway</html>"
			}
			p, hits := fakeCloudauth(t, answer{c.status, body})
			_, err := p.StartFaceCheck(t.Context(), realname.FaceCheckRequest{
				OrderNo: "vf_x", Identity: testIdentity, CallbackURL: "https://cb.example.com/", CallbackToken: "t",
			})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if hits() != c.hits {
				t.Errorf("hits = %d, want %d", hits(), c.hits)
			}
			assertNoSecrets(t, "error", err.Error(), testIdentity.Name, testIdentity.Number, testSecret)
		})
	}
}

func TestUndecodableAnswerRetried(t *testing.T) {
	p, hits := fakeCloudauth(t, ok200(`{"Code":`), ok200(`{"Code":"200","ResultObject":{"BizCode":"1"}}`))
	got, err := p.CheckIdentity(t.Context(), testIdentity)
	if err != nil || got != realname.IdentityMatches {
		t.Fatalf("CheckIdentity = %v, %v", got, err)
	}
	if hits() != 2 {
		t.Errorf("hits = %d, want 2", hits())
	}
}

func TestLocalRejectionsMakeNoCall(t *testing.T) {
	p, hits := fakeCloudauth(t, ok200(`{"Code":"200"}`))
	ctx := t.Context()
	checks := map[string]error{
		"picture too large": func() error {
			_, err := p.CompareFace(ctx, realname.CompareRequest{OrderNo: "o", Identity: testIdentity,
				Picture: make([]byte, MaxPictureBytes+1)})
			return err
		}(),
		"empty picture": func() error {
			_, err := p.CompareFace(ctx, realname.CompareRequest{OrderNo: "o", Identity: testIdentity})
			return err
		}(),
		"bad URLType": func() error {
			_, err := p.StartFaceCheck(ctx, realname.FaceCheckRequest{OrderNo: "o", Identity: testIdentity, URLType: "APP"})
			return err
		}(),
		"no name": func() error {
			_, err := p.CheckIdentity(ctx, realname.IdentityInput{Number: "1"})
			return err
		}(),
	}
	for name, err := range checks {
		if !errors.Is(err, realname.ErrRejected) {
			t.Errorf("%s: err = %v, want ErrRejected", name, err)
		}
	}
	for _, ref := range []string{"", "with space", strings.Repeat("a", 200)} {
		if _, err := p.FaceCheckResult(ctx, ref); !errors.Is(err, realname.ErrUnknownSession) {
			t.Errorf("FaceCheckResult(%q): err = %v, want ErrUnknownSession", ref, err)
		}
	}
	if hits() != 0 {
		t.Errorf("hits = %d, want 0", hits())
	}
}

func describe(p *Provider) error {
	_, err := p.FaceCheckResult(context.Background(), ref32)
	return err
}

func id2meta(p *Provider) error {
	_, err := p.CheckIdentity(context.Background(), testIdentity)
	return err
}

func initFace(p *Provider) error {
	_, err := p.StartFaceCheck(context.Background(), realname.FaceCheckRequest{
		OrderNo: "vf_1", Identity: testIdentity, CallbackURL: "https://cb.example.com/", CallbackToken: "t"})
	return err
}

func deleteResult(p *Provider) error { return p.DeleteResult(context.Background(), ref32) }

func compare(p *Provider) error {
	_, err := p.CompareFace(context.Background(), realname.CompareRequest{
		OrderNo: "fc_1", Identity: testIdentity, Picture: []byte("face")})
	return err
}
