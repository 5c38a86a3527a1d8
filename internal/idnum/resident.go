package idnum

import (
	"fmt"
	"time"
)

// provinces maps the 2-digit province prefix of a GB/T 2260 region code to
// the Chinese province name. Only the prefixes listed in GB 11643-1999 plus
// the residence permit prefixes are present.
var provinces = [100]string{
	11: "北京市", 12: "天津市", 13: "河北省", 14: "山西省", 15: "内蒙古自治区",
	21: "辽宁省", 22: "吉林省", 23: "黑龙江省",
	31: "上海市", 32: "江苏省", 33: "浙江省", 34: "安徽省", 35: "福建省", 36: "江西省", 37: "山东省",
	41: "河南省", 42: "湖北省", 43: "湖南省", 44: "广东省", 45: "广西壮族自治区", 46: "海南省",
	50: "重庆市", 51: "四川省", 52: "贵州省", 53: "云南省", 54: "西藏自治区",
	61: "陕西省", 62: "甘肃省", 63: "青海省", 64: "宁夏回族自治区", 65: "新疆维吾尔自治区",
	71: "台湾省", 81: "香港特别行政区", 82: "澳门特别行政区", 83: "台湾省",
}

// ProvinceName returns the Chinese name of the province with the given
// 2-digit prefix (or the first two digits of a longer region code), and
// whether the prefix is known. Known prefixes are those of GB 11643-1999
// (11–65, 71, 81, 82) and 83, used by residence permits for Taiwan residents.
func ProvinceName(code string) (string, bool) {
	if len(code) < 2 || !AllDigits(code[:2]) {
		return "", false
	}
	name := provinces[atoi(code[:2])]
	return name, name != ""
}

// isMainland reports whether the 2-digit prefix p is a mainland province,
// the only ones found on resident identity cards.
func isMainland(p string) bool {
	n := atoi(p)
	return n <= 65 && provinces[n] != ""
}

// weights are the ISO 7064 MOD 11-2 weights for the 17 body digits.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum modulo 11 to the check character.
const checkChars = "10X98765432"

// CheckCharacter returns the ISO 7064 MOD 11-2 check character ('0'–'9' or
// 'X') of a 17-digit body, as used by resident identity cards, residence
// permits and the 2023 foreign permanent residence ID card. It returns
// ErrFormat if body is not 17 ASCII digits.
func CheckCharacter(body string) (byte, error) {
	if len(body) != 17 || !AllDigits(body) {
		return 0, fmt.Errorf("%w: check character needs 17 digits", ErrFormat)
	}
	return checkChar(body), nil
}

// checkChar computes the check character of 17 verified digits.
func checkChar(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	return checkChars[sum%11]
}

// isBody18 reports whether s is 17 digits and a check character ('0'–'9'
// or 'X').
func isBody18(s string) bool {
	return len(s) == 18 && AllDigits(s[:17]) && (s[17] == 'X' || (s[17] >= '0' && s[17] <= '9'))
}

// checkMod112 verifies the layout "17 digits + check character" and the
// check character itself.
func checkMod112(s string) error {
	if !isBody18(s) {
		return fmt.Errorf("%w: expected 17 digits and a check character", ErrFormat)
	}
	if checkChar(s[:17]) != s[17] {
		return fmt.Errorf("%w: MOD 11-2 check failed", ErrChecksum)
	}
	return nil
}

// checkDate verifies that y-m-d is a calendar date, not before 1800-01-01
// and, unless now is zero, not after now's calendar date.
func checkDate(y, m, d int, now time.Time) error {
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return fmt.Errorf("%w: not a calendar date", ErrDate)
	}
	if y < 1800 {
		return fmt.Errorf("%w: before 1800", ErrDate)
	}
	if !now.IsZero() && afterDate(y, m, d, now) {
		return fmt.Errorf("%w: in the future", ErrDate)
	}
	return nil
}

