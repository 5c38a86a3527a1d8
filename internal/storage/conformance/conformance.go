package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// Run runs the suite. open must return a fresh, empty, migrated store for
// the test and arrange for its cleanup (t.Cleanup); every subtest gets its
// own.
func Run(t *testing.T, open func(t *testing.T) realname.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s realname.Store)
	}{
		{"FixturesAreComplete", testFixturesAreComplete},
		{"PersonInsertGet", testPersonInsertGet},
		{"PersonDuplicate", testPersonDuplicate},
		{"PersonUpdate", testPersonUpdate},
		{"UpdatePersonKey", testUpdatePersonKey},
		{"PersonsPaging", testPersonsPaging},
		{"VerificationInsertGet", testVerificationInsertGet},
		{"VerificationDuplicate", testVerificationDuplicate},
		{"VerificationLatestAndOpen", testVerificationLatestAndOpen},
		{"VerificationUpdate", testVerificationUpdate},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"ConsentRoundTrip", testConsentRoundTrip},
		{"OpenVerifications", testOpenVerifications},
		{"PendingProviderDeletions", testPendingProviderDeletions},
		{"CountOpenVerifications", testCountOpenVerifications},
		{"ExpireVerifications", testExpireVerifications},
		{"UserRecord", testUserRecord},
		{"UserRecordConflict", testUserRecordConflict},
		{"IdempotentAnswers", testIdempotentAnswers},
		{"APIKeys", testAPIKeys},
		{"TxRollback", testTxRollback},
		{"TxPanic", testTxPanic},
		{"TxReadsOwnWrites", testTxReadsOwnWrites},
		{"TxConflictKeepsTxUsable", testTxConflictKeepsTxUsable},
		{"ConcurrentTransitions", testConcurrentTransitions},
		{"ConcurrentInsertPerson", testConcurrentInsertPerson},
		{"ErasePerson", testErasePerson},
		{"Reviews", testReviews},
		{"Audit", testAudit},
		{"AnonymiseUser", testAnonymiseUser},
		{"FailuresAndUnlock", testFailuresAndUnlock},
		{"SpendBudget", testSpendBudget},
		{"RetentionQueries", testRetentionQueries},
		{"UserVerifications", testUserVerifications},
		{"Authorities", testAuthorities},
		{"AuthorityNonces", testAuthorityNonces},
		{"DepositsAndClaims", testDepositsAndClaims},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// base is the suite's "now": nanoseconds and a non-UTC zone on purpose.
var base = time.Date(2026, 11, 23, 10, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string { return prefix + hex.EncodeToString(randomBytes(8)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// inTx runs fn in a transaction and fails the test on error.
func inTx(t *testing.T, s realname.Store, fn func(ctx context.Context, tx realname.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.InTx(ctx, func(tx realname.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// wantErr fails unless err is target (ErrNotFound, ErrConflict…).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// must fails the test now on error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// normalize returns a copy of the record x with every time in UTC and
// truncated to microseconds, and empty slices nil, so records compare with
// reflect.DeepEqual after a round-trip.
func normalize(x any) any {
	v := reflect.New(reflect.TypeOf(x)).Elem()
	v.Set(reflect.ValueOf(x))
	normalizeValue(v)
	return v.Interface()
}

func normalizeValue(v reflect.Value) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC().Truncate(time.Microsecond)))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeValue(v.Field(i))
			}
		}
	case v.Kind() == reflect.Slice && v.Len() == 0:
		v.Set(reflect.Zero(v.Type()))
	case v.Kind() == reflect.Pointer && !v.IsNil():
		c := reflect.New(v.Type().Elem()) // a copy: the original stays as it was
		c.Elem().Set(v.Elem())
		normalizeValue(c.Elem())
		v.Set(c)
	}
}

// checkEqual compares two records of one struct type field by field, times
// at microsecond precision, and reports each field that differs.
func checkEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, w := reflect.ValueOf(normalize(got)), reflect.ValueOf(normalize(want))
	for i := range w.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s: %s = %v, want %v", what, w.Type().Field(i).Name, g.Field(i), w.Field(i))
		}
	}
}

// zeroFields lists the exported fields of the struct x that hold their zero
// value, recursing into nested structs other than time.Time.
func zeroFields(x any) []string {
	var zero []string
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct && fv.Type() != timeType {
				walk(prefix+f.Name+".", fv)
				continue
			}
			if fv.IsZero() || (fv.Kind() == reflect.Slice && fv.Len() == 0) {
				zero = append(zero, prefix+f.Name)
			}
		}
	}
	walk("", reflect.ValueOf(x))
	return zero
}

// testFixturesAreComplete makes sure the fixtures below set every field, so
// the round-trip tests cover every column. A new field in a domain record
// fails here until the fixture (and the backends) know it.
func testFixturesAreComplete(t *testing.T, _ realname.Store) {
	p := samplePerson()
	v := sampleVerification(newID("usr_"), p.ID)
	records := map[string]any{
		"Person":           erasedPerson(),
		"Verification":     v,
		"UserRecord":       sampleUser(v.UserID, p.ID),
		"APIKey":           sampleAPIKey(true),
		"IdempotentAnswer": sampleAnswer(),
	}
	for name, r := range records {
		if z := zeroFields(r); len(z) > 0 {
			slices.Sort(z)
			t.Errorf("fixture %s leaves fields zero: %s", name, strings.Join(z, ", "))
		}
	}
}

func testPing(t *testing.T, s realname.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
