package notice_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/realname/realname/internal/notice"
	"github.com/realname/realname/internal/realname"
)

// The domain accepts exactly the versions served here, and asks for the
// current one.
func TestVersionsMatchDomain(t *testing.T) {
	var names []string
	for _, v := range notice.Versions() {
		names = append(names, v.Version)
	}
	if !slices.Equal(names, realname.KnownNoticeVersions) {
		t.Errorf("notice.Versions() = %v, realname.KnownNoticeVersions = %v", names, realname.KnownNoticeVersions)
	}
	if notice.Current() != realname.NoticeVersion {
		t.Errorf("notice.Current() = %q, realname.NoticeVersion = %q", notice.Current(), realname.NoticeVersion)
	}
	if notice.ScopeIDNumber != realname.ScopeIDNumber || notice.ScopeFace != realname.ScopeFace {
		t.Error("the consent scopes differ from the domain's")
	}
}

// published are the hashes of the published texts. A published text never
// changes (platforms keep its hash as the record of what was shown): a new
// text is a new version. Add its hashes here when it is published.
var published = map[string]string{
	"2026-11-01.zh": "808d54b0f64f2190dfec87846c14190007bf23deb610de56a0e0abfececcf824",
	"2026-11-01.en": "1c7e68ab35c6bde0172e64cd994d72d3d07769f9c3f12029fef6f7128ffd7156",
}

func TestGet(t *testing.T) {
	for _, v := range notice.Versions() {
		if !slices.Equal(v.Languages, notice.Languages) || v.Published == "" {
			t.Errorf("version %+v", v)
		}
		for _, lang := range v.Languages {
			t.Run(v.Version+"."+lang, func(t *testing.T) {
				n, err := notice.Get(v.Version, lang)
				if err != nil {
					t.Fatal(err)
				}
				if n.Version != v.Version || n.Lang != lang || n.Title == "" || len(n.Sections) == 0 {
					t.Errorf("notice %+v", n)
				}
				for _, sc := range notice.Scopes {
					if n.Consents[sc] == "" {
						t.Errorf("no consent text for %s", sc)
					}
				}
				raw, err := os.ReadFile("texts/" + v.Version + "." + lang + ".json")
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(raw)
				if n.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("SHA256 %s, the file's is %x", n.SHA256, sum)
				}
				if want, ok := published[v.Version+"."+lang]; !ok || n.SHA256 != want {
					t.Errorf("SHA256 %s, published %q: a published text must not change; a new text is a new version", n.SHA256, want)
				}
				// Get hands out copies.
				n.Sections[0].Text = "changed"
				n.Consents[notice.ScopeFace] = "changed"
				again, _ := notice.Get(v.Version, lang)
				if again.Sections[0].Text == "changed" || again.Consents[notice.ScopeFace] == "changed" {
					t.Error("Get returned the catalogue's own slices or maps")
				}
			})
		}
	}
	// The translations have the same structure.
	for _, v := range notice.Versions() {
		zh, _ := notice.Get(v.Version, "zh")
		en, _ := notice.Get(v.Version, "en")
		if len(zh.Sections) != len(en.Sections) {
			t.Errorf("%s: %d sections in zh, %d in en", v.Version, len(zh.Sections), len(en.Sections))
		}
	}
}

func TestGetCurrentAlias(t *testing.T) {
	n, err := notice.Get(notice.CurrentAlias, "en")
	if err != nil || n.Version != notice.Current() {
		t.Fatalf("Get(current) = %v, %v", n.Version, err)
	}
}

func TestGetUnknown(t *testing.T) {
	for _, tc := range []struct {
		version, lang string
		want          error
	}{
		{"1999-01-01", "zh", notice.ErrUnknownVersion},
		{"", "zh", notice.ErrUnknownVersion},
		{notice.Current(), "fr", notice.ErrUnknownLanguage},
		{notice.Current(), "", notice.ErrUnknownLanguage},
		{notice.CurrentAlias, "ZH", notice.ErrUnknownLanguage},
	} {
		t.Run(tc.version+"."+tc.lang, func(t *testing.T) {
			_, err := notice.Get(tc.version, tc.lang)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			le, ok := errors.AsType[*notice.LookupError](err)
			if !ok || le.Lang != tc.lang {
				t.Errorf("err = %#v, want a *LookupError", err)
			}
		})
	}
}

// The current Chinese text says what the service does in this release.
func TestCurrentTextCoversTheService(t *testing.T) {
	n, err := notice.Get(notice.Current(), "zh")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, s := range n.Sections {
		all.WriteString(s.Heading + "\n" + s.Text + "\n")
	}
	for _, want := range []string{"阿里云实人认证服务", "人脸视频或照片", "人工审核", "30 天", "365 天", "3 年",
		"撤回", "删除", "监护人", "十四周岁", "第二十八、二十九条", "单独同意"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the notice does not say %q", want)
		}
	}
	if strings.Contains(all.String(), "寄信") || strings.Contains(all.String(), "家属") {
		t.Error("the notice names one platform's business; it serves any platform")
	}
}

func TestValidVersionName(t *testing.T) {
	for s, want := range map[string]bool{
		"2026-11-01": true, "current": true, "v1.2": true,
		"": false, "../x": false, "a/b": false, "a b": false, "版本": false, strings.Repeat("1", 33): false,
		strings.Repeat("1", 32): true,
	} {
		if got := notice.ValidVersionName(s); got != want {
			t.Errorf("ValidVersionName(%q) = %v", s, got)
		}
	}
}
