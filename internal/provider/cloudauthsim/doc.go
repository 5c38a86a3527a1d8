// Package cloudauthsim is a wire-compatible simulator of Alibaba Cloud
// Cloudauth (real-name identity verification), API version 2019-03-07.
//
// A Simulator is an http.Handler. It answers the official Alibaba Cloud Go
// SDK exactly as the real gateway does on the wire (RPC signature v1,
// string Code fields, Alibaba's error envelope), and hosts a small sandbox
// page that stands in for the provider's H5 liveness page. It is used
//
//   - in sandbox mode, mounted inside our service under a path prefix with
//     http.StripPrefix, while the production adapter talks to it through
//     the official SDK over loopback;
//   - alone, by "realname cloudauth-sim --addr";
//   - by tests (httptest), which also get the hooks Calls, FailNext and
//     Complete.
//
// It keeps everything in memory and imports only the standard library.
//
// # Routes
//
// Paths are relative to the handler root.
//
//	GET|POST /                              the RPC API (query string and form body are merged)
//	GET      /verify/{certifyId}            the sandbox page (HTML, zh-CN, no inline script or style; works without JavaScript)
//	POST     /verify/{certifyId}/complete   form field outcome=pass|face_mismatch|liveness_attack|cancel
//	GET      /static/sim.css                the page's stylesheet (embedded)
//	GET      /static/sim.js                 the page's script: steps and optional camera preview (embedded)
//
// Everything else is 404.
//
// # Request checks, in order
//
//  1. Method GET or POST, else 405 UnsupportedHTTPMethod. Body at most
//     MaxBodyBytes (8 MiB), else 413 RequestEntityTooLarge. A malformed
//     query or form, or a parameter given twice (in the query, the body or
//     both), is 400 InvalidParameter.
//  2. Each of AccessKeyId, Action, Format, Signature, SignatureMethod,
//     SignatureNonce, SignatureVersion, Timestamp, Version missing or empty:
//     400 MissingParameter, whose Message names the parameter.
//  3. Format not JSON (XML included; answers are JSON only): 400
//     InvalidParameter. Version not 2019-03-07: 400 InvalidVersion.
//     SignatureMethod not HMAC-SHA1: 400 InvalidSignatureMethod.
//     SignatureVersion not 1.0: 400 InvalidSignatureVersion. A non-empty
//     SignatureType (bearer tokens) or a SignatureNonce over 128 bytes: 400
//     InvalidParameter.
//  4. Timestamp not 2006-01-02T15:04:05Z: 400 InvalidTimeStamp.Format; more
//     than MaxClockSkew away from Now: 400 InvalidTimeStamp.Expired.
//  5. AccessKeyId not the configured one: 404 InvalidAccessKeyId.NotFound.
//  6. Signature not base64(HMAC-SHA1(secret+"&", StringToSign)), compared in
//     constant time: 400 SignatureDoesNotMatch, Message "Specified signature
//     is not matched with our calculation." (without the real service's
//     "server string to sign is:" suffix, which would echo personal data).
//     StringToSign is METHOD&%2F&percentEncode(canonical query) over every
//     parameter except Signature (the SDK's empty SignatureType= included).
//  7. SignatureNonce already accepted within MaxClockSkew: 400
//     SignatureNonceUsed. Only correctly signed calls record a nonce.
//  8. Unknown Action: 404 InvalidAction.NotFound.
//  9. FailNext rules, then the action. Calls counts the calls that reach
//     the action.
//
// Every error answer is Alibaba's envelope
// {"RequestId","HostId":"cloudauth.aliyuncs.com","Code","Message","Recommend"}.
// Every action answer is HTTP 200 {"RequestId","Code","Message","ResultObject"}
// with a string Code: "200" success, "400" 参数不能为空 (missing parameter),
// "401" 参数非法 (invalid parameter), "406" 无效的CertifyId, "424"
// 身份认证记录不存在.
//
// # Actions
//
//   - Id2MetaVerify (ParamType "normal", IdentifyNum, UserName): BizCode
//     "1" match, "2" mismatch, "3" no record.
//   - InitFaceVerify (ProductCode ID_PRO; SceneId, OuterOrderNo, CertType,
//     CertName, CertNo, MetaInfo, CertifyUrlType H5|WEB, CallbackUrl,
//     CallbackToken required, ReturnUrl optional): CertifyId (32 lower-case
//     hex) and CertifyUrl = PublicURL + "/verify/" + CertifyId. Idempotent on
//     OuterOrderNo. Name and ID number are validated and dropped.
//   - DescribeFaceVerify (CertifyId, SceneId): the verdict once the page was
//     completed; "424" while pending, after cancel and after expiry.
//   - ContrastFaceVerify (ProductCode ID_MIN, FaceContrastPicture base64 in
//     the body, decoded at most 5 MiB): an immediate verdict and a new
//     CertifyId, which DescribeFaceVerify and DeleteFaceVerifyResult know.
//   - DeleteFaceVerifyResult (CertifyId, DeleteAfterQuery Y|N): DeleteResult
//     "Y"; afterwards MaterialInfo has no facialPictureFront.
//
// # Outcomes and sandbox identities
//
//	page outcome / input                     Passed  SubCode  callback  notes
//	pass (通过)                               T       200      yes       verifyScore 96.1, faceAttack F
//	face_mismatch (人脸不一致)                 F       204      yes       verifyScore 30.2
//	liveness_attack (活体攻击)                 F       205      yes       faceAttack T
//	cancel (取消)                             -       -        no        DescribeFaceVerify keeps answering 424
//	Id2MetaVerify UserName 测试不符            BizCode "2" (mismatch)
//	Id2MetaVerify UserName 测试无档            BizCode "3" (no record)
//	Id2MetaVerify any other name              BizCode "1" (match)
//	ContrastFaceVerify CertName 测试不符       F       201
//	ContrastFaceVerify CertName 测试无档       F       202
//	picture bytes contain SANDBOX_ATTACK      F       205      (checked before SANDBOX_MISMATCH)
//	picture bytes contain SANDBOX_MISMATCH    F       204
//	any other picture                         T       200
//
// The callback is GET CallbackUrl + "?" (or "&" if it already has a query)
// + certifyId, passed (= the SubCode) and callbackToken, sent at once after
// completion and retried twice CallbackRetryDelay apart while the answer is
// not HTTP 200. The browser is then redirected (303) to ReturnUrl with
// certifyId appended, or shown a result page; with "Accept:
// application/json" it gets {"certify_id","outcome","sub_code"} instead.
// Completing a finished or cancelled session is 409, an expired one 410, an
// unknown one 404, an unknown outcome 400.
//
// # Privacy
//
// The simulator never logs names, ID numbers, images, callback URLs or
// tokens, and does not store names, ID numbers or images at all.
//
// # Known deviations from the real service
//
//   - Answers are JSON only; Format=XML is refused.
//   - Only HMAC-SHA1 signature v1 with an AccessKey pair; no STS
//     SecurityToken checks, no bearer tokens, no ACS3 (V3) signatures.
//   - The error codes of missing common parameters, of a bad
//     SignatureVersion, of a duplicated parameter and of an oversized body
//     are the simulator's choice; HTTP statuses follow this package's
//     table, not necessarily the gateway's.
//   - Parameter validation is approximate: ID numbers are not checksummed,
//     OuterOrderNo must be at most 32 letters and digits (as documented by
//     Alibaba), CallbackUrl may be http (the real service requires https),
//     CallbackUrl and CallbackToken are required (optional upstream), and
//     only FaceContrastPicture is supported (no picture URL or OSS object).
//   - DescribeFaceVerify with a SceneId other than the session's answers
//     "406"; an idempotent InitFaceVerify returns the first session even if
//     its other parameters differ.
//   - DeleteFaceVerifyResult deletes at once whatever DeleteAfterQuery says.
//   - Scores, MaterialInfo contents and the real callback's exact
//     parameters (the real one may also send a T/F flag and a subcode) are
//     stand-ins. Results are kept 24 h past SessionTTL (30 days upstream),
//     at most 100 000 sessions and 100 000 nonces; the oldest are forgotten
//     first.
package cloudauthsim