// daysIn returns the number of days in month m of year y (Gregorian).
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkYYYYMMDD checks an 8-digit date string.
func checkYYYYMMDD(s string, now time.Time) error {
	return checkDate(atoi(s[0:4]), atoi(s[4:6]), atoi(s[6:8]), now)
}

// parseIdentityCard validates an 18-character or legacy 15-digit resident
// identity card number and returns the 18-character form.
func parseIdentityCard(s string, now time.Time) (string, error) {
	switch len(s) {
	case 15:
		return convert15(s, now)
	case 18:
	default:
		return "", fmt.Errorf("%w: identity card number must have 18 (or legacy 15) characters", ErrFormat)
	}
	if !isBody18(s) {
		return "", fmt.Errorf("%w: expected 17 digits and a check character", ErrFormat)
	}
	if err := checkMainlandRegion(s[:2]); err != nil {
		return "", err
	}
	if err := checkYYYYMMDD(s[6:14], now); err != nil {
		return "", err
	}
	if err := checkMod112(s); err != nil {
		return "", err
	}
	return s, nil
}

// checkMainlandRegion refuses prefixes that are not mainland provinces.
func checkMainlandRegion(p string) error {
	switch {
	case isMainland(p):
		return nil
	case p == "71":
		return fmt.Errorf("%w: prefix 71 (Taiwan) is not issued on identity cards", ErrRegion)
	case p == "81" || p == "82" || p == "83":
		return fmt.Errorf("%w: prefix %s belongs to residence permits", ErrRegion, p)
	}
	return fmt.Errorf("%w: unknown province prefix %s", ErrRegion, p)
}

// convert15 validates a legacy 15-digit number (6 region, YYMMDD, 3
// sequence) and converts it to 18 characters. Sequence 996–999 marks people
// born in the 1800s; all others were born in the 1900s.
func convert15(s string, now time.Time) (string, error) {
	if !AllDigits(s) {
		return "", fmt.Errorf("%w: legacy identity card number must be 15 digits", ErrFormat)
	}
	if err := checkMainlandRegion(s[:2]); err != nil {
		return "", err
	}
	century := "19"
	if atoi(s[12:15]) >= 996 {
		century = "18"
	}
	var b [18]byte
	copy(b[:6], s[:6])
	copy(b[6:8], century)
	copy(b[8:17], s[6:15])
	if err := checkYYYYMMDD(string(b[6:14]), now); err != nil {
		return "", err
	}
	b[17] = checkChar(string(b[:17]))
	return string(b[:]), nil
}

// parseResidencePermit validates a residence permit number for Hong Kong,
// Macao or Taiwan residents.
func parseResidencePermit(s string, now time.Time) (string, error) {
	if !isBody18(s) {
		return "", fmt.Errorf("%w: residence permit number must be 17 digits and a check character", ErrFormat)
	}
	switch s[:6] {
	case "810000", "820000", "830000":
	default:
		return "", fmt.Errorf("%w: residence permit region must be 810000, 820000 or 830000", ErrRegion)
	}
	if err := checkYYYYMMDD(s[6:14], now); err != nil {
		return "", err
	}
	if err := checkMod112(s); err != nil {
		return "", err
	}
	return s, nil
}

// describeResident describes an 18-character identity card or residence
// permit number.
func describeResident(v string) Description {
	if len(v) != 18 {
		return Description{}
	}
	d := Description{RegionCode: v[:6], Sex: sexOf(v[16])}
	d.Province, _ = ProvinceName(v[:2])
	d.BirthDate, d.HasBirthDate = dateOf(v[6:14])
	return d
}

// sexOf returns the sex encoded by the parity of a sequence digit.
func sexOf(c byte) Sex {
	if (c-'0')%2 == 1 {
		return SexMale
	}
	return SexFemale
}

// dateOf turns a validated YYYYMMDD string into midnight UTC.
func dateOf(s string) (time.Time, bool) {
	if len(s) != 8 || !AllDigits(s) {
		return time.Time{}, false
	}
	return time.Date(atoi(s[0:4]), time.Month(atoi(s[4:6])), atoi(s[6:8]), 0, 0, 0, 0, time.UTC), true
}
