package pii

import (
	"fmt"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	dek := fixedDataKey(b, "bench")
	for _, size := range []int{18, 1 << 10, 64 << 10} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			pt := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dek.Seal(pt, "person/1/idnum"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	dek := fixedDataKey(b, "bench")
	for _, size := range []int{18, 1 << 10, 64 << 10} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			ct, err := dek.Seal(make([]byte, size), "person/1/idnum")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dek.Open(ct, "person/1/idnum"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	idx := mustIndex(b, "bench")
	b.ReportAllocs()
	for b.Loop() {
		idx.Sum("idnum", "11010519491231002X")
	}
}

func BenchmarkUnwrapKey(b *testing.B) {
	ring := mustRing(b, "k2", "k1", "k2")
	w, err := ring.WrapKey(fixedDataKey(b, "bench"), "person/1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.UnwrapKey(w, "person/1"); err != nil {
			b.Fatal(err)
		}
	}
}
