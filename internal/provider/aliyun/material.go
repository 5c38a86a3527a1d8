package aliyun

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// maxMaterialInfo bounds the MaterialInfo document we are willing to parse.
const maxMaterialInfo = 1 << 20

// scoreFromMaterialInfo extracts the face similarity from a MaterialInfo,
// the JSON document Cloudauth sends as a string. It looks at
// facialPictureFront.verifyScore, then at a top-level verifyScore; each may
// be a number or a numeric string, and facialPictureFront may itself be a
// JSON document in a string. Scores outside 0–100 are ignored. It tolerates
// any other shape (reporting false) and never panics.
func scoreFromMaterialInfo(s string) (float64, bool) {
	if len(s) == 0 || len(s) > maxMaterialInfo {
		return 0, false
	}
	top, ok := object([]byte(s))
	if !ok {
		return 0, false
	}
	if raw, ok := top["facialPictureFront"]; ok {
		front, ok := object(raw)
		if !ok {
			// Some answers nest the picture block as a JSON string.
			var inner string
			if json.Unmarshal(raw, &inner) == nil {
				front, ok = object([]byte(inner))
			}
		}
		if ok {
			if v, ok := score(front["verifyScore"]); ok {
				return v, true
			}
		}
	}
	return score(top["verifyScore"])
}

// object decodes a JSON object into its members; anything else is false.
func object(raw []byte) (map[string]json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

// score decodes a number or a numeric string in 0–100.
func score(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	var text string
	switch raw[0] {
	case '"':
		if json.Unmarshal(raw, &text) != nil {
			return 0, false
		}
		text = strings.TrimSpace(text)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		text = string(raw)
	default:
		return 0, false
	}
	if len(text) == 0 || len(text) > 64 {
		return 0, false
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || !validScore(v) {
		return 0, false
	}
	return v, true
}

// validScore reports whether v is a similarity Cloudauth can mean: a finite
// number in 0–100.
func validScore(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 && v <= 100
}
