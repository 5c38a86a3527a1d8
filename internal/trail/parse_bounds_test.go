package trail

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// hostilePackage fills a package with copies of item, each followed by a
// comma, between head and tail, up to nearly MaxPackageBytes.
func hostilePackage(head, item, tail string) []byte {
	n := (MaxPackageBytes - len(head) - len(tail) - 1024) / (len(item) + 1)
	var b bytes.Buffer
	b.Grow(MaxPackageBytes)
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// hostileManifest is a well-formed manifest and checkpoint fields, so
// that only the bounded lists make a package fail.
const hostileManifest = `{"manifest":{"format":"` + PackageFormat + `","origin":"example.test/trail",` +
	`"subject":"h_0123456789abcdef0123456789abcdef","created":"2026-11-23T00:00:00Z","entries":1},` +
	`"checkpoint":"x",`

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestParsePackageBoundsAllocation: a package near MaxPackageBytes made of
// one bounded list's smallest items (entries of {}, proof hashes and keys
// of "") is refused, and parsing it allocates only a small multiple of
// its size: ParsePackage stops at the bound instead of first decoding
// millions of items. Before the bounded decoding, the package of entries
// allocated 135 times its size (9.1 GB), the others 32 times (2.2 GB);
// now each allocates 2 to 2.6 times its size, mostly encoding/json's
// decoder buffer holding the document.
func TestParsePackageBoundsAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages of 64 MiB")
	}
	const consistency = `"consistency":{"checkpoint":"x","proof":[]}}`
	for _, c := range []struct{ name, head, item, tail, want string }{
		{"entries of {}", hostileManifest + `"keys":[],"entries":[`, `{}`, `],` + consistency, "more than 100000 entries"},
		{"inclusion proof of \"\"", hostileManifest + `"keys":[],"entries":[{"index":0,"inclusion_proof":[`, `""`, `]}],` + consistency,
			"list element longer than"},
		{"keys of \"\"", hostileManifest + `"keys":[`, `""`, `],"entries":[],` + consistency, "more than 16 keys"},
		{"consistency proof of \"\"", hostileManifest + `"keys":[],"entries":[],"consistency":{"checkpoint":"x","proof":[`, `""`, `]}}`,
			"more than 64 proof hashes"},
		{"entry data", hostileManifest + `"keys":[],"entries":[{"index":0,"data":"`, `AAAA`, `"}],` + consistency, "list element longer than"},
		{"entries of 65-hash proofs", hostileManifest + `"keys":[],"entries":[`,
			`{"inclusion_proof":[` + strings.Repeat(`"",`, 64) + `""]}`, `],` + consistency, "more than 64 proof hashes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := hostilePackage(c.head, c.item, c.tail)
			if c.item == "AAAA" { // one base64 string: no commas
				data = bytes.ReplaceAll(data, []byte(",AAAA"), []byte("AAAA"))
			}
			var err error
			n := allocated(func() { _, err = ParsePackage(data) })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			ratio := float64(n) / float64(len(data))
			t.Logf("%d bytes: %d bytes allocated (%.2f×): %v", len(data), n, ratio, err)
			if ratio > 4 {
				t.Errorf("parsing %d bytes allocated %d (%.1f times as much)", len(data), n, ratio)
			}
		})
	}
}

// TestTooManyItems: the element count sees through strings (with escaped
// quotes and brackets) and nested values, and stops at the bound.
func TestTooManyItems(t *testing.T) {
	for _, c := range []struct {
		json  string
		limit int
		want  bool
	}{
		{`null`, 0, false},
		{`[]`, 0, false},
		{` [ ] `, 0, false},
		{`[""]`, 0, true},
		{`[""]`, 1, false},
		{`["a","b"]`, 1, true},
		{`["a,b", "c]\"d,e"]`, 2, false},
		{`["a,b", "c]\"d,e"]`, 1, true},
		{`[[1,2,3],{"a":[4,5],"b":"}"}]`, 2, false},
		{`[[1,2,3],{"a":[4,5],"b":"}"}]`, 1, true},
		{`["\\",","]`, 1, true},
		{`["\\",","]`, 2, false},
		{` [ 1 , 2 , 3 ] `, 3, false},
		{` [ 1 , 2 , 3 ] `, 2, true},
		{`"a,b,c"`, 0, false},
		{`{"a":1,"b":2}`, 0, false},
	} {
		if got := tooManyItems([]byte(c.json), c.limit); got != c.want {
			t.Errorf("tooManyItems(%s, %d) = %v", c.json, c.limit, got)
		}
	}
}

// TestBoundedListsDecode: the bounded lists decode as encoding/json
// decodes slices (null as nil, [] as empty), refuse unknown fields in
// entries and refuse what is not a list.
func TestBoundedListsDecode(t *testing.T) {
	var e PackageEntries
	if err := json.Unmarshal([]byte(`null`), &e); err != nil || e != nil {
		t.Errorf("null: %v %#v", err, e)
	}
	if err := json.Unmarshal([]byte(` [ ] `), &e); err != nil || e == nil || len(e) != 0 {
		t.Errorf("[]: %v %#v", err, e)
	}
	if err := json.Unmarshal([]byte(`[{"index":3,"inclusion_proof":["a","b"]},{"leaf_hash":"x","inclusion_proof":null}]`), &e); err != nil ||
		len(e) != 2 || e[0].Index != 3 || len(e[0].Proof) != 2 || e[1].LeafHash != "x" || e[1].Proof != nil {
		t.Errorf("two entries: %v %#v", err, e)
	}
	for _, bad := range []string{`[{"index":1,"extra":2}]`, `{}`, `"x"`, `3`, `[1]`} {
		if err := json.Unmarshal([]byte(bad), &e); err == nil {
			t.Errorf("entries %s accepted", bad)
		}
	}
	var p ProofHashes
	if err := json.Unmarshal([]byte(`["a","b"]`), &p); err != nil || len(p) != 2 || p[1] != "b" {
		t.Errorf("proof: %v %#v", err, p)
	}
	var k PackageKeys
	for _, bad := range []string{`{}`, `[1]`, `[["a"]]`} {
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("proof %s accepted", bad)
		}
		if err := json.Unmarshal([]byte(bad), &k); err == nil {
			t.Errorf("keys %s accepted", bad)
		}
	}
}

// BenchmarkParsePackage parses the package of benchPackage (1,000
// entries, each with its inclusion proof).
func BenchmarkParsePackage(b *testing.B) {
	data, _ := benchPackage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePackage(data); err != nil {
			b.Fatal(err)
		}
	}
}
