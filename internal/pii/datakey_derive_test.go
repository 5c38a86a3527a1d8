package pii

import (
	"bytes"
	"testing"
)

func TestDataKeyDerive(t *testing.T) {
	a, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewDataKey()
	x1, err := a.Derive("trail-handle")
	if err != nil || len(x1) != 32 {
		t.Fatalf("Derive = %x, %v", x1, err)
	}
	x2, _ := a.Derive("trail-handle")
	y, _ := a.Derive("other")
	z, _ := b.Derive("trail-handle")
	if !bytes.Equal(x1, x2) || bytes.Equal(x1, y) || bytes.Equal(x1, z) {
		t.Fatal("Derive is not a keyed function of the purpose")
	}
	a.Destroy()
	if _, err := a.Derive("trail-handle"); err == nil {
		t.Fatal("a destroyed key derived")
	}
	if _, err := (DataKey{}).Derive("x"); err == nil {
		t.Fatal("the zero key derived")
	}
}
