package aliyun

import (
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"
)

func TestScoreFromMaterialInfo(t *testing.T) {
	cases := []struct {
		in     string
		want   float64
		wantOK bool
	}{
		{`{"facialPictureFront":{"qualityScore":88.5,"verifyScore":96.1}}`, 96.1, true},
		{`{"faceAttack":"F","facialPictureFront":{"verifyScore":"72.5"}}`, 72.5, true},
		{`{"facialPictureFront":{"verifyScore":" 80 "}}`, 80, true},
		{`{"verifyScore":55}`, 55, true},
		{`{"verifyScore":"0"}`, 0, true},
		{`{"facialPictureFront":"{\"verifyScore\":91.5}"}`, 91.5, true},                   // nested as a string
		{`{"facialPictureFront":{"qualityScore":88.5},"verifyScore":44}`, 44, true},       // fallback to top level
		{`{"facialPictureFront":{"verifyScore":"n/a"},"verifyScore":"61.5"}`, 61.5, true}, // bad front, good top
		{` {"verifyScore":1e1} `, 10, true},
		{`{"facialPictureFront":{"verifyScore":101}}`, 0, false},
		{`{"facialPictureFront":{"verifyScore":-1}}`, 0, false},
		{`{"verifyScore":"NaN"}`, 0, false},
		{`{"verifyScore":"Inf"}`, 0, false},
		{`{"verifyScore":"0x10"}`, 0, false},
		{`{"verifyScore":true}`, 0, false},
		{`{"verifyScore":null}`, 0, false},
		{`{"verifyScore":[1]}`, 0, false},
		{`{"facialPictureFront":[{"verifyScore":90}]}`, 0, false},
		{`{"faceAttack":"F","faceOcclusion":"F"}`, 0, false}, // after DeleteFaceVerifyResult
		{`[]`, 0, false},
		{`"text"`, 0, false},
		{`null`, 0, false},
		{``, 0, false},
		{`{`, 0, false},
		{`{"verifyScore":9}garbage`, 0, false},
	}
	for _, c := range cases {
		got, ok := scoreFromMaterialInfo(c.in)
		if got != c.want || ok != c.wantOK {
			t.Errorf("scoreFromMaterialInfo(%s) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.wantOK)
		}
	}
}

func TestScoreFromMaterialInfoTooLarge(t *testing.T) {
	big := `{"verifyScore":90,"pad":"` + strings.Repeat("x", maxMaterialInfo) + `"}`
	if _, ok := scoreFromMaterialInfo(big); ok {
		t.Error("a MaterialInfo over 1 MiB was parsed")
	}
}

func TestFaceResult(t *testing.T) {
	cases := []struct {
		ro         cloudauth.ResultObject
		passed     bool
		score      float64
		reason     string
		wantSubTxt string
	}{
		{cloudauth.ResultObject{Passed: "T", SubCode: "200", MaterialInfo: `{"facialPictureFront":{"verifyScore":96.1}}`}, true, 96.1, "", "200"},
		{cloudauth.ResultObject{Passed: "F", SubCode: "204", MaterialInfo: `{"facialPictureFront":{"verifyScore":30.2}}`}, false, 30.2, "FACE_MISMATCH", "204"},
		{cloudauth.ResultObject{Passed: "F", SubCode: "205"}, false, 0, "LIVENESS_ATTACK", "205"},
		{cloudauth.ResultObject{Passed: "F", SubCode: "999"}, false, 0, "PROVIDER_REJECTED", "999"},
		{cloudauth.ResultObject{Passed: "F", SubCode: "200"}, false, 0, "PROVIDER_REJECTED", "200"},
		{cloudauth.ResultObject{Passed: "T", SubCode: "200", VerifyScore: 88}, true, 88, "", "200"},
		{cloudauth.ResultObject{Passed: "t", SubCode: "200"}, false, 0, "PROVIDER_REJECTED", "200"},
	}
	for _, c := range cases {
		r := faceResult(c.ro)
		if r.Passed != c.passed || r.Score != c.score || r.Reason != c.reason || r.SubCode != c.wantSubTxt {
			t.Errorf("faceResult(%+v) = %+v", c.ro, r)
		}
	}
}

// FuzzMaterialInfo: parsing outside input never panics and only ever
// yields a score in 0–100.
func FuzzMaterialInfo(f *testing.F) {
	for _, s := range []string{
		`{"faceAttack":"F","faceOcclusion":"F","facialPictureFront":{"qualityScore":88.5,"verifyScore":96.1}}`,
		`{"facialPictureFront":{"verifyScore":"72.5"}}`,
		`{"facialPictureFront":"{\"verifyScore\":91.5}"}`,
		`{"verifyScore":55}`,
		`{"verifyScore":"1e400"}`,
		`[{"verifyScore":1}]`,
		`{"facialPictureFront":{"verifyScore":{"a":[[[[[]]]]]}}}`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := scoreFromMaterialInfo(s)
		if ok && !validScore(v) {
			t.Fatalf("score %v out of range for %q", v, s)
		}
		if !ok && v != 0 {
			t.Fatalf("no score but value %v for %q", v, s)
		}
	})
}
