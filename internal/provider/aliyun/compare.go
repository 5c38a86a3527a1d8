package aliyun

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"

	"github.com/realname/realname/internal/realname"
)

// Face comparison limits and product.
const (
	productFaceCompare = "ID_MIN" // ContrastFaceVerify's product code
	// MaxPictureBytes bounds CompareRequest.Picture; larger pictures are
	// rejected without calling Cloudauth.
	MaxPictureBytes = 5 << 20
)

// CompareFace compares a picture with the person's reference photo using
// ContrastFaceVerify (product ID_MIN). The picture travels base64-encoded in
// the form body; it must be non-empty and at most MaxPictureBytes.
func (p *Provider) CompareFace(ctx context.Context, req realname.CompareRequest) (realname.FaceResult, error) {
	const action = "ContrastFaceVerify"
	switch {
	case len(req.Picture) == 0:
		return realname.FaceResult{}, rejected(action, "local", "picture is empty")
	case len(req.Picture) > MaxPictureBytes:
		return realname.FaceResult{}, rejected(action, "local",
			fmt.Sprintf("picture larger than %d bytes", MaxPictureBytes))
	case req.OrderNo == "":
		return realname.FaceResult{}, rejected(action, "local", "OrderNo is required")
	case req.Identity.Name == "" || req.Identity.Number == "":
		return realname.FaceResult{}, rejected(action, "local", "name and number are required")
	}
	picture := base64.StdEncoding.EncodeToString(req.Picture)
	resp, err := call(ctx, p, action,
		func(c *cloudauth.Client, prepare prepareFunc) (*cloudauth.ContrastFaceVerifyResponse, error) {
			r := cloudauth.CreateContrastFaceVerifyRequest()
			prepare(r.RpcRequest)
			r.SceneId = p.sceneID()
			r.OuterOrderNo = outerOrderNo(req.OrderNo)
			r.ProductCode = productFaceCompare
			r.CertType = certType(req.Identity)
			r.CertName = req.Identity.Name
			r.CertNo = req.Identity.Number
			r.FaceContrastPicture = picture
			return c.ContrastFaceVerify(r)
		},
		func(r *cloudauth.ContrastFaceVerifyResponse) string { return r.Code })
	if err != nil {
		return realname.FaceResult{}, err
	}
	if resp.Code != codeOK {
		return realname.FaceResult{}, rejected(action, resp.Code, resp.Message)
	}
	return faceResult(resp.ResultObject), nil
}
