package cloudauthsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Sandbox names (see doc.go).
const (
	// SandboxNameMismatch is the UserName/CertName the simulator treats as
	// "name and ID number do not match".
	SandboxNameMismatch = "测试不符"
	// SandboxNameNoRecord is the UserName/CertName the simulator treats as
	// "no such ID number on record".
	SandboxNameNoRecord = "测试无档"
	// SandboxMarkerMismatch in a ContrastFaceVerify picture makes the faces
	// not match (SubCode 204).
	SandboxMarkerMismatch = "SANDBOX_MISMATCH"
	// SandboxMarkerAttack in a ContrastFaceVerify picture makes it a
	// liveness attack (SubCode 205).
	SandboxMarkerAttack = "SANDBOX_ATTACK"
)

// maxPictureBytes bounds a decoded FaceContrastPicture.
const maxPictureBytes = 5 << 20

// actionFunc handles one RPC action once the call is authenticated.
type actionFunc func(s *Simulator, p map[string]string) bizResult

// actions maps an Action name to its handler.
var actions = map[string]actionFunc{
	"Id2MetaVerify":          (*Simulator).id2MetaVerify,
	"InitFaceVerify":         (*Simulator).initFaceVerify,
	"DescribeFaceVerify":     (*Simulator).describeFaceVerify,
	"ContrastFaceVerify":     (*Simulator).contrastFaceVerify,
	"DeleteFaceVerifyResult": (*Simulator).deleteFaceVerifyResult,
}

// present reports whether every named parameter is non-empty (the SDK omits
// empty parameters, so empty and absent are the same).
func present(p map[string]string, names ...string) bool {
	for _, n := range names {
		if p[n] == "" {
			return false
		}
	}
	return true
}

func (s *Simulator) id2MetaVerify(p map[string]string) bizResult {
	if !present(p, "ParamType", "IdentifyNum", "UserName") {
		return missingParam()
	}
	if p["ParamType"] != "normal" || !validName(p["UserName"]) || !validCertNo(p["IdentifyNum"]) {
		return invalidParam()
	}
	bizCode := "1"
	switch p["UserName"] {
	case SandboxNameMismatch:
		bizCode = "2"
	case SandboxNameNoRecord:
		bizCode = "3"
	}
	return ok(map[string]string{"BizCode": bizCode})
}

func (s *Simulator) initFaceVerify(p map[string]string) bizResult {
	if !present(p, "SceneId", "OuterOrderNo", "ProductCode", "CertType", "CertName", "CertNo",
		"MetaInfo", "CertifyUrlType", "CallbackUrl", "CallbackToken") {
		return missingParam()
	}
	valid := validSceneID(p["SceneId"]) &&
		validOuterOrderNo(p["OuterOrderNo"]) &&
		p["ProductCode"] == "ID_PRO" &&
		validCertType(p["CertType"]) &&
		validName(p["CertName"]) &&
		validCertNo(p["CertNo"]) &&
		len(p["MetaInfo"]) <= 64<<10 && json.Valid([]byte(p["MetaInfo"])) &&
		(p["CertifyUrlType"] == "H5" || p["CertifyUrlType"] == "WEB") &&
		validWebURL(p["CallbackUrl"]) && !strings.Contains(p["CallbackUrl"], "#") &&
		validToken(p["CallbackToken"]) &&
		(p["ReturnUrl"] == "" || validWebURL(p["ReturnUrl"]))
	if !valid {
		return invalidParam()
	}
	now := s.now()
	ss := s.sessions.initSession(session{
		outerOrderNo:  p["OuterOrderNo"],
		sceneID:       p["SceneId"],
		callbackURL:   p["CallbackUrl"],
		callbackToken: p["CallbackToken"],
		returnURL:     p["ReturnUrl"],
		created:       now,
		expires:       now.Add(s.cfg.SessionTTL),
	}, now)
	return ok(map[string]string{
		"CertifyId":  ss.certifyID,
		"CertifyUrl": s.verifyURL(ss.certifyID),
	})
}

// describeResult is DescribeFaceVerify's and ContrastFaceVerify's
// ResultObject.
type describeResult struct {
	Passed       string  `json:"Passed"`
	SubCode      string  `json:"SubCode"`
	IdentityInfo *string `json:"IdentityInfo"` // always null, as in the real service
	MaterialInfo string  `json:"MaterialInfo"`
	CertifyID    string  `json:"CertifyId,omitempty"`
}

type facialPicture struct {
	QualityScore float64 `json:"qualityScore"`
	VerifyScore  float64 `json:"verifyScore"`
}

type materialInfo struct {
	FaceAttack         string         `json:"faceAttack"`
	FaceOcclusion      string         `json:"faceOcclusion"`
	FacialPictureFront *facialPicture `json:"facialPictureFront,omitempty"`
}

