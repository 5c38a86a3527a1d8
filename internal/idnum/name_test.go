package idnum

import (
	"errors"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"two Han", "张三", "张三", nil},
		{"compound surname", "欧阳娜娜", "欧阳娜娜", nil},
		{"middle dot", "阿依古丽·买买提", "阿依古丽·买买提", nil},
		{"katakana middle dot", "阿依古丽・买买提", "阿依古丽·买买提", nil},
		{"bullet", "阿依古丽•买买提", "阿依古丽·买买提", nil},
		{"hyphenation point", "阿依古丽‧买买提", "阿依古丽·买买提", nil},
		{"full-width full stop", "阿依古丽．买买提", "阿依古丽·买买提", nil},
		{"ASCII dot between Han", "阿依古丽.买买提", "阿依古丽·买买提", nil},
		{"spaced dot", "阿依古丽 . 买买提", "阿依古丽·买买提", nil},
		{"spaces around middle dot", "阿依古丽 · 买买提", "阿依古丽·买买提", nil},
		{"space between Han", "张 三", "张三", nil},
		{"ideographic spaces", "\u3000张三\u3000", "张三", nil},
		{"surrounding newline", "张三\n", "张三", nil},
		{"Latin", "John Smith", "John Smith", nil},
		{"Latin extra spaces", "  John    Smith ", "John Smith", nil},
		{"full-width Latin", "Ｊｏｈｎ\u3000Ｓｍｉｔｈ", "John Smith", nil},
		{"no-break space", "John\u00a0Smith", "John Smith", nil},
		{"hyphen and apostrophe", "Mary-Jane O'Neil", "Mary-Jane O'Neil", nil},
		{"spaced hyphen", "Jean - Luc", "Jean-Luc", nil},
		{"accented Latin", "José Müller", "José Müller", nil},
		{"32 runes", strings.Repeat("李", 32), strings.Repeat("李", 32), nil},
		{"rare Han", "𠀀三", "𠀀三", nil},

		{"single char", "张", "", ErrName},
		{"single char padded", "  张 ", "", ErrName},
		{"33 runes", strings.Repeat("李", 33), "", ErrName},
		{"digit", "张三1", "", ErrName},
		{"full-width digit", "张三１", "", ErrName},
		{"control char", "张\x00三", "", ErrName},
		{"inner tab", "张\t三", "", ErrName},
		{"zero-width space", "张\u200b三", "", ErrName},
		{"invalid UTF-8", "张\xff三", "", ErrName},
		{"leading middle dot", "·张三", "", ErrName},
		{"trailing middle dot", "张三·", "", ErrName},
		{"double middle dot", "阿依古丽··买买提", "", ErrName},
		{"dot and hyphen", "Mary-'Jane", "", ErrName},
		{"leading hyphen", "-John", "", ErrName},
		{"trailing apostrophe", "John'", "", ErrName},
		{"ASCII dot in Latin name", "John F. Kennedy", "", ErrName},
		{"trailing ASCII dot", "张三.", "", ErrName},
		{"symbol", "张三!", "", ErrName},
		{"emoji", "张三😀", "", ErrName},
		{"Cyrillic", "Иван Петров", "", ErrName},
		{"over 256 bytes", strings.Repeat("a", 257), "", ErrName},
		{"empty", "", "", ErrEmpty},
		{"only spaces", " \u3000 ", "", ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseName(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrName) {
					t.Fatalf("ParseName(%q) error = %v, want %v and ErrName", tt.in, err, tt.wantErr)
				}
				if !n.IsZero() {
					t.Errorf("non-zero Name with an error")
				}
				if v := NormalizeName(tt.in); len([]rune(v)) >= 2 && strings.Contains(err.Error(), v) {
					t.Errorf("error %q contains the name", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseName(%q): %v", tt.in, err)
			}
			if n.Value() != tt.want {
				t.Fatalf("ParseName(%q) = %q, want %q", tt.in, n.Value(), tt.want)
			}
			again, err := ParseName(n.Value())
			if err != nil || again != n {
				t.Fatalf("re-parse: %q, %v", again.Value(), err)
			}
		})
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  a  b  ", "a b"},
		{"张 · 三", "张·三"},
		{"a.b", "a.b"},
		{"张..三", "张..三"},
		{"张.三.李", "张·三·李"},
		{"Ｏ＇Ｎｅｉｌ", "O'Neil"},
		{"张 John", "张 John"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := NormalizeName(tt.in)
			if got != tt.want {
				t.Fatalf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := NormalizeName(got); again != got {
				t.Fatalf("not idempotent: %q → %q", got, again)
			}
		})
	}
}
