package aliyun

import (
	"context"
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"

	"github.com/realname/realname/internal/realname"
)

// Cloudauth products and DescribeFaceVerify's business Codes.
const (
	productHostedFace = "ID_PRO" // hosted H5/WEB face check (金融级实人认证)
	codeNotFinished   = "424"    // no result yet (pending, abandoned, expired)
	codeUnknownCertID = "406"    // CertifyId unknown (or of another scene)
	passedTrue        = "T"
	maxRefLen         = 128
)

// defaultMetaInfo is a minimal, valid MetaInfo for when the page sent none
// (Cloudauth requires the parameter for H5/WEB checks).
const defaultMetaInfo = `{"zimVer":"3.0.0","appVersion":"1","bioMetaInfo":"4.1.0:1,0",` +
	`"appName":"realname","deviceType":"h5","osVersion":"web","apdidToken":"","deviceModel":"web"}`

// StartFaceCheck opens a hosted face check with InitFaceVerify (product
// ID_PRO). The OuterOrderNo derives from req.OrderNo (see outerOrderNo), so
// a repeat returns the same CertifyId.
func (p *Provider) StartFaceCheck(ctx context.Context, req realname.FaceCheckRequest) (realname.FaceCheckSession, error) {
	const action = "InitFaceVerify"
	urlType := req.URLType
	if urlType == "" {
		urlType = "H5"
	}
	switch {
	case urlType != "H5" && urlType != "WEB":
		return realname.FaceCheckSession{}, rejected(action, "local", "URLType must be H5 or WEB")
	case req.OrderNo == "":
		return realname.FaceCheckSession{}, rejected(action, "local", "OrderNo is required")
	case req.Identity.Name == "" || req.Identity.Number == "":
		return realname.FaceCheckSession{}, rejected(action, "local", "name and number are required")
	}
	meta := req.MetaInfo
	if meta == "" {
		meta = defaultMetaInfo
	}
	resp, err := call(ctx, p, action,
		func(c *cloudauth.Client, prepare prepareFunc) (*cloudauth.InitFaceVerifyResponse, error) {
			r := cloudauth.CreateInitFaceVerifyRequest()
			prepare(r.RpcRequest)
			r.SceneId = p.sceneID()
			r.OuterOrderNo = outerOrderNo(req.OrderNo)
			r.ProductCode = productHostedFace
			r.CertType = certType(req.Identity)
			r.CertName = req.Identity.Name
			r.CertNo = req.Identity.Number
			r.CertifyUrlType = urlType
			r.CallbackUrl = req.CallbackURL
			r.CallbackToken = req.CallbackToken
			r.ReturnUrl = req.ReturnURL
			r.MetaInfo = meta
			return c.InitFaceVerify(r)
		},
		func(r *cloudauth.InitFaceVerifyResponse) string { return r.Code })
	if err != nil {
		return realname.FaceCheckSession{}, err
	}
	if resp.Code != codeOK {
		return realname.FaceCheckSession{}, rejected(action, resp.Code, resp.Message)
	}
	s := realname.FaceCheckSession{Ref: resp.ResultObject.CertifyId, VerifyURL: resp.ResultObject.CertifyUrl}
	if s.Ref == "" || s.VerifyURL == "" {
		return realname.FaceCheckSession{}, rejected(action, resp.Code, "answer without CertifyId or CertifyUrl")
	}
	return s, nil
}

// FaceCheckResult fetches a hosted check's verdict with DescribeFaceVerify.
// Code 424 (not finished, abandoned or expired) is ErrNotFinished, 406
// ErrUnknownSession.
func (p *Provider) FaceCheckResult(ctx context.Context, ref string) (realname.FaceResult, error) {
	const action = "DescribeFaceVerify"
	if !validRef(ref) {
		return realname.FaceResult{}, fmt.Errorf("%w: aliyun %s: malformed CertifyId", realname.ErrUnknownSession, action)
	}
	resp, err := call(ctx, p, action,
		func(c *cloudauth.Client, prepare prepareFunc) (*cloudauth.DescribeFaceVerifyResponse, error) {
			r := cloudauth.CreateDescribeFaceVerifyRequest()
			prepare(r.RpcRequest)
			r.SceneId = p.sceneID()
			r.CertifyId = ref
			return c.DescribeFaceVerify(r)
		},
		func(r *cloudauth.DescribeFaceVerifyResponse) string { return r.Code })
	if err != nil {
		return realname.FaceResult{}, err
	}
	switch resp.Code {
	case codeOK:
		return faceResult(resp.ResultObject), nil
	case codeNotFinished:
		return realname.FaceResult{}, fmt.Errorf("%w: aliyun %s: code %s", realname.ErrNotFinished, action, codeNotFinished)
	case codeUnknownCertID:
		return realname.FaceResult{}, fmt.Errorf("%w: aliyun %s: code %s", realname.ErrUnknownSession, action, codeUnknownCertID)
	default:
		return realname.FaceResult{}, rejected(action, resp.Code, resp.Message)
	}
}

// DeleteResult asks Cloudauth to delete its copy of a check (pictures
// included) with DeleteFaceVerifyResult, DeleteAfterQuery "Y": the verdict
// stays queryable once more. Code 406 is ErrUnknownSession.
func (p *Provider) DeleteResult(ctx context.Context, ref string) error {
	const action = "DeleteFaceVerifyResult"
	if !validRef(ref) {
		return fmt.Errorf("%w: aliyun %s: malformed CertifyId", realname.ErrUnknownSession, action)
	}
	resp, err := call(ctx, p, action,
		func(c *cloudauth.Client, prepare prepareFunc) (*cloudauth.DeleteFaceVerifyResultResponse, error) {
			r := cloudauth.CreateDeleteFaceVerifyResultRequest()
			prepare(r.RpcRequest)
			r.CertifyId = ref
			r.DeleteAfterQuery = "Y"
			return c.DeleteFaceVerifyResult(r)
		},
		func(r *cloudauth.DeleteFaceVerifyResultResponse) string { return r.Code })
	if err != nil {
		return err
	}
	switch resp.Code {
	case codeOK:
		if resp.ResultObject.DeleteResult == "N" {
			return unavailable(action, "Cloudauth reports the deletion failed")
		}
		return nil
	case codeUnknownCertID:
		return fmt.Errorf("%w: aliyun %s: code %s", realname.ErrUnknownSession, action, codeUnknownCertID)
	default:
		return rejected(action, resp.Code, resp.Message)
	}
}

// faceResult turns DescribeFaceVerify's or ContrastFaceVerify's
// ResultObject into a verdict.
func faceResult(ro cloudauth.ResultObject) realname.FaceResult {
	res := realname.FaceResult{Passed: ro.Passed == passedTrue, SubCode: safeText(ro.SubCode, 16)}
	if s, ok := scoreFromMaterialInfo(ro.MaterialInfo); ok {
		res.Score = s
	} else if validScore(ro.VerifyScore) {
		res.Score = ro.VerifyScore
	}
	if !res.Passed {
		res.Reason = realname.ReasonForSubCode(ro.SubCode)
		if res.Reason == "" { // SubCode 200 yet not passed: not a pass
			res.Reason = realname.ReasonForSubCode("")
		}
	}
	return res
}

// validRef accepts what can be a CertifyId: 1–128 printable ASCII
// characters. Anything else is not sent.
func validRef(ref string) bool {
	if ref == "" || len(ref) > maxRefLen {
		return false
	}
	for i := 0; i < len(ref); i++ {
		if ref[i] <= ' ' || ref[i] > '~' {
			return false
		}
	}
	return true
}