// materialJSON is MaterialInfo, a JSON document carried as a string. After
// DeleteFaceVerifyResult it has no picture fields.
func materialJSON(v verdict, deleted bool) string {
	m := materialInfo{FaceAttack: v.faceAttack, FaceOcclusion: "F"}
	if !deleted {
		m.FacialPictureFront = &facialPicture{QualityScore: v.qualityScore, VerifyScore: v.verifyScore}
	}
	b, _ := json.Marshal(m) // plain strings and floats: cannot fail
	return string(b)
}

func (s *Simulator) describeFaceVerify(p map[string]string) bizResult {
	if !present(p, "CertifyId", "SceneId") {
		return missingParam()
	}
	ss, found := s.sessions.get(p["CertifyId"])
	if !found || ss.sceneID != p["SceneId"] {
		return bizResult{code: codeBadCertifyID, message: msgBadCertifyID}
	}
	if ss.state != stateFinished {
		// Pending, expired and cancelled sessions all look like this.
		return bizResult{code: codeNoRecord, message: msgNoRecord}
	}
	return ok(describeResult{
		Passed:       ss.verdict.passed,
		SubCode:      ss.verdict.subCode,
		MaterialInfo: materialJSON(ss.verdict, ss.deleted),
	})
}

func (s *Simulator) contrastFaceVerify(p map[string]string) bizResult {
	if !present(p, "SceneId", "OuterOrderNo", "ProductCode", "CertName", "CertNo", "CertType", "FaceContrastPicture") {
		return missingParam()
	}
	if !validSceneID(p["SceneId"]) || !validOuterOrderNo(p["OuterOrderNo"]) || p["ProductCode"] != "ID_MIN" ||
		!validCertType(p["CertType"]) || !validName(p["CertName"]) || !validCertNo(p["CertNo"]) {
		return invalidParam()
	}
	enc := p["FaceContrastPicture"]
	if len(enc) > base64.StdEncoding.EncodedLen(maxPictureBytes) {
		return invalidParam()
	}
	pic, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(pic) == 0 || len(pic) > maxPictureBytes {
		return invalidParam()
	}
	var v verdict
	switch {
	case p["CertName"] == SandboxNameMismatch:
		v = verdict{passed: "F", subCode: "201", faceAttack: "F", qualityScore: 86.0}
	case p["CertName"] == SandboxNameNoRecord:
		v = verdict{passed: "F", subCode: "202", faceAttack: "F", qualityScore: 86.0}
	case bytes.Contains(pic, []byte(SandboxMarkerAttack)):
		v = verdictFor(OutcomeLivenessAttack)
	case bytes.Contains(pic, []byte(SandboxMarkerMismatch)):
		v = verdictFor(OutcomeFaceMismatch)
	default:
		v = verdictFor(OutcomePass)
	}
	now := s.now()
	ss := s.sessions.addFinished(session{
		outerOrderNo: p["OuterOrderNo"],
		sceneID:      p["SceneId"],
		created:      now,
		expires:      now,
		verdict:      v,
	}, now)
	return ok(describeResult{
		Passed:       v.passed,
		SubCode:      v.subCode,
		MaterialInfo: materialJSON(v, false),
		CertifyID:    ss.certifyID,
	})
}

func (s *Simulator) deleteFaceVerifyResult(p map[string]string) bizResult {
	if !present(p, "CertifyId") {
		return missingParam()
	}
	if d := p["DeleteAfterQuery"]; d != "" && d != "Y" && d != "N" {
		return invalidParam()
	}
	if !s.sessions.markDeleted(p["CertifyId"]) {
		return bizResult{code: codeBadCertifyID, message: msgBadCertifyID}
	}
	return ok(map[string]string{"DeleteResult": "Y"})
}

// verifyURL is the hosted page of a session.
func (s *Simulator) verifyURL(certifyID string) string {
	return s.cfg.PublicURL + "/verify/" + certifyID
}

func validSceneID(v string) bool {
	if len(v) > 19 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return v != ""
}

// validOuterOrderNo: "up to 32 letters and digits", as the real API says.
func validOuterOrderNo(v string) bool {
	if v == "" || len(v) > 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func validCertType(v string) bool {
	return v == "IDENTITY_CARD" || v == "RESIDENCE_PERMIT_HMT"
}

func validName(v string) bool {
	return utf8.ValidString(v) && utf8.RuneCountInString(v) <= 64
}

// validCertNo accepts printable ASCII up to 32 bytes; the simulator does not
// check ID number checksums.
func validCertNo(v string) bool {
	return len(v) <= 32 && printableASCII(v)
}

func validToken(v string) bool {
	return len(v) <= 256 && printableASCII(v)
}

func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// validWebURL accepts absolute http(s) URLs up to 2 KiB.
func validWebURL(v string) bool {
	if len(v) > 2048 || !printableASCII(v) {
		return false
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}
