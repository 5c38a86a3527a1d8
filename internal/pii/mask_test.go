package pii

import "testing"

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张*"},
		{"欧阳娜娜", "欧***"},
		{"John Smith", "J*** *****"},
		{"张", "张"},
		{"", ""},
		{"   ", "   "},
		{" 李四", " 李*"},
		{"买买提·艾力", "买**·**"},
		{"Mary  Jane\tWatson", "M***  ****\t******"},
		{"诸葛孔明", "诸***"},
		{"\xff\xfe", "**"},
		{"a\xffb", "a**"},
		{"👩‍👩‍👧", "👩****"}, // ZWJ sequence: masked rune by rune
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := MaskName(tc.in); got != tc.want {
				t.Fatalf("MaskName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
