// Package providertest is the conformance suite every realname.Provider
// must pass.
//
// A provider's tests call Run with a Harness: the provider under test
// (usually pointed at the vendor's simulator or sandbox), a way to finish a
// hosted face check with a given outcome (what a person would do on the
// vendor's page), and the sandbox inputs that force the national-record
// answers "mismatch" and "no record".
//
//	func TestConformance(t *testing.T) {
//		p := newProviderAgainstSimulator(t)
//		providertest.Run(t, providertest.Harness{
//			Provider:        p,
//			Complete:        sim.Complete,
//			MismatchName:    "测试不符",
//			NoRecordName:    "测试无档",
//			MismatchPicture: []byte("…SANDBOX_MISMATCH…"),
//		})
//	}
//
// The suite checks the contract documented on realname.Provider and its
// optional capabilities (realname.FaceComparer, realname.ResultDeleter):
// the identity answers; StartFaceCheck's ref and URL and its idempotency on
// OrderNo; FaceCheckResult before completion (ErrNotFinished), after each
// outcome, after a cancel (still ErrNotFinished) and for an unknown ref
// (ErrUnknownSession); CompareFace and DeleteResult when implemented; use
// from 20 goroutines at once (run the tests with -race); and that a
// cancelled context yields an error wrapping ErrProviderUnavailable at
// once.
//
// Order numbers have the shape the domain generates ("vf" and 30 hex
// digits: 32 letters and digits, what Cloudauth accepts as OuterOrderNo).
// Every run uses fresh random order numbers,
// so the suite can run against a persistent sandbox.
package providertest
