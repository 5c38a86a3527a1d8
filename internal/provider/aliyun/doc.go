// Package aliyun is the realname.Provider for Alibaba Cloud Cloudauth
// (实人认证, API version 2019-03-07), built on the official SDK
// github.com/aliyun/alibaba-cloud-sdk-go (services/cloudauth). It is the
// only package of the service that imports the SDK.
//
// # Calls
//
//   - CheckIdentity → Id2MetaVerify (ParamType "normal"): BizCode 1 match,
//     2 mismatch, 3 no record.
//   - StartFaceCheck → InitFaceVerify, product ID_PRO (hosted H5/WEB page).
//     Ref is the CertifyId, VerifyURL the CertifyUrl.
//   - FaceCheckResult → DescribeFaceVerify. Code 424 (not finished,
//     abandoned, expired) is realname.ErrNotFinished, 406
//     realname.ErrUnknownSession. The score comes from MaterialInfo, a JSON
//     document inside a string, parsed defensively (≤ 1 MiB, any shape).
//   - CompareFace → ContrastFaceVerify, product ID_MIN, picture ≤ 5 MiB.
//   - DeleteResult → DeleteFaceVerifyResult with DeleteAfterQuery "Y".
//
// Cloudauth's OuterOrderNo must be at most 32 letters and digits; the
// domain's order numbers ("vf_" + 32 hex digits) are not, so such numbers
// are replaced by the first 32 hex digits of their SHA-256 — deterministic,
// so a repeated StartFaceCheck stays idempotent.
//
// # Errors and retries
//
// Gateway failures come back from the SDK as *errors.ServerError (a
// non-2xx status with a Code); business answers are HTTP 200 with a string
// Code ("200" is success). The adapter classifies:
//
//   - 5xx, 429, codes Throttling* and ServiceUnavailable*, business Code
//     "500", network errors, timeouts and undecodable answers are retried
//     (MaxRetries times, exponential backoff from 200 ms capped at 2 s,
//     with jitter) and then reported as realname.ErrProviderUnavailable;
//   - signature, key, clock and permission refusals (SignatureDoesNotMatch,
//     InvalidAccessKeyId.*, InvalidTimeStamp.*, Forbidden.*, any 401/403)
//     are our misconfiguration: never retried, logged at error level with
//     the code, and reported as realname.ErrProviderUnavailable so that the
//     person's session stays resumable once the configuration is fixed;
//   - other 4xx and business Codes 400/401/… are realname.ErrRejected, with
//     the Code and the (cleaned, truncated) Message.
//
// Errors and logs never carry the SDK's own error text: a ServerError's
// message may echo the string to sign and a url.Error holds the request
// URL, and both contain the person's name and ID number. Never run the
// service with DEBUG=sdk: the SDK then prints whole requests to stdout.
//
// # Why a pool of SDK clients
//
// The SDK client is not safe for concurrent use. Every call writes the
// client's http.Client.Timeout, replaces its transport's DialContext and
// edits its TLS configuration (sdk.Client.DoActionWithSigner and
// setTimeout); the race detector flags two calls on one client. The
// Provider therefore creates PoolSize clients at New, each with its own
// http.Transport, keeps them in a buffered channel and checks one out per
// attempt. Clients are created under a package mutex because
// cloudauth.NewClientWithOptions initialises the package-level
// cloudauth.EndpointMap. PoolSize also bounds how many calls run at once;
// a call waits for a free client as long as its context allows.
//
// # Contexts
//
// The SDK has no context support. Each attempt runs in its own goroutine
// and the caller waits for the answer or ctx.Done(), whichever is first;
// on cancellation the call returns an error wrapping both
// realname.ErrProviderUnavailable and ctx.Err() at once. The abandoned
// attempt ends at its own timeout (Config.Timeout, shortened to ctx's
// deadline when that is earlier) and then returns its client to the pool.
// The SDK's own retries are switched off.
//
// # Endpoint
//
// Config.Endpoint is host[:port][/path]; requests go to
// Scheme://Endpoint/?query (the SDK builds the URL that way), which lets a
// simulator be mounted under a path prefix of another server. Plain http
// is only accepted for loopback hosts. Note that the SDK applies
// HTTP(S)_PROXY from the environment itself (honouring NO_PROXY only as a
// pattern on the host).
package aliyun
