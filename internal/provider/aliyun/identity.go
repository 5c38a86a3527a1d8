package aliyun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"

	"github.com/realname/realname/internal/realname"
)

// Id2MetaVerify's ResultObject.BizCode values.
const (
	bizCodeMatch    = "1"
	bizCodeMismatch = "2"
	bizCodeNoRecord = "3"
)

// Cloudauth's defaults for our requests.
const (
	defaultCertType = "IDENTITY_CARD"
	maxOuterOrderNo = 32
)

// CheckIdentity matches name and number against the national record with
// Id2MetaVerify (二要素核验). BizCode 1 is a match, 2 a mismatch, 3 no
// record; anything else is ErrRejected.
func (p *Provider) CheckIdentity(ctx context.Context, id realname.IdentityInput) (realname.IdentityMatch, error) {
	const action = "Id2MetaVerify"
	if id.Name == "" || id.Number == "" {
		return 0, rejected(action, "local", "name and number are required")
	}
	resp, err := call(ctx, p, action,
		func(c *cloudauth.Client, prepare prepareFunc) (*cloudauth.Id2MetaVerifyResponse, error) {
			req := cloudauth.CreateId2MetaVerifyRequest()
			prepare(req.RpcRequest)
			req.ParamType = "normal"
			req.IdentifyNum = id.Number
			req.UserName = id.Name
			return c.Id2MetaVerify(req)
		},
		func(r *cloudauth.Id2MetaVerifyResponse) string { return r.Code })
	if err != nil {
		return 0, err
	}
	if resp.Code != codeOK {
		return 0, rejected(action, resp.Code, resp.Message)
	}
	switch resp.ResultObject.BizCode {
	case bizCodeMatch:
		return realname.IdentityMatches, nil
	case bizCodeMismatch:
		return realname.IdentityMismatch, nil
	case bizCodeNoRecord:
		return realname.IdentityNoRecord, nil
	default:
		return 0, rejected(action, resp.Code, "unexpected BizCode "+safeText(resp.ResultObject.BizCode, 16))
	}
}

// certType is the Cloudauth CertType of an identity ("" → IDENTITY_CARD).
func certType(id realname.IdentityInput) string {
	if id.CertType == "" {
		return defaultCertType
	}
	return id.CertType
}

// outerOrderNo turns our order number into a Cloudauth OuterOrderNo, which
// must be at most 32 letters and digits. A conforming order number is sent
// as it is; any other is replaced by the first 32 hex digits of its
// SHA-256, so the mapping stays deterministic (a repeat is still
// idempotent at Cloudauth) and collision-free in practice.
func outerOrderNo(orderNo string) string {
	if len(orderNo) > 0 && len(orderNo) <= maxOuterOrderNo && strings.IndexFunc(orderNo, notAlnum) < 0 {
		return orderNo
	}
	sum := sha256.Sum256([]byte(orderNo))
	return hex.EncodeToString(sum[:maxOuterOrderNo/2])
}

func notAlnum(r rune) bool {
	return (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z')
}
