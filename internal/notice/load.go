package notice

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// file is the structure of one text file, texts/<version>.<lang>.json.
type file struct {
	Version   string            `json:"version"`
	Lang      string            `json:"lang"`
	Published string            `json:"published"`
	Title     string            `json:"title"`
	Sections  []Section         `json:"sections"`
	Consents  map[string]string `json:"consents"`
}

// catalog is every text, checked.
type catalog struct {
	versions []Version                    // oldest first
	notices  map[string]map[string]Notice // version → lang → notice
}

// maxVersionLen bounds a version's name (the API's path segment).
const maxVersionLen = 32

// ValidVersionName reports whether s may name a version: 1–32 characters
// of [0-9A-Za-z.-].
func ValidVersionName(s string) bool {
	if s == "" || len(s) > maxVersionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// load reads and checks every <version>.<lang>.json under dir: the file's
// bytes are its canonical form (UTF-8, no byte order mark, no carriage
// return), its fields match its name, every part is filled in, and every
// version has every language, all published on the same day.
func load(fsys fs.FS, dir string) (*catalog, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	c := &catalog{notices: map[string]map[string]Notice{}}
	published := map[string]string{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		base := path.Base(name)
		n, pub, err := parse(strings.TrimSuffix(base, ".json"), raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", base, err)
		}
		if p, ok := published[n.Version]; ok && p != pub {
			return nil, fmt.Errorf("%s: published %s, but another language of %s says %s", base, pub, n.Version, p)
		}
		published[n.Version] = pub
		if c.notices[n.Version] == nil {
			c.notices[n.Version] = map[string]Notice{}
		}
		c.notices[n.Version][n.Lang] = n
	}
	if len(c.notices) == 0 {
		return nil, fmt.Errorf("no notice texts in %s", dir)
	}
	for v, byLang := range c.notices {
		for _, l := range Languages {
			if _, ok := byLang[l]; !ok {
				return nil, fmt.Errorf("version %s has no %s text", v, l)
			}
		}
		c.versions = append(c.versions, Version{Version: v, Published: published[v], Languages: slices.Clone(Languages)})
	}
	slices.SortFunc(c.versions, func(a, b Version) int {
		if a.Published != b.Published {
			return strings.Compare(a.Published, b.Published)
		}
		return strings.Compare(a.Version, b.Version)
	})
	return c, nil
}

// parse checks one file named stem (<version>.<lang>) and returns its
// notice and publication date.
func parse(stem string, raw []byte) (Notice, string, error) {
	dot := strings.LastIndexByte(stem, '.')
	if dot < 0 {
		return Notice{}, "", fmt.Errorf("the name is not <version>.<lang>.json")
	}
	version, lang := stem[:dot], stem[dot+1:]
	switch {
	case !ValidVersionName(version):
		return Notice{}, "", fmt.Errorf("version %q: 1–%d characters of [0-9A-Za-z.-]", version, maxVersionLen)
	case !slices.Contains(Languages, lang):
		return Notice{}, "", fmt.Errorf("language %q is not one of %v", lang, Languages)
	case !utf8.Valid(raw) || bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) || bytes.ContainsRune(raw, '\r'):
		return Notice{}, "", fmt.Errorf("not canonical: UTF-8 without a byte order mark and with LF line ends only")
	}
	var f file
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return Notice{}, "", fmt.Errorf("decode: %w", err)
	}
	if d.More() {
		return Notice{}, "", fmt.Errorf("data after the JSON object")
	}
	if f.Version != version || f.Lang != lang {
		return Notice{}, "", fmt.Errorf("says version %q lang %q, its name says %q %q", f.Version, f.Lang, version, lang)
	}
	if _, err := time.Parse(time.DateOnly, f.Published); err != nil {
		return Notice{}, "", fmt.Errorf("published %q is not YYYY-MM-DD", f.Published)
	}
	if blank(f.Title) {
		return Notice{}, "", fmt.Errorf("no title")
	}
	if len(f.Sections) == 0 {
		return Notice{}, "", fmt.Errorf("no sections")
	}
	for i, s := range f.Sections {
		if blank(s.Heading) || blank(s.Text) {
			return Notice{}, "", fmt.Errorf("section %d has no heading or no text", i+1)
		}
	}
	for _, sc := range Scopes {
		if blank(f.Consents[sc]) {
			return Notice{}, "", fmt.Errorf("no consent text for scope %q", sc)
		}
	}
	if len(f.Consents) != len(Scopes) {
		return Notice{}, "", fmt.Errorf("consents has a scope other than %v", Scopes)
	}
	sum := sha256.Sum256(raw)
	return Notice{Version: version, Lang: lang, Title: f.Title, Sections: f.Sections, Consents: f.Consents,
		SHA256: hex.EncodeToString(sum[:])}, f.Published, nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
