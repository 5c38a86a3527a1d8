package idnum

import "testing"

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(IdentityCard, "11010519491231002X", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseName("阿依古丽·买买提"); err != nil {
			b.Fatal(err)
		}
	}
}
